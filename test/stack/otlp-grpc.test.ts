/**
 * `startTelemetry()` over OTLP/gRPC into the collector's gRPC receiver (the shipped
 * otel-collector/config.yaml, run by the collector built from otel-collector/builder-config.yaml),
 * metrics on to VictoriaMetrics. Which transport carried each signal is read from the collector's
 * own counters (`otelcol_receiver_accepted_{metric_points,spans}_total{transport=...}`), so a test
 * cannot pass through the HTTP receiver by accident.
 *
 * Needs `otelcol-bulwark` and `victoria-metrics-prod` (scripts/install-tools.sh): skipped loudly on a
 * developer machine without them, a failure under CI=true.
 */
import { metrics, trace } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTelemetry, type TelemetryHandle } from '../../src/otel/index.js';
import { startCollector, startVictoriaMetrics, stopAll, type Collector, type VictoriaMetrics } from '../support/processes.js';
import { needTools } from '../support/tools.js';

const tools = needTools('otelcol-bulwark', 'victoria-metrics-prod');

/** The collector's accepted-item counters by transport: `{ grpc: n, http: n }`. */
async function accepted(col: Collector, what: 'metric_points' | 'spans'): Promise<Record<string, number>> {
  const text = await fetch(col.selfMetricsUrl).then((r) => r.text());
  const out: Record<string, number> = {};
  for (const m of text.matchAll(new RegExp(`^otelcol_receiver_accepted_${what}(?:_total)?\\{([^}]*)\\} (\\S+)$`, 'gm'))) {
    const transport = /transport="([^"]+)"/.exec(m[1]!)?.[1] ?? '';
    out[transport] = (out[transport] ?? 0) + Number(m[2]);
  }
  return out;
}

/** One span and one counter point with a unique label, through the global API as Bulwark emits them. */
function emit(run: string): void {
  trace.getTracer('bulwark').startSpan(`bulwark chat ${run}`).end();
  metrics.getMeter('bulwark').createCounter('bulwark.requests', { unit: '{request}' }).add(2, { 'bulwark.chain': run, 'bulwark.outcome': 'success' });
}

describe.skipIf(tools.skip)('startTelemetry over OTLP/gRPC → collector gRPC receiver → VictoriaMetrics', () => {
  let vm: VictoriaMetrics;
  let handle: TelemetryHandle | undefined;

  beforeAll(async () => {
    tools.path('otelcol-bulwark');
    vm = await startVictoriaMetrics();
  });
  afterEach(async () => {
    await handle?.shutdown();
    handle = undefined;
    vi.unstubAllEnvs();
  });
  afterAll(() => stopAll());

  /** A fresh collector per test, so its transport counters belong to that test alone. */
  const collector = () => startCollector({ metricsEndpoint: vm.otlpUrl });

  it('OTEL_EXPORTER_OTLP_PROTOCOL=grpc: both signals over gRPC, the counter reaches PromQL', async () => {
    const col = await collector();
    const run = `grpc-env-${process.pid}`;
    vi.stubEnv('OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc');
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', `http://${col.otlpGrpcEndpoint}`);
    handle = await startTelemetry({ serviceName: 'bulwark-grpc', metricExportIntervalMs: 60_000 });
    emit(run);
    await handle.forceFlush();

    const [sample] = await vm.waitForQuery(`bulwark_requests_total{bulwark_chain="${run}", service_name="bulwark-grpc"}`);
    expect(sample!.value[1]).toBe('2');
    const points = await accepted(col, 'metric_points');
    const spans = await accepted(col, 'spans');
    expect(points.grpc).toBeGreaterThan(0);
    expect(spans.grpc).toBe(1);
    expect(points.http ?? 0).toBe(0);
    expect(spans.http ?? 0).toBe(0);
    await col.stop();
  });

  it('per-signal variables: metrics over gRPC, traces over HTTP', async () => {
    const col = await collector();
    const run = `grpc-metrics-${process.pid}`;
    vi.stubEnv('OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', 'grpc');
    vi.stubEnv('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', `http://${col.otlpGrpcEndpoint}`);
    vi.stubEnv('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', `${col.otlpHttpUrl}/v1/traces`);
    handle = await startTelemetry({ serviceName: 'bulwark-grpc', metricExportIntervalMs: 60_000 });
    emit(run);
    await handle.forceFlush();

    await vm.waitForQuery(`bulwark_requests_total{bulwark_chain="${run}"}`);
    const points = await accepted(col, 'metric_points');
    const spans = await accepted(col, 'spans');
    expect(points.grpc).toBeGreaterThan(0);
    expect(points.http ?? 0).toBe(0);
    expect(spans.http).toBe(1);
    expect(spans.grpc ?? 0).toBe(0);
    await col.stop();
  });

  it('explicit options: protocol grpc with an endpoint and headers (sent as gRPC metadata)', async () => {
    const col = await collector();
    const run = `grpc-option-${process.pid}`;
    vi.stubEnv('OTEL_EXPORTER_OTLP_PROTOCOL', 'http/json'); // the option wins
    handle = await startTelemetry({
      serviceName: 'bulwark-grpc',
      protocol: 'grpc',
      endpoint: `http://${col.otlpGrpcEndpoint}`,
      headers: { 'x-tenant': 't1' },
      metricExportIntervalMs: 60_000,
    });
    emit(run);
    await handle.forceFlush();
    await vm.waitForQuery(`bulwark_requests_total{bulwark_chain="${run}"}`);
    expect((await accepted(col, 'spans')).grpc).toBe(1);
    await col.stop();
  });
});
