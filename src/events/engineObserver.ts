import type { BreakerTransition } from './breakerTransition.js';
import type { BulwarkError } from '../errors/bulwarkError.js';
import type { ErrorType } from '../errors/errorTypes.js';
import type { ProviderError } from '../errors/providerError.js';
import type { CACHE_RESULTS, HedgeOutcome, OPERATIONS, OUTCOMES } from '../telemetry/names.js';
import type { StoreErrorEvent } from './storeError.js';
import type { AttemptKind, ChatRequest, ChatResult, ProviderResponse, TargetRef, Tier, Usage } from '../request/types.js';

/**
 * The seam between the engine and whoever watches it (OpenTelemetry, the public event API,
 * the demo's live view). The engine calls these synchronously on the request path; observers
 * must be cheap and must never throw (the engine guards anyway).
 */

/** How a logical request ended (`bulwark.outcome`; the values live in telemetry/names.ts). */
export type Outcome = (typeof OUTCOMES)[number];
/** `bulwark.cache.result`. */
export type CacheResult = (typeof CACHE_RESULTS)[number];
/** `gen_ai.operation.name`. */
export type Operation = (typeof OPERATIONS)[number];

export interface RequestInfo {
  /** Process-unique id of this logical request. */
  id: string;
  chain: string;
  operation: Operation;
  stream: boolean;
  request: ChatRequest;
  startedAt: number;
}

export interface AttemptInfo {
  request: RequestInfo;
  /** 1-based within the logical request. */
  number: number;
  kind: AttemptKind;
  target: TargetRef;
  breaker: string;
  /** Same-target retries before this attempt (`http.request.resend_count`). */
  resendCount: number;
  serverAddress?: string;
  serverPort?: number;
}

export interface AttemptEnd {
  durationMs: number;
  /** Present on success. */
  response?: ProviderResponse;
  /** Present on failure. */
  error?: ProviderError;
  /** The classified error type (a classify hook may re-type `error.errorType`). Present on failure. */
  errorType?: ErrorType;
  usage?: Usage;
  /** Cost of this attempt (0 when usage unknown). */
  costUsd: number;
  /** Streams: ms from attempt start to the first content chunk. */
  timeToFirstChunkMs?: number;
}

export interface RetryScheduled {
  attempt: AttemptInfo;
  delayMs: number;
  reason: ErrorType;
  retryAfterMs?: number;
}

/** Why the walk left a target: its error type, or `unsupported_input` (skipped before any call: it cannot take the request's images or files). */
export type FallbackReason = ErrorType | 'unsupported_input';

export interface FallbackHop {
  from: TargetRef;
  to: TargetRef;
  reason: FallbackReason;
}

export interface CircuitRejected {
  target: TargetRef;
  breaker: string;
}

export interface Degraded {
  tier: Tier;
  reason: ErrorType | 'forced';
}

/** A hedge of this request ended: its target and how (won, lost, cancelled). */
export interface HedgeEnd {
  target: TargetRef;
  outcome: HedgeOutcome;
}

export interface RequestEnd {
  outcome: Outcome;
  durationMs: number;
  attempts: number;
  retries: number;
  hops: number;
  costUsd: number;
  result?: ChatResult;
  error?: BulwarkError;
}

/** The request's maxTokens was above the target's maxOutputTokens: this attempt asked for `allowed`. */
export interface MaxTokensClamped {
  requested: number;
  allowed: number;
}

export interface AttemptObserver {
  /** Runs the upstream call with this attempt's context active (so HTTP spans nest under it). */
  run?<T>(fn: () => T): T;
  /** Called right after onAttemptStart, before the call. */
  onClamped?(event: MaxTokensClamped): void;
  onFirstChunk?(msSinceStart: number): void;
  /**
   * Reasoning blocks of the conversation this attempt's provider does not get (another provider
   * produced them): `blocks` left out, from `providers`. Reported before the call.
   */
  onReasoningDropped?(dropped: { blocks: number; providers: string[] }): void;
  /** A breaker transition this attempt's outcome caused. */
  onBreakerTransition?(transition: BreakerTransition): void;
  onEnd?(end: AttemptEnd): void;
}

export interface RequestObserver {
  /** Runs the whole walk with this request's context active. */
  run?<T>(fn: () => T): T;
  onCacheLookup?(result: CacheResult): void;
  onAttemptStart?(attempt: AttemptInfo): AttemptObserver | undefined;
  onRetryScheduled?(event: RetryScheduled): void;
  onFallback?(event: FallbackHop): void;
  onCircuitRejected?(event: CircuitRejected): void;
  onDegraded?(event: Degraded): void;
  /** Streams restarted on another target after a mid-stream failure. */
  onStreamReset?(reason: ErrorType): void;
  /** A hedged call ended (once per hedge). */
  onHedge?(event: HedgeEnd): void;
  onEnd?(end: RequestEnd): void;
}

export interface EngineObserver {
  onRequestStart?(request: RequestInfo): RequestObserver | undefined;
  /** Every breaker transition, whoever caused it (including operators and time). */
  onBreakerTransition?(transition: BreakerTransition): void;
  /**
   * A store call (cache, shared state) failed, timed out or found the store unreachable; the
   * request went on with local state. Called in the async context of the request that made the
   * call, when a request made it (background syncs have none).
   */
  onStoreError?(event: StoreErrorEvent): void;
  /** Flush/unregister (called from `llm.close()`). */
  close?(): void | Promise<void>;
}
