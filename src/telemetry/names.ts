/**
 * Every telemetry string Bulwark emits: span names, attribute keys, event names, metric names,
 * units, attribute values and bucket advice. This is the only module where they live; the
 * contract test (`test/telemetry/contract.test.ts`) holds it to TELEMETRY.md, and dashboards,
 * alerts and the README are written against it. Change a name here only together with them.
 *
 * GenAI names follow the OpenTelemetry GenAI semantic conventions v1.41.0; resilience names
 * live in the library's own `bulwark.` namespace.
 */

/** Instrumentation scope name of the tracer and the meter. */
export const INSTRUMENTATION_SCOPE = 'bulwark';
/** Instrumentation scope version; a test keeps it equal to package.json's version. */
export const BULWARK_VERSION = '0.1.0';
/** Semantic-conventions version the GenAI names follow. */
export const GENAI_SEMCONV_VERSION = '1.41.0';

// ------------------------------------------------------------------------------------------ spans

export const SPAN = {
  /** Logical request span, kind INTERNAL: `bulwark {operation} {chain}`. */
  request: (operation: string, chain: string): string => `bulwark ${operation} ${chain}`,
  /** Attempt span, kind CLIENT: `{gen_ai.operation.name} {gen_ai.request.model}`. */
  attempt: (operation: string, model: string): string => `${operation} ${model}`,
  /** Gateway server span, kind SERVER: `{http.request.method} {http.route}` (the method alone off the routes). */
  server: (method: string, route: string | undefined): string => (route === undefined ? method : `${method} ${route}`),
} as const;

/** The same patterns as text, for docs and the contract test. */
export const SPAN_NAME_PATTERNS = {
  request: 'bulwark {operation} {chain}',
  attempt: '{gen_ai.operation.name} {gen_ai.request.model}',
  server: '{http.request.method} {http.route}',
} as const;

// ------------------------------------------------------------------------------------- attributes

/** Attribute keys: span, event and metric attributes all come from here. */
export const ATTR = {
  // GenAI semantic conventions v1.41.0
  GEN_AI_OPERATION_NAME: 'gen_ai.operation.name',
  GEN_AI_PROVIDER_NAME: 'gen_ai.provider.name',
  GEN_AI_REQUEST_MODEL: 'gen_ai.request.model',
  GEN_AI_REQUEST_MAX_TOKENS: 'gen_ai.request.max_tokens',
  GEN_AI_REQUEST_TEMPERATURE: 'gen_ai.request.temperature',
  GEN_AI_REQUEST_TOP_P: 'gen_ai.request.top_p',
  GEN_AI_REQUEST_STOP_SEQUENCES: 'gen_ai.request.stop_sequences',
  GEN_AI_REQUEST_STREAM: 'gen_ai.request.stream',
  GEN_AI_RESPONSE_MODEL: 'gen_ai.response.model',
  GEN_AI_RESPONSE_ID: 'gen_ai.response.id',
  GEN_AI_RESPONSE_FINISH_REASONS: 'gen_ai.response.finish_reasons',
  GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: 'gen_ai.response.time_to_first_chunk',
  GEN_AI_USAGE_INPUT_TOKENS: 'gen_ai.usage.input_tokens',
  GEN_AI_USAGE_OUTPUT_TOKENS: 'gen_ai.usage.output_tokens',
  GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 'gen_ai.usage.cache_read.input_tokens',
  GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: 'gen_ai.usage.cache_creation.input_tokens',
  GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: 'gen_ai.usage.reasoning.output_tokens',
  GEN_AI_TOKEN_TYPE: 'gen_ai.token.type',
  GEN_AI_INPUT_MESSAGES: 'gen_ai.input.messages',
  GEN_AI_OUTPUT_MESSAGES: 'gen_ai.output.messages',
  SERVER_ADDRESS: 'server.address',
  SERVER_PORT: 'server.port',
  ERROR_TYPE: 'error.type',
  HTTP_REQUEST_RESEND_COUNT: 'http.request.resend_count',
  // HTTP server semantic conventions (the gateway)
  HTTP_REQUEST_METHOD: 'http.request.method',
  HTTP_ROUTE: 'http.route',
  HTTP_RESPONSE_STATUS_CODE: 'http.response.status_code',
  URL_SCHEME: 'url.scheme',
  URL_PATH: 'url.path',

  // Bulwark: the logical request
  CHAIN: 'bulwark.chain',
  TIER: 'bulwark.tier',
  OUTCOME: 'bulwark.outcome',
  ATTEMPTS: 'bulwark.attempts',
  RETRIES: 'bulwark.retries',
  FALLBACK_HOPS: 'bulwark.fallback.hops',
  COST_USD: 'bulwark.cost_usd',

  // Bulwark: one attempt
  ATTEMPT_NUMBER: 'bulwark.attempt.number',
  ATTEMPT_KIND: 'bulwark.attempt.kind',
  ATTEMPT_OUTCOME: 'bulwark.attempt.outcome',
  TARGET_INDEX: 'bulwark.target.index',
  /** When the target is a member of a pool: the pool's name, and the member (its breaker key). */
  POOL_NAME: 'bulwark.pool.name',
  POOL_MEMBER: 'bulwark.pool.member',

  // Bulwark: events and resilience metrics
  RETRY_DELAY_MS: 'bulwark.retry.delay_ms',
  RETRY_REASON: 'bulwark.retry.reason',
  RETRY_AFTER_MS: 'bulwark.retry.retry_after_ms',
  FALLBACK_FROM: 'bulwark.fallback.from',
  FALLBACK_TO: 'bulwark.fallback.to',
  FALLBACK_REASON: 'bulwark.fallback.reason',
  BREAKER: 'bulwark.breaker',
  CIRCUIT_STATE: 'bulwark.circuit.state',
  CIRCUIT_FROM: 'bulwark.circuit.from',
  CIRCUIT_TO: 'bulwark.circuit.to',
  CIRCUIT_REASON: 'bulwark.circuit.reason',
  CACHE_RESULT: 'bulwark.cache.result',
  DEGRADED_REASON: 'bulwark.degraded.reason',
  STREAM_RESET_REASON: 'bulwark.stream.reset_reason',
  STORE_OPERATION: 'bulwark.store.operation',
  REASONING_DROPPED_BLOCKS: 'bulwark.reasoning.dropped_blocks',
  REASONING_FROM: 'bulwark.reasoning.from',
  TELEMETRY_STAGE: 'bulwark.telemetry.stage',
  /** `bulwark.clamped` event: the request's maxTokens, and the target's maxOutputTokens it was clamped to. */
  CLAMPED_REQUESTED: 'bulwark.clamped.requested',
  CLAMPED_ALLOWED: 'bulwark.clamped.allowed',
  /** `bulwark.limit.remaining`: which limit (requests, tokens, concurrent) and whose count (local, provider). */
  LIMIT_KIND: 'bulwark.limit.kind',
  LIMIT_SOURCE: 'bulwark.limit.source',
  /** `bulwark.limit.header_errors`: the provider rate-limit header whose value was not usable. */
  LIMIT_HEADER: 'bulwark.limit.header',
  /** `bulwark.hedges` and the `bulwark.hedge` event: how a hedged call ended (won, lost, cancelled). */
  HEDGE_OUTCOME: 'bulwark.hedge.outcome',
} as const;

export type AttributeKey = (typeof ATTR)[keyof typeof ATTR];

// ----------------------------------------------------------------------------------------- events

export const EVENT = {
  /** On the attempt span that failed: `bulwark.retry.delay_ms`, `.reason`, `.retry_after_ms`. */
  RETRY_SCHEDULED: 'bulwark.retry.scheduled',
  /**
   * On the attempt span: the conversation carried reasoning blocks of another provider, left out of
   * this call (`bulwark.reasoning.dropped_blocks`, `bulwark.reasoning.from`: the providers they came from).
   */
  REASONING_DROPPED: 'bulwark.reasoning.dropped',
  /** On the attempt span whose outcome caused it: `bulwark.breaker`, `bulwark.circuit.from/to/reason`. */
  CIRCUIT_TRANSITION: 'bulwark.circuit.transition',
  /** On the logical span: `bulwark.cache.result`. */
  CACHE_LOOKUP: 'bulwark.cache.lookup',
  /** On the logical span: `bulwark.fallback.from/to/reason`. */
  FALLBACK: 'bulwark.fallback',
  /** On the logical span: `bulwark.breaker`, `bulwark.target.index`, provider, model. */
  CIRCUIT_REJECTED: 'bulwark.circuit.rejected',
  /** On the logical span: `bulwark.tier`, `bulwark.degraded.reason`. */
  DEGRADED: 'bulwark.degraded',
  /** On the logical span: a stream restarted on another target (`bulwark.stream.reset_reason`). */
  STREAM_RESET: 'bulwark.stream.reset',
  /**
   * On the span active when a store call failed (the logical span, for calls a request made):
   * `bulwark.store.operation`, `error.type`. The request went on with local state.
   */
  STORE_ERROR: 'bulwark.store.error',
  /**
   * On an attempt span whose request asked for more output tokens than the target's
   * `maxOutputTokens`: `bulwark.clamped.requested`, `bulwark.clamped.allowed`. The span's
   * `gen_ai.request.max_tokens` is the allowed value, what was sent.
   */
  CLAMPED: 'bulwark.clamped',
  /**
   * On the logical span, once per hedge as it ends: `bulwark.hedge.outcome`, and the hedge's
   * target (`bulwark.target.index`, provider, model).
   */
  HEDGE: 'bulwark.hedge',
} as const;

// --------------------------------------------------------------------------------- attribute values

export const OPERATIONS = ['chat'] as const;
export const OUTCOMES = ['success', 'success_after_retry', 'success_via_fallback', 'cached', 'static', 'failed'] as const;
/**
 * `bulwark.tier`. `none` is what a failed request reports (it was served no tier), so every
 * `bulwark.requests` series has the same label set.
 */
export const TIERS = ['full', 'reduced', 'cached', 'static', 'none'] as const;
export const TIER_NONE = 'none';
export const ATTEMPT_KINDS = ['initial', 'retry', 'fallback', 'probe', 'hedge'] as const;
/**
 * `bulwark.hedge.outcome`: `won` (its answer was used), `lost` (another call of the request answered
 * first, or the hedge failed on its own), `cancelled` (the request ended without an answer from the
 * race: the caller cancelled, the deadline passed, or the request failed for good).
 */
export const HEDGE_OUTCOMES = ['won', 'lost', 'cancelled'] as const;
export type HedgeOutcome = (typeof HEDGE_OUTCOMES)[number];
export const ATTEMPT_OUTCOMES = ['success', 'failure'] as const;
export const CIRCUIT_STATE_VALUES = ['closed', 'half_open', 'open'] as const;
export const CACHE_RESULTS = ['hit', 'miss', 'stale_served'] as const;
/**
 * `gen_ai.token.type` on `gen_ai.client.token.usage`. GenAI semconv v1.41 defines `input` and
 * `output` only; the prompt-cache and reasoning breakdowns (which it has as span attributes,
 * `gen_ai.usage.cache_read.input_tokens` …) get `bulwark.`-prefixed values. They are parts of
 * `input` / `output`, recorded as well as them: never sum every token type together.
 */
export const TOKEN_TYPES = ['input', 'output', 'bulwark.cache_read', 'bulwark.cache_write', 'bulwark.reasoning'] as const;
export type TokenType = (typeof TOKEN_TYPES)[number];
/** Each breakdown token type and the Usage field it counts. */
export const TOKEN_TYPE_OF_USAGE = {
  cacheReadTokens: 'bulwark.cache_read',
  cacheWriteTokens: 'bulwark.cache_write',
  reasoningTokens: 'bulwark.reasoning',
} as const satisfies Record<string, TokenType>;
/**
 * `bulwark.fallback.reason` values besides the error types: a breaker that turned the target away,
 * a target skipped before any call because it cannot take the request's images or files, and a
 * target skipped because it is at one of its limits (its own rpm / tpm / maxConcurrent, or its
 * provider's reported remaining budget at 0 until the reset).
 */
export const SKIP_REASONS = ['circuit_open', 'unsupported_input', 'limited'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];
/** `bulwark.store.operation`: which part of Bulwark was talking to the store (cache, shared state). */
export const STORE_OPERATIONS = [
  'cache.get',
  'cache.set',
  'breaker.acquire',
  'breaker.record',
  'breaker.override',
  'budget.withdraw',
  'budget.flush',
  'tier.set',
  'sync',
  'limit.take',
  'limit.correct',
] as const;
/** `bulwark.limit.kind`: requests (rpm), tokens (tpm), concurrent (maxConcurrent). */
export const LIMIT_KINDS = ['requests', 'tokens', 'concurrent'] as const;
/** `bulwark.limit.source`: Bulwark's own accounting (`local`, fleet-wide with sharedState) or the provider's headers. */
export const LIMIT_SOURCES = ['local', 'provider'] as const;
/**
 * `bulwark.limit.header` values: every provider rate-limit header Bulwark reads (OpenAI
 * `x-ratelimit-*`, Anthropic `anthropic-ratelimit-*`). A bounded list, so the counter stays small.
 */
export const LIMIT_HEADERS = [
  ...(['requests', 'tokens'] as const).flatMap((f) => [`x-ratelimit-limit-${f}`, `x-ratelimit-remaining-${f}`, `x-ratelimit-reset-${f}`]),
  ...(['requests', 'tokens', 'input-tokens', 'output-tokens'] as const).flatMap((f) => [
    `anthropic-ratelimit-${f}-limit`,
    `anthropic-ratelimit-${f}-remaining`,
    `anthropic-ratelimit-${f}-reset`,
  ]),
] as const;
/**
 * `bulwark.telemetry.stage` of `bulwark.telemetry.errors`: where Bulwark's own telemetry failed
 * (the request always goes on). `attributes_hook`: the caller's `telemetry.attributes` hook threw
 * or returned something outside its contract; `health_snapshot`: the breaker/budget gauges could not
 * read the chain's health; `request_span`: a request span could not be started.
 */
export const TELEMETRY_STAGES = ['attributes_hook', 'health_snapshot', 'request_span'] as const;
export type TelemetryStage = (typeof TELEMETRY_STAGES)[number];
/** `error.type` of `bulwark.store.errors`. */
export const STORE_ERROR_TYPES = ['timeout', 'unavailable', 'out_of_memory', 'authentication', 'corrupt', 'error'] as const;

// ---------------------------------------------------------------------------------------- metrics

/** Seconds buckets 0.01 … 81.92, doubling (the GenAI semconv advice for operation duration). */
export const SECONDS_BUCKETS: readonly number[] = Array.from({ length: 14 }, (_, i) => Number((0.01 * 2 ** i).toFixed(2)));
/** Token buckets 1, 4, 16 … 67108864 (the GenAI semconv advice for token usage). */
export const TOKEN_BUCKETS: readonly number[] = Array.from({ length: 14 }, (_, i) => 4 ** i);

export type MetricKind = 'histogram' | 'counter' | 'observable_gauge';

export interface MetricDefinition {
  name: string;
  kind: MetricKind;
  unit: string;
  description: string;
  /** Exactly the attribute keys this instrument's points may carry. */
  attributes: readonly string[];
  /** Keys present only on some points (`error.type` on failures). */
  conditionalAttributes?: readonly string[];
  /** Bucket advice (histograms only). */
  buckets?: readonly number[];
  /** Prometheus metric name after the default OTLP translation (no suffix such as `_bucket`). */
  prometheus: string;
  /** Series Prometheus stores under that name (`_bucket`, `_sum`, `_count` for histograms). */
  prometheusSeries: readonly string[];
}

const A = ATTR;
const histogramSeries = (base: string): string[] => [`${base}_bucket`, `${base}_sum`, `${base}_count`];

export const METRIC = {
  OPERATION_DURATION: 'gen_ai.client.operation.duration',
  TOKEN_USAGE: 'gen_ai.client.token.usage',
  TIME_TO_FIRST_CHUNK: 'gen_ai.client.operation.time_to_first_chunk',
  REQUESTS: 'bulwark.requests',
  REQUEST_DURATION: 'bulwark.request.duration',
  ATTEMPTS: 'bulwark.attempts',
  RETRIES: 'bulwark.retries',
  FALLBACKS: 'bulwark.fallbacks',
  CIRCUIT_STATE: 'bulwark.circuit.state',
  CIRCUIT_TRANSITIONS: 'bulwark.circuit.transitions',
  CIRCUIT_REJECTIONS: 'bulwark.circuit.rejections',
  RETRY_BUDGET_REMAINING: 'bulwark.retry_budget.remaining',
  CACHE_LOOKUPS: 'bulwark.cache.lookups',
  COST: 'bulwark.cost',
  STORE_ERRORS: 'bulwark.store.errors',
  TELEMETRY_ERRORS: 'bulwark.telemetry.errors',
  LIMIT_REMAINING: 'bulwark.limit.remaining',
  LIMIT_HEADER_ERRORS: 'bulwark.limit.header_errors',
  HEDGES: 'bulwark.hedges',
  HTTP_SERVER_REQUEST_DURATION: 'http.server.request.duration',
} as const;

export const UNIT = {
  SECONDS: 's',
  TOKEN: '{token}',
  REQUEST: '{request}',
  ATTEMPT: '{attempt}',
  RETRY: '{retry}',
  FALLBACK: '{fallback}',
  STATE: '{state}',
  TRANSITION: '{transition}',
  CALL: '{call}',
  LOOKUP: '{lookup}',
  USD: '{USD}',
  ERROR: '{error}',
  /** `bulwark.limit.remaining`: requests, tokens or concurrent calls, by `bulwark.limit.kind`. */
  LIMIT: '{limit}',
  HEDGE: '{hedge}',
} as const;

export const METRICS: readonly MetricDefinition[] = [
  {
    name: METRIC.OPERATION_DURATION,
    kind: 'histogram',
    unit: UNIT.SECONDS,
    description: 'Duration of one upstream GenAI call (one attempt).',
    attributes: [A.GEN_AI_OPERATION_NAME, A.GEN_AI_PROVIDER_NAME, A.GEN_AI_REQUEST_MODEL, A.ERROR_TYPE],
    conditionalAttributes: [A.ERROR_TYPE],
    buckets: SECONDS_BUCKETS,
    prometheus: 'gen_ai_client_operation_duration_seconds',
    prometheusSeries: histogramSeries('gen_ai_client_operation_duration_seconds'),
  },
  {
    name: METRIC.TOKEN_USAGE,
    kind: 'histogram',
    unit: UNIT.TOKEN,
    description: 'Tokens used by one upstream GenAI call, by token type.',
    attributes: [A.GEN_AI_OPERATION_NAME, A.GEN_AI_PROVIDER_NAME, A.GEN_AI_REQUEST_MODEL, A.ERROR_TYPE, A.GEN_AI_TOKEN_TYPE],
    conditionalAttributes: [A.ERROR_TYPE],
    buckets: TOKEN_BUCKETS,
    prometheus: 'gen_ai_client_token_usage',
    prometheusSeries: histogramSeries('gen_ai_client_token_usage'),
  },
  {
    name: METRIC.TIME_TO_FIRST_CHUNK,
    kind: 'histogram',
    unit: UNIT.SECONDS,
    description: 'Time from the start of a streamed upstream call to its first content chunk.',
    attributes: [A.GEN_AI_OPERATION_NAME, A.GEN_AI_PROVIDER_NAME, A.GEN_AI_REQUEST_MODEL],
    buckets: SECONDS_BUCKETS,
    prometheus: 'gen_ai_client_operation_time_to_first_chunk_seconds',
    prometheusSeries: histogramSeries('gen_ai_client_operation_time_to_first_chunk_seconds'),
  },
  {
    name: METRIC.REQUESTS,
    kind: 'counter',
    unit: UNIT.REQUEST,
    description: 'Logical requests finished, by outcome and the tier that answered.',
    attributes: [A.CHAIN, A.OUTCOME, A.TIER],
    prometheus: 'bulwark_requests_total',
    prometheusSeries: ['bulwark_requests_total'],
  },
  {
    name: METRIC.REQUEST_DURATION,
    kind: 'histogram',
    unit: UNIT.SECONDS,
    description: 'Duration of one logical request: cache lookup, attempts, waits, hops and degradation.',
    attributes: [A.CHAIN, A.TIER],
    buckets: SECONDS_BUCKETS,
    prometheus: 'bulwark_request_duration_seconds',
    prometheusSeries: histogramSeries('bulwark_request_duration_seconds'),
  },
  {
    name: METRIC.ATTEMPTS,
    kind: 'counter',
    unit: UNIT.ATTEMPT,
    description: 'Upstream calls made, by kind and outcome (and pool member, for targets in a pool).',
    attributes: [A.CHAIN, A.GEN_AI_PROVIDER_NAME, A.GEN_AI_REQUEST_MODEL, A.ATTEMPT_KIND, A.ATTEMPT_OUTCOME, A.ERROR_TYPE, A.POOL_NAME, A.POOL_MEMBER],
    conditionalAttributes: [A.ERROR_TYPE, A.POOL_NAME, A.POOL_MEMBER],
    prometheus: 'bulwark_attempts_total',
    prometheusSeries: ['bulwark_attempts_total'],
  },
  {
    name: METRIC.RETRIES,
    kind: 'counter',
    unit: UNIT.RETRY,
    description: 'Same-target retries made, by the error that caused them.',
    attributes: [A.CHAIN, A.GEN_AI_PROVIDER_NAME, A.GEN_AI_REQUEST_MODEL, A.ERROR_TYPE],
    prometheus: 'bulwark_retries_total',
    prometheusSeries: ['bulwark_retries_total'],
  },
  {
    name: METRIC.FALLBACKS,
    kind: 'counter',
    unit: UNIT.FALLBACK,
    description: 'Hops from one target to the next, by reason.',
    attributes: [A.CHAIN, A.FALLBACK_FROM, A.FALLBACK_TO, A.FALLBACK_REASON],
    prometheus: 'bulwark_fallbacks_total',
    prometheusSeries: ['bulwark_fallbacks_total'],
  },
  {
    name: METRIC.CIRCUIT_STATE,
    kind: 'observable_gauge',
    unit: UNIT.STATE,
    description: 'Circuit breaker state, one series per state: 1 for the current state, 0 for the others.',
    attributes: [A.CHAIN, A.BREAKER, A.CIRCUIT_STATE],
    prometheus: 'bulwark_circuit_state',
    prometheusSeries: ['bulwark_circuit_state'],
  },
  {
    name: METRIC.CIRCUIT_TRANSITIONS,
    kind: 'counter',
    unit: UNIT.TRANSITION,
    description: 'Circuit breaker transitions.',
    attributes: [A.CHAIN, A.BREAKER, A.CIRCUIT_FROM, A.CIRCUIT_TO],
    prometheus: 'bulwark_circuit_transitions_total',
    prometheusSeries: ['bulwark_circuit_transitions_total'],
  },
  {
    name: METRIC.CIRCUIT_REJECTIONS,
    kind: 'counter',
    unit: UNIT.CALL,
    description: 'Calls an open circuit breaker turned away (no upstream call made).',
    attributes: [A.CHAIN, A.BREAKER],
    prometheus: 'bulwark_circuit_rejections_total',
    prometheusSeries: ['bulwark_circuit_rejections_total'],
  },
  {
    name: METRIC.RETRY_BUDGET_REMAINING,
    kind: 'observable_gauge',
    unit: UNIT.RETRY,
    description: 'Retries the breaker\'s target may still spend now.',
    attributes: [A.CHAIN, A.BREAKER],
    prometheus: 'bulwark_retry_budget_remaining',
    prometheusSeries: ['bulwark_retry_budget_remaining'],
  },
  {
    name: METRIC.CACHE_LOOKUPS,
    kind: 'counter',
    unit: UNIT.LOOKUP,
    description: 'Response cache lookups, by result.',
    attributes: [A.CHAIN, A.CACHE_RESULT],
    prometheus: 'bulwark_cache_lookups_total',
    prometheusSeries: ['bulwark_cache_lookups_total'],
  },
  {
    name: METRIC.COST,
    kind: 'counter',
    unit: UNIT.USD,
    description: 'Spend in US dollars, failed attempts that reported usage included.',
    attributes: [A.CHAIN, A.GEN_AI_PROVIDER_NAME, A.GEN_AI_REQUEST_MODEL, A.ATTEMPT_OUTCOME],
    prometheus: 'bulwark_cost_total',
    prometheusSeries: ['bulwark_cost_total'],
  },
  {
    name: METRIC.STORE_ERRORS,
    kind: 'counter',
    unit: UNIT.ERROR,
    description: 'Store calls (cache, shared state) that failed, timed out or found the store unreachable; the request went on with local state.',
    attributes: [A.CHAIN, A.STORE_OPERATION, A.ERROR_TYPE],
    prometheus: 'bulwark_store_errors_total',
    prometheusSeries: ['bulwark_store_errors_total'],
  },
  {
    name: METRIC.TELEMETRY_ERRORS,
    kind: 'counter',
    unit: UNIT.ERROR,
    description: "Failures of Bulwark's own telemetry, by stage (a caller attributes hook that threw or broke its contract, a gauge that could not read health); the request went on.",
    attributes: [A.CHAIN, A.TELEMETRY_STAGE],
    prometheus: 'bulwark_telemetry_errors_total',
    prometheusSeries: ['bulwark_telemetry_errors_total'],
  },
  {
    name: METRIC.LIMIT_REMAINING,
    kind: 'observable_gauge',
    unit: UNIT.LIMIT,
    description:
      'What a target may still take before one of its limits: requests or tokens left in the window, concurrent calls left (local: its own limits, fleet-wide with sharedState; provider: the remaining budget its rate-limit headers last reported, until their reset).',
    attributes: [A.CHAIN, A.BREAKER, A.LIMIT_KIND, A.LIMIT_SOURCE],
    prometheus: 'bulwark_limit_remaining',
    prometheusSeries: ['bulwark_limit_remaining'],
  },
  {
    name: METRIC.LIMIT_HEADER_ERRORS,
    kind: 'counter',
    unit: UNIT.ERROR,
    description: 'Provider rate-limit headers whose value was not usable (not a number, a reset that is neither a duration nor a timestamp, remaining above the limit): ignored, never trusted.',
    attributes: [A.CHAIN, A.BREAKER, A.LIMIT_HEADER],
    prometheus: 'bulwark_limit_header_errors_total',
    prometheusSeries: ['bulwark_limit_header_errors_total'],
  },
  {
    name: METRIC.HEDGES,
    kind: 'counter',
    unit: UNIT.HEDGE,
    description: 'Hedged calls (the same request started on the next target while the first was slow), by how they ended.',
    attributes: [A.CHAIN, A.HEDGE_OUTCOME],
    prometheus: 'bulwark_hedges_total',
    prometheusSeries: ['bulwark_hedges_total'],
  },
];

/**
 * What the gateway emits beside the chains' metrics (HTTP server semantic conventions): its own
 * table in TELEMETRY.md ("Gateway"), held to it by `test/gateway/telemetry.test.ts`.
 */
export const GATEWAY_METRICS: readonly MetricDefinition[] = [
  {
    name: METRIC.HTTP_SERVER_REQUEST_DURATION,
    kind: 'histogram',
    unit: UNIT.SECONDS,
    description: 'Duration of HTTP server requests (the gateway): until the response, a stream included, has been sent.',
    attributes: [A.HTTP_REQUEST_METHOD, A.HTTP_ROUTE, A.HTTP_RESPONSE_STATUS_CODE, A.URL_SCHEME, A.ERROR_TYPE],
    conditionalAttributes: [A.HTTP_ROUTE, A.ERROR_TYPE],
    buckets: SECONDS_BUCKETS,
    prometheus: 'http_server_request_duration_seconds',
    prometheusSeries: histogramSeries('http_server_request_duration_seconds'),
  },
];

export function metricDefinition(name: string): MetricDefinition {
  const found = [...METRICS, ...GATEWAY_METRICS].find((m) => m.name === name);
  if (!found) throw new Error(`unknown Bulwark metric ${name}`);
  return found;
}

/** Every Prometheus series name the metrics produce (what dashboards and alerts may query). */
export const PROMETHEUS_SERIES: readonly string[] = METRICS.flatMap((m) => m.prometheusSeries);

/**
 * Pre-created series (`add(0, …)` at start-up, so rates and alerts never read absent series and
 * the first real increment is not lost to a series that appears already at 1). Bounded by
 * configuration: every set below is a fixed list times the configured targets or breakers.
 */
export const PRECREATE = {
  /** `bulwark.attempts` failure series per target and kind, and `bulwark.fallbacks` reasons. */
  failureTypes: ['rate_limited', 'overloaded', 'server_error', 'connection', 'timeout', 'authentication', 'permission'],
  /** `bulwark.retries` series per target (the errors that are retried by default). */
  retryTypes: ['rate_limited', 'overloaded', 'server_error', 'connection', 'timeout', 'malformed_response'],
  /** `bulwark.fallbacks` series per adjacent pair of targets. */
  fallbackReasons: ['rate_limited', 'overloaded', 'server_error', 'connection', 'timeout', 'authentication', 'circuit_open', 'budget_exhausted', 'limited'],
  /** `bulwark.store.errors` series per store operation the chain uses (an outage's two faces). */
  storeErrorTypes: ['timeout', 'unavailable'],
} as const;
