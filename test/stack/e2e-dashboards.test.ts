/**
 * The whole pipeline, end to end: a scripted chaos scenario through the engine and the official
 * clients (test/support/e2eScenario.ts) → startTelemetry()'s real OTLP exporters → the real
 * OpenTelemetry Collector running the shipped otel-collector/config.yaml → VictoriaMetrics (a
 * real PromQL engine; `-opentelemetry.usePrometheusNaming`). Then:
 *
 *  1. every PromQL expression of the dashboards (grafana/src/queries.ts → promqlQueries()) is
 *     evaluated — as an instant query, and the range panels also as a range query — and returns data;
 *  2. the headline panels equal the caller-side truth (computed from ChatResult / BulwarkError /
 *     health() only) within {@link REL_TOLERANCE}: retry rate, fallback activation, cost per
 *     successful request, end-to-end success, backoff wait per request, degraded and per-target
 *     shares, the breaker-state timeline (2 = open) and the open-breaker count at every phase end;
 *  3. every alert expression of prometheus/rules/bulwark-alerts.yml and bulwark-slo.yml (recording rules
 *     inlined) is evaluated and returns exactly
 *     the series the scenario implies (BreakerOpened, StuckOpen, ChainAllTargetsOpen, ChainExhausted,
 *     RetryStorm, SustainedFallback, ProviderAuthFailing fire; Flapping and TelemetryAbsent stay
 *     silent), RetryStorm and SustainedFallback with the scenario's exact ratio as their value. Only
 *     the expression is evaluated: a rule's `for:` pending period is promtool's business
 *     (prometheus/rules/tests), not something a one-minute scenario can show.
 *
 * The window. The scenario starts with a steady-state phase W (see e2eScenario.ts) and the incident
 * (phases A–C) follows. Dashboard queries get `$__rate_interval` = `$__range` = exactly the incident
 * (from the moment W's data was queryable to the moment C's was, in ms) and are evaluated at the
 * end of C — what a user sees with the dashboard's time range set to the incident. The truth for
 * them is phases A–C. Alert expressions keep their own fixed windows (5m, 10m, 30m, 1h), which cover
 * everything, so their truth is phases W–C.
 *
 * Every first event counts: startTelemetry()'s exporter sends each new counter or histogram series
 * with a zero point at its start timestamp (src/otel/zeroStart.ts, docs/TELEMETRY.md), so
 * rate()/increase() count a series' first observations — the local target's only attempt shows in
 * the attempt-latency panel (formerly pinned with `it.fails`). Series pre-created at 0 get no
 * extra point, so every sample of one export still shares one timestamp.
 *
 * Tolerance: VictoriaMetrics' rate()/increase() do not extrapolate, and every point of one export
 * carries the same timestamp, so rates over the same window divide exactly; REL_TOLERANCE only
 * absorbs floating-point rounding of sums of doubles (cost, seconds).
 *
 * Traces go to the collector too (startTelemetry's default); its trace exporter points at a closed
 * local port, which must not disturb the metrics pipeline.
 *
 * Needs `victoria-metrics-prod` and `otelcol-bulwark` (scripts/install-tools.sh): skipped loudly on
 * a developer machine without them, a failure under CI=true.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { promqlQueries, PROMQL, type NamedPromQuery } from '../../grafana/src/queries.js';
import { errorBudget, SLO_CONFIG } from '../../grafana/src/slo.js';
import type { ChainHealth } from '../../src/health/types.js';
import { startTelemetry, type TelemetryHandle } from '../../src/otel/index.js';
import { startFaultServer, type FaultServer } from '../../src/testing/index.js';
import {
  BREAKERS,
  createChaosScenario,
  SCENARIO_CHAIN as CHAIN,
  truthOf,
  type ChaosScenario,
  type Checkpoint,
  type Outcome,
  type ScenarioTruth,
} from '../support/e2eScenario.js';
import { startCollector, startVictoriaMetrics, stopAll, type Collector, type PromSample, type VictoriaMetrics } from '../support/processes.js';
import { needTools, repoRoot } from '../support/tools.js';

const tools = needTools('victoria-metrics-prod', 'otelcol-bulwark');

const SERVICE = 'bulwark-e2e';
/** Relative tolerance of the headline comparisons (floating-point rounding only, see the header). */
const REL_TOLERANCE = 1e-9;

interface AlertRule {
  alert?: string;
  record?: string;
  expr: string;
}

const rulesOf = (file: string): AlertRule[] =>
  (parseYaml(readFileSync(join(repoRoot, 'prometheus', 'rules', file), 'utf8')) as { groups: { rules: AlertRule[] }[] }).groups.flatMap((g) => g.rules);
/**
 * The SLO alerts read recording rules (bulwark:sli_*:ratio_rate*), which VictoriaMetrics does not
 * evaluate: each name is replaced by its rule's expression, so the alert runs on the raw metrics.
 */
const sloRules = rulesOf('bulwark-slo.yml');
const inlineRecordings = (expr: string): string =>
  sloRules
    .filter((r) => r.record !== undefined)
    .reduce((e, r) => e.replace(new RegExp(`${r.record!.replace(/[:]/g, '\\$&')}(?![\\w:])`, 'g'), `(${r.expr})`), expr);
const alertRules: AlertRule[] = [...rulesOf('bulwark-alerts.yml'), ...sloRules]
  .filter((r) => r.alert !== undefined)
  .map((r) => ({ ...r, expr: inlineRecordings(r.expr) }));

/** Requests answered at full quality: tier full or reduced within the SLO latency threshold. */
const fullQuality = (log: readonly { result?: { tier: string } ; durationMs?: number }[]): number =>
  log.filter((r) => (r.result?.tier === 'full' || r.result?.tier === 'reduced') && (r.durationMs ?? 0) <= SLO_CONFIG.latencyThresholdSeconds * 1000).length;

const one = (r: PromSample[], what: string): number => {
  expect(r, `${what}: expected exactly one series, got ${JSON.stringify(r)}`).toHaveLength(1);
  return Number(r[0]!.value[1]);
};
/** Headline values, query vs truth, printed after the run (the test's evidence at a glance). */
const measured: Record<string, { query: number; truth: number }> = {};
const expectClose = (got: number, want: number, what: string): void => {
  measured[what] = { query: got, truth: want };
  const scale = Math.max(Math.abs(want), 1e-12);
  expect(Math.abs(got - want) / scale, `${what}: query ${got}, truth ${want}`).toBeLessThanOrEqual(REL_TOLERANCE);
};
const STATE_VALUE = { closed: 0, half_open: 1, open: 2 } as const;
const timelineTruth = (h: ChainHealth): Record<string, number> =>
  Object.fromEntries(h.targets.map((t) => [t.breaker, STATE_VALUE[t.state]]));
const openTruth = (h: ChainHealth): number => new Set(h.targets.filter((t) => t.state === 'open').map((t) => t.breaker)).size;
const byLabel = (r: PromSample[], label: string): Record<string, number> =>
  Object.fromEntries(r.map((s) => [s.metric[label] ?? '', Number(s.value[1])]));
const byTarget = (r: PromSample[]): Record<string, number> =>
  Object.fromEntries(r.map((s) => [`${s.metric['gen_ai_provider_name']}/${s.metric['gen_ai_request_model']}`, Number(s.value[1])]));

describe.skipIf(tools.skip)('chaos scenario → SDK → collector → VictoriaMetrics: every dashboard query and alert expression', () => {
  let vm: VictoriaMetrics;
  let collector: Collector;
  let telemetry: TelemetryHandle | undefined;
  let server: FaultServer | undefined;
  let scenario: ChaosScenario | undefined;
  let checkpoints: Checkpoint[] = [];
  /** Wall-clock unix seconds (ms precision) at which each phase's data was queryable. */
  const phaseTime: Record<string, number> = {};
  /** The incident, phases A–C: the dashboards' truth. */
  let incident: ScenarioTruth;
  /** Everything, phases W–C: the alerts' truth (their windows cover it all). */
  let all: ScenarioTruth;
  let finalHealth: ChainHealth;
  /** `$__rate_interval` = `$__range`: the incident, in ms. */
  let window = '';
  /** Evaluation time of the dashboard queries: the end of the incident. */
  let at = 0;
  let queries: NamedPromQuery[] = [];
  const expr = (id: keyof typeof PROMQL): string => queries.find((q) => q.id === `panel:${id}`)!.expr;
  const atEnd = (promql: string): Promise<PromSample[]> => vm.query(promql, at);

  const requestsSum = `sum(bulwark_requests_total{service_name="${SERVICE}", bulwark_chain="${CHAIN}"})`;

  beforeAll(async () => {
    // Under CI=true a missing binary fails here instead of skipping.
    tools.path('victoria-metrics-prod');
    tools.path('otelcol-bulwark');
    vm = await startVictoriaMetrics();
    collector = await startCollector({ metricsEndpoint: vm.otlpUrl });
    telemetry = await startTelemetry({
      endpoint: collector.otlpHttpUrl,
      serviceName: SERVICE,
      environment: 'e2e',
      metricExportIntervalMs: 1_000,
      exportTimeoutMs: 5_000,
    });
    server = await startFaultServer({ seed: 11 });
    scenario = createChaosScenario(server);

    // Export 0: the pre-created series, all 0 — the base the alerts' rates and increases count from.
    await telemetry.forceFlush();
    await vm.waitForQuery(`count(bulwark_requests_total{service_name="${SERVICE}", bulwark_chain="${CHAIN}"}) >= 6`);

    checkpoints = await scenario.run(async (c) => {
      // Flush: the SDK now, the collector's batch (200 ms), then VictoriaMetrics (force_flush in
      // every poll), polled until this phase's request count is queryable.
      await telemetry!.forceFlush();
      await vm.waitForQuery(`${requestsSum} == ${c.truth.requests}`, { timeoutMs: 20_000 });
      phaseTime[c.phase] = Date.now() / 1000;
    });
    all = checkpoints.at(-1)!.truth;
    finalHealth = checkpoints.at(-1)!.health;
    incident = truthOf(scenario.log.filter((r) => r.phase !== 'W'));
    // Everything of the last export is in: the other counters the headlines divide.
    for (const [promql, want] of [
      [`sum(bulwark_retries_total{service_name="${SERVICE}"})`, all.retries],
      [`sum(bulwark_attempts_total{service_name="${SERVICE}"})`, all.attempts],
      [`sum(bulwark_request_duration_seconds_count{service_name="${SERVICE}"})`, all.requests],
    ] as const) {
      await vm.waitForQuery(`${promql} == ${want}`, { timeoutMs: 10_000 });
    }
    at = phaseTime['C']!;
    window = `${Math.floor((at - phaseTime['W']!) * 1000)}ms`;
    queries = promqlQueries({ rateInterval: window, range: window });
  }, 90_000);

  afterAll(async () => {
    if (Object.keys(measured).length > 0) {
      console.info(`[e2e-dashboards] window ${window}; headline panels, query vs truth:\n` +
        Object.entries(measured).map(([k, v]) => `  ${k.padEnd(34)} ${String(v.query).padEnd(24)} ${v.truth}`).join('\n'));
    }
    await scenario?.llm.close();
    await telemetry?.shutdown();
    await server?.close();
    await stopAll();
  });

  it('the scenario did what it is meant to (caller-side truth)', () => {
    expect(incident.byOutcome).toEqual({ success: 2, success_after_retry: 2, success_via_fallback: 6, cached: 2, static: 3, failed: 1 } satisfies Record<Outcome, number>);
    expect(incident.requests).toBe(16);
    expect([incident.hedges, incident.hedgesWon]).toEqual([1, 1]);
    expect(incident.streamed).toBe(3);
    expect(incident.freshHits).toBe(1);
    expect(incident.staleServed).toBe(1);
    expect(incident.retries).toBeGreaterThan(0.2 * incident.requests); // a retry storm by the rule's threshold
    expect(incident.costUsd).toBeGreaterThan(0);
    expect(incident.backoffWaitMs).toBeGreaterThan(0);
    expect(incident.attemptsByTarget[BREAKERS.local]).toEqual({ authentication: 1 });
    expect(scenario!.hops.filter((h) => h.reason === 'budget_exhausted').map((h) => h.phase)).toEqual(['A', 'C']);
    // Steady state: every outcome, no retries, no breaker touched.
    expect(all.requests - incident.requests).toBe(7);
    expect(all.retries).toBe(incident.retries);
    const [w, a, b, c] = checkpoints.map((cp) => timelineTruth(cp.health));
    const closed = { [BREAKERS.primary]: 0, [BREAKERS.backup]: 0, [BREAKERS.local]: 0 };
    expect([w, a]).toEqual([closed, closed]);
    expect(b).toEqual({ ...closed, [BREAKERS.primary]: 2 });
    expect(c).toEqual({ [BREAKERS.primary]: 2, [BREAKERS.backup]: 2, [BREAKERS.local]: 2 });
    // The fault server saw exactly the upstream calls the results report (no hidden SDK retries).
    expect(server!.requests.length).toBe(all.attempts);
  });

  it('the window is exactly the incident: request and retry counters increase by the incident\'s numbers', async () => {
    expect(one(await atEnd(`sum(increase(bulwark_requests_total{service_name="${SERVICE}"}[${window}]))`), 'requests')).toBe(incident.requests);
    expect(one(await atEnd(`sum(increase(bulwark_retries_total{service_name="${SERVICE}"}[${window}]))`), 'retries')).toBe(incident.retries);
    expect(one(await atEnd(`sum(increase(bulwark_request_duration_seconds_count{service_name="${SERVICE}"}[${window}]))`), 'durations')).toBe(incident.requests);
  });

  describe('every dashboard query returns data', () => {
    it('the catalogue is complete and fully expanded', () => {
      expect(queries.length).toBe(Object.keys(PROMQL).length + 1);
      for (const q of queries) expect(q.expr, q.id).not.toMatch(/\$/);
    });

    // The gateway's panels read http.server.request.duration, which only a gateway emits: the chaos scenario calls
    // the chain directly, so test/stack/gateway-dashboards.test.ts runs them on a gateway's own traffic.
    const scenarioPanels = Object.keys(PROMQL).filter((id) => !id.startsWith('gateway'));
    it('leaves out only the gateway panels', () => {
      expect(Object.keys(PROMQL).filter((id) => !scenarioPanels.includes(id))).toEqual(['gatewayRequestsByStatus', 'gatewayServerErrorRatio', 'gatewayDurationP95']);
    });

    it.each(scenarioPanels.map((id) => `panel:${id}`).concat('annotation:breakerOpened'))('%s', async (id) => {
      const q = queries.find((x) => x.id === id)!;
      const r = await atEnd(q.expr); // throws on an evaluation error
      expect(r.length, `${q.id} (instant): ${q.expr}`).toBeGreaterThan(0);
      for (const s of r) expect(Number.isFinite(Number(s.value[1])), `${q.id}: ${JSON.stringify(s)}`).toBe(true);
      if (!q.instant) {
        // As a time-series panel runs it: a range query over the incident.
        const range = await vm.queryRange(q.expr, phaseTime['W']!, at, '1s');
        expect(range.length, `${q.id} (range): ${q.expr}`).toBeGreaterThan(0);
      }
    });
  });

  describe('headline panels equal what the scenario did', () => {
    it('retry rate = retries sent / requests', async () => {
      expectClose(one(await atEnd(expr('retryRate')), 'retryRate'), incident.retries / incident.requests, 'retry rate');
    });

    it('fallback activation = requests answered by a fallback target / requests', async () => {
      expectClose(
        one(await atEnd(expr('fallbackActivationRatio')), 'fallbackActivationRatio'),
        incident.byOutcome.success_via_fallback / incident.requests,
        'fallback activation',
      );
    });

    it('cost per successful request = all spend / successful requests', async () => {
      expectClose(one(await atEnd(expr('costPerSuccessfulRequest')), 'costPerSuccessfulRequest'), incident.costUsd / incident.successes, 'cost per successful request');
    });

    it('end-to-end success ratio and average backoff wait per request', async () => {
      expectClose(one(await atEnd(expr('endToEndSuccessRatio')), 'endToEndSuccessRatio'), incident.successes / incident.requests, 'end-to-end success');
      // Upstream calls take no virtual time (fake clock), so the time of a request outside its
      // upstream calls is exactly its backoff and Retry-After waits.
      expectClose(
        one(await atEnd(expr('backoffWaitPerRequest')), 'backoffWaitPerRequest'),
        incident.backoffWaitMs / 1000 / incident.requests,
        'backoff wait per request',
      );
    });

    it('degraded shares by outcome and served share by target', async () => {
      const degraded = byLabel(await atEnd(expr('servedShareDegraded')), 'bulwark_outcome');
      expect(Object.keys(degraded).sort()).toEqual(['cached', 'failed', 'static']);
      for (const o of ['cached', 'failed', 'static'] as const) expectClose(degraded[o]!, incident.byOutcome[o] / incident.requests, `degraded share ${o}`);

      const served = byTarget(await atEnd(expr('servedShareByTarget')));
      expect(Object.keys(served).sort()).toEqual(Object.values(BREAKERS).sort());
      for (const key of Object.values(BREAKERS)) expectClose(served[key]!, (incident.servedByTarget[key] ?? 0) / incident.requests, `served share ${key}`);
    });

    it('tenants (app.tenant from the telemetry.attributes hook): spend, cost per successful request, degraded share, top spenders', async () => {
      const tenants = Object.keys(incident.byTenant).sort();
      expect(tenants).toEqual(['acme', 'globex']);
      const top = byLabel(await atEnd(expr('tenantTopSpend')), 'app_tenant');
      expect(Object.keys(top).sort()).toEqual(tenants);
      for (const t of tenants) expectClose(top[t]!, incident.byTenant[t]!.costUsd, `spend ${t}`);
      const perSuccess = byLabel(await atEnd(expr('tenantCostPerSuccessfulRequest')), 'app_tenant');
      const withSuccesses = tenants.filter((t) => incident.byTenant[t]!.successes > 0);
      expect(Object.keys(perSuccess).sort()).toEqual(withSuccesses);
      for (const t of withSuccesses) expectClose(perSuccess[t]!, incident.byTenant[t]!.costUsd / incident.byTenant[t]!.successes, `cost per successful request ${t}`);
      const degraded = byLabel(await atEnd(expr('tenantDegradedShare')), 'app_tenant');
      for (const t of tenants) expectClose(degraded[t]!, incident.byTenant[t]!.degraded / incident.byTenant[t]!.requests, `degraded share ${t}`);
      // Every request carried a tenant: the tenant series add up to the chain's totals.
      expect(one(await atEnd(`sum(increase(bulwark_requests_total{service_name="${SERVICE}", app_tenant!=""}[${window}]))`), 'tenant requests')).toBe(incident.requests);
    });

    it('SLIs, burn rates and error budget remaining equal the incident\'s answered and full-quality shares', async () => {
      const answered = (incident.requests - incident.byOutcome.static - incident.byOutcome.failed) / incident.requests;
      const full = fullQuality(scenario!.log.filter((r) => r.phase !== 'W')) / incident.requests;
      expectClose(one(await atEnd(expr('sliAnswered')), 'sliAnswered'), answered, 'SLI answered');
      expectClose(one(await atEnd(expr('sliFullQuality')), 'sliFullQuality'), full, 'SLI full quality');
      expectClose(one(await atEnd(expr('burnRateAnswered')), 'burnRateAnswered'), (1 - answered) / errorBudget('answered'), 'burn rate answered');
      expectClose(one(await atEnd(expr('burnRateFullQuality')), 'burnRateFullQuality'), (1 - full) / errorBudget('full_quality'), 'burn rate full quality');
      expectClose(one(await atEnd(expr('errorBudgetAnswered')), 'errorBudgetAnswered'), 1 - (1 - answered) / errorBudget('answered'), 'budget left answered');
      expectClose(one(await atEnd(expr('errorBudgetFullQuality')), 'errorBudgetFullQuality'), 1 - (1 - full) / errorBudget('full_quality'), 'budget left full quality');
      // The recording rules themselves, with their window set to the incident.
      for (const rule of sloRules.filter((r) => r.record?.endsWith('ratio_rate5m'))) {
        const want = rule.record!.includes('answered') ? answered : full;
        expectClose(one(await atEnd(rule.expr.replaceAll('[5m]', `[${window}]`)), rule.record!), want, `${rule.record} over the incident`);
      }
    });

    it('breaker state timeline: 2 while open, 0 while closed, at the end of every phase', async () => {
      for (const c of checkpoints) {
        const timeline = byLabel(await vm.query(expr('breakerState'), phaseTime[c.phase]), 'bulwark_breaker');
        expect(timeline, `phase ${c.phase}`).toEqual(timelineTruth(c.health));
      }
      // The primary: closed through phases W and A, open from phase B on.
      expect(checkpoints.map((c) => timelineTruth(c.health)[BREAKERS.primary])).toEqual([0, 0, 2, 2]);
    });

    it('open breakers, at the end of every phase', async () => {
      for (const c of checkpoints) {
        expect(one(await vm.query(expr('openBreakers'), phaseTime[c.phase]), `openBreakers ${c.phase}`), `phase ${c.phase}`).toBe(openTruth(c.health));
      }
      expect(checkpoints.map((c) => openTruth(c.health))).toEqual([0, 0, 1, 3]);
    });

    it('breaker transitions: one closed → open per breaker', async () => {
      const r = await atEnd(expr('breakerTransitions'));
      const opened = Object.fromEntries(r.filter((s) => s.metric['bulwark_circuit_to'] === 'open').map((s) => [s.metric['bulwark_breaker'], Number(s.value[1])]));
      expect(opened).toEqual({ [BREAKERS.primary]: 1, [BREAKERS.backup]: 1, [BREAKERS.local]: 1 });
    });

    it('time to first chunk: a series for each target that streamed in the incident', async () => {
      const streamedBy = [...new Set(scenario!.log.filter((r) => r.phase !== 'W' && r.stream && r.result && r.result.target.index >= 0).map((r) => `${r.result!.target.provider}/${r.result!.target.model}`))];
      expect(Object.keys(byTarget(await atEnd(expr('timeToFirstChunkP95')))).sort()).toEqual(streamedBy.sort());
    });
  });

  describe('first observations count in rate() (formerly known gaps)', () => {
    // Closed: bulwark_fallbacks_total{bulwark_fallback_reason="budget_exhausted"} is now pre-created
    // (PRECREATE.fallbackReasons), so the panel "retry budget exhausted → next target" sees the
    // incident's two exhaustions (primary → backup in A, backup → local in C).
    it('hedge win rate = hedges whose answer was used / hedges; hedges per request', async () => {
      expectClose(one(await atEnd(expr('hedgeWinRate')), 'hedgeWinRate'), incident.hedgesWon / incident.hedges, 'hedge win rate');
      expectClose(one(await atEnd(expr('hedgesPerRequest')), 'hedgesPerRequest'), incident.hedges / incident.requests, 'hedges per request');
      expect(byLabel(await atEnd(expr('hedgesByOutcome')), 'bulwark_hedge_outcome')).toMatchObject({ cancelled: 0, lost: 0 });
    });

    it('retryBudgetExhausted shows the budget exhaustions of the incident', async () => {
      expect(scenario!.hops.some((h) => h.phase !== 'W' && h.reason === 'budget_exhausted')).toBe(true);
      expect(one(await atEnd(expr('retryBudgetExhausted')), 'retryBudgetExhausted')).toBeGreaterThan(0);
    });

    // Closed: the local target's only attempt (a 401) is the first observation of its duration-
    // histogram series. startTelemetry's exporter sends that series' zero point at its start
    // timestamp first (src/otel/zeroStart.ts), so rate() of its buckets counts the attempt.
    it('attempt latency shows every target that made an attempt in the incident', async () => {
      expect(Object.keys(byTarget(await atEnd(expr('attemptLatencyP95')))).sort()).toEqual(Object.keys(incident.attemptsByTarget).sort());
    });
  });

  describe('every alert expression evaluates, and fires exactly where the scenario says', () => {
    /** Alert → the label sets its expression must return now (only the labels named here are compared). */
    const expected = (): Record<string, { labels: string[]; series: Record<string, string>[]; value?: number }> => {
      const notClosed = finalHealth.targets.filter((t) => t.state !== 'closed').map((t) => t.breaker);
      const everOpened = [...new Set(checkpoints.flatMap((c) => c.health.targets.filter((t) => t.state !== 'closed').map((t) => t.breaker)))];
      const degraded = all.byOutcome.static + all.byOutcome.failed + all.staleServed;
      const retryShare = all.retries / all.requests;
      const fallbackShare = all.byOutcome.success_via_fallback / all.requests;
      const authFailing = Object.entries(all.attemptsByTarget)
        .filter(([, byType]) => (byType['authentication'] ?? 0) + (byType['permission'] ?? 0) > 0 && !byType[''])
        .map(([key]) => {
          const [provider, model] = key.split('/') as [string, string];
          return { service_name: SERVICE, gen_ai_provider_name: provider, gen_ai_request_model: model };
        });
      const chain = [{ service_name: SERVICE, bulwark_chain: CHAIN }];
      // Burn rates: bad share / error budget (1 − objective).
      const answeredBurn = ((all.byOutcome.static + all.byOutcome.failed) / all.requests) / errorBudget('answered');
      const fullQualityBurn = ((all.requests - fullQuality(scenario!.log)) / all.requests) / errorBudget('full_quality');
      return {
        BulwarkBreakerOpened: {
          labels: ['service_name', 'bulwark_chain', 'bulwark_breaker'],
          series: everOpened.map((b) => ({ service_name: SERVICE, bulwark_chain: CHAIN, bulwark_breaker: b })),
        },
        BulwarkBreakerStuckOpen: {
          labels: ['service_name', 'bulwark_chain', 'bulwark_breaker'],
          series: notClosed.map((b) => ({ service_name: SERVICE, bulwark_chain: CHAIN, bulwark_breaker: b })),
        },
        BulwarkBreakerFlapping: { labels: [], series: [] },
        BulwarkChainAllTargetsOpen: { labels: ['service_name', 'bulwark_chain'], series: notClosed.length === finalHealth.targets.length ? chain : [] },
        BulwarkChainExhausted: { labels: ['service_name', 'bulwark_chain'], series: degraded > 0 ? chain : [] },
        BulwarkRetryStorm: { labels: ['service_name', 'bulwark_chain'], series: retryShare > 0.2 && all.requests >= 10 ? chain : [], value: retryShare },
        BulwarkSustainedFallback: {
          labels: ['service_name', 'bulwark_chain'],
          series: fallbackShare > 0.1 && all.requests >= 10 ? chain : [],
          value: fallbackShare,
        },
        BulwarkProviderAuthFailing: { labels: ['service_name', 'gen_ai_provider_name', 'gen_ai_request_model'], series: authFailing },
        BulwarkTelemetryAbsent: { labels: [], series: [] },
        // The primary's limits are far above the scenario's traffic: never at them.
        BulwarkTargetAtLimits: { labels: [], series: [] },
        // Every window (5m … 6h) covers the whole scenario: bad shares are the scenario's, far above 14.4x.
        BulwarkSLOAnsweredFastBurn: { labels: ['service_name', 'bulwark_chain'], series: answeredBurn > 14.4 ? chain : [], value: answeredBurn },
        BulwarkSLOAnsweredSlowBurn: { labels: ['service_name', 'bulwark_chain'], series: answeredBurn > 6 ? chain : [], value: answeredBurn },
        // The request-duration histogram's series start within the windows (first observations in W), so
        // VictoriaMetrics' rates over them are not exact ratios: the series is checked, not the value.
        BulwarkSLOFullQualityFastBurn: { labels: ['service_name', 'bulwark_chain'], series: fullQualityBurn > 14.4 ? chain : [] },
        BulwarkSLOFullQualitySlowBurn: { labels: ['service_name', 'bulwark_chain'], series: fullQualityBurn > 6 ? chain : [] },
      };
    };

    it('every alert of the rules file has an expectation here (a new alert must be added)', () => {
      expect(alertRules.map((r) => r.alert).sort()).toEqual(Object.keys(expected()).sort());
    });

    it('the scenario fires the alerts it is built for', () => {
      const e = expected();
      for (const name of [
        'BulwarkBreakerOpened',
        'BulwarkChainExhausted',
        'BulwarkProviderAuthFailing',
        'BulwarkRetryStorm',
        'BulwarkChainAllTargetsOpen',
        'BulwarkSLOAnsweredFastBurn',
        'BulwarkSLOFullQualityFastBurn',
      ]) {
        expect(e[name]!.series.length, name).toBeGreaterThan(0);
      }
    });

    it.each(alertRules.map((r) => [r.alert!, r] as [string, AlertRule]))('%s', async (name, rule) => {
      const want = expected()[name]!;
      const r = await vm.query(rule.expr); // throws on an evaluation error
      const project = (m: Record<string, string>) => Object.fromEntries(want.labels.map((l) => [l, m[l] ?? '']));
      const key = (m: Record<string, string>) => JSON.stringify(m);
      expect(r.map((s) => key(project(s.metric))).sort(), `${name}: ${rule.expr}`).toEqual(want.series.map(key).sort());
      if (want.value !== undefined && want.series.length > 0) expectClose(Number(r[0]!.value[1]), want.value, `${name} value`);
    });
  });
});
