/**
 * Every first event counts, end to end: the engine's observer → startTelemetry()'s real OTLP
 * exporter → the collector (shipped otel-collector/config.yaml) → VictoriaMetrics and Prometheus v3
 * (shipped prometheus.yml, the compose file's feature flags). A request whose first attempt fails
 * with an error type never seen before and falls back for that reason produces the first
 * observation of several series at once (a duration-histogram series with the new error.type, an
 * attempts series, a fallbacks series with the new reason). Each must show in increase() over a
 * window that contains the request — and, as a control that the test can fail, the same kind of
 * observation exported by a plain SDK exporter without the zero point is lost by VictoriaMetrics'
 * rate(). The mechanism is described in docs/TELEMETRY.md ("Every first event counts").
 *
 * Needs `otelcol-bulwark`, `victoria-metrics-prod` and `prometheus` (scripts/install-tools.sh).
 */
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelemetry, type TelemetryHandle } from '../../src/otel/index.js';
import { createOtelObserver } from '../../src/telemetry/otelObserver.js';
import { Driver, FakeHealth, TARGETS } from '../telemetry/harness.js';
import { startCollector, startPrometheus, startVictoriaMetrics, stopAll, type PromQueryApi } from '../support/processes.js';
import { needTools } from '../support/tools.js';

const tools = needTools('otelcol-bulwark', 'victoria-metrics-prod', 'prometheus');
const CHAIN = 'first-event';

/** Resolves once Date.now() has moved past `t` (a wait on the clock, not a timing assumption). */
async function clockPast(t: number): Promise<void> {
  while (Date.now() <= t) await new Promise((r) => setImmediate(r));
}

interface Backend {
  name: string;
  api: PromQueryApi;
  otlpUrl: string;
  /** PromQL increase() extrapolates in Prometheus (>= the true count), not in VictoriaMetrics (exact). */
  exact: boolean;
}

describe.skipIf(tools.skip)('every first event counts: observer → startTelemetry → collector → VictoriaMetrics and Prometheus v3', () => {
  const backends: Backend[] = [];
  /** Per backend: unix seconds before export 0, and after the request's export was queryable. */
  const windows = new Map<string, { from: number; at: number }>();

  beforeAll(async () => {
    for (const name of ['otelcol-bulwark', 'victoria-metrics-prod', 'prometheus'] as const) tools.path(name);
    const vm = await startVictoriaMetrics();
    const prom = await startPrometheus();
    backends.push({ name: 'VictoriaMetrics', api: vm, otlpUrl: vm.otlpUrl, exact: true }, { name: 'Prometheus', api: prom, otlpUrl: prom.otlpUrl, exact: false });

    for (const b of backends) {
      const col = await startCollector({ metricsEndpoint: b.otlpUrl });
      const telemetry: TelemetryHandle = await startTelemetry({ serviceName: 'first-event', endpoint: col.otlpHttpUrl, traces: false, metricExportIntervalMs: 600_000 });
      try {
        const health = new FakeHealth(CHAIN);
        const observer = createOtelObserver({ chain: CHAIN, targets: TARGETS, snapshot: health.snapshot, captureContent: false });
        // Export 0: the pre-created series only, all 0. The window starts before it: Prometheus'
        // increase() needs two samples in the window, and a pre-created series' previous sample is
        // this one (VictoriaMetrics also uses the sample before the window; either way, the new
        // series have no sample before the request but their zero point).
        const from = Date.now();
        await clockPast(from);
        await telemetry.forceFlush();
        await b.api.waitForQuery(`bulwark_requests_total{bulwark_chain="${CHAIN}"}`);
        await clockPast(Date.now());

        // The first authentication error of the chain, and the first fallback for it.
        const d = new Driver(observer, health, undefined, false, 'r1');
        d.attempt(1, 'initial');
        d.fail('authentication', 120);
        d.hop(1, 2, 'authentication');
        d.attempt(2, 'fallback');
        d.succeed(300);
        d.end('success_via_fallback', 'reduced');

        await clockPast(Date.now());
        await telemetry.forceFlush();
        await b.api.waitForQuery(`gen_ai_client_operation_duration_seconds_count{error_type="authentication"}`);
        windows.set(b.name, { from: from / 1000, at: Date.now() / 1000 });
      } finally {
        await telemetry.shutdown();
        await col.stop();
      }
    }
  }, 120_000);
  afterAll(() => stopAll());

  const increase = async (b: Backend, selector: string): Promise<number> => {
    const w = windows.get(b.name)!;
    const range = `${Math.ceil((w.at - w.from) * 1000) + 1}ms`;
    const r = await b.api.query(`sum(increase(${selector}[${range}]))`, w.at);
    return r.length === 0 ? 0 : Number(r[0]!.value[1]);
  };

  for (const name of ['VictoriaMetrics', 'Prometheus']) {
    describe(name, () => {
      const backend = () => backends.find((b) => b.name === name)!;
      const expectCount = (got: number, what: string) => {
        if (backend().exact) expect(got, what).toBe(1);
        // Prometheus extrapolates increase() towards the window's end (never below the zero sample).
        else expect(got, what).toBeGreaterThanOrEqual(1);
      };

      it('the first attempt with a new error type: its duration-histogram series counts', async () => {
        expectCount(
          await increase(backend(), `gen_ai_client_operation_duration_seconds_count{error_type="authentication", gen_ai_request_model="${TARGETS[1]!.model}"}`),
          'duration count',
        );
      });

      it('the first attempt with a new error type: its attempts series counts', async () => {
        expectCount(await increase(backend(), `bulwark_attempts_total{bulwark_chain="${CHAIN}", error_type="authentication"}`), 'attempts');
      });

      it('the first fallback for a new reason counts', async () => {
        expectCount(await increase(backend(), `bulwark_fallbacks_total{bulwark_chain="${CHAIN}", bulwark_fallback_reason="authentication"}`), 'fallbacks');
      });

      it('the first request at a tier: its request-duration series counts', async () => {
        expectCount(await increase(backend(), `bulwark_request_duration_seconds_count{bulwark_chain="${CHAIN}", bulwark_tier="reduced"}`), 'request duration');
      });
    });
  }

  describe('controls (what the zero point is for)', () => {
    /** One histogram observation of a new series, exported through the collector by a plain SDK reader. */
    async function plainSdkObservation(otlpUrl: string, run: string): Promise<{ from: number; at: number }> {
      const col = await startCollector({ metricsEndpoint: otlpUrl });
      const reader = new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: `${col.otlpHttpUrl}/v1/metrics` }), exportIntervalMillis: 600_000 });
      const provider = new MeterProvider({ readers: [reader] });
      try {
        const h = provider.getMeter('control').createHistogram('control.duration', { unit: 's' });
        h.record(0, { run: 'baseline' }); // another series, so the metric exists before
        await reader.forceFlush();
        const from = Date.now();
        await clockPast(from);
        h.record(0.2, { run });
        await clockPast(Date.now());
        await reader.forceFlush();
        await reader.forceFlush(); // a second sample of the series, as a periodic reader would send
        return { from: from / 1000, at: Date.now() / 1000 + 0.001 };
      } finally {
        await provider.shutdown();
        await col.stop();
      }
    }

    it('VictoriaMetrics without the zero point: rate() loses a new series\' first observation', async () => {
      const vm = backends.find((b) => b.name === 'VictoriaMetrics')!;
      const run = `control-${process.pid}`;
      const w = await plainSdkObservation(vm.otlpUrl, run);
      await vm.api.waitForQuery(`control_duration_seconds_count{run="${run}"}`);
      const range = `${Math.ceil((w.at - w.from) * 1000) + 1}ms`;
      const r = await vm.api.query(`sum(rate(control_duration_seconds_count{run="${run}"}[${range}]))`, w.at);
      expect(r.length === 0 ? 0 : Number(r[0]!.value[1])).toBe(0);
    });

    it('Prometheus with the compose flags counts an application\'s own SDK from the start timestamp', async () => {
      const prom = backends.find((b) => b.name === 'Prometheus')!;
      const run = `control-${process.pid}`;
      const w = await plainSdkObservation(prom.otlpUrl, run);
      await prom.api.waitForQuery(`control_duration_seconds_count{run="${run}"}`);
      const range = `${Math.ceil((w.at - w.from) * 1000) + 1}ms`;
      const r = await prom.api.query(`sum(increase(control_duration_seconds_count{run="${run}"}[${range}]))`, w.at);
      expect(Number(r[0]?.value[1] ?? 0)).toBeGreaterThanOrEqual(1);
    });
  });
});
