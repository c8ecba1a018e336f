/**
 * End to end through real storage: the observer → the global API → `startTelemetry()`'s real
 * OTLP/protobuf metric exporter → VictoriaMetrics (a PromQL engine with Prometheus naming) →
 * PromQL. Asserts that every Prometheus name of TELEMETRY.md exists with the values the
 * scenario produced, that the label names are the attribute keys with `_`, and that the
 * dashboards' retry-rate query computes the right number.
 *
 * Needs `victoria-metrics` from `scripts/install-tools.sh`: skipped loudly on a developer
 * machine without it, a failure under CI=true.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineObserver } from '../../src/events/engineObserver.js';
import { startTelemetry, type TelemetryHandle } from '../../src/otel/index.js';
import { METRICS } from '../../src/telemetry/names.js';
import { createOtelObserver } from '../../src/telemetry/otelObserver.js';
import { startVictoriaMetrics, stopAll, type PromSample, type VictoriaMetrics } from '../support/processes.js';
import { needTools } from '../support/tools.js';
import { Driver, FakeHealth, TARGETS } from './harness.js';

const tools = needTools('victoria-metrics');
const CHAIN = 'e2e-agent';
const SERVICE = 'bulwark-e2e';

const value = (r: PromSample[]): number => {
  expect(r, 'expected exactly one series').toHaveLength(1);
  return Number(r[0]!.value[1]);
};

describe.skipIf(tools.skip)('telemetry → OTLP → VictoriaMetrics → PromQL', () => {
  let vm: VictoriaMetrics;
  let telemetry: TelemetryHandle | undefined;
  let observer: EngineObserver;
  const health = new FakeHealth(CHAIN);
  let spent = 0;

  const q = (promql: string) => vm.query(promql);

  beforeAll(async () => {
    vm = await startVictoriaMetrics();
    telemetry = await startTelemetry({
      serviceName: SERVICE,
      environment: 'test',
      endpoint: vm.otlpUrl,
      traces: false, // VictoriaMetrics stores metrics only
      metricExportIntervalMs: 600_000, // exports happen on forceFlush
    });
    // The default path: the observer finds the SDK through the global API.
    observer = createOtelObserver({ chain: CHAIN, targets: TARGETS, snapshot: health.snapshot, captureContent: false });

    // Export 1: only the pre-created series, all 0 — the baseline rates are computed from.
    await telemetry.forceFlush();
    await vm.waitForQuery(`bulwark_requests_total{bulwark_chain="${CHAIN}"}`);
    await new Promise((r) => setTimeout(r, 1100));

    // 1) success at the primary
    let d = new Driver(observer, health, undefined, false, 'r1');
    d.attempt(0, 'initial');
    d.succeed(800, undefined, 0.001);
    d.end('success', 'full');
    spent += d.cost;
    // 2) rate limited once, then success
    d = new Driver(observer, health, undefined, false, 'r2');
    d.attempt(0, 'initial');
    d.fail('rate_limited', 100, 0, { retryAfterMs: 400 });
    d.scheduleRetry(400, 'rate_limited', 400);
    d.attempt(0, 'retry');
    d.succeed(700, undefined, 0.001);
    d.end('success_after_retry', 'full');
    spent += d.cost;
    // 3) three server errors open the primary's breaker, hop to the secondary (streamed)
    d = new Driver(observer, health, undefined, true, 'r3');
    d.attempt(0, 'initial');
    d.fail('server_error', 200, 0.0005, { usage: { inputTokens: 100, outputTokens: 10 } });
    d.scheduleRetry(300, 'server_error');
    d.attempt(0, 'retry');
    d.fail('server_error', 200);
    d.scheduleRetry(600, 'server_error');
    d.attempt(0, 'retry');
    d.fail('server_error', 200);
    d.transition('openai/gpt-4o', 'closed', 'open', 'consecutive_failures');
    d.hop(0, 1, 'server_error');
    const a = d.attempt(1, 'fallback');
    a?.onFirstChunk?.(250);
    d.succeed(1500, undefined, 0.002);
    d.req?.onHedge?.({ target: { provider: 'anthropic', model: 'claude-sonnet-4-5', index: 1 }, outcome: 'won' });
    d.end('success_via_fallback', 'reduced');
    spent += d.cost;
    // 4) primary open (skipped), secondary and local fail: static reply
    d = new Driver(observer, health, undefined, false, 'r4');
    d.req?.onCacheLookup?.('miss');
    d.req?.onCircuitRejected?.({ target: { provider: 'openai', model: 'gpt-4o', index: 0 }, breaker: 'openai/gpt-4o' });
    d.hop(0, 1, 'circuit_open');
    d.attempt(1, 'fallback');
    d.fail('overloaded', 300);
    d.hop(1, 2, 'overloaded');
    d.attempt(2, 'fallback');
    d.fail('timeout', 5000);
    d.req?.onDegraded?.({ tier: 'static', reason: 'timeout' });
    d.end('static', 'static');
    health.budgets.set('anthropic/claude-sonnet-4-5', 7);

    // Export 2: the scenario.
    await telemetry.forceFlush();
    await vm.waitForQuery(`sum(bulwark_requests_total{bulwark_chain="${CHAIN}"}) == 4`);
  });

  afterAll(async () => {
    await observer?.close?.();
    await telemetry?.shutdown();
    await stopAll();
  });

  it('stores every Prometheus name of TELEMETRY.md, labelled with the service', async () => {
    const missing: string[] = [];
    for (const m of METRICS) {
      for (const series of m.prometheusSeries) {
        const r = await q(`count(${series}{service_name="${SERVICE}"})`);
        if (r.length === 0 || Number(r[0]!.value[1]) === 0) missing.push(series);
      }
    }
    expect(missing).toEqual([]);
  });

  it('labels are the attribute keys with underscores; no unexpected labels', async () => {
    for (const m of METRICS) {
      const r = await q(`${m.prometheusSeries[0]}{service_name="${SERVICE}"}`);
      expect(r.length, m.prometheus).toBeGreaterThan(0);
      const allowed = new Set([...m.attributes.map((k) => k.replace(/\./g, '_')), '__name__', 'service_name', 'job', 'instance', 'le', 'deployment_environment_name', 'service_instance_id', 'host_name', 'host_arch', 'host_id', 'os_type', 'os_version', 'telemetry_sdk_language', 'telemetry_sdk_name', 'telemetry_sdk_version', 'otel_scope_name', 'otel_scope_version']);
      const seen = new Set(r.flatMap((s) => Object.keys(s.metric)));
      expect([...seen].filter((l) => !allowed.has(l) && !l.startsWith('otel_scope_')), m.prometheus).toEqual([]);
      for (const key of m.attributes.filter((k) => !(m.conditionalAttributes ?? []).includes(k))) {
        expect(seen.has(key.replace(/\./g, '_')), `${m.prometheus} has label for ${key}`).toBe(true);
      }
    }
  });

  it('request, attempt, retry, fallback, cost and cache counters hold the scenario\'s values', async () => {
    const c = `bulwark_chain="${CHAIN}"`;
    expect(value(await q(`sum(bulwark_requests_total{${c}})`))).toBe(4);
    for (const [outcome, tier] of [['success', 'full'], ['success_after_retry', 'full'], ['success_via_fallback', 'reduced'], ['static', 'static']]) {
      expect(value(await q(`bulwark_requests_total{${c},bulwark_outcome="${outcome}",bulwark_tier="${tier}"}`)), outcome).toBe(1);
    }
    expect(value(await q(`bulwark_requests_total{${c},bulwark_outcome="failed",bulwark_tier="none"}`))).toBe(0);
    expect(value(await q(`sum(bulwark_attempts_total{${c}})`))).toBe(9);
    expect(value(await q(`sum(bulwark_attempts_total{${c},bulwark_attempt_outcome="failure"})`))).toBe(6);
    expect(value(await q(`bulwark_attempts_total{${c},gen_ai_provider_name="openai",gen_ai_request_model="gpt-4o",bulwark_attempt_kind="retry",bulwark_attempt_outcome="failure",error_type="server_error"}`))).toBe(2);
    expect(value(await q(`sum(bulwark_retries_total{${c}})`))).toBe(3);
    expect(value(await q(`bulwark_retries_total{${c},gen_ai_request_model="gpt-4o",error_type="server_error"}`))).toBe(2);
    expect(value(await q(`bulwark_retries_total{${c},gen_ai_request_model="gpt-4o",error_type="rate_limited"}`))).toBe(1);
    expect(value(await q(`sum(bulwark_fallbacks_total{${c}})`))).toBe(3);
    expect(value(await q(`bulwark_fallbacks_total{${c},bulwark_fallback_from="openai/gpt-4o",bulwark_fallback_to="anthropic/claude-sonnet-4-5",bulwark_fallback_reason="circuit_open"}`))).toBe(1);
    expect(value(await q(`sum(bulwark_cost_total{${c}})`))).toBeCloseTo(spent, 9);
    expect(value(await q(`sum(bulwark_cost_total{${c},bulwark_attempt_outcome="failure"})`))).toBeCloseTo(0.0005, 9);
    expect(value(await q(`bulwark_cache_lookups_total{${c},bulwark_cache_result="miss"}`))).toBe(1);
    expect(value(await q(`bulwark_cache_lookups_total{${c},bulwark_cache_result="hit"}`))).toBe(0);
  });

  it('breaker gauges and counters: the state gauge follows the breaker, transitions and rejections counted', async () => {
    const primary = 'bulwark_breaker="openai/gpt-4o"';
    expect(value(await q(`bulwark_circuit_state{${primary},bulwark_circuit_state="open"}`))).toBe(1);
    expect(value(await q(`bulwark_circuit_state{${primary},bulwark_circuit_state="closed"}`))).toBe(0);
    expect(value(await q(`sum(bulwark_circuit_state{${primary}})`))).toBe(1);
    expect(value(await q(`bulwark_circuit_state{bulwark_breaker="anthropic/claude-sonnet-4-5",bulwark_circuit_state="closed"}`))).toBe(1);
    expect(value(await q(`bulwark_circuit_transitions_total{${primary},bulwark_circuit_from="closed",bulwark_circuit_to="open"}`))).toBe(1);
    expect(value(await q(`bulwark_circuit_transitions_total{${primary},bulwark_circuit_from="half_open",bulwark_circuit_to="open"}`))).toBe(0);
    expect(value(await q(`bulwark_circuit_rejections_total{${primary}}`))).toBe(1);
    expect(value(await q(`bulwark_retry_budget_remaining{bulwark_breaker="anthropic/claude-sonnet-4-5"}`))).toBe(7);
    // The dashboard's breaker timeline expression evaluates (open = 2).
    const timeline = await q(
      `max by (bulwark_breaker) (bulwark_circuit_state{bulwark_circuit_state="open"}) * 2 + max by (bulwark_breaker) (bulwark_circuit_state{bulwark_circuit_state="half_open"})`,
    );
    expect(Object.fromEntries(timeline.map((s) => [s.metric['bulwark_breaker'], Number(s.value[1])]))).toEqual({
      'openai/gpt-4o': 2,
      'anthropic/claude-sonnet-4-5': 0,
      'openai/llama3.1': 0,
    });
  });

  it('histograms: seconds with the explicit buckets, counts and sums per attempt and request', async () => {
    expect(value(await q(`sum(gen_ai_client_operation_duration_seconds_count{service_name="${SERVICE}"})`))).toBe(9);
    expect(value(await q(`sum(gen_ai_client_operation_duration_seconds_count{error_type="server_error"})`))).toBe(3);
    const les = (await q(`gen_ai_client_operation_duration_seconds_bucket{gen_ai_request_model="claude-sonnet-4-5",error_type=""}`)).map((s) => s.metric['le']);
    expect(les).toEqual(expect.arrayContaining(['0.01', '0.64', '1.28', '2.56', '81.92', '+Inf']));
    expect(les).toHaveLength(15);
    // 1.5 s falls in (1.28, 2.56]
    expect(value(await q(`gen_ai_client_operation_duration_seconds_bucket{gen_ai_request_model="claude-sonnet-4-5",error_type="",le="1.28"}`))).toBe(0);
    expect(value(await q(`gen_ai_client_operation_duration_seconds_bucket{gen_ai_request_model="claude-sonnet-4-5",error_type="",le="2.56"}`))).toBe(1);
    expect(value(await q(`sum(bulwark_request_duration_seconds_count{bulwark_chain="${CHAIN}"})`))).toBe(4);
    expect(value(await q(`sum(gen_ai_client_operation_time_to_first_chunk_seconds_sum)`))).toBeCloseTo(0.25, 9);
    expect(value(await q(`sum(gen_ai_client_token_usage_sum{gen_ai_token_type="input"})`))).toBe(100 + 120 * 3);
  });

  it('the dashboards\' retry rate and fallback share compute from the stored series', async () => {
    const retryRate = value(
      await q(`sum(increase(bulwark_retries_total{bulwark_chain="${CHAIN}"}[10m])) / sum(increase(bulwark_requests_total{bulwark_chain="${CHAIN}"}[10m]))`),
    );
    expect(retryRate).toBeCloseTo(3 / 4, 6);
    const fallbackShare = value(
      await q(
        `sum(increase(bulwark_requests_total{bulwark_chain="${CHAIN}",bulwark_outcome="success_via_fallback"}[10m])) / sum(increase(bulwark_requests_total{bulwark_chain="${CHAIN}"}[10m]))`,
      ),
    );
    expect(fallbackShare).toBeCloseTo(1 / 4, 6);
  });
});
