import type { Clock } from '../time/clock.js';
import type { Disposition, ErrorType } from '../errors/errorTypes.js';
import type { ProviderError } from '../errors/providerError.js';
import type { EngineObserver } from '../events/engineObserver.js';
import type { ModelPrice, Target } from '../providers/adapter.js';
import type { ChatRequest } from '../request/types.js';
import type { SharedStateStore } from '../state/sharedState.js';
import type { KeyValueStore } from '../state/store.js';

export type Jitter = 'full' | 'equal' | 'none';

export interface RetryBudgetConfig {
  /** Retries may add at most this share of requests (0.1 = 10 %). */
  ratio: number;
  /** Retries always allowed per second regardless of traffic (the floor). */
  minRetriesPerSecond: number;
  /** Window the ratio is measured over. */
  windowMs: number;
}

export interface RetryConfig {
  /** Attempts per target, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  jitter: Jitter;
  /** A Retry-After longer than this sends the request to the next target at once. */
  maxRetryAfterMs: number;
  budget: RetryBudgetConfig;
}

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

export interface BreakerConfig {
  consecutiveFailures: number;
  failureRate: number;
  windowMs: number;
  minCalls: number;
  openMs: number;
  halfOpenProbes: number;
  successThreshold: number;
}

export type CacheMode = 'read-through' | 'on-failure' | 'off';

export interface CacheConfig {
  store: KeyValueStore;
  /** Fresh for this long: served by 'read-through' before any call. */
  ttlMs: number;
  /** Kept this much longer as a stale answer for when every target fails. */
  staleTtlMs: number;
  mode: CacheMode;
  /** Answers larger than this (serialized bytes) are not cached. */
  maxEntryBytes: number;
}

export interface DegradeConfig {
  /** false: throw BulwarkError when every target failed instead of serving cached/static. */
  enabled: boolean;
  /** The static reply (tier 'static'); a function receives the request. Unset: no static tier. */
  staticReply?: string | ((request: ChatRequest) => string);
}

/** What a `classify` hook returns to override the default disposition of an error. */
export interface ClassifyDecision {
  errorType?: ErrorType;
  disposition?: Disposition;
  /** Whether this failure counts against the target's breaker. */
  countsForBreaker?: boolean;
}

export type ClassifyHook = (error: ProviderError) => ClassifyDecision | undefined;

export type StreamMidStreamPolicy = 'error' | 'restart';

/** What users pass to createResilientLLM. Everything but name and targets has a default. */
export interface ResilientLLMOptions {
  name: string;
  targets: Target[];
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
  /** Streams: what to do when a stream fails after content was sent. Default 'error'. */
  midStream?: StreamMidStreamPolicy;
  /** Record prompt/completion content on spans (also OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true). */
  captureContent?: boolean;
  /** Emit OpenTelemetry spans/metrics through @opentelemetry/api (no-op without an SDK). Default true. */
  telemetry?: boolean;
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
  targets: Target[];
  retry: RetryConfig & { budgetEnabled: boolean };
  timeouts: TimeoutConfig;
  breaker: BreakerConfig;
  cache: CacheConfig | undefined;
  degrade: DegradeConfig;
  pricing: Record<string, ModelPrice>;
  classify: ClassifyHook | undefined;
  maxHops: number;
  midStream: StreamMidStreamPolicy;
  captureContent: boolean;
  telemetry: boolean;
  observers: EngineObserver[];
  sharedState: SharedStateStore | undefined;
  clock: Clock;
}
