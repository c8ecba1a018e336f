import pRetry, { AbortError } from 'p-retry';
import type { ErrorType } from '../errors/errorTypes.js';
import { ProviderError } from '../errors/providerError.js';
import type { AttemptKind } from '../request/types.js';
import { AttemptFailure } from './runAttempt.js';
import type { TargetRuntime } from './targetRuntime.js';
import { costCapReached, WalkStopped, type WalkState } from './walkState.js';
import type { BreakerPermit } from '../breaker/circuitBreaker.js';
import { invalidOutputRetries } from '../validation/structuredOutput.js';
import { computeBackoff } from '../retry/backoff.js';
import { admitLimited, takeLimitGrant } from './limited.js';
import type { AttemptInfo } from '../events/engineObserver.js';

const noop = () => {};
const alwaysConsume = () => true;

/** Why the walk leaves a target: the error and the reason recorded on the hop. */
export class TargetGaveUp extends Error {
  override readonly name = 'TargetGaveUp';
  constructor(
    readonly error: ProviderError,
    readonly reason: ErrorType,
    /** 'fail' stops the whole request (bad request, cancelled, deadline). */
    readonly stopWalk: boolean,
    /** The failed attempt that made the walk leave, when there was one. */
    readonly attempt?: AttemptInfo,
  ) {
    super(error.message);
  }
}

/**
 * Runs one upstream call on a target; rejects with AttemptFailure. Chat and stream attempts
 * differ only here. `discard` closes a value that was produced but never handed over (p-retry
 * drops a result when the walk's signal fired while it was being returned).
 */
export type AttemptExecutor<T> = ((rt: TargetRuntime, state: WalkState, permit: BreakerPermit, kind: AttemptKind, resendCount: number) => Promise<T>) & {
  discard?: (value: T, reason: unknown) => void;
};

/** How a pool runs a member (defaults: a plain target). */
export interface TargetRunOptions {
  /**
   * Asked when an attempt failed with a retryable error: true when another member of the pool is
   * still available, so the retry goes there at once instead of backing off on this one.
   */
  preferOther?: () => boolean;
  /** Attempts this request already made at the same position (earlier pool members): the first one here is a resend. */
  resendBase?: number;
}

/**
 * Attempts on one target, retried with p-retry. p-retry counts attempts, stops on AbortError, and
 * asks `shouldRetry` whether a failed attempt is worth another:
 * the yes/no decision (classification, Retry-After cap, the request's cost cap, deadline, retry
 * budget, breaker) is made there, and a "no" says why in `gaveUp`. Its own backoff (exponential ×
 * [1, 2) random) cannot express full jitter nor a provider's Retry-After, so its delays are zero
 * and the retry waits, for the delay `shouldRetry` chose, before it is sent.
 *
 * The walk's end (deadline, cancellation, a lost hedge race) stops the loop as p-retry's `signal`
 * option would — before and after each attempt, and over any failure — read from the walk's
 * abort scope, so no AbortSignal is created for it.
 */
export async function retryOnTarget<T>(
  rt: TargetRuntime,
  state: WalkState,
  firstPermit: BreakerPermit,
  firstKind: AttemptKind,
  execute: AttemptExecutor<T>,
  options: TargetRunOptions = {},
): Promise<T> {
  const { config } = state;
  const resendBase = options.resendBase ?? 0;
  const { retry, clock } = config;
  let retryNumber = 0;
  /** Retries per error type (created at the first retry). */
  let retriesByType: Map<ErrorType, number> | undefined;
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
  /** Why `shouldRetry` said no: the walk leaves the target for this reason. */
  let gaveUp: TargetGaveUp | undefined;
  /** The wait `shouldRetry` chose for the retry it allowed. */
  let delayMs = 0;

  /** The walk ended: the loop stops with its reason (an AbortError is not retried; p-retry rejects with what it wraps). */
  const stopIfWalkEnded = () => {
    if (state.walk.aborted) throw new AbortError(state.walk.reason as Error);
  };

  const attemptOnce = async (attemptNumber: number): Promise<T> => {
    stopIfWalkEnded();
    if (attemptNumber === 1) firstPermitUsed = true;
    else await clock.sleep(delayMs, state.walk.signal);
    const permit = attemptNumber === 1 ? firstPermit : await rt.slot.breaker.tryAcquire();
    if (!permit) {
      state.observer.onCircuitRejected?.({ target: rt.ref, breaker: rt.slot.key });
      const open = new ProviderError({ errorType: 'circuit_open', provider: rt.adapter.provider, model: rt.adapter.model, message: `Circuit ${rt.slot.key} opened during retries` });
      throw new AbortError(new TargetGaveUp(open, 'circuit_open', false));
    }
    if (attemptNumber > 1) {
      // A retry is one more call against the target's limits: at one, the walk moves on (no call).
      const admitted = await admitLimited(rt, state);
      if (admitted !== true) {
        permit.release();
        throw new AbortError(new TargetGaveUp(admitted.error, 'rate_limited', false));
      }
    }
    const kind: AttemptKind = permit.isProbe ? 'probe' : attemptNumber === 1 ? firstKind : 'retry';
    // A retry counts when it is sent, not when it is scheduled (the breaker may refuse it).
    if (attemptNumber > 1 || resendBase > 0) state.retries += 1;
    let value: T;
    try {
      value = await execute(rt, state, permit, kind, resendBase + attemptNumber - 1);
    } catch (thrown) {
      if (!(thrown instanceof AttemptFailure && thrown.error.local)) recordRequest();
      throw thrown;
    }
    recordRequest();
    produced = { value };
    // Produced after the walk ended: not handed over (discarded below).
    stopIfWalkEnded();
    return value;
  };

  /** Whether the failed attempt is worth a retry on this target; a "no" records why in `gaveUp`. */
  const shouldRetry = async ({ error }: { error: Error }): Promise<boolean> => {
    // The walk ended: nothing to decide (nothing spent); the loop ends with the walk's reason.
    if (!(error instanceof AttemptFailure) || state.walk.aborted) return false;
    const { classification: c, error: err } = error;
    const no = (reason: ErrorType, stopWalk = false) => {
      gaveUp = new TargetGaveUp(err, reason, stopWalk, error.info);
      return false;
    };
    if (c.disposition === 'fail') return no(c.errorType, true);
    if (c.disposition !== 'retry') return no(c.errorType);
    // In a pool, a retry goes to another member first: no backoff, no budget spent here.
    if (options.preferOther?.()) return no(c.errorType);
    const sameType = retriesByType?.get(c.errorType) ?? 0;
    // invalid_output: as many same-target retries as the request's responseFormat allows.
    const maxRetries = c.errorType === 'invalid_output' ? invalidOutputRetries(state.request) : c.maxRetries;
    if (maxRetries !== undefined && sameType >= maxRetries) return no(c.errorType);
    // A provider asking for a longer pause than we accept: another target answers sooner.
    if (err.retryAfterMs !== undefined && err.retryAfterMs > retry.maxRetryAfterMs) return no(c.errorType);
    if (costCapReached(state)) return no('budget_exhausted');
    const delay = Math.max(computeBackoff(retryNumber, retry), err.retryAfterMs ?? 0);
    // Before the budget: a retry that cannot wait within the deadline must not spend it.
    if (clock.now() + delay >= state.deadline) return no(c.errorType);
    if (config.retry.budgetEnabled && !(await rt.slot.budget.tryWithdraw())) return no('budget_exhausted');
    // The failure just recorded may have opened the breaker: no point waiting for a refusal.
    if (rt.slot.breaker.state === 'open') return no(c.errorType);
    retryNumber += 1;
    (retriesByType ??= new Map()).set(c.errorType, sameType + 1);
    delayMs = delay;
    error.record.delayMs = delay;
    state.observer.onRetryScheduled?.({
      attempt: error.info,
      delayMs: delay,
      reason: c.errorType,
      ...(err.retryAfterMs !== undefined && { retryAfterMs: err.retryAfterMs }),
    });
    return true;
  };

  try {
    // Every option p-retry fills in is given: it copies the options and adds the missing ones to
    // its copy, which cost ~8 µs per call (measured, Node 24) against ~0.6 µs for a complete object.
    return await pRetry(attemptOnce, {
      retries: retry.maxAttempts - 1,
      minTimeout: 0,
      maxTimeout: 0,
      factor: 1,
      maxRetryTime: Number.POSITIVE_INFINITY,
      randomize: false,
      onFailedAttempt: noop,
      shouldConsumeRetry: alwaysConsume,
      shouldRetry,
    });
  } catch (caught) {
    // A "no" wins over the walk ending while it was being decided; otherwise the walk's end
    // outranks whatever the loop was doing (as p-retry's signal check did).
    const thrown: unknown = !gaveUp && state.walk.aborted ? state.walk.reason : caught;
    if (!firstPermitUsed) firstPermit.release();
    // Admitted by the limits but never sent: give the call back.
    takeLimitGrant(state, rt)?.cancel();
    if (produced) execute.discard?.(produced.value, thrown);
    if (gaveUp) throw gaveUp;
    if (thrown instanceof TargetGaveUp) throw thrown;
    // Out of attempts (p-retry does not ask), or the attempt's own disposition.
    if (thrown instanceof AttemptFailure) throw new TargetGaveUp(thrown.error, thrown.classification.errorType, thrown.classification.disposition === 'fail', thrown.info);
    // The walk ended, possibly during a backoff wait.
    if (thrown instanceof WalkStopped) throw new TargetGaveUp(thrown.attemptError, thrown.errorType, true);
    if (thrown instanceof ProviderError) throw new TargetGaveUp(thrown, thrown.errorType, true);
    throw thrown;
  }
}
