import type { ResolvedConfig } from '../config/types.js';
import type { ErrorType } from '../errors/errorTypes.js';
import { ProviderError } from '../errors/providerError.js';
import type { FallbackReason, RequestInfo, RequestObserver } from '../events/engineObserver.js';
import type { AttemptRecord, ChatRequest, TargetRef } from '../request/types.js';
import type { LinkedAbort } from './linkedAbort.js';

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
  refusedBy: Set<string>;
  /** After a context-length failure: the prompt needs a window at least this large. */
  needsContextTokens: number | undefined;
}

/** The abort reason when the caller's signal fires. */
export function cancelledError(): ProviderError {
  return new ProviderError({ errorType: 'cancelled', provider: 'bulwark', model: '', message: 'The caller aborted the request' });
}

/** The abort reason when a stream's consumer calls return() or throw(). */
export function consumerStoppedError(): ProviderError {
  return new ProviderError({ errorType: 'cancelled', provider: 'bulwark', model: '', message: 'The consumer stopped reading the stream' });
}

/** The abort reason when the total deadline passes. */
export function deadlineError(totalMs: number): ProviderError {
  return new ProviderError({ errorType: 'timeout', provider: 'bulwark', model: '', message: `Total deadline of ${totalMs} ms exceeded`, providerCode: 'total_deadline' });
}

/** The request's `maxCostUsd` is spent: no further attempt, on this target or another. */
export function costCapReached(state: WalkState): boolean {
  return state.request.maxCostUsd !== undefined && state.costUsd >= state.request.maxCostUsd;
}

export function isWalkAbort(error: ProviderError): boolean {
  return error.provider === 'bulwark' && (error.errorType === 'cancelled' || error.providerCode === 'total_deadline');
}
