/**
 * The dashboard's PromQL on Prometheus's own engine (promtool 2.53): every query parses, and the golden
 * numbers come out as documented on a small synthetic workload. Rates run over exactly covered windows so the
 * expected values are exact.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { PROMQL, expandVariables, promqlQueries } from '../../grafana/src/index.js';
import { findPromtool, isCI, runPromtool } from '../alerts/promtool.js';

const promtool = await findPromtool();
if (promtool === undefined && !isCI) {
  console.warn('\n[bulwark] SKIPPING dashboard query checks: promtool not found. Run `bash scripts/install-tools.sh`.\n');
}

const WINDOWS = { rateInterval: '5m', range: '10m' };
const S = 'service_name="agent", bulwark_chain="support"';

const GW = 'http_server_request_duration_seconds_count{service_name="agent", http_request_method="POST", http_route="/v1/chat/completions", url_scheme="http"';

/** 1-minute samples for 20 minutes growing by `perSecond` per second (so rates are exact). */
const grows = (perSecond: number) => `0+${perSecond * 60}x20`;

// A chain support = openai/gpt-4o → anthropic/claude-sonnet-4-5, 10 requests/s:
// 6 first-attempt successes, 2 after a retry, 1 via fallback, 1 static reply.
const INPUT = [
  [`bulwark_requests_total{${S}, bulwark_outcome="success", bulwark_tier="full"}`, grows(6)],
  [`bulwark_requests_total{${S}, bulwark_outcome="success_after_retry", bulwark_tier="full"}`, grows(2)],
  [`bulwark_requests_total{${S}, bulwark_outcome="success_via_fallback", bulwark_tier="reduced"}`, grows(1)],
  [`bulwark_requests_total{${S}, bulwark_outcome="static", bulwark_tier="static"}`, grows(1)],
  [`bulwark_requests_total{${S}, bulwark_outcome="failed", bulwark_tier="none"}`, grows(0)],
  [`bulwark_attempts_total{${S}, gen_ai_provider_name="openai", gen_ai_request_model="gpt-4o", bulwark_attempt_kind="initial", bulwark_attempt_outcome="success"}`, grows(6)],
  [`bulwark_attempts_total{${S}, gen_ai_provider_name="openai", gen_ai_request_model="gpt-4o", bulwark_attempt_kind="initial", bulwark_attempt_outcome="failure", error_type="server_error"}`, grows(2)],
  [`bulwark_attempts_total{${S}, gen_ai_provider_name="openai", gen_ai_request_model="gpt-4o", bulwark_attempt_kind="retry", bulwark_attempt_outcome="success"}`, grows(2)],
  [`bulwark_attempts_total{${S}, gen_ai_provider_name="anthropic", gen_ai_request_model="claude-sonnet-4-5", bulwark_attempt_kind="fallback", bulwark_attempt_outcome="success"}`, grows(1)],
  [`bulwark_retries_total{${S}, gen_ai_provider_name="openai", gen_ai_request_model="gpt-4o", error_type="server_error"}`, grows(2)],
  [`bulwark_cost_total{${S}, gen_ai_provider_name="openai", gen_ai_request_model="gpt-4o", bulwark_attempt_outcome="success"}`, '0+48x20'],
  [`bulwark_cost_total{${S}, gen_ai_provider_name="openai", gen_ai_request_model="gpt-4o", bulwark_attempt_outcome="failure"}`, '0+6x20'],
  [`bulwark_circuit_state{${S}, bulwark_breaker="openai/gpt-4o", bulwark_circuit_state="open"}`, '1x20'],
  [`bulwark_circuit_state{${S}, bulwark_breaker="openai/gpt-4o", bulwark_circuit_state="half_open"}`, '0x20'],
  [`bulwark_circuit_state{${S}, bulwark_breaker="openai/gpt-4o", bulwark_circuit_state="closed"}`, '0x20'],
  [`bulwark_circuit_state{${S}, bulwark_breaker="anthropic/claude-sonnet-4-5", bulwark_circuit_state="open"}`, '0x20'],
  [`bulwark_circuit_state{${S}, bulwark_breaker="anthropic/claude-sonnet-4-5", bulwark_circuit_state="half_open"}`, '1x20'],
  [`bulwark_circuit_state{${S}, bulwark_breaker="anthropic/claude-sonnet-4-5", bulwark_circuit_state="closed"}`, '0x20'],
  [`bulwark_circuit_state{${S}, bulwark_breaker="openai", bulwark_circuit_state="open"}`, '0x20'],
  [`bulwark_circuit_state{${S}, bulwark_breaker="openai", bulwark_circuit_state="half_open"}`, '0x20'],
  [`bulwark_circuit_state{${S}, bulwark_breaker="openai", bulwark_circuit_state="closed"}`, '1x20'],
  // The same breaker key in a second chain, closed: its own series, never merged with support's.
  ['bulwark_circuit_state{service_name="agent", bulwark_chain="batch", bulwark_breaker="openai/gpt-4o", bulwark_circuit_state="open"}', '0x20'],
  ['bulwark_circuit_state{service_name="agent", bulwark_chain="batch", bulwark_breaker="openai/gpt-4o", bulwark_circuit_state="half_open"}', '0x20'],
  ['bulwark_circuit_state{service_name="agent", bulwark_chain="batch", bulwark_breaker="openai/gpt-4o", bulwark_circuit_state="closed"}', '1x20'],
  [`bulwark_store_errors_total{${S}, bulwark_store_operation="breaker.record", error_type="timeout"}`, grows(0.5)],
  [`bulwark_store_errors_total{${S}, bulwark_store_operation="cache.get", error_type="unavailable"}`, grows(0)],
  [`bulwark_telemetry_errors_total{${S}, bulwark_telemetry_stage="attributes_hook"}`, grows(0.25)],
  // The gateway: 10 requests/s on /v1/chat/completions (8 answered, 1 refused for its key, 1 exhausted chain),
  // 9.5/s of them within 0.32 s.
  [`${GW}, http_response_status_code="200"}`, grows(8)],
  [`${GW}, http_response_status_code="401"}`, grows(1)],
  [`${GW}, http_response_status_code="502", error_type="502"}`, grows(1)],
  ['http_server_request_duration_seconds_bucket{service_name="agent", http_route="/v1/chat/completions", le="0.16"}', grows(0)],
  ['http_server_request_duration_seconds_bucket{service_name="agent", http_route="/v1/chat/completions", le="0.32"}', grows(9.5)],
  ['http_server_request_duration_seconds_bucket{service_name="agent", http_route="/v1/chat/completions", le="+Inf"}', grows(10)],
] as const;

type Expected = { labels: string; value: number }[];
const EXPECTED: Partial<Record<keyof typeof PROMQL, Expected>> = {
  requestsPerSecond: [{ labels: '{}', value: 10 }],
  endToEndSuccessRatio: [{ labels: '{}', value: 0.9 }],
  firstAttemptSuccessRatio: [{ labels: '{}', value: 0.75 }],
  retryRate: [{ labels: '{}', value: 0.2 }],
  fallbackActivationRatio: [{ labels: '{}', value: 0.1 }],
  // (48 + 6) USD/min over 10 min = 540 USD; 9 successful requests/s over 600 s = 5400 → 0.1 (failed spend included).
  costPerSuccessfulRequest: [{ labels: '{}', value: 0.1 }],
  openBreakers: [{ labels: '{}', value: 1 }],
  breakerState: [
    { labels: '{bulwark_breaker="anthropic/claude-sonnet-4-5", bulwark_chain="support"}', value: 1 },
    { labels: '{bulwark_breaker="openai", bulwark_chain="support"}', value: 0 },
    { labels: '{bulwark_breaker="openai/gpt-4o", bulwark_chain="batch"}', value: 0 },
    { labels: '{bulwark_breaker="openai/gpt-4o", bulwark_chain="support"}', value: 2 },
  ],
  storeErrors: [
    { labels: '{bulwark_store_operation="breaker.record", error_type="timeout"}', value: 0.5 },
    { labels: '{bulwark_store_operation="cache.get", error_type="unavailable"}', value: 0 },
  ],
  telemetryErrors: [{ labels: '{bulwark_chain="support", bulwark_telemetry_stage="attributes_hook"}', value: 0.25 }],
  servedShareByTarget: [
    { labels: '{gen_ai_provider_name="anthropic", gen_ai_request_model="claude-sonnet-4-5"}', value: 0.1 },
    { labels: '{gen_ai_provider_name="openai", gen_ai_request_model="gpt-4o"}', value: 0.8 },
  ],
  chainExhaustedRequests: [
    { labels: '{bulwark_chain="support", bulwark_outcome="failed"}', value: 0 },
    { labels: '{bulwark_chain="support", bulwark_outcome="static"}', value: 1 },
  ],
  // 6 USD/min of failed attempts = 360 USD/h.
  wastedSpendPerHour: [{ labels: '{gen_ai_provider_name="openai", gen_ai_request_model="gpt-4o"}', value: 360 }],
  wastedSpendShare: [{ labels: '{}', value: 0.1111111111111111 }],
  gatewayRequestsByStatus: [
    { labels: '{http_response_status_code="200", http_route="/v1/chat/completions"}', value: 8 },
    { labels: '{http_response_status_code="401", http_route="/v1/chat/completions"}', value: 1 },
    { labels: '{http_response_status_code="502", http_route="/v1/chat/completions"}', value: 1 },
  ],
  gatewayServerErrorRatio: [{ labels: '{}', value: 0.1 }],
  gatewayDurationP95: [{ labels: '{http_route="/v1/chat/completions"}', value: 0.32 }],
};

describe.skipIf(promtool === undefined && !isCI)("dashboard queries on Prometheus's engine (promtool)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-dashboard-queries-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function tool(): string {
    if (promtool === undefined) throw new Error('promtool not found: run scripts/install-tools.sh or set PROMTOOL');
    return promtool;
  }

  it('every panel and annotation query parses', async () => {
    const rules = join(dir, 'dashboard-queries.yml');
    const groups = [
      {
        name: 'dashboard-queries',
        rules: promqlQueries(WINDOWS).map((q) => ({ record: `dashboard:${q.id.replace(':', '_')}`, expr: q.expr })),
      },
    ];
    writeFileSync(rules, stringify({ groups }));
    const { code, output } = await runPromtool(tool(), ['check', 'rules', rules]);
    expect(code, output).toBe(0);
  });

  it('golden numbers match the documented definitions on a synthetic workload', async () => {
    const file = join(dir, 'dashboard-queries.test.yml');
    const test = {
      rule_files: [],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: INPUT.map(([series, values]) => ({ series, values })),
          promql_expr_test: Object.entries(EXPECTED).map(([id, samples]) => ({
            expr: expandVariables(PROMQL[id as keyof typeof PROMQL].expr, WINDOWS),
            eval_time: '20m',
            exp_samples: samples,
          })),
        },
      ],
    };
    writeFileSync(file, stringify(test));
    const { code, output } = await runPromtool(tool(), ['test', 'rules', file]);
    expect(code, output).toBe(0);
  });
});
