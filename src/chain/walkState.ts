import type { ResolvedConfig } from '../config/types.js';
import type { ErrorType } from '../errors/errorTypes.js';
import { ProviderError } from '../errors/providerError.js';
import type { FallbackReason, RequestInfo, RequestObserver } from '../events/engineObserver.js';
import type { AttemptRecord, ChatRequest, TargetRef } from '../request/types.js';
import type { LinkedAbort } from './linkedAbort.js';
import type { LimitGrant } from '../limits/types.js';
import type { TargetRuntime } from './targetRuntime.js';

/** Everything one logical request accumulates while it walks the chain. */
export interface WalkState {
  config: ResolvedConfig;
  info: RequestInfo;
  request: ChatRequest;
  observer: RequestObserver;
  /** Aborts on the caller's signal (reason: cancelled) or the total deadline (reason: timeout). */
  walk: LinkedAbort;
  deadline: number;
  attempts: AttemptRecord[];
  retries: number;
  hops: number;
  costUsd: number;
  /** The last target that failed or was skipped, and why: the `from` of the next hop. */
  lastFailure: { ref: TargetRef; reason: FallbackReason; error: ProviderError } | undefined;
  /** After a content-filter refusal: providers not to try again. */
  refusedBy: Set<string> | undefined;
  /** After a context-length failure: the prompt needs a window at least this large. */
  needsContextTokens: number | undefined;
  /**
   * The limits' admission of each target's next call (given by the walk, a hedge or a retry, taken
   * and settled by the attempt). Per target: a hedge's call and another target's retry may interleave.
   */
  limitGrants?: Map<TargetRuntime, LimitGrant>;
  /** The prompt's estimated tokens, computed once and only when a target with an rpm/tpm window asks. */
  estimatedTokens?: number;
  /**
   * A pool member picked for this request and counted in its `inFlight` before its first attempt
   * starts (the breaker may answer asynchronously): that attempt takes the count over.
   */
  reserved?: TargetRuntime | undefined;
}

/** Why a walk stopped before it ended on its own. */
export const WALK_STOPS = ['deadline', 'cancelled', 'walked_away'] as const;
export type WalkStop = (typeof WALK_STOPS)[number];

/**
 * The walk's abort reason: the total deadline passed, the caller cancelled, or a stream's
 * consumer walked away. Its own type — not a failure of any target — so the engine tells it
 * from every other failure by type alone. An attempt it cuts short fails with `attemptError`:
 * a ProviderError of type 'timeout' (deadline) or 'cancelled' whose cause is this stop, one that
 * says nothing about any target's health (`walkStopOf` finds the stop behind it).
 */
export class WalkStopped extends Error {
  override readonly name = 'WalkStopped';
  readonly why: WalkStop;
  readonly errorType: Extract<ErrorType, 'timeout' | 'cancelled'>;
  // Private, so that serializing either error never walks into a cycle.
  readonly #attemptError: ProviderError;
  constructor(why: WalkStop, message: string) {
    super(message);
    this.why = why;
    this.errorType = why === 'deadline' ? 'timeout' : 'cancelled';
    this.#attemptError = new ProviderError({
      errorType: this.errorType,
      provider: 'bulwark',
      model: '',
      message,
      ...(why === 'deadline' && { providerCode: 'total_deadline' }),
      cause: this,
    });
  }

  /** What the attempt it cut short failed with — and the walk, when it ends here. */
  get attemptError(): ProviderError {
    return this.#attemptError;
  }
}

/** The walk stop behind an attempt's error, if the walk ending is what failed it. */
export function walkStopOf(error: ProviderError): WalkStopped | undefined {
  return error.cause instanceof WalkStopped ? error.cause : undefined;
}

/** The abort reason when the caller's signal fires. */
export function cancelledError(): WalkStopped {
  return new WalkStopped('cancelled', 'The caller aborted the request');
}

/**
 * The abort reason of a call another call of its hedged request beat: a cancel like the caller's,
 * except that it says the call had not answered by the time another one had (the latency strategy
 * counts its wait).
 */
export class RaceLost extends WalkStopped {
  constructor() {
    super('cancelled', 'Another call of this hedged request answered first');
  }
}

/** The abort reason when a stream's consumer calls return() or throw(). */
export function consumerStoppedError(): WalkStopped {
  return new WalkStopped('walked_away', 'The consumer stopped reading the stream');
}

/** The abort reason when the total deadline passes. */
export function deadlineError(totalMs: number): WalkStopped {
  return new WalkStopped('deadline', `Total deadline of ${totalMs} ms exceeded`);
}

/** The request's `maxCostUsd` is spent: no further attempt, on this target or another. */
export function costCapReached(state: WalkState): boolean {
  return state.request.maxCostUsd !== undefined && state.costUsd >= state.request.maxCostUsd;
}

