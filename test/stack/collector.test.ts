/**
 * otel-collector/config.yaml against a real OpenTelemetry Collector built with the Collector
 * Builder from otel-collector/builder-config.yaml (scripts/install-tools.sh): it validates, and it
 * carries metrics from the real OTLP/protobuf SDK exporter to VictoriaMetrics and to Prometheus v3
 * running the shipped prometheus/prometheus.yml, where PromQL finds them under their Prometheus
 * names with the promoted resource labels.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startCollector,
  startPrometheus,
  startVictoriaMetrics,
  type Collector,
  type Prometheus,
  type VictoriaMetrics,
} from '../support/processes.js';
import { needTools, repoRoot } from '../support/tools.js';

const tools = needTools('otelcol-bulwark', 'victoria-metrics-prod');
const CONFIG = join(repoRoot, 'otel-collector', 'config.yaml');

/** Environment without any of the config's variables, so its defaults apply. */
function envWithoutOverrides(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (k.startsWith('OTELCOL_') || k === 'PROMETHEUS_OTLP_ENDPOINT' || k === 'TEMPO_OTLP_ENDPOINT') delete env[k];
  }
  return env;
}

/**
 * Sends, through the real SDK and OTLP/protobuf exporter, one `bulwark.requests` counter point (3) and
 * one `bulwark.request.duration` histogram point (0.25 s) labelled `chain=<run>`.
 */
async function sendSampleMetrics(otlpHttpUrl: string, run: string): Promise<void> {
  const reader = new PeriodicExportingMetricReader({
    exporter: new OTLPMetricExporter({ url: `${otlpHttpUrl}/v1/metrics` }),
    exportIntervalMillis: 60_000,
  });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'bulwark-stack-test', 'deployment.environment.name': 'ci' }),
    readers: [reader],
  });
  const meter = provider.getMeter('bulwark');
  meter.createCounter('bulwark.requests', { unit: '{request}' }).add(3, { chain: run, 'bulwark.outcome': 'success' });
  meter.createHistogram('bulwark.request.duration', { unit: 's' }).record(0.25, { chain: run });
  await provider.forceFlush();
  await provider.shutdown();
}

describe.skipIf(tools.skip)('otel-collector/config.yaml with the built collector', () => {
  it('validates with its defaults (as docker-compose runs it)', () => {
    const r = spawnSync(tools.path('otelcol-bulwark'), ['validate', `--config=${CONFIG}`], { encoding: 'utf8', env: envWithoutOverrides() });
    expect(r.stderr + r.stdout).not.toMatch(/error/i);
    expect(r.status).toBe(0);
  });

  it('was built with exactly the components the config uses', () => {
    const r = spawnSync(tools.path('otelcol-bulwark'), ['components'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const names = (kind: string): string[] => {
      const section = r.stdout.split(new RegExp(`^${kind}:`, 'm'))[1]?.split(/^\w+:/m)[0] ?? '';
      return [...section.matchAll(/- name: (\S+)/g)].map((m) => m[1]!).sort();
    };
    expect(names('receivers')).toEqual(['otlp']);
    expect(names('processors')).toEqual(['batch', 'memory_limiter']);
    expect(names('exporters')).toEqual(['otlp_grpc', 'otlp_http']);
    expect(names('extensions')).toEqual(['health_check']);
    // And the config names the same ones.
    const cfg = readFileSync(CONFIG, 'utf8');
    for (const id of ['otlp:', 'memory_limiter:', 'batch:', 'otlp_http/metrics:', 'otlp_grpc/traces:', 'health_check:']) {
      expect(cfg).toContain(id);
    }
  });

  it('rejects a config with an unknown component (the validation is real)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-otelcol-'));
    try {
      const bad = readFileSync(CONFIG, 'utf8').replace('memory_limiter:\n', 'no_such_processor:\n');
      writeFileSync(join(dir, 'config.yaml'), bad);
      const r = spawnSync(tools.path('otelcol-bulwark'), ['validate', `--config=${join(dir, 'config.yaml')}`], { encoding: 'utf8' });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/no_such_processor/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('SDK -> collector -> VictoriaMetrics', () => {
    let vm: VictoriaMetrics;
    let col: Collector;

    beforeAll(async () => {
      vm = await startVictoriaMetrics();
      col = await startCollector({ metricsEndpoint: vm.otlpUrl });
    });
    afterAll(async () => {
      await col?.stop();
      await vm?.stop();
    });

    it('delivers a counter and a histogram under their Prometheus names', async () => {
      const run = `stack-vm-${process.pid}-${Date.now()}`;
      await sendSampleMetrics(col.otlpHttpUrl, run);

      const [counter] = await vm.waitForQuery(`bulwark_requests_total{chain="${run}"}`);
      expect(counter!.value[1]).toBe('3');
      expect(counter!.metric).toMatchObject({
        __name__: 'bulwark_requests_total',
        chain: run,
        bulwark_outcome: 'success',
        service_name: 'bulwark-stack-test',
      });
      const buckets = await vm.waitForQuery(`bulwark_request_duration_seconds_bucket{chain="${run}"}`);
      expect(buckets.length).toBeGreaterThan(1);
      const [count] = await vm.query(`bulwark_request_duration_seconds_count{chain="${run}"}`);
      expect(count!.value[1]).toBe('1');
    });

    it("exposes the collector's own metrics", async () => {
      const text = await fetch(col.selfMetricsUrl).then((r) => r.text());
      expect(text).toMatch(/^otelcol_receiver_accepted_metric_points\S*\{/m);
      expect(text).toMatch(/^otelcol_exporter_sent_metric_points\S*\{/m);
    });
  });
});

const promTools = needTools('otelcol-bulwark', 'prometheus');

describe.skipIf(promTools.skip)('SDK -> collector -> Prometheus v3 (shipped prometheus/prometheus.yml)', () => {
  let prom: Prometheus;
  let col: Collector;

  beforeAll(async () => {
    promTools.path('prometheus');
    promTools.path('otelcol-bulwark');
    prom = await startPrometheus();
    col = await startCollector({ metricsEndpoint: prom.otlpUrl });
  });
  afterAll(async () => {
    await col?.stop();
    await prom?.stop();
  });

  it('ingests over OTLP with service.name and deployment.environment.name promoted to labels', async () => {
    const run = `stack-prom-${process.pid}-${Date.now()}`;
    await sendSampleMetrics(col.otlpHttpUrl, run);

    const [counter] = await prom.waitForQuery(
      `bulwark_requests_total{chain="${run}", service_name="bulwark-stack-test", deployment_environment_name="ci"}`,
    );
    expect(counter!.value[1]).toBe('3');
    expect(counter!.metric).toMatchObject({ __name__: 'bulwark_requests_total', bulwark_outcome: 'success' });
    const sel = `{chain="${run}", service_name="bulwark-stack-test"}`;
    const [sum] = await prom.waitForQuery(`bulwark_request_duration_seconds_sum${sel}`);
    expect(sum!.value[1]).toBe('0.25');
    const [count] = await prom.query(`bulwark_request_duration_seconds_count${sel}`);
    expect(count!.value[1]).toBe('1');
    const buckets = await prom.query(`bulwark_request_duration_seconds_bucket${sel}`);
    expect(buckets.length).toBeGreaterThan(1);
  });
});
