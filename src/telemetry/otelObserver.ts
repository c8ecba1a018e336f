import {
  context,
  diag,
  metrics,
  SpanKind,
  SpanStatusCode,
  trace,
  ValueType,
  type Attributes,
  type BatchObservableResult,
  type Context,
  type Counter,
  type Histogram,
  type Meter,
  type MeterProvider,
  type ObservableGauge,
  type Span,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import type { BreakerTransition } from '../events/breakerTransition.js';
import type {
  AttemptEnd,
  AttemptInfo,
  AttemptObserver,
  CacheResult,
  CircuitRejected,
  Degraded,
  EngineObserver,
  FallbackHop,
  HedgeEnd,
  MaxTokensClamped,
  RequestEnd,
  RequestInfo,
  RequestObserver,
  RetryScheduled,
} from '../events/engineObserver.js';
import type { ChainHealth } from '../health/types.js';
import type { TargetRef } from '../request/types.js';
import type { TargetTier } from '../request/tiers.js';
import type { StoreErrorEvent } from '../events/storeError.js';
import type { LimitHeaderError } from '../events/engineObserver.js';
import { CardinalityCap, readCallerAttributes, type CallerAttributes, type CallerAttributesConfig } from './callerAttributes.js';
import { captureContentFromEnv, inputMessagesJson, outputMessagesJson } from './content.js';
import { AttributeSets } from './attributeSets.js';
import { SeriesCounter } from './seriesCounter.js';
import {
  ATTEMPT_KINDS,
  ATTR,
  BULWARK_VERSION,
  CACHE_RESULTS,
  CIRCUIT_STATE_VALUES,
  EVENT,
  HEDGE_OUTCOMES,
  INSTRUMENTATION_SCOPE,
  METRIC,
  metricDefinition,
  PRECREATE,
  SPAN,
  TELEMETRY_STAGES,
  TIER_NONE,
  TOKEN_TYPE_OF_USAGE,
  type TokenType,
  type TelemetryStage,
} from './names.js';

/** The Usage breakdowns recorded as token types of their own (parts of input / output). */
const USAGE_BREAKDOWNS = Object.entries(TOKEN_TYPE_OF_USAGE) as Array<[keyof typeof TOKEN_TYPE_OF_USAGE, TokenType]>;

export interface OtelObserverTarget {
  index: number;
  provider: string;
  model: string;
  /** Breaker key (`provider/model` unless the user shares breakers). */
  breaker: string;
  /** The target's tier; only used to pre-create the `bulwark.requests` series. Default 'full'. */
  tier?: TargetTier;
  /** When the target is a member of a pool: the pool's name, and the member's place in it. */
  pool?: string;
  member?: number;
  /** The rate-limit headers its adapter reads: their `bulwark.limit.header_errors` series are pre-created. */
  limitHeaders?: readonly string[];
}

export interface OtelObserverOptions {
  chain: string;
  targets: OtelObserverTarget[];
  /** Current breaker states and retry budgets, read by the observable gauges at collection. */
  snapshot: () => ChainHealth;
  /** Record prompt and completion content (also on with OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true). */
  captureContent: boolean;
  /** Default: `trace.getTracer('bulwark', version)` from the global provider, per request. */
  tracer?: Tracer;
  /**
   * Default: `metrics.getMeter('bulwark', version)` from the global provider. The metrics API has
   * no proxy provider, so the observer re-binds its instruments when the global provider changes
   * (an SDK started after the client was created); it checks at each request start.
   */
  meter?: Meter;
  /**
   * Store operations the chain uses (`bulwark.store.operation` values), for pre-created
   * `bulwark.store.errors` series. Default: the cache's ('cache.get', 'cache.set').
   */
  storeOperations?: readonly string[];
  /**
   * The caller-attributes hook (`telemetry.attributes`) and its per-instrument cap: its attributes
   * go onto the request span, `bulwark.requests`, `bulwark.cost` and `gen_ai.client.token.usage`.
   */
  callerAttributes?: CallerAttributesConfig;
  /** The chain hedges (`hedge` configured): its `bulwark.hedges` series are pre-created. Default false. */
  hedging?: boolean;
}

/** `error.type` when a failure carries no classified type (the semantic conventions' fallback). */
const OTHER_ERROR = '_OTHER';

// -------------------------------------------------------------------------------- instruments

/**
 * The instruments bound to one meter. The counters requests add to are SeriesCounters (summed per
 * series, handed to the SDK at each collection); those of events outside requests (breaker
 * transitions, store and telemetry errors) add directly.
 */
interface Instruments {
  provider: MeterProvider | undefined;
  meter: Meter;
  operationDuration: Histogram;
  tokenUsage: Histogram;
  timeToFirstChunk: Histogram;
  requests: SeriesCounter;
  requestDuration: Histogram;
  attempts: SeriesCounter;
  retries: SeriesCounter;
  fallbacks: SeriesCounter;
  circuitState: ObservableGauge;
  circuitTransitions: Counter;
  circuitRejections: SeriesCounter;
  retryBudgetRemaining: ObservableGauge;
  cacheLookups: SeriesCounter;
  cost: SeriesCounter;
  storeErrors: Counter;
  telemetryErrors: Counter;
  limitRemaining: ObservableGauge;
  limitHeaderErrors: Counter;
  hedges: SeriesCounter;
  gaugeCallback: (result: BatchObservableResult) => void;
}

function histogram(meter: Meter, name: string, valueType: ValueType): Histogram {
  const def = metricDefinition(name);
  return meter.createHistogram(name, {
    unit: def.unit,
    description: def.description,
    valueType,
    advice: { explicitBucketBoundaries: [...(def.buckets ?? [])] },
  });
}

function counter(meter: Meter, name: string, valueType: ValueType = ValueType.INT): Counter {
  const def = metricDefinition(name);
  return meter.createCounter(name, { unit: def.unit, description: def.description, valueType });
}

function gauge(meter: Meter, name: string): ObservableGauge {
  const def = metricDefinition(name);
  return meter.createObservableGauge(name, { unit: def.unit, description: def.description, valueType: ValueType.DOUBLE });
}

// ----------------------------------------------------------------------- per-target attribute sets

/** Attribute objects of one target, built once per series (metric attributes are hashed on every record). */
class TargetTelemetry {
  readonly name: string;
  readonly operationAttrs: Attributes;
  /** `gen_ai.client.operation.duration`: the operation set, plus `error.type` on failures. */
  private readonly durationSets = new AttributeSets<string>((errorType) => ({ ...this.operationAttrs, [ATTR.ERROR_TYPE]: errorType }));
  /** `gen_ai.client.token.usage`, by token type and error type. */
  readonly tokens = new AttributeSets<TokenType, string | undefined>((tokenType, errorType) => ({
    ...this.duration(errorType),
    [ATTR.GEN_AI_TOKEN_TYPE]: tokenType,
  }));
  /** `bulwark.attempts`, by attempt kind and error type (none: a success). */
  readonly attempt = new AttributeSets<string, string | undefined>((kind, errorType) => {
    const attrs: Attributes = {
      [ATTR.CHAIN]: this.chain,
      [ATTR.GEN_AI_PROVIDER_NAME]: this.provider,
      [ATTR.GEN_AI_REQUEST_MODEL]: this.model,
      [ATTR.ATTEMPT_KIND]: kind,
      [ATTR.ATTEMPT_OUTCOME]: errorType === undefined ? 'success' : 'failure',
    };
    if (errorType !== undefined) attrs[ATTR.ERROR_TYPE] = errorType;
    if (this.pool) {
      attrs[ATTR.POOL_NAME] = this.pool.name;
      attrs[ATTR.POOL_MEMBER] = this.pool.member;
    }
    return attrs;
  });
  /** `bulwark.retries`, by the error that caused the retry. */
  readonly retry = new AttributeSets<string>((errorType) => ({
    [ATTR.CHAIN]: this.chain,
    [ATTR.GEN_AI_PROVIDER_NAME]: this.provider,
    [ATTR.GEN_AI_REQUEST_MODEL]: this.model,
    [ATTR.ERROR_TYPE]: errorType,
  }));
  /** `bulwark.cost`, by attempt outcome. */
  readonly cost = new AttributeSets<'success' | 'failure'>((outcome) => ({
    [ATTR.CHAIN]: this.chain,
    [ATTR.GEN_AI_PROVIDER_NAME]: this.provider,
    [ATTR.GEN_AI_REQUEST_MODEL]: this.model,
    [ATTR.ATTEMPT_OUTCOME]: outcome,
  }));

  constructor(
    readonly chain: string,
    readonly operation: string,
    readonly index: number,
    readonly provider: string,
    readonly model: string,
    /** A pool member: `bulwark.pool.name` and `bulwark.pool.member` (its breaker key) on its attempts. */
    readonly pool?: { name: string; member: string },
  ) {
    this.name = `${provider}/${model}`;
    this.operationAttrs = {
      [ATTR.GEN_AI_OPERATION_NAME]: operation,
      [ATTR.GEN_AI_PROVIDER_NAME]: provider,
      [ATTR.GEN_AI_REQUEST_MODEL]: model,
    };
  }

  /**
   * What the attempt span starts with: the attributes the conventions want at creation time, so
   * that samplers can decide on them. A new object each time: SDK 2.x merges a sampler's
   * attributes into the object it is given.
   */
  spanStart(serverAddress: string | undefined, serverPort: number | undefined): Attributes {
    const attrs: Attributes = { ...this.operationAttrs };
    if (serverAddress !== undefined) attrs[ATTR.SERVER_ADDRESS] = serverAddress;
    if (serverPort !== undefined) attrs[ATTR.SERVER_PORT] = serverPort;
    return attrs;
  }

  duration(errorType: string | undefined): Attributes {
    return errorType === undefined ? this.operationAttrs : this.durationSets.get(errorType);
  }
}

// ---------------------------------------------------------------------------------- the observer

export function createOtelObserver(options: OtelObserverOptions): EngineObserver {
  const { chain, snapshot } = options;
  const operation = 'chat';
  const captureContent = options.captureContent || captureContentFromEnv();

  // Targets by index, and breakers in configuration order (deduplicated: targets may share one).
  // Keyed by position and, in a pool, member: the members of one pool share its position.
  const keyOf = (ref: Pick<TargetRef, 'index' | 'member'>) => (ref.member === undefined ? `${ref.index}` : `${ref.index}.${ref.member}`);
  const targets = new Map<string, TargetTelemetry>();
  const telemetryOf = (t: Pick<OtelObserverTarget, 'index' | 'provider' | 'model' | 'pool'>, member: string | undefined) =>
    new TargetTelemetry(chain, operation, t.index, t.provider, t.model, t.pool !== undefined && member !== undefined ? { name: t.pool, member } : undefined);
  for (const t of options.targets) targets.set(keyOf(t), telemetryOf(t, t.breaker));
  const breakers = [...new Set(options.targets.map((t) => t.breaker))];

  const targetFor = (ref: TargetRef, breaker?: string): TargetTelemetry => {
    const key = keyOf(ref);
    let t = targets.get(key);
    if (!t || t.provider !== ref.provider || t.model !== ref.model || t.pool?.name !== ref.pool) {
      // Not configured (or changed): still report it, with attribute sets built on the fly.
      t = telemetryOf(ref, breaker ?? (ref.member === undefined ? undefined : String(ref.member)));
      targets.set(key, t);
    }
    return t;
  };

  // Attribute sets that don't depend on a target.
  const requestAttrs = new AttributeSets<string, string>((outcome, tier) => ({ [ATTR.CHAIN]: chain, [ATTR.OUTCOME]: outcome, [ATTR.TIER]: tier }));
  const requestDurationAttrs = new AttributeSets<string>((tier) => ({ [ATTR.CHAIN]: chain, [ATTR.TIER]: tier }));
  const cacheAttrs = new AttributeSets<string>((result) => ({ [ATTR.CHAIN]: chain, [ATTR.CACHE_RESULT]: result }));
  // Breaker and budget series carry the chain: two chains of one process may share a breaker key
  // (each has its own breaker unless state is shared), and must not overwrite each other's gauges.
  const breakerAttrs = new AttributeSets<string>((breaker) => ({ [ATTR.CHAIN]: chain, [ATTR.BREAKER]: breaker }));
  const stateAttrs = new AttributeSets<string, string>((breaker, state) => ({ [ATTR.CHAIN]: chain, [ATTR.BREAKER]: breaker, [ATTR.CIRCUIT_STATE]: state }));
  const transitionAttrs = new AttributeSets<string, string, string>((breaker, from, to) => ({
    [ATTR.CHAIN]: chain,
    [ATTR.BREAKER]: breaker,
    [ATTR.CIRCUIT_FROM]: from,
    [ATTR.CIRCUIT_TO]: to,
  }));
  const fallbackAttrs = new AttributeSets<string, string, string>((from, to, reason) => ({
    [ATTR.CHAIN]: chain,
    [ATTR.FALLBACK_FROM]: from,
    [ATTR.FALLBACK_TO]: to,
    [ATTR.FALLBACK_REASON]: reason,
  }));
  const limitAttrs = new AttributeSets<string, string, string>((breaker, kind, source) => ({
    [ATTR.CHAIN]: chain,
    [ATTR.BREAKER]: breaker,
    [ATTR.LIMIT_KIND]: kind,
    [ATTR.LIMIT_SOURCE]: source,
  }));
  const limitHeaderAttrs = new AttributeSets<string, string>((breaker, header) => ({ [ATTR.CHAIN]: chain, [ATTR.BREAKER]: breaker, [ATTR.LIMIT_HEADER]: header }));
  const storeAttrs = new AttributeSets<string, string>((operation, errorType) => ({ [ATTR.CHAIN]: chain, [ATTR.STORE_OPERATION]: operation, [ATTR.ERROR_TYPE]: errorType }));
  const hedgeAttrs = new AttributeSets<string>((outcome) => ({ [ATTR.CHAIN]: chain, [ATTR.HEDGE_OUTCOME]: outcome }));
  const telemetryErrorAttrs = new AttributeSets<TelemetryStage>((stage) => ({ [ATTR.CHAIN]: chain, [ATTR.TELEMETRY_STAGE]: stage }));
  const storeOperations = options.storeOperations ?? ['cache.get', 'cache.set'];
  // One hard cap per instrument that carries caller attributes (they outlive a re-bind). A value
  // set, once admitted, gets the chain's counter series pre-created at 0 like the chain itself: its
  // later outcomes and targets then count from their first event in rate() and increase().
  const callerConfig = options.callerAttributes;
  const current = (): Instruments => (closed && bound ? bound : instruments());
  const precreateCallerRequests = (inst: Instruments, caller: CallerAttributes) => {
    for (const [outcome, tier] of requestSeries()) inst.requests.precreate({ ...requestAttrs.get(outcome, tier), ...caller.attributes });
  };
  const precreateCallerCost = (inst: Instruments, caller: CallerAttributes) => {
    for (const t of options.targets) {
      const tt = targetFor(t);
      inst.cost.precreate({ ...tt.cost.get('success'), ...caller.attributes });
      inst.cost.precreate({ ...tt.cost.get('failure'), ...caller.attributes });
    }
  };
  // Sets admitted before the first bind are pre-created by precreate().
  const caps = callerConfig && {
    requests: new CardinalityCap(callerConfig.limit, (caller) => bound && precreateCallerRequests(current(), caller)),
    cost: new CardinalityCap(callerConfig.limit, (caller) => bound && precreateCallerCost(current(), caller)),
    tokens: new CardinalityCap(callerConfig.limit),
  };
  // A new object per span: SDK 2.x merges a sampler's attributes into the object it is given.
  const requestStartAttrs = (): Attributes => ({ [ATTR.GEN_AI_OPERATION_NAME]: operation, [ATTR.CHAIN]: chain });

  // ------------------------------------------------------------------------------ metrics binding

  let bound: Instruments | undefined;
  let closed = false;

  const gaugeCallback = (result: BatchObservableResult, inst: Instruments) => {
    let health: ChainHealth;
    try {
      health = snapshot();
    } catch (error) {
      diag.warn('bulwark: health snapshot failed while observing gauges', error);
      inst.telemetryErrors.add(1, telemetryErrorAttrs.get('health_snapshot'));
      return;
    }
    const seen = new Set<string>();
    for (const t of health.targets) {
      if (seen.has(t.breaker)) continue;
      seen.add(t.breaker);
      for (const state of CIRCUIT_STATE_VALUES) {
        result.observe(inst.circuitState, state === t.state ? 1 : 0, stateAttrs.get(t.breaker, state));
      }
      // Infinite when the retry budget is disabled: no series then.
      if (Number.isFinite(t.retryBudgetRemaining)) {
        result.observe(inst.retryBudgetRemaining, t.retryBudgetRemaining, breakerAttrs.get(t.breaker));
      }
      for (const r of t.limits?.remaining ?? []) result.observe(inst.limitRemaining, r.remaining, limitAttrs.get(t.breaker, r.kind, r.source));
    }
  };

  const bind = (meter: Meter, provider: MeterProvider | undefined): Instruments => {
    const inst: Instruments = {
      provider,
      meter,
      operationDuration: histogram(meter, METRIC.OPERATION_DURATION, ValueType.DOUBLE),
      tokenUsage: histogram(meter, METRIC.TOKEN_USAGE, ValueType.INT),
      timeToFirstChunk: histogram(meter, METRIC.TIME_TO_FIRST_CHUNK, ValueType.DOUBLE),
      requests: new SeriesCounter(counter(meter, METRIC.REQUESTS)),
      requestDuration: histogram(meter, METRIC.REQUEST_DURATION, ValueType.DOUBLE),
      attempts: new SeriesCounter(counter(meter, METRIC.ATTEMPTS)),
      retries: new SeriesCounter(counter(meter, METRIC.RETRIES)),
      fallbacks: new SeriesCounter(counter(meter, METRIC.FALLBACKS)),
      circuitState: gauge(meter, METRIC.CIRCUIT_STATE),
      circuitTransitions: counter(meter, METRIC.CIRCUIT_TRANSITIONS),
      circuitRejections: new SeriesCounter(counter(meter, METRIC.CIRCUIT_REJECTIONS)),
      retryBudgetRemaining: gauge(meter, METRIC.RETRY_BUDGET_REMAINING),
      cacheLookups: new SeriesCounter(counter(meter, METRIC.CACHE_LOOKUPS)),
      cost: new SeriesCounter(counter(meter, METRIC.COST, ValueType.DOUBLE)),
      storeErrors: counter(meter, METRIC.STORE_ERRORS),
      telemetryErrors: counter(meter, METRIC.TELEMETRY_ERRORS),
      limitRemaining: gauge(meter, METRIC.LIMIT_REMAINING),
      limitHeaderErrors: counter(meter, METRIC.LIMIT_HEADER_ERRORS),
      hedges: new SeriesCounter(counter(meter, METRIC.HEDGES)),
      gaugeCallback: () => undefined,
    };
    // Runs at every collection, before the SDK reads its storages: the request-path counters hand
    // over their sums, then the gauges are observed.
    inst.gaugeCallback = (result) => {
      for (const c of seriesCounters(inst)) c.flush();
      gaugeCallback(result, inst);
    };
    meter.addBatchObservableCallback(inst.gaugeCallback, [inst.circuitState, inst.retryBudgetRemaining, inst.limitRemaining]);
    precreate(inst);
    return inst;
  };

  const seriesCounters = (inst: Instruments) => [inst.requests, inst.attempts, inst.retries, inst.fallbacks, inst.circuitRejections, inst.cacheLookups, inst.cost, inst.hedges];

  const unbind = (inst: Instruments) => {
    inst.meter.removeBatchObservableCallback(inst.gaugeCallback, [inst.circuitState, inst.retryBudgetRemaining, inst.limitRemaining]);
    for (const c of seriesCounters(inst)) c.detach();
  };

  /**
   * Series every configured target/breaker has from the start, at 0. Bounded: fixed lists times
   * targets or breakers (see PRECREATE in names.ts and the README's telemetry reference).
   */
  const precreate = (inst: Instruments) => {
    const configured = options.targets;
    // bulwark.requests: the outcome × tier pairs this chain can produce.
    for (const [outcome, tier] of requestSeries()) inst.requests.precreate(requestAttrs.get(outcome, tier));
    // bulwark.cache.lookups: every result.
    for (const result of CACHE_RESULTS) inst.cacheLookups.precreate(cacheAttrs.get(result));
    for (const t of configured) {
      const tt = targetFor(t);
      for (const kind of ATTEMPT_KINDS) {
        if (kind === 'hedge' && !options.hedging) continue;
        inst.attempts.precreate(tt.attempt.get(kind, undefined));
        for (const errorType of PRECREATE.failureTypes) inst.attempts.precreate(tt.attempt.get(kind, errorType));
      }
      for (const errorType of PRECREATE.retryTypes) inst.retries.precreate(tt.retry.get(errorType));
      inst.cost.precreate(tt.cost.get('success'));
      inst.cost.precreate(tt.cost.get('failure'));
    }
    // bulwark.fallbacks: each hop to the next configured target.
    for (let i = 0; i + 1 < configured.length; i++) {
      const from = configured[i];
      const to = configured[i + 1];
      // Members of one pool are one position: moving between them is a retry, not a hop.
      if (!from || !to || from.index === to.index) continue;
      for (const reason of PRECREATE.fallbackReasons) {
        inst.fallbacks.precreate(fallbackAttrs.get(`${from.provider}/${from.model}`, `${to.provider}/${to.model}`, reason));
      }
    }
    // bulwark.store.errors: the operations this chain uses, for an outage's two faces.
    for (const operation of storeOperations) {
      for (const errorType of PRECREATE.storeErrorTypes) inst.storeErrors.add(0, storeAttrs.get(operation, errorType));
    }
    // Caller-attribute sets admitted so far (known ones from the start): the same, per set.
    if (caps) {
      for (const caller of caps.requests.sets()) precreateCallerRequests(inst, caller);
      for (const caller of caps.cost.sets()) precreateCallerCost(inst, caller);
    }
    // bulwark.hedges: every outcome, when the chain hedges.
    if (options.hedging) for (const outcome of HEDGE_OUTCOMES) inst.hedges.precreate(hedgeAttrs.get(outcome));
    // bulwark.telemetry.errors: every stage.
    for (const stage of TELEMETRY_STAGES) inst.telemetryErrors.add(0, telemetryErrorAttrs.get(stage));
    // bulwark.limit.header_errors: every header each breaker's adapter reads (targets sharing a breaker read the same ones or more).
    const headersOf = new Map<string, Set<string>>();
    for (const t of configured) {
      if (!t.limitHeaders) continue;
      const headers = headersOf.get(t.breaker) ?? new Set<string>();
      for (const header of t.limitHeaders) headers.add(header);
      headersOf.set(t.breaker, headers);
    }
    for (const [breaker, headers] of headersOf) for (const header of headers) inst.limitHeaderErrors.add(0, limitHeaderAttrs.get(breaker, header));
    // Breakers: every transition between two states, and rejections.
    for (const breaker of breakers) {
      inst.circuitRejections.precreate(breakerAttrs.get(breaker));
      for (const from of CIRCUIT_STATE_VALUES) {
        for (const to of CIRCUIT_STATE_VALUES) if (from !== to) inst.circuitTransitions.add(0, transitionAttrs.get(breaker, from, to));
      }
    }
  };

  /** The outcome × tier pairs of `bulwark.requests` this chain can produce (pre-created at 0). */
  function requestSeries(): Array<[string, string]> {
    const primaryTier = options.targets[0]?.tier ?? 'full';
    return [
      ['success', primaryTier],
      ['success_after_retry', primaryTier],
      // An answer after a hop is tier 'reduced' (DESIGN §1).
      ...(options.targets.length > 1 ? [['success_via_fallback', 'reduced'] as [string, string]] : []),
      ['cached', 'cached'],
      ['static', 'static'],
      ['failed', TIER_NONE],
    ];
  }

  /** The bound instruments, re-bound when the global meter provider changed. */
  const instruments = (): Instruments => {
    if (options.meter) {
      bound ??= bind(options.meter, undefined);
      return bound;
    }
    const provider = metrics.getMeterProvider();
    if (!bound || bound.provider !== provider) {
      if (bound) unbind(bound);
      bound = bind(provider.getMeter(INSTRUMENTATION_SCOPE, BULWARK_VERSION), provider);
    }
    return bound;
  };

  // The global provider's tracer, looked up again only when the global provider changes (a
  // tracer from the API's proxy provider follows an SDK registered later by itself).
  let globalTracer: { provider: TracerProvider; tracer: Tracer } | undefined;
  const tracer = (): Tracer => {
    if (options.tracer) return options.tracer;
    const provider = trace.getTracerProvider();
    if (globalTracer?.provider !== provider) globalTracer = { provider, tracer: provider.getTracer(INSTRUMENTATION_SCOPE, BULWARK_VERSION) };
    return globalTracer.tracer;
  };

  // Known caller-attribute sets are admitted from the start (the bind below pre-creates their series).
  for (const known of callerConfig?.known ?? []) {
    caps?.requests.admit(known);
    caps?.cost.admit(known);
    caps?.tokens.admit(known);
  }
  // Bind now, so gauges and pre-created series exist before the first request.
  instruments();

  // ---------------------------------------------------------------------------------- requests
  //
  // A request and each of its attempts are one object apiece: their hooks are methods on these
  // per-client classes, not closures built on every request.

  /** One attempt: its span (a CLIENT span under the request's) and its metrics. */
  class AttemptTelemetry implements AttemptObserver {
    readonly ctx: Context;
    ttfcRecorded = false;
    /** `performance.now()` at onEnd; the span is ended with it once no more events can arrive. */
    endedAt: number | undefined = undefined;
    spanEnded = false;

    constructor(
      private readonly req: RequestTelemetry,
      readonly info: AttemptInfo,
      readonly target: TargetTelemetry,
      readonly span: Span,
      readonly recording: boolean,
    ) {
      this.ctx = trace.setSpan(req.ctx, span);
    }

    endSpan(): void {
      if (this.spanEnded) return;
      this.spanEnded = true;
      this.span.end(this.endedAt);
    }

    run<T>(fn: () => T): T {
      return context.with(this.ctx, fn);
    }

    onFirstChunk(ms: number): void {
      if (this.ttfcRecorded) return;
      this.ttfcRecorded = true;
      // The conventions require gen_ai.operation.name here too: the operation attribute set fits.
      // In the attempt span's context: an SDK with exemplars links the observation to the span.
      this.req.inst.timeToFirstChunk.record(ms / 1000, this.target.operationAttrs, this.ctx);
      if (this.recording && !this.spanEnded) this.span.setAttribute(ATTR.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, ms / 1000);
    }

    onReasoningDropped(dropped: { blocks: number; providers: string[] }): void {
      if (this.recording && !this.spanEnded) {
        this.span.addEvent(EVENT.REASONING_DROPPED, { [ATTR.REASONING_DROPPED_BLOCKS]: dropped.blocks, [ATTR.REASONING_FROM]: dropped.providers });
      }
    }

    onClamped(e: MaxTokensClamped): void {
      if (!this.recording || this.spanEnded) return;
      this.span.setAttribute(ATTR.GEN_AI_REQUEST_MAX_TOKENS, e.allowed);
      this.span.addEvent(EVENT.CLAMPED, { [ATTR.CLAMPED_REQUESTED]: e.requested, [ATTR.CLAMPED_ALLOWED]: e.allowed });
    }

    onBreakerTransition(t: BreakerTransition): void {
      if (this.recording && !this.spanEnded) {
        this.span.addEvent(EVENT.CIRCUIT_TRANSITION, {
          [ATTR.BREAKER]: t.breaker,
          [ATTR.CIRCUIT_FROM]: t.from,
          [ATTR.CIRCUIT_TO]: t.to,
          [ATTR.CIRCUIT_REASON]: t.reason,
        });
      }
    }

    onEnd(end: AttemptEnd): void {
      if (this.endedAt !== undefined) return;
      this.endedAt = performance.now();
      const { req, target } = this;
      const inst = req.inst;
      // Failure: the classified type (a classify hook may re-type the error). An end with
      // neither response nor error (the consumer stopped reading a stream) is no failure.
      const errorType = end.error || end.errorType ? (end.errorType ?? end.error?.errorType ?? OTHER_ERROR) : undefined;
      if (errorType !== undefined) req.lastErrorType = errorType;
      const outcome = errorType === undefined ? 'success' : 'failure';
      inst.operationDuration.record(end.durationMs / 1000, target.duration(errorType), this.ctx);
      inst.attempts.add(1, target.attempt.get(this.info.kind, errorType));
      inst.cost.add(end.costUsd > 0 ? end.costUsd : 0, req.withCaller(caps?.cost, target.cost.get(outcome)));
      const usage = end.usage ?? end.response?.usage;
      if (usage) {
        inst.tokenUsage.record(usage.inputTokens, req.withCaller(caps?.tokens, target.tokens.get('input', errorType)));
        inst.tokenUsage.record(usage.outputTokens, req.withCaller(caps?.tokens, target.tokens.get('output', errorType)));
        for (const [field, tokenType] of USAGE_BREAKDOWNS) {
          const n = usage[field];
          if (n !== undefined && n > 0) inst.tokenUsage.record(n, req.withCaller(caps?.tokens, target.tokens.get(tokenType, errorType)));
        }
      }
      if (end.timeToFirstChunkMs !== undefined) this.onFirstChunk(end.timeToFirstChunkMs);

      if (this.recording) {
        const span = this.span;
        const response = end.response;
        if (response) {
          span.setAttribute(ATTR.GEN_AI_RESPONSE_MODEL, response.model);
          if (response.responseId !== undefined) span.setAttribute(ATTR.GEN_AI_RESPONSE_ID, response.responseId);
          span.setAttribute(ATTR.GEN_AI_RESPONSE_FINISH_REASONS, [response.finishReason]);
          if (captureContent) span.setAttribute(ATTR.GEN_AI_OUTPUT_MESSAGES, outputMessagesJson(response));
        }
        if (usage) {
          span.setAttribute(ATTR.GEN_AI_USAGE_INPUT_TOKENS, usage.inputTokens);
          span.setAttribute(ATTR.GEN_AI_USAGE_OUTPUT_TOKENS, usage.outputTokens);
          if (usage.cacheReadTokens !== undefined) span.setAttribute(ATTR.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, usage.cacheReadTokens);
          if (usage.cacheWriteTokens !== undefined) span.setAttribute(ATTR.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, usage.cacheWriteTokens);
          if (usage.reasoningTokens !== undefined) span.setAttribute(ATTR.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, usage.reasoningTokens);
        }
        if (errorType !== undefined) {
          span.setAttribute(ATTR.ERROR_TYPE, errorType);
          span.setStatus({ code: SpanStatusCode.ERROR, message: end.error?.message ?? errorType });
        }
      }
      // A retry or breaker event about this attempt may still follow; end the span (with
      // this end time) at the next step of the request (flushEnded).
      if (req.requestEnded) this.endSpan();
    }
  }

  /** One logical request: its span (the attempts' parent) and its metrics. */
  class RequestTelemetry implements RequestObserver {
    readonly ctx: Context;
    readonly recording: boolean;
    readonly attempts: AttemptTelemetry[] = [];
    requestEnded = false;
    /** Same-target retries actually sent upstream (a scheduled retry an open breaker refuses is none). */
    retriesMade = 0;
    retryReason: string | undefined = undefined;
    lastErrorType: string | undefined = undefined;
    /** GenAI request attributes and captured input: identical for every attempt, built once. */
    private requestSpanAttrs: Attributes | undefined = undefined;

    constructor(
      readonly info: RequestInfo,
      readonly inst: Instruments,
      /** The caller's attributes, read once and checked (none when the hook failed). */
      private readonly caller: CallerAttributes | undefined,
      readonly span: Span,
      parent: Context,
    ) {
      this.ctx = trace.setSpan(parent, span);
      this.recording = span.isRecording();
    }

    withCaller(cap: CardinalityCap | undefined, base: Attributes): Attributes {
      return cap && this.caller ? cap.attributes(base, this.caller) : base;
    }

    /** Ends the spans of attempts that ended: no retry or breaker event about them can follow now. */
    private flushEnded(): void {
      for (const a of this.attempts) if (a.endedAt !== undefined) a.endSpan();
    }

    private findAttempt(info: AttemptInfo): AttemptTelemetry | undefined {
      for (let i = this.attempts.length - 1; i >= 0; i--) {
        const a = this.attempts[i];
        if (a && (a.info === info || a.info.number === info.number)) return a;
      }
      return undefined;
    }

    private buildRequestSpanAttrs(): Attributes {
      const { info } = this;
      const req = info.request;
      // gen_ai.operation.name is in the span's start attributes already (spanStart).
      const a: Attributes = { [ATTR.GEN_AI_REQUEST_STREAM]: info.stream };
      if (req.maxTokens !== undefined) a[ATTR.GEN_AI_REQUEST_MAX_TOKENS] = req.maxTokens;
      if (req.temperature !== undefined) a[ATTR.GEN_AI_REQUEST_TEMPERATURE] = req.temperature;
      if (req.topP !== undefined) a[ATTR.GEN_AI_REQUEST_TOP_P] = req.topP;
      if (req.stop !== undefined && req.stop.length > 0) a[ATTR.GEN_AI_REQUEST_STOP_SEQUENCES] = req.stop;
      if (captureContent) a[ATTR.GEN_AI_INPUT_MESSAGES] = inputMessagesJson(req.messages);
      return a;
    }

    private logicalEvent(name: string, attributes: Attributes): void {
      if (this.recording) this.span.addEvent(name, attributes);
    }

    run<T>(fn: () => T): T {
      return context.with(this.ctx, fn);
    }

    onCacheLookup(result: CacheResult): void {
      this.inst.cacheLookups.add(1, cacheAttrs.get(result));
      this.logicalEvent(EVENT.CACHE_LOOKUP, { [ATTR.CACHE_RESULT]: result });
    }

    onAttemptStart(ai: AttemptInfo): AttemptObserver {
      this.flushEnded();
      const target = targetFor(ai.target, ai.breaker);
      if (ai.resendCount > 0) {
        // Counted when made, by the error that caused it: a retry the breaker refuses after its
        // backoff puts no load on the provider and is not one.
        this.retriesMade++;
        this.inst.retries.add(1, target.retry.get(this.retryReason ?? this.lastErrorType ?? OTHER_ERROR));
      }
      this.retryReason = undefined;

      // Operation, provider, model and server go in at creation: the conventions ask for them
      // there, so that samplers can decide on them.
      const span = tracer().startSpan(
        SPAN.attempt(this.info.operation, ai.target.model),
        { kind: SpanKind.CLIENT, attributes: target.spanStart(ai.serverAddress, ai.serverPort) },
        this.ctx,
      );
      const recording = span.isRecording();
      if (recording) {
        this.requestSpanAttrs ??= this.buildRequestSpanAttrs();
        span.setAttributes(this.requestSpanAttrs);
        // One call per attribute rather than an object built for setAttributes: the SDK validates
        // each attribute either way.
        span.setAttribute(ATTR.ATTEMPT_NUMBER, ai.number);
        span.setAttribute(ATTR.ATTEMPT_KIND, ai.kind);
        span.setAttribute(ATTR.TARGET_INDEX, ai.target.index);
        span.setAttribute(ATTR.BREAKER, ai.breaker);
        if (target.pool) {
          span.setAttribute(ATTR.POOL_NAME, target.pool.name);
          span.setAttribute(ATTR.POOL_MEMBER, target.pool.member);
        }
        if (ai.resendCount > 0) span.setAttribute(ATTR.HTTP_REQUEST_RESEND_COUNT, ai.resendCount);
      }
      const attempt = new AttemptTelemetry(this, ai, target, span, recording);
      this.attempts.push(attempt);
      return attempt;
    }

    onRetryScheduled(e: RetryScheduled): void {
      this.retryReason = e.reason;
      const a = this.findAttempt(e.attempt);
      if (a?.recording && !a.spanEnded) {
        const eventAttrs: Attributes = { [ATTR.RETRY_DELAY_MS]: e.delayMs, [ATTR.RETRY_REASON]: e.reason };
        if (e.retryAfterMs !== undefined) eventAttrs[ATTR.RETRY_AFTER_MS] = e.retryAfterMs;
        a.span.addEvent(EVENT.RETRY_SCHEDULED, eventAttrs);
      }
    }

    onFallback(e: FallbackHop): void {
      this.flushEnded();
      const from = `${e.from.provider}/${e.from.model}`;
      const to = `${e.to.provider}/${e.to.model}`;
      const a = fallbackAttrs.get(from, to, e.reason);
      this.inst.fallbacks.add(1, a);
      this.logicalEvent(EVENT.FALLBACK, a);
    }

    onCircuitRejected(e: CircuitRejected): void {
      this.inst.circuitRejections.add(1, breakerAttrs.get(e.breaker));
      this.logicalEvent(EVENT.CIRCUIT_REJECTED, {
        [ATTR.BREAKER]: e.breaker,
        [ATTR.TARGET_INDEX]: e.target.index,
        [ATTR.GEN_AI_PROVIDER_NAME]: e.target.provider,
        [ATTR.GEN_AI_REQUEST_MODEL]: e.target.model,
      });
    }

    onDegraded(e: Degraded): void {
      this.flushEnded();
      this.logicalEvent(EVENT.DEGRADED, { [ATTR.TIER]: e.tier, [ATTR.DEGRADED_REASON]: e.reason });
    }

    onStreamReset(reason: string): void {
      this.logicalEvent(EVENT.STREAM_RESET, { [ATTR.STREAM_RESET_REASON]: reason });
    }

    onHedge(e: HedgeEnd): void {
      this.inst.hedges.add(1, hedgeAttrs.get(e.outcome));
      this.logicalEvent(EVENT.HEDGE, {
        [ATTR.HEDGE_OUTCOME]: e.outcome,
        [ATTR.TARGET_INDEX]: e.target.index,
        [ATTR.GEN_AI_PROVIDER_NAME]: e.target.provider,
        [ATTR.GEN_AI_REQUEST_MODEL]: e.target.model,
      });
    }

    onEnd(end: RequestEnd): void {
      if (this.requestEnded) return;
      this.requestEnded = true;
      // Every attempt span ends now, those the engine never ended too (should not happen): no span leaks.
      for (const a of this.attempts) a.endSpan();

      const { inst, span } = this;
      const failed = end.outcome === 'failed';
      const result = end.result;
      const tier: string = failed ? TIER_NONE : (result?.tier ?? TIER_NONE);
      inst.requests.add(1, this.withCaller(caps?.requests, requestAttrs.get(end.outcome, tier)));
      inst.requestDuration.record(end.durationMs / 1000, requestDurationAttrs.get(tier), this.ctx);

      if (this.recording) {
        span.setAttribute(ATTR.TIER, tier);
        span.setAttribute(ATTR.OUTCOME, end.outcome);
        span.setAttribute(ATTR.ATTEMPTS, end.attempts);
        // Retries made, as the retries counter counts them (RequestEnd.retries also counts
        // retries scheduled but refused by a breaker that opened during the backoff).
        span.setAttribute(ATTR.RETRIES, this.retriesMade);
        span.setAttribute(ATTR.FALLBACK_HOPS, end.hops);
        span.setAttribute(ATTR.COST_USD, end.costUsd);
        if (result && result.target.index >= 0) {
          span.setAttribute(ATTR.GEN_AI_PROVIDER_NAME, result.target.provider);
          span.setAttribute(ATTR.GEN_AI_RESPONSE_MODEL, result.model);
        }
        if (failed) {
          const errorType = end.error?.errorType ?? OTHER_ERROR;
          span.setAttribute(ATTR.ERROR_TYPE, errorType);
          span.setStatus({ code: SpanStatusCode.ERROR, message: end.error?.message ?? errorType });
        }
      }
      span.end();
    }
  }

  const onRequestStart = (info: RequestInfo): RequestObserver => {
    const inst = closed && bound ? bound : instruments();
    // The caller's attributes: read once, checked; a hook that throws or breaks its contract leaves
    // the request without them (counted), never fails it.
    let caller: CallerAttributes | undefined;
    if (callerConfig) {
      const read = readCallerAttributes(callerConfig.hook, info.request);
      if (read.ok) caller = read.value;
      else {
        inst.telemetryErrors.add(1, telemetryErrorAttrs.get('attributes_hook'));
        diag.warn(`bulwark: telemetry.attributes ignored for a request of chain ${chain}: ${read.problem}`);
      }
    }
    const parent = context.active();
    const startAttrs = requestStartAttrs();
    if (caller) Object.assign(startAttrs, caller.attributes);
    const span = tracer().startSpan(SPAN.request(info.operation, chain), { kind: SpanKind.INTERNAL, attributes: startAttrs }, parent);
    return new RequestTelemetry(info, inst, caller, span, parent);
  };
  return {
    onRequestStart: (info) => {
      try {
        return onRequestStart(info);
      } catch (error) {
        diag.warn('bulwark: telemetry failed to start a request span', error);
        try {
          (closed && bound ? bound : instruments()).telemetryErrors.add(1, telemetryErrorAttrs.get('request_span'));
        } catch {
          // Telemetry is down altogether; the request goes on without it.
        }
        return undefined;
      }
    },
    onBreakerTransition: (t: BreakerTransition) => {
      // Another process performed it (shared state): that process counts it, so the fleet-wide
      // sum counts each transition once. This process's state gauge shows it all the same.
      if (t.observed === true) return;
      (closed && bound ? bound : instruments()).circuitTransitions.add(1, transitionAttrs.get(t.breaker, t.from, t.to));
    },
    onStoreError: (e: StoreErrorEvent) => {
      (closed && bound ? bound : instruments()).storeErrors.add(1, storeAttrs.get(e.operation, e.errorType));
      // Called in the async context of the request that made the call: its span says so (the span
      // carries the chain already).
      const span = trace.getActiveSpan();
      if (span?.isRecording()) span.addEvent(EVENT.STORE_ERROR, { [ATTR.STORE_OPERATION]: e.operation, [ATTR.ERROR_TYPE]: e.errorType });
    },
    onLimitHeaderError: (e: LimitHeaderError) => {
      // Bounded: only the headers Bulwark reads can be reported (LIMIT_HEADERS).
      (closed && bound ? bound : instruments()).limitHeaderErrors.add(1, limitHeaderAttrs.get(e.breaker, e.header));
    },
    close: () => {
      closed = true;
      if (bound) unbind(bound);
    },
  };
}
