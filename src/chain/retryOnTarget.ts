import pRetry, { AbortError } from 'p-retry';
import type { ErrorType } from '../errors/errorTypes.js';
import { ProviderError } from '../errors/providerError.js';
import type { AttemptKind } from '../request/types.js';
import { AttemptFailure } from './runAttempt.js';
import type { TargetRuntime } from './targetRuntime.js';
import { costCapReached, type WalkState } from './walkState.js';
import type { BreakerPermit } from '../breaker/circuitBreaker.js';
import { invalidOutputRetries } from '../request/structuredOutput.js';
import { computeBackoff } from '../retry/backoff.js';

/** Why the walk leaves a target: the error and the reason recorded on the hop. */
export class TargetGaveUp extends Error {
  override readonly name = 'TargetGaveUp';
  constructor(
    readonly error: ProviderError,
    readonly reason: ErrorType,
    /** 'fail' stops the whole request (bad request, cancelled, deadline). */
    readonly stopWalk: boolean,
  ) {
    super(error.message);
  }
}

/**
 * Attempts on one target, retried with p-retry. p-retry counts attempts, honours the abort
 * signal and stops on AbortError; its own backoff (exponential × [1, 2) random) cannot express
 * full jitter nor a provider's Retry-After, so its delays are zero and the wait happens in
 * `onFailedAttempt`, which also decides whether a retry is worth it at all (classification,
 * Retry-After cap, the request's cost cap, deadline, retry budget, breaker) and throws to stop
 * retrying when it is not.
 */
/**
 * Runs one upstream call on a target; rejects with AttemptFailure. Chat and stream attempts
 * differ only here. `discard` closes a value that was produced but never handed over (p-retry
 * drops a result when the walk's signal fired while it was being returned).
 */
export type AttemptExecutor<T> = ((rt: TargetRuntime, state: WalkState, permit: BreakerPermit, kind: AttemptKind, resendCount: number) => Promise<T>) & {
  discard?: (value: T, reason: unknown) => void;
};

export async function retryOnTarget<T>(rt: TargetRuntime, state: WalkState, firstPermit: BreakerPermit, firstKind: AttemptKind, execute: AttemptExecutor<T>): Promise<T> {
  const { config } = state;
  const { retry, clock } = config;
  let retryNumber = 0;
  const retriesByType = new Map<ErrorType, number>();
  // Whether the permit the walk acquired was used; p-retry may stop before the first attempt.
  let firstPermitUsed = false;
  let produced: { value: T } | undefined;
  // The request counts for the target's retry budget once it was sent there: an attempt that
  // failed locally, before any byte left, charges nothing.
  let requestRecorded = false;
  const recordRequest = () => {
    if (requestRecorded) return;
    requestRecorded = true;
    rt.slot.budget.recordRequest();
  };

  const attemptOnce = async (attemptNumber: number): Promise<T> => {
    if (attemptNumber === 1) firstPermitUsed = true;
    const permit = attemptNumber === 1 ? firstPermit : await rt.slot.breaker.tryAcquire();
    if (!permit) {
      state.observer.onCircuitRejected?.({ target: rt.ref, breaker: rt.slot.key });
      const open = new ProviderError({ errorType: 'circuit_open', provider: rt.adapter.provider, model: rt.adapter.model, message: `Circuit ${rt.slot.key} opened during retries` });
      throw new AbortError(new TargetGaveUp(open, 'circuit_open', false));
    }
    const kind: AttemptKind = permit.isProbe ? 'probe' : attemptNumber === 1 ? firstKind : 'retry';
    // A retry counts when it is sent, not when it is scheduled (the breaker may refuse it).
    if (attemptNumber > 1) state.retries += 1;
    let value: T;
    try {
      value = await execute(rt, state, permit, kind, attemptNumber - 1);
    } catch (thrown) {
      if (!(thrown instanceof AttemptFailure && thrown.error.local)) recordRequest();
      throw thrown;
    }
    recordRequest();
    produced = { value };
    return value;
  };

  try {
    return await pRetry(attemptOnce, {
      retries: retry.maxAttempts - 1,
      minTimeout: 0,
      maxTimeout: 0,
      factor: 1,
      signal: state.walk.signal,
      onFailedAttempt: async ({ error, retriesLeft }) => {
        if (!(error instanceof AttemptFailure)) throw error;
        const { classification: c, error: err } = error;
        const stop = (reason: ErrorType, stopWalk = false) => new TargetGaveUp(err, reason, stopWalk);
        if (state.walk.signal.aborted) throw stop(c.errorType, true);
        if (c.disposition === 'fail') throw stop(c.errorType, true);
        if (c.disposition !== 'retry' || retriesLeft === 0) throw stop(c.errorType);
        const sameType = retriesByType.get(c.errorType) ?? 0;
        // invalid_output: as many same-target retries as the request's responseFormat allows.
        const maxRetries = c.errorType === 'invalid_output' ? invalidOutputRetries(state.request) : c.maxRetries;
        if (maxRetries !== undefined && sameType >= maxRetries) throw stop(c.errorType);
        // A provider asking for a longer pause than we accept: another target answers sooner.
        if (err.retryAfterMs !== undefined && err.retryAfterMs > retry.maxRetryAfterMs) throw stop(c.errorType);
        if (costCapReached(state)) throw stop('budget_exhausted');
        const delayMs = Math.max(computeBackoff(retryNumber, retry), err.retryAfterMs ?? 0);
        // Before the budget: a retry that cannot wait within the deadline must not spend it.
        if (clock.now() + delayMs >= state.deadline) throw stop(c.errorType);
        if (config.retry.budgetEnabled && !(await rt.slot.budget.tryWithdraw())) throw stop('budget_exhausted');
        // The failure just recorded may have opened the breaker: no point waiting for a refusal.
        if (rt.slot.breaker.state === 'open') throw stop(c.errorType);
        retryNumber += 1;
        retriesByType.set(c.errorType, sameType + 1);
        error.record.delayMs = delayMs;
        state.observer.onRetryScheduled?.({
          attempt: error.info,
          delayMs,
          reason: c.errorType,
          ...(err.retryAfterMs !== undefined && { retryAfterMs: err.retryAfterMs }),
        });
        await clock.sleep(delayMs, state.walk.signal);
      },
    });
  } catch (thrown) {
    if (!firstPermitUsed) firstPermit.release();
    if (produced) execute.discard?.(produced.value, thrown);
    if (thrown instanceof TargetGaveUp) throw thrown;
    if (thrown instanceof AttemptFailure) throw new TargetGaveUp(thrown.error, thrown.classification.errorType, thrown.classification.disposition === 'fail');
    // The walk's signal fired (p-retry rejects with its reason), possibly during a backoff wait.
    if (thrown instanceof ProviderError) throw new TargetGaveUp(thrown, thrown.errorType, true);
    throw thrown;
  }
}
