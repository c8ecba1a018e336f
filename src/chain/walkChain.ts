import { estimateTokens } from '../validation/validateRequest.js';
import { inputNeeds } from '../request/contentParts.js';
import { unsupportedInput } from '../providers/capabilities.js';
import { retryOnTarget, TargetGaveUp, type AttemptExecutor, type TargetRunOptions } from './retryOnTarget.js';
import { ProviderError } from '../errors/providerError.js';
import type { ErrorType } from '../errors/errorTypes.js';
import type { TargetRuntime } from './targetRuntime.js';
import { costCapReached, WalkStopped, type WalkState } from './walkState.js';
import type { BreakerPermit } from '../breaker/circuitBreaker.js';
import type { AttemptKind } from '../request/types.js';
import { walkPool, type PositionSteps } from './walkPool.js';

export type WalkResult<T> =
  | { ok: true; value: T; target: TargetRuntime }
  /** Every eligible target failed (or the walk was stopped): `stop` means do not degrade. */
  | { ok: false; error: ProviderError; reason: ErrorType; stop: boolean };

function skipReason(rt: TargetRuntime, state: WalkState): string | undefined {
  if (state.refusedBy.has(rt.adapter.provider)) return 'refused by this provider already';
  const window = rt.target.contextWindow;
  if (state.needsContextTokens !== undefined && window !== undefined && window < state.needsContextTokens) return 'context window too small';
  return undefined;
}

/** The walk's positions: a target alone, or the members of one pool (consecutive runtimes of one index). */
function positionsOf(targets: readonly TargetRuntime[]): TargetRuntime[][] {
  const positions: TargetRuntime[][] = [];
  for (const rt of targets) {
    const last = positions[positions.length - 1];
    if (last && rt.pool && last[0]!.pool === rt.pool) last.push(rt);
    else positions.push([rt]);
  }
  return positions;
}

/**
 * Walks the positions in order (DESIGN §1): skips open breakers without an upstream call and
 * targets that cannot help (same provider after a refusal, too small a window after a
 * context-length failure), retries each target within its budget, and records every hop. A pool
 * position tries its members (picked by its strategy) until one answers or every member is open,
 * unavailable or has failed this request; a retryable failure moves to another member at once.
 */
export async function walkChain<T>(targets: readonly TargetRuntime[], state: WalkState, execute: AttemptExecutor<T>): Promise<WalkResult<T>> {
  const { config } = state;
  let tried = 0;
  const needs = inputNeeds(state.request.messages);
  /** Targets skipped because they cannot take the request's parts: `provider/model takes no images`. */
  const unsupported: string[] = [];
  /** The last failure of a target that was tried (or refused by its breaker): what the walk reports. */
  let lastTried = state.lastFailure?.reason === 'unsupported_input' ? undefined : state.lastFailure;

  /** Entering a position after a failure is a hop; undefined to go on, or the walk's end. */
  const hopTo = (rt: TargetRuntime): WalkResult<T> | 'break' | undefined => {
    if (!state.lastFailure) return undefined;
    if (state.hops >= config.maxHops) return 'break';
    if (costCapReached(state)) {
      const error = new ProviderError({ errorType: 'budget_exhausted', provider: 'bulwark', model: '', message: `Request spent $${state.costUsd.toFixed(6)}, at its maxCostUsd of $${state.request.maxCostUsd}` });
      return { ok: false, error, reason: 'budget_exhausted', stop: false };
    }
    state.hops += 1;
    state.observer.onFallback?.({ from: state.lastFailure.ref, to: rt.ref, reason: state.lastFailure.reason });
    return undefined;
  };

  /** Before the breaker: a target that cannot take the input is no call, so no probe either. */
  const cannotTake = (rt: TargetRuntime): boolean => {
    const cannot = rt.target.capabilities && unsupportedInput(needs, rt.target.capabilities);
    if (!cannot) return false;
    unsupported.push(`${rt.label} ${cannot}`);
    const error = new ProviderError({ errorType: 'bad_request', provider: rt.adapter.provider, model: rt.adapter.model, message: `${rt.label} ${cannot} (target capabilities)` });
    state.lastFailure = { ref: rt.ref, reason: 'unsupported_input', error };
    return true;
  };

  const rejected = (rt: TargetRuntime): void => {
    state.observer.onCircuitRejected?.({ target: rt.ref, breaker: rt.slot.key });
    const error = new ProviderError({ errorType: 'circuit_open', provider: rt.adapter.provider, model: rt.adapter.model, message: `Circuit ${rt.slot.key} is open` });
    state.lastFailure = lastTried = { ref: rt.ref, reason: 'circuit_open', error };
  };

  /** Runs a target whose permit was granted: its answer, the walk's end, or undefined to go on. */
  const run = async (rt: TargetRuntime, permit: BreakerPermit, kind: AttemptKind, options: TargetRunOptions = {}): Promise<WalkResult<T> | undefined> => {
    tried += 1;
    try {
      const value = await retryOnTarget(rt, state, permit, kind, execute, options);
      return { ok: true, value, target: rt };
    } catch (thrown) {
      if (!(thrown instanceof TargetGaveUp)) throw thrown;
      const { error, reason } = thrown;
      if (thrown.stopWalk) {
        // Deadline: nothing more can be tried, but cached/static answers still can be served.
        return { ok: false, error, reason, stop: !(reason === 'timeout' && error instanceof WalkStopped && error.why === 'deadline') };
      }
      if (reason === 'content_filtered') state.refusedBy.add(rt.adapter.provider);
      if (reason === 'context_length_exceeded') {
        const needed = estimateTokens(state.request);
        const window = rt.target.contextWindow;
        // The prompt did not fit this target: the next one needs more room than this one has.
        state.needsContextTokens = Math.max(needed, window !== undefined ? window + 1 : 0, state.needsContextTokens ?? 0);
      }
      state.lastFailure = lastTried = { ref: rt.ref, reason, error };
      lastGaveUp = thrown;
      return undefined;
    }
  };
  let lastGaveUp: TargetGaveUp | undefined;
  const firstKind = (): AttemptKind => (tried === 0 && state.hops === 0 ? 'initial' : 'fallback');

  const stopped = (): WalkResult<T> | undefined => {
    if (!state.walk.signal.aborted) return undefined;
    const error = state.walk.signal.reason as WalkStopped;
    // Cancelled or walked away: nothing more, not even a cached answer. Deadline: degrade.
    return { ok: false, error, reason: error.errorType, stop: error.why !== 'deadline' };
  };
  const steps: PositionSteps<T> = { stopped, skip: (rt) => skipReason(rt, state), hopTo, cannotTake, rejected, run, firstKind, lastGaveUp: () => lastGaveUp };

  for (const position of positionsOf(targets)) {
    const stop = stopped();
    if (stop) return stop;
    const pool = position[0]!.pool;
    if (pool) {
      const ended = await walkPool(pool, position, state, steps);
      if (ended === 'break') break;
      if (ended) return ended;
      continue;
    }
    const rt = position[0]!;
    if (skipReason(rt, state)) continue;
    const hop = hopTo(rt);
    if (hop === 'break') break;
    if (hop) return hop;
    if (cannotTake(rt)) continue;
    const permit = await rt.slot.breaker.tryAcquire();
    if (!permit) {
      rejected(rt);
      continue;
    }
    const ended = await run(rt, permit, firstKind());
    if (ended) return ended;
  }
  if (lastTried && lastTried.reason !== 'unsupported_input') return { ok: false, error: lastTried.error, reason: lastTried.reason, stop: false };
  if (unsupported.length > 0) {
    // Nothing was tried: no target of this chain takes these images or files. The request is the
    // problem, as with any bad request: no cached or static stand-in.
    const error = new ProviderError({ errorType: 'bad_request', provider: 'bulwark', model: '', message: `No target in the chain can take this request's input: ${unsupported.join('; ')}` });
    return { ok: false, error, reason: 'bad_request', stop: true };
  }
  return exhausted();
}

function exhausted<T>(): WalkResult<T> {
  const error = new ProviderError({ errorType: 'bad_request', provider: 'bulwark', model: '', message: 'No target in the chain can take this request' });
  return { ok: false, error, reason: 'bad_request', stop: false };
}
