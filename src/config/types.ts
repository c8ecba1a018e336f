import type { CallerAttributesConfig, TelemetryOptions } from '../telemetry/callerAttributes.js';
import type { BreakerConfig } from '../breaker/types.js';
import type { CacheConfig } from '../cache/types.js';
import type { ClassifyHook } from '../errors/classifyError.js';
import type { EngineObserver } from '../events/engineObserver.js';
import type { ModelPrice, Target } from '../providers/adapter.js';
import type { Pool, ResolvedPool } from '../pool/pool.js';
import type { ChatRequest } from '../request/types.js';
import type { RetryBudgetConfig, RetryConfig } from '../retry/types.js';
import type { SharedStateStore } from '../state/sharedState.js';
import type { Clock } from '../time/clock.js';
import type { TrackedPercentile } from '../health/latencyTracker.js';

/*
 * The configuration composed from its slices. Each policy owns its slice type (BreakerConfig
 * beside the breaker, RetryConfig beside retry, CacheConfig beside the cache, ClassifyHook beside
 * the classifier); the request path's own slices (timeouts, degradation, mid-stream) live here.
 */
export type { BreakerConfig } from '../breaker/types.js';
export type { CacheConfig, CacheMode } from '../cache/types.js';
export type { ClassifyDecision, ClassifyHook } from '../errors/classifyError.js';
export type { Jitter, RetryBudgetConfig, RetryConfig } from '../retry/types.js';
export type { Pool, PoolOptions, PoolMemberOptions, PoolLatencyOptions, PoolStrategy, ResolvedPool } from '../pool/pool.js';

export interface TimeoutConfig {
  /** One upstream call (non-streamed: until the whole answer). */
  attemptMs: number;
  /** The whole walk: attempts, waits, hops. */
  totalMs: number;
  /** Streams: until the first content chunk. */
  firstChunkMs: number;
  /** Streams: longest silence between chunks. */
  idleChunkMs: number;
}

export interface DegradeConfig {
  /** false: throw BulwarkError when every target failed instead of serving cached/static. */
  enabled: boolean;
  /** The static reply (tier 'static'); a function receives the request. Unset: no static tier. */
  staticReply?: string | ((request: ChatRequest) => string);
}

/** Streams: what to do when a stream fails after content was sent. */
export const MID_STREAM_POLICIES = ['error', 'restart'] as const;
export type StreamMidStreamPolicy = (typeof MID_STREAM_POLICIES)[number];

/**
 * Hedged requests: when no answer (streams: no first content chunk) has come from a target after
 * `after`, the same request starts on the next target; the first success wins and the others are
 * cancelled. Bounded per request by `maxHedges` and per chain by a budget, like retries.
 */
export interface HedgeConfig {
  /** Ms to wait before hedging, or a tracked latency percentile of the target being waited on. */
  after: number | TrackedPercentile;
  /** Most hedges one request may start. Default 1. */
  maxHedges: number;
  /** Hedges may add at most this share of the chain's requests over the budget window. Default 0.05. */
  budgetRatio: number;
}

/** What users pass to createResilientLLM. Everything but name and targets has a default. */
export interface ResilientLLMOptions {
  name: string;
  /** The chain's positions in order: a target, or `pool({ … })` of interchangeable ones. */
  targets: Array<Target | Pool>;
  retry?: Partial<Omit<RetryConfig, 'budget'>> & { budget?: Partial<RetryBudgetConfig> | false };
  timeouts?: Partial<TimeoutConfig>;
  breaker?: Partial<BreakerConfig>;
  cache?: Partial<CacheConfig> | false;
  degrade?: Partial<DegradeConfig>;
  /** Prices per model over the built-in table. */
  pricing?: Record<string, ModelPrice>;
  classify?: ClassifyHook;
  /** Most targets tried after the first (default: all). */
  maxHops?: number;
  /** Hedged requests (off unless set). `after` is required. */
  hedge?: Partial<HedgeConfig> & Pick<HedgeConfig, 'after'>;
  /** Streams: what to do when a stream fails after content was sent. Default 'error'. */
  midStream?: StreamMidStreamPolicy;
  /** Record prompt/completion content on spans (also OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true). */
  captureContent?: boolean;
  /**
   * Emit OpenTelemetry spans/metrics through @opentelemetry/api (no-op without an SDK). Default true.
   * An object enables it with options: caller attributes (`attributes`, e.g. a tenant) and their cap.
   */
  telemetry?: boolean | TelemetryOptions;
  /** Extra observers (the public event API is one). */
  observers?: EngineObserver[];
  /**
   * Share breakers, retry budgets, operator overrides and (unless `cache.store` says otherwise)
   * the cache with every process that runs this chain name against the same store:
   * `redisStore(client)`. Unset (the default): all of it stays in this process's memory.
   */
  sharedState?: SharedStateStore;
  /** Injected time, for tests. */
  clock?: Clock;
}

/** The validated, fully defaulted configuration. */
export interface ResolvedConfig {
  name: string;
  targets: Array<Target | ResolvedPool>;
  retry: RetryConfig & { budgetEnabled: boolean };
  timeouts: TimeoutConfig;
  breaker: BreakerConfig;
  cache: CacheConfig | undefined;
  degrade: DegradeConfig;
  pricing: Record<string, ModelPrice>;
  classify: ClassifyHook | undefined;
  maxHops: number;
  /** Undefined: no hedging. */
  hedge: HedgeConfig | undefined;
  midStream: StreamMidStreamPolicy;
  captureContent: boolean;
  telemetry: boolean;
  /** The caller-attributes hook and its per-instrument cap, when `telemetry.attributes` is set. */
  callerAttributes: CallerAttributesConfig | undefined;
  observers: EngineObserver[];
  sharedState: SharedStateStore | undefined;
  clock: Clock;
}
