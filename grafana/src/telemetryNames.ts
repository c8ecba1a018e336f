/**
 * Prometheus names of Bulwark's metrics and labels, as TELEMETRY.md's contract defines them (OTLP default
 * translation: `a.b` → `a_b`, seconds histograms gain `_seconds`, counters gain `_total`; resource attribute
 * `service.name` is promoted to `service_name` by the bundled Prometheus config).
 *
 * TODO(telemetry): once `src/telemetry/names.ts` exists, derive these from it (or assert equality in its contract
 * test) so the dashboards, alerts and the emitting code share one list.
 */

/** Metric families. Histograms are listed by base name; their series end in `_bucket`, `_sum`, `_count`. */
export const METRICS = {
  operationDuration: 'gen_ai_client_operation_duration_seconds',
  tokenUsage: 'gen_ai_client_token_usage',
  timeToFirstChunk: 'gen_ai_client_operation_time_to_first_chunk_seconds',
  requests: 'bulwark_requests_total',
  requestDuration: 'bulwark_request_duration_seconds',
  attempts: 'bulwark_attempts_total',
  retries: 'bulwark_retries_total',
  fallbacks: 'bulwark_fallbacks_total',
  circuitState: 'bulwark_circuit_state',
  circuitTransitions: 'bulwark_circuit_transitions_total',
  circuitRejections: 'bulwark_circuit_rejections_total',
  retryBudgetRemaining: 'bulwark_retry_budget_remaining',
  cacheLookups: 'bulwark_cache_lookups_total',
  cost: 'bulwark_cost_total',
  storeErrors: 'bulwark_store_errors_total',
  telemetryErrors: 'bulwark_telemetry_errors_total',
  limitRemaining: 'bulwark_limit_remaining',
  limitHeaderErrors: 'bulwark_limit_header_errors_total',
  hedges: 'bulwark_hedges_total',
  /** The gateway's HTTP server conventions (docs/TELEMETRY.md "Gateway"). */
  httpServerDuration: 'http_server_request_duration_seconds',
} as const;

const HISTOGRAMS: readonly string[] = [
  METRICS.operationDuration,
  METRICS.tokenUsage,
  METRICS.timeToFirstChunk,
  METRICS.requestDuration,
  METRICS.httpServerDuration,
];

/** Every series name a query may select: counters and gauges as is, histograms with their three suffixes. */
export const PROMETHEUS_SERIES_NAMES: readonly string[] = Object.values(METRICS).flatMap((name) =>
  HISTOGRAMS.includes(name) ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name],
);

/** Label names (OTel attribute `a.b` → label `a_b`). */
export const LABELS = {
  service: 'service_name',
  chain: 'bulwark_chain',
  outcome: 'bulwark_outcome',
  tier: 'bulwark_tier',
  provider: 'gen_ai_provider_name',
  model: 'gen_ai_request_model',
  tokenType: 'gen_ai_token_type',
  errorType: 'error_type',
  attemptKind: 'bulwark_attempt_kind',
  attemptOutcome: 'bulwark_attempt_outcome',
  fallbackFrom: 'bulwark_fallback_from',
  fallbackTo: 'bulwark_fallback_to',
  fallbackReason: 'bulwark_fallback_reason',
  breaker: 'bulwark_breaker',
  circuitState: 'bulwark_circuit_state',
  circuitFrom: 'bulwark_circuit_from',
  circuitTo: 'bulwark_circuit_to',
  cacheResult: 'bulwark_cache_result',
  storeOperation: 'bulwark_store_operation',
  telemetryStage: 'bulwark_telemetry_stage',
  limitKind: 'bulwark_limit_kind',
  limitSource: 'bulwark_limit_source',
  limitHeader: 'bulwark_limit_header',
  hedgeOutcome: 'bulwark_hedge_outcome',
  httpRoute: 'http_route',
  httpStatus: 'http_response_status_code',
  poolName: 'bulwark_pool_name',
  poolMember: 'bulwark_pool_member',
  /** Caller attribute `app.tenant` (opt-in `telemetry.attributes`); the Tenants row groups by it. */
  tenant: 'app_tenant',
} as const;
