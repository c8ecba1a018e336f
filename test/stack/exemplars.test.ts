/**
 * Exemplars end to end: the engine's observer records the latency histograms inside their spans →
 * startTelemetry() (OTLP/HTTP JSON metrics with exemplars) → the collector running the shipped
 * otel-collector/config.yaml → Prometheus v3 with the shipped prometheus.yml and the compose file's
 * feature flags (exemplar storage) → /api/v1/query_exemplars returns, for
 * gen_ai.client.operation.duration, time_to_first_chunk and bulwark.request.duration, exactly the
 * trace and span ids of the spans the test produced, with the observed values.
 *
 * Needs `otelcol-bulwark` and `prometheus` (scripts/install-tools.sh).
 */
import { trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelemetry, type TelemetryHandle } from '../../src/otel/index.js';
import { createOtelObserver } from '../../src/telemetry/otelObserver.js';
import { Driver, FakeHealth, TARGETS } from '../telemetry/harness.js';
import { startCollector, startPrometheus, stopAll, type Prometheus } from '../support/processes.js';
import { needTools } from '../support/tools.js';

const tools = needTools('otelcol-bulwark', 'prometheus');
const SERVICE = 'bulwark-exemplars';
const CHAIN = 'exemplar-chain';

interface Ids {
  traceId: string;
  spanId: string;
  value: number;
}
interface StoredExemplar {
  labels: Record<string, string>;
  value: string;
  timestamp: number;
}

describe.skipIf(tools.skip)('exemplars: observer → startTelemetry (http/json) → collector → Prometheus v3 → query_exemplars', () => {
  let prom: Prometheus;
  let telemetry: TelemetryHandle | undefined;
  const attempts: Ids[] = [];
  const ttfc: Ids[] = [];
  const requests: Ids[] = [];
  let from = 0;
  let to = 0;

  beforeAll(async () => {
    tools.path('otelcol-bulwark');
    tools.path('prometheus');
    prom = await startPrometheus();
    const col = await startCollector({ metricsEndpoint: prom.otlpUrl });
    telemetry = await startTelemetry({ serviceName: SERVICE, endpoint: col.otlpHttpUrl, exemplars: true, metricExportIntervalMs: 600_000 });
    const health = new FakeHealth(CHAIN);
    const observer = createOtelObserver({ chain: CHAIN, targets: TARGETS, snapshot: health.snapshot, captureContent: false });
    from = Date.now() / 1000 - 1;

    // Three streamed requests, each observation in its own histogram bucket (doubling buckets from
    // 0.01 s), so the aligned-bucket reservoir keeps all three per series.
    const plan = [
      { attemptS: 0.3, ttfcS: 0.05, requestS: 0.4 },
      { attemptS: 0.6, ttfcS: 0.1, requestS: 2 },
      { attemptS: 1.2, ttfcS: 0.2, requestS: 5 },
    ];
    for (const [i, p] of plan.entries()) {
      const d = new Driver(observer, health, undefined, true, `r${i}`);
      const attempt = d.attempt(0, 'initial')!;
      const a = attempt.run!(() => trace.getActiveSpan()!.spanContext());
      const r = d.run(() => trace.getActiveSpan()!.spanContext());
      attempt.onFirstChunk!(p.ttfcS * 1000);
      d.succeed(p.attemptS * 1000);
      d.end('success', 'full', { durationMs: p.requestS * 1000 });
      attempts.push({ traceId: a.traceId, spanId: a.spanId, value: p.attemptS });
      ttfc.push({ traceId: a.traceId, spanId: a.spanId, value: p.ttfcS });
      requests.push({ traceId: r.traceId, spanId: r.spanId, value: p.requestS });
    }
    await telemetry.forceFlush();
    await prom.waitForQuery(`bulwark_request_duration_seconds_count{service_name="${SERVICE}"} == 3`);
    to = Date.now() / 1000 + 1;
  }, 60_000);

  afterAll(async () => {
    await telemetry?.shutdown();
    await stopAll();
  });

  const exemplarsOf = async (metric: string): Promise<Ids[]> => {
    const qs = new URLSearchParams({ query: `${metric}{service_name="${SERVICE}"}`, start: String(from), end: String(to) });
    const body = (await fetch(`${prom.url}/api/v1/query_exemplars?${qs}`).then((r) => r.json())) as {
      status: string;
      data: { seriesLabels: Record<string, string>; exemplars: StoredExemplar[] }[];
    };
    expect(body.status).toBe('success');
    return body.data
      .flatMap((s) => s.exemplars)
      .map((e) => ({ traceId: e.labels['trace_id']!, spanId: e.labels['span_id']!, value: Number(e.value) }))
      .sort((a, b) => a.value - b.value);
  };

  it('the test produced three requests in three traces', () => {
    expect(new Set(requests.map((r) => r.traceId)).size).toBe(3);
    expect(attempts.map((a) => a.traceId)).toEqual(requests.map((r) => r.traceId));
    expect(attempts.map((a) => a.spanId)).not.toEqual(requests.map((r) => r.spanId));
  });

  it('gen_ai.client.operation.duration: the attempt spans', async () => {
    expect(await exemplarsOf('gen_ai_client_operation_duration_seconds_bucket')).toEqual(attempts);
  });

  it('gen_ai.client.operation.time_to_first_chunk: the attempt spans', async () => {
    expect(await exemplarsOf('gen_ai_client_operation_time_to_first_chunk_seconds_bucket')).toEqual(ttfc);
  });

  it('bulwark.request.duration: the request spans', async () => {
    expect(await exemplarsOf('bulwark_request_duration_seconds_bucket')).toEqual(requests);
  });

  it('no exemplars on histograms outside the contract (token usage)', async () => {
    expect(await exemplarsOf('gen_ai_client_token_usage_bucket')).toEqual([]);
  });
});
