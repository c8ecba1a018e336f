/**
 * Every query of the Bulwark dashboards, in one place. Panels reference these entries; `promqlQueries()` hands
 * them to tests that evaluate each one against a real PromQL engine, and the dashboard tests check that the
 * generated JSON uses exactly this set.
 *
 * Conventions:
 * - Rates use `$__rate_interval`; values "over the selected time range" use `$__range` (instant queries).
 * - Request-level metrics (bulwark_requests_total, bulwark_request_duration_seconds) carry no provider/model, so
 *   request-level queries filter on service and chain only.
 * - "Successful request" means outcome `success`, `success_after_retry` or `success_via_fallback`: an answer from
 *   a live model call. `cached` is excluded because it mixes read-through hits with stale entries served when the
 *   whole chain failed, and `static` is the degraded canned reply. Cache behaviour has its own panels.
 */
import { LABELS as L, METRICS as M } from './telemetryNames.js';
import { errorBudget, sliRatio, type SliId } from './slo.js';
import { FILTER_VARIABLES, MATCH } from './variables.js';

export const RATE_INTERVAL = '$__rate_interval';
export const RANGE = '$__range';

export interface PromQuery {
  /** PromQL with Grafana variables. */
  readonly expr: string;
  /** Grafana legend format. */
  readonly legend: string;
  /** Instant query (a single value over `$__range`) instead of a range query. */
  readonly instant?: boolean;
  /**
   * Show the histogram's exemplars (trace id, span id; docs/TELEMETRY.md "Exemplars") on the panel;
   * the Prometheus datasource links their `trace_id` to the trace in Tempo.
   */
  readonly exemplars?: boolean;
}

export interface TraceQuery {
  readonly traceql: string;
  readonly limit: number;
}

const SUCCESS = `${L.outcome}=~"success.*"`;

function sel(metric: string, ...matchers: string[]): string {
  return `${metric}{${matchers.join(', ')}}`;
}
function rate(selector: string, window: string = RATE_INTERVAL): string {
  return `rate(${selector}[${window}])`;
}
function increase(selector: string, window: string = RATE_INTERVAL): string {
  return `increase(${selector}[${window}])`;
}
function sum(expr: string, by?: readonly string[]): string {
  return by ? `sum by (${by.join(', ')}) (${expr})` : `sum(${expr})`;
}
/** Ratio of grouped series to the ungrouped total: `on () group_left ()` divides every series by the one total. */
function shareOfTotal(grouped: string, total: string): string {
  return `${grouped} / on () group_left () ${total}`;
}
function quantile(q: number, bucketSelector: string, by: readonly string[]): string {
  return `histogram_quantile(${q}, ${sum(rate(bucketSelector), ['le', ...by])})`;
}

const req = (...m: string[]) => sel(M.requests, MATCH.service, MATCH.chain, ...m);
const att = (...m: string[]) => sel(M.attempts, MATCH.service, MATCH.chain, MATCH.provider, MATCH.model, ...m);
const attRequestLevel = (...m: string[]) => sel(M.attempts, MATCH.service, MATCH.chain, ...m);
/** Breaker series carry the chain: two chains may use the same breaker key, each with its own breaker. */
const BREAKER = [L.chain, L.breaker] as const;
const BREAKER_LEGEND = `{{${L.breaker}}} · {{${L.chain}}}`;
const brk = (metric: string, ...m: string[]) => sel(metric, MATCH.service, MATCH.chain, MATCH.breaker, ...m);
const state = (s: string) => `max by (${BREAKER.join(', ')}) (${brk(M.circuitState, `${L.circuitState}="${s}"`)})`;
const allRequestsRate = sum(rate(req()));
const hedges = (...m: string[]) => sel(M.hedges, MATCH.service, MATCH.chain, ...m);
/** Gateway requests: HTTP server series carry no chain (a request names a model alias), so service only. */
const gatewayRequests = (...m: string[]) => sel(`${M.httpServerDuration}_count`, MATCH.service, ...m);
/**
 * Tenant panels: series that carry `app.tenant` only (requests without caller attributes, and value sets
 * over the cap — `otel_metric_overflow="true"` — are in every other panel but not here).
 */
const HAS_TENANT = `${L.tenant}!=""`;
const TENANT = [L.tenant] as const;
const TENANT_LEGEND = `{{${L.tenant}}}`;
const tenantCost = () => sel(M.cost, MATCH.service, MATCH.chain, HAS_TENANT);
const tenantReq = (...m: string[]) => req(HAS_TENANT, ...m);
/** SLO panels: the rules' SLI expressions (grafana/src/slo.ts) with the dashboard's filters, per chain. */
const sli = (id: SliId, window: string) => sliRatio(id, window, [L.chain], [MATCH.service, MATCH.chain]);
const burnRate = (id: SliId, window: string) => `(1 - (${sli(id, window)})) / ${errorBudget(id)}`;
const TARGET = [L.provider, L.model] as const;
const TARGET_LEGEND = `{{${L.provider}}}/{{${L.model}}}`;

export const PROMQL = {
  // ── Golden signals ──────────────────────────────────────────────────────────────────────────────────────
  requestsPerSecond: { expr: allRequestsRate, legend: 'requests/s' },
  endToEndSuccessRatio: {
    expr: `${sum(rate(req(SUCCESS)))} / ${allRequestsRate}`,
    legend: 'end-to-end success',
  },
  firstAttemptSuccessRatio: {
    expr:
      `${sum(rate(attRequestLevel(`${L.attemptKind}="initial"`, `${L.attemptOutcome}="success"`)))}` +
      ` / ${sum(rate(attRequestLevel(`${L.attemptKind}="initial"`)))}`,
    legend: 'first-attempt success',
  },
  retryRate: {
    expr: `${sum(rate(sel(M.retries, MATCH.service, MATCH.chain)))} / ${allRequestsRate}`,
    legend: 'retries per request',
  },
  fallbackActivationRatio: {
    expr: `${sum(rate(req(`${L.outcome}="success_via_fallback"`)))} / ${allRequestsRate}`,
    legend: 'served via fallback',
  },
  costPerSuccessfulRequest: {
    expr:
      `${sum(increase(sel(M.cost, MATCH.service, MATCH.chain), RANGE))}` +
      ` / ${sum(increase(req(SUCCESS), RANGE))}`,
    legend: 'USD per successful request',
    instant: true,
  },
  openBreakers: { expr: `sum(${state('open')})`, legend: 'open breakers' },
  requestLatencyP95: {
    expr: quantile(0.95, sel(`${M.requestDuration}_bucket`, MATCH.service, MATCH.chain), []),
    legend: 'p95',
    exemplars: true,
  },

  // ── Retries ─────────────────────────────────────────────────────────────────────────────────────────────
  retriesByProviderAndError: {
    expr: sum(rate(sel(M.retries, MATCH.service, MATCH.chain, MATCH.provider, MATCH.model)), [L.provider, L.errorType]),
    legend: `{{${L.provider}}} · {{${L.errorType}}}`,
  },
  retrySucceeded: {
    expr: sum(rate(att(`${L.attemptKind}="retry"`, `${L.attemptOutcome}="success"`))),
    legend: 'succeeded after retry',
  },
  retryFailed: {
    expr: sum(rate(att(`${L.attemptKind}="retry"`, `${L.attemptOutcome}!="success"`))),
    legend: 'retry failed (retried again or exhausted)',
  },
  retryBudgetExhausted: {
    expr: sum(rate(sel(M.fallbacks, MATCH.service, MATCH.chain, `${L.fallbackReason}="budget_exhausted"`))),
    legend: 'retry budget exhausted → next target',
  },
  backoffWaitPerRequest: {
    // Time inside the logical request minus time inside upstream calls = waiting between attempts (backoff,
    // Retry-After) plus cache lookups. Attempt histograms carry no chain label, so this is per service.
    expr:
      `clamp_min((${sum(rate(sel(`${M.requestDuration}_sum`, MATCH.service)))}` +
      ` - ${sum(rate(sel(`${M.operationDuration}_sum`, MATCH.service)))})` +
      ` / ${sum(rate(sel(`${M.requestDuration}_count`, MATCH.service)))}, 0)`,
    legend: 'avg wait outside upstream calls per request',
  },

  // ── Fallback chain ──────────────────────────────────────────────────────────────────────────────────────
  fallbackHops: {
    expr: sum(rate(sel(M.fallbacks, MATCH.service, MATCH.chain)), [L.fallbackFrom, L.fallbackTo]),
    legend: `{{${L.fallbackFrom}}} → {{${L.fallbackTo}}}`,
  },
  servedShareByTarget: {
    expr: shareOfTotal(sum(rate(attRequestLevel(`${L.attemptOutcome}="success"`)), TARGET), allRequestsRate),
    legend: TARGET_LEGEND,
  },
  servedShareDegraded: {
    expr: shareOfTotal(sum(rate(req(`${L.outcome}=~"cached|static|failed"`)), [L.outcome]), allRequestsRate),
    legend: `{{${L.outcome}}}`,
  },
  fallbackReasons: {
    expr: sum(rate(sel(M.fallbacks, MATCH.service, MATCH.chain)), [L.fallbackReason]),
    legend: `{{${L.fallbackReason}}}`,
  },
  chainExhaustedRequests: {
    expr: sum(rate(req(`${L.outcome}=~"static|failed"`)), [L.chain, L.outcome]),
    legend: `{{${L.chain}}} · {{${L.outcome}}}`,
  },
  // ── Hedged requests ─────────────────────────────────────────────────────────────────────────────────────
  hedgeWinRate: {
    expr: `${sum(rate(hedges(`${L.hedgeOutcome}="won"`)))} / ${sum(rate(hedges()))}`,
    legend: 'hedges won',
  },
  hedgesByOutcome: {
    expr: sum(rate(hedges()), [L.hedgeOutcome]),
    legend: `{{${L.hedgeOutcome}}}`,
  },
  hedgesPerRequest: {
    expr: `${sum(rate(hedges()))} / ${allRequestsRate}`,
    legend: 'hedges per request',
  },
  poolTrafficByMember: {
    // Only pool members carry bulwark.pool.name: every series here is one member of one pool.
    expr: sum(rate(attRequestLevel(`${L.poolName}!=""`)), [L.chain, L.poolName, L.poolMember]),
    legend: `{{${L.poolName}}} · {{${L.poolMember}}} · {{${L.chain}}}`,
  },
  chainExhaustedStaleServed: {
    expr: sum(rate(sel(M.cacheLookups, MATCH.service, MATCH.chain, `${L.cacheResult}="stale_served"`)), [L.chain]),
    legend: `{{${L.chain}}} · stale cache entry`,
  },

  // ── Gateway ─────────────────────────────────────────────────────────────────────────────────────────────
  gatewayRequestsByStatus: {
    expr: sum(rate(gatewayRequests()), [L.httpRoute, L.httpStatus]),
    legend: `{{${L.httpRoute}}} · {{${L.httpStatus}}}`,
  },
  gatewayServerErrorRatio: {
    expr: `${sum(rate(gatewayRequests(`${L.httpStatus}=~"5.."`)))} / ${sum(rate(gatewayRequests()))}`,
    legend: '5xx share',
  },
  gatewayDurationP95: {
    expr: quantile(0.95, sel(`${M.httpServerDuration}_bucket`, MATCH.service), [L.httpRoute]),
    legend: `p95 {{${L.httpRoute}}}`,
  },

  // ── Circuit breakers ────────────────────────────────────────────────────────────────────────────────────
  breakerState: {
    expr: `${state('open')} * 2 + ${state('half_open')}`,
    legend: BREAKER_LEGEND,
  },
  breakerTransitions: {
    expr: sum(increase(brk(M.circuitTransitions)), [...BREAKER, L.circuitTo]),
    legend: `${BREAKER_LEGEND} → {{${L.circuitTo}}}`,
  },
  shortCircuitedCalls: {
    expr: sum(rate(brk(M.circuitRejections)), BREAKER),
    legend: BREAKER_LEGEND,
  },
  retryBudgetRemaining: {
    expr: `min by (${BREAKER.join(', ')}) (${brk(M.retryBudgetRemaining)})`,
    legend: BREAKER_LEGEND,
  },
  limitHeadroom: {
    expr: `min by (${[...BREAKER, L.limitKind, L.limitSource].join(', ')}) (${brk(M.limitRemaining)})`,
    legend: `${BREAKER_LEGEND} · {{${L.limitKind}}} ({{${L.limitSource}}})`,
  },
  limitedSkips: {
    expr: sum(rate(sel(M.fallbacks, MATCH.service, MATCH.chain, `${L.fallbackReason}="limited"`)), [L.chain, L.fallbackFrom]),
    legend: `{{${L.chain}}} · {{${L.fallbackFrom}}} skipped (limited)`,
  },

  // ── Degradation and cache ───────────────────────────────────────────────────────────────────────────────
  tierShare: {
    expr: shareOfTotal(sum(rate(req()), [L.tier]), allRequestsRate),
    legend: `{{${L.tier}}}`,
  },
  requestsByOutcome: {
    expr: sum(rate(req()), [L.outcome]),
    legend: `{{${L.outcome}}}`,
  },
  cacheHitRatio: {
    expr:
      `${sum(rate(sel(M.cacheLookups, MATCH.service, MATCH.chain, `${L.cacheResult}="hit"`)))}` +
      ` / ${sum(rate(sel(M.cacheLookups, MATCH.service, MATCH.chain)))}`,
    legend: 'hit',
  },
  storeErrors: {
    expr: sum(rate(sel(M.storeErrors, MATCH.service, MATCH.chain)), [L.storeOperation, L.errorType]),
    legend: `{{${L.storeOperation}}} · {{${L.errorType}}}`,
  },
  telemetryErrors: {
    expr: sum(rate(sel(M.telemetryErrors, MATCH.service, MATCH.chain)), [L.chain, L.telemetryStage]),
    legend: `{{${L.chain}}} · {{${L.telemetryStage}}}`,
  },
  cacheStaleServedRatio: {
    expr:
      `${sum(rate(sel(M.cacheLookups, MATCH.service, MATCH.chain, `${L.cacheResult}="stale_served"`)))}` +
      ` / ${sum(rate(sel(M.cacheLookups, MATCH.service, MATCH.chain)))}`,
    legend: 'stale served',
  },

  // ── Cost and tokens ─────────────────────────────────────────────────────────────────────────────────────
  spendPerHourByModel: {
    expr: `${sum(rate(sel(M.cost, MATCH.service, MATCH.chain, MATCH.provider, MATCH.model)), TARGET)} * 3600`,
    legend: TARGET_LEGEND,
  },
  wastedSpendPerHour: {
    expr:
      `${sum(rate(sel(M.cost, MATCH.service, MATCH.chain, MATCH.provider, MATCH.model, `${L.attemptOutcome}!="success"`)), TARGET)}` +
      ' * 3600',
    legend: TARGET_LEGEND,
  },
  wastedSpendShare: {
    expr:
      `${sum(increase(sel(M.cost, MATCH.service, MATCH.chain, MATCH.provider, MATCH.model, `${L.attemptOutcome}!="success"`), RANGE))}` +
      ` / ${sum(increase(sel(M.cost, MATCH.service, MATCH.chain, MATCH.provider, MATCH.model), RANGE))}`,
    legend: 'wasted share',
    instant: true,
  },
  // input / output only: the cache and reasoning types are parts of them and would count twice in a stack.
  tokensByType: {
    expr: sum(rate(sel(`${M.tokenUsage}_sum`, MATCH.service, MATCH.provider, MATCH.model, `${L.tokenType}=~"input|output"`)), [L.model, L.tokenType]),
    legend: `{{${L.model}}} · {{${L.tokenType}}}`,
  },
  cacheAndReasoningTokens: {
    expr: sum(
      rate(sel(`${M.tokenUsage}_sum`, MATCH.service, MATCH.provider, MATCH.model, `${L.tokenType}=~"bulwark[.](cache_read|cache_write|reasoning)"`)),
      [L.model, L.tokenType],
    ),
    legend: `{{${L.model}}} · {{${L.tokenType}}}`,
  },
  promptCacheHitRatio: {
    expr:
      `${sum(rate(sel(`${M.tokenUsage}_sum`, MATCH.service, MATCH.provider, MATCH.model, `${L.tokenType}="bulwark.cache_read"`)), [L.model])}` +
      ` / ${sum(rate(sel(`${M.tokenUsage}_sum`, MATCH.service, MATCH.provider, MATCH.model, `${L.tokenType}="input"`)), [L.model])}`,
    legend: `{{${L.model}}}`,
  },

  // ── Tenants (opt-in caller attribute app.tenant) ─────────────────────────────────────────────────────
  tenantSpendPerHour: {
    expr: `${sum(rate(tenantCost()), TENANT)} * 3600`,
    legend: TENANT_LEGEND,
  },
  tenantCostPerSuccessfulRequest: {
    // Tenants without a successful request in the interval are left out (no division by zero).
    expr: `${sum(rate(tenantCost()), TENANT)} / (${sum(rate(tenantReq(SUCCESS)), TENANT)} > 0)`,
    legend: TENANT_LEGEND,
  },
  tenantDegradedShare: {
    expr: `${sum(rate(tenantReq(`${L.outcome}=~"cached|static|failed"`)), TENANT)} / (${sum(rate(tenantReq()), TENANT)} > 0)`,
    legend: TENANT_LEGEND,
  },
  tenantTopSpend: {
    expr: `topk(10, ${sum(increase(tenantCost(), RANGE), TENANT)})`,
    legend: TENANT_LEGEND,
    instant: true,
  },

  // ── SLOs (objectives and threshold: grafana/src/slo.ts) ─────────────────────────────────────────────
  sliAnswered: { expr: sli('answered', RATE_INTERVAL), legend: `{{${L.chain}}} answered` },
  // Full-quality queries read the request-duration buckets: their exemplars lead to slow requests' traces.
  sliFullQuality: { expr: sli('full_quality', RATE_INTERVAL), legend: `{{${L.chain}}} full quality`, exemplars: true },
  errorBudgetAnswered: { expr: `1 - ${burnRate('answered', RANGE)}`, legend: `{{${L.chain}}}`, instant: true },
  errorBudgetFullQuality: { expr: `1 - ${burnRate('full_quality', RANGE)}`, legend: `{{${L.chain}}}`, instant: true, exemplars: true },
  burnRateAnswered: { expr: burnRate('answered', RATE_INTERVAL), legend: `{{${L.chain}}} answered` },
  burnRateFullQuality: { expr: burnRate('full_quality', RATE_INTERVAL), legend: `{{${L.chain}}} full quality`, exemplars: true },

  // ── Provider latency and errors ─────────────────────────────────────────────────────────────────────────
  attemptLatencyP50: {
    expr: quantile(0.5, sel(`${M.operationDuration}_bucket`, MATCH.service, MATCH.provider, MATCH.model), TARGET),
    legend: `p50 ${TARGET_LEGEND}`,
    exemplars: true,
  },
  attemptLatencyP95: {
    expr: quantile(0.95, sel(`${M.operationDuration}_bucket`, MATCH.service, MATCH.provider, MATCH.model), TARGET),
    legend: `p95 ${TARGET_LEGEND}`,
    exemplars: true,
  },
  attemptLatencyP99: {
    expr: quantile(0.99, sel(`${M.operationDuration}_bucket`, MATCH.service, MATCH.provider, MATCH.model), TARGET),
    legend: `p99 ${TARGET_LEGEND}`,
    exemplars: true,
  },
  timeToFirstChunkP50: {
    expr: quantile(0.5, sel(`${M.timeToFirstChunk}_bucket`, MATCH.service, MATCH.provider, MATCH.model), TARGET),
    legend: `p50 ${TARGET_LEGEND}`,
    exemplars: true,
  },
  timeToFirstChunkP95: {
    expr: quantile(0.95, sel(`${M.timeToFirstChunk}_bucket`, MATCH.service, MATCH.provider, MATCH.model), TARGET),
    legend: `p95 ${TARGET_LEGEND}`,
    exemplars: true,
  },
  errorsByType: {
    expr: sum(rate(att(`${L.errorType}!=""`)), [L.provider, L.errorType]),
    legend: `{{${L.provider}}} · {{${L.errorType}}}`,
  },
} as const satisfies Record<string, PromQuery>;

export type PromQueryId = keyof typeof PROMQL;

/** Dashboard annotations (PromQL evaluated by Grafana's annotation engine). */
export const ANNOTATION_PROMQL = {
  breakerOpened: {
    // increase() of the transitions counter, not the state gauge: an open that lasted less than a scrape
    // interval still shows.
    expr: `${sum(increase(brk(M.circuitTransitions, `${L.circuitTo}="open"`)), BREAKER)} > 0`,
    legend: `Breaker opened: ${BREAKER_LEGEND}`,
  },
} as const satisfies Record<string, PromQuery>;

const TRACE_SCOPE = 'resource.service.name =~ "$service" && span.bulwark.chain =~ "$chain"';

/** Tempo TraceQL searches (the logical request span carries these attributes and events). */
export const TRACEQL = {
  retriedRequests: { traceql: `{ ${TRACE_SCOPE} && span.bulwark.retries > 0 }`, limit: 20 },
  fellBackRequests: { traceql: `{ ${TRACE_SCOPE} && span.bulwark.fallback.hops > 0 }`, limit: 20 },
  // Event conditions go in their own spanset, joined at trace level (`{…} && {…}`), the form Tempo documents.
  shortCircuitedRequests: {
    traceql: `{ ${TRACE_SCOPE} } && { event:name = "bulwark.circuit.rejected" }`,
    limit: 20,
  },
  degradedRequests: { traceql: `{ ${TRACE_SCOPE} && span.bulwark.outcome =~ "static|failed" }`, limit: 20 },
} as const satisfies Record<string, TraceQuery>;

export type TraceQueryId = keyof typeof TRACEQL;

export interface ExpandOptions {
  /** Replacement for `$__rate_interval`; left in place when omitted. */
  rateInterval?: string;
  /** Replacement for `$__range`; left in place when omitted. */
  range?: string;
}

/**
 * Replace the dashboard's filter variables by their "All" regex (`.*`), and optionally `$__rate_interval` /
 * `$__range` by fixed durations, giving plain PromQL any Prometheus-compatible engine accepts.
 */
export function expandVariables(expr: string, options: ExpandOptions = {}): string {
  let out = expr;
  if (options.rateInterval !== undefined) out = out.replaceAll(RATE_INTERVAL, options.rateInterval);
  if (options.range !== undefined) out = out.replaceAll(RANGE, options.range);
  for (const v of FILTER_VARIABLES) {
    out = out.replace(new RegExp(`\\$\\{${v.name}\\}|\\$${v.name}\\b`, 'g'), v.allValue);
  }
  return out;
}

export interface NamedPromQuery {
  /** `panel:<id>` or `annotation:<id>`. */
  id: string;
  expr: string;
  instant: boolean;
}

/** Every PromQL expression of the dashboards (panels and annotations), variables expanded. */
export function promqlQueries(options: ExpandOptions = {}): NamedPromQuery[] {
  const panelQueries = Object.entries(PROMQL).map(([id, q]: [string, PromQuery]) => ({
    id: `panel:${id}`,
    expr: expandVariables(q.expr, options),
    instant: q.instant === true,
  }));
  const annotationQueries = Object.entries(ANNOTATION_PROMQL).map(([id, q]: [string, PromQuery]) => ({
    id: `annotation:${id}`,
    expr: expandVariables(q.expr, options),
    instant: false,
  }));
  return [...panelQueries, ...annotationQueries];
}

/** Every TraceQL search of the dashboards, variables expanded. */
export function traceqlQueries(): { id: string; traceql: string }[] {
  return Object.entries(TRACEQL).map(([id, q]) => ({ id, traceql: expandVariables(q.traceql) }));
}
