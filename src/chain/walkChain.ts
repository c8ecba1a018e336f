import { estimateTokens } from '../validation/validateRequest.js';
import { inputNeeds } from '../request/contentParts.js';
import { unsupportedInput } from '../providers/capabilities.js';
import { retryOnTarget, TargetGaveUp, type AttemptExecutor } from './retryOnTarget.js';
import { raceWithHedges, type Admitted, type Hedging, type RaceResult } from './hedge.js';
import { ProviderError } from '../errors/providerError.js';
import type { ErrorType } from '../errors/errorTypes.js';
import type { TargetRuntime } from './targetRuntime.js';
import { costCapReached, walkStopOf, type WalkStopped, type WalkState } from './walkState.js';

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

/**
 * Walks the targets in order (DESIGN §1): skips open breakers without an upstream call and
 * targets that cannot help (same provider after a refusal, too small a window after a
 * context-length failure), retries each target within its budget, and records every hop.
 * With `hedging`, a target that is slow to answer races the next one (see hedge.ts).
 */
export async function walkChain<T>(targets: readonly TargetRuntime[], state: WalkState, execute: AttemptExecutor<T>, hedging?: Hedging): Promise<WalkResult<T>> {
  const { config } = state;
  let tried = 0;
  const needs = inputNeeds(state.request.messages);
  /** Targets skipped because they cannot take the request's parts: `provider/model takes no images`. */
  const unsupported: string[] = [];
  /** The last failure of a target that was tried (or refused by its breaker): what the walk reports. */
  let lastTried = state.lastFailure?.reason === 'unsupported_input' ? undefined : state.lastFailure;
  /** The next target to consider: the walk's and its hedges' (a hedge takes the target the walk would try next). */
  let next = 0;

  /** The walk leaves `rt`: a result that ends the walk, or undefined to go on with the next target. */
  const leave = (rt: TargetRuntime, thrown: unknown): WalkResult<T> | undefined => {
    if (!(thrown instanceof TargetGaveUp)) throw thrown;
    const { error, reason } = thrown;
    if (thrown.stopWalk) {
      // Deadline: nothing more can be tried, but cached/static answers still can be served.
      return { ok: false, error, reason, stop: !(reason === 'timeout' && walkStopOf(error)?.why === 'deadline') };
    }
    if (reason === 'content_filtered') state.refusedBy.add(rt.adapter.provider);
    if (reason === 'context_length_exceeded') {
      const needed = estimateTokens(state.request);
      const window = rt.target.contextWindow;
      // The prompt did not fit this target: the next one needs more room than this one has.
      state.needsContextTokens = Math.max(needed, window !== undefined ? window + 1 : 0, state.needsContextTokens ?? 0);
    }
    state.lastFailure = lastTried = { ref: rt.ref, reason, error };
    return undefined;
  };

  /**
   * The next target, for a hedge: one hop, no fallback event (nothing failed), and no call at all
   * when the request is over, out of hops or at its cost cap. Targets that cannot help are passed
   * over as the walk would.
   */
  const admitHedge = async (): Promise<Admitted | undefined> => {
    while (next < targets.length) {
      if (state.walk.signal.aborted || state.hops >= config.maxHops || costCapReached(state)) return undefined;
      const rt = targets[next]!;
      next += 1;
      if (skipReason(rt, state)) continue;
      if (rt.target.capabilities && unsupportedInput(needs, rt.target.capabilities)) continue;
      const permit = await rt.slot.breaker.tryAcquire();
      if (!permit) {
        state.observer.onCircuitRejected?.({ target: rt.ref, breaker: rt.slot.key });
        continue;
      }
      state.hops += 1;
      tried += 1;
      return { rt, permit, kind: 'hedge' };
    }
    return undefined;
  };

  while (next < targets.length) {
    const rt = targets[next]!;
    next += 1;
    if (state.walk.signal.aborted) {
      const stop = state.walk.signal.reason as WalkStopped;
      // Cancelled or walked away: nothing more, not even a cached answer. Deadline: degrade.
      return { ok: false, error: stop.attemptError, reason: stop.errorType, stop: stop.why !== 'deadline' };
    }
    if (skipReason(rt, state)) continue;
    if (state.lastFailure) {
      if (state.hops >= config.maxHops) break;
      if (costCapReached(state)) {
        const error = new ProviderError({ errorType: 'budget_exhausted', provider: 'bulwark', model: '', message: `Request spent $${state.costUsd.toFixed(6)}, at its maxCostUsd of $${state.request.maxCostUsd}` });
        return { ok: false, error, reason: 'budget_exhausted', stop: false };
      }
      state.hops += 1;
      state.observer.onFallback?.({ from: state.lastFailure.ref, to: rt.ref, reason: state.lastFailure.reason });
    }
    // Before the breaker: a target that cannot take the input is no call, so no probe either.
    const cannot = rt.target.capabilities && unsupportedInput(needs, rt.target.capabilities);
    if (cannot) {
      unsupported.push(`${rt.label} ${cannot}`);
      const error = new ProviderError({ errorType: 'bad_request', provider: rt.adapter.provider, model: rt.adapter.model, message: `${rt.label} ${cannot} (target capabilities)` });
      state.lastFailure = { ref: rt.ref, reason: 'unsupported_input', error };
      continue;
    }
    const permit = await rt.slot.breaker.tryAcquire();
    if (!permit) {
      state.observer.onCircuitRejected?.({ target: rt.ref, breaker: rt.slot.key });
      const error = new ProviderError({ errorType: 'circuit_open', provider: rt.adapter.provider, model: rt.adapter.model, message: `Circuit ${rt.slot.key} is open` });
      state.lastFailure = lastTried = { ref: rt.ref, reason: 'circuit_open', error };
      continue;
    }
    tried += 1;
    const kind = tried === 1 && state.hops === 0 ? 'initial' : 'fallback';
    const ran: RaceResult<T> = hedging
      ? await raceWithHedges(hedging, { rt, permit, kind }, state, execute, { admitHedge, leave: (left, gaveUp) => void leave(left, gaveUp) })
      : await retryOnTarget(rt, state, permit, kind, execute).then(
          (value) => ({ ok: true as const, value, rt }),
          (thrown: unknown) => ({ ok: false as const, rt, thrown }),
        );
    if (ran.ok) return { ok: true, value: ran.value, target: ran.rt };
    const ended = leave(ran.rt, ran.thrown);
    if (ended) return ended;
  }
  if (lastTried && lastTried.reason !== 'unsupported_input') return { ok: false, error: lastTried.error, reason: lastTried.reason, stop: false };
  if (unsupported.length > 0) {
    // Nothing was tried: no target of this chain takes these images or files. The request is the
    // problem, as with any bad request: no cached or static stand-in.
    const error = new ProviderError({ errorType: 'bad_request', provider: 'bulwark', model: '', message: `No target in the chain can take this request's input: ${unsupported.join('; ')}` });
    return { ok: false, error, reason: 'bad_request', stop: true };
  }
  const error = new ProviderError({ errorType: 'bad_request', provider: 'bulwark', model: '', message: 'No target in the chain can take this request' });
  return { ok: false, error, reason: 'bad_request', stop: false };
}
