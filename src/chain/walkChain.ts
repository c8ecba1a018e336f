import { estimateTokens } from '../validation/validateRequest.js';
import { inputNeeds } from '../request/contentParts.js';
import { unsupportedInput } from '../providers/capabilities.js';
import { retryOnTarget, TargetGaveUp, type AttemptExecutor, type TargetRunOptions } from './retryOnTarget.js';
import { raceWithHedges, type Admitted, type Hedging, type RaceResult } from './hedge.js';
import { pickForHedge, walkPool, type PositionSteps } from './walkPool.js';
import type { BreakerPermit } from '../breaker/circuitBreaker.js';
import type { AttemptKind } from '../request/types.js';
import { ProviderError } from '../errors/providerError.js';
import type { ErrorType } from '../errors/errorTypes.js';
import type { PoolRuntime, TargetRuntime } from './targetRuntime.js';
import { costCapReached, walkStopOf, type WalkStopped, type WalkState } from './walkState.js';
import { waitForAny } from '../limits/targetLimiter.js';
import { admitLimited, isLimitedError } from './limited.js';

export type WalkResult<T> =
  | { ok: true; value: T; target: TargetRuntime }
  /** Every eligible target failed (or the walk was stopped): `stop` means do not degrade. */
  | { ok: false; error: ProviderError; reason: ErrorType; stop: boolean };

function skipReason(rt: TargetRuntime, state: WalkState): string | undefined {
  if (state.refusedBy?.has(rt.adapter.provider)) return 'refused by this provider already';
  const window = rt.target.contextWindow;
  if (state.needsContextTokens !== undefined && window !== undefined && window < state.needsContextTokens) return 'context window too small';
  return undefined;
}

/**
 * Walks the positions in order (DESIGN §1): skips open breakers without an upstream call and
 * targets that cannot help (same provider after a refusal, too small a window after a
 * context-length failure), retries each target within its budget, and records every hop.
 * With `hedging`, a target that is slow to answer races the next one — a member of the next pool,
 * picked by its strategy, when the next position is a pool (see hedge.ts). A pool
 * position (consecutive members of one pool) is walked by walkPool: its members, picked by its
 * strategy, until one answers or every member is open, unavailable or has failed this request.
 */
export async function walkChain<T>(targets: readonly TargetRuntime[], state: WalkState, execute: AttemptExecutor<T>, hedging?: Hedging): Promise<WalkResult<T>> {
  const { config } = state;
  const { clock } = config;
  let tried = 0;
  const needs = inputNeeds(state.request.messages);
  /** Targets skipped because they cannot take the request's parts: `provider/model takes no images`. */
  const unsupported: string[] = [];
  /** The last failure of a target that was tried (or refused by its breaker): what the walk reports. */
  let lastTried = state.lastFailure?.reason === 'unsupported_input' ? undefined : state.lastFailure;
  /** The next target to consider: the walk's and its hedges' (a hedge takes the target the walk would try next). */
  let next = 0;
  /** Targets whose provider reported little left go after their peers (see deferLow). */
  let order = deferLow(targets);
  /** Targets skipped at one of their limits in this pass, and when each may fit again. */
  let limited: Array<{ rt: TargetRuntime; retryInMs: number | undefined }> = [];

  /** The walk leaves `rt`: a result that ends the walk, or undefined to go on with the next target. */
  const leave = (rt: TargetRuntime, thrown: unknown): WalkResult<T> | undefined => {
    if (!(thrown instanceof TargetGaveUp)) throw thrown;
    const { error } = thrown;
    // A retry refused by the target's limits: a skip for the walk, like the first call's.
    const reason = isLimitedError(error) ? 'limited' : thrown.reason;
    if (thrown.stopWalk) {
      // Deadline: nothing more can be tried, but cached/static answers still can be served.
      return { ok: false, error, reason: thrown.reason, stop: !(thrown.reason === 'timeout' && walkStopOf(error)?.why === 'deadline') };
    }
    if (reason === 'content_filtered') (state.refusedBy ??= new Set()).add(rt.adapter.provider);
    if (reason === 'context_length_exceeded') {
      const needed = estimateTokens(state.request);
      const window = rt.target.contextWindow;
      // The prompt did not fit this target: the next one needs more room than this one has.
      state.needsContextTokens = Math.max(needed, window !== undefined ? window + 1 : 0, state.needsContextTokens ?? 0);
    }
    state.lastFailure = lastTried = { ref: rt.ref, reason, error };
    lastGaveUp = thrown;
    return undefined;
  };
  let lastGaveUp: TargetGaveUp | undefined;

  /**
   * The next target, for a hedge: one hop, no fallback event (nothing failed), and no call at all
   * when the request is over, out of hops or at its cost cap. Targets that cannot help are passed
   * over as the walk would.
   */
  const admitHedge = async (): Promise<Admitted | undefined> => {
    while (next < order.length) {
      const rt = order[next]!;
      // Another member of a pool a hedge already entered is no new hop.
      const hop = !(rt.pool && enteredPools?.has(rt.pool));
      if (state.walk.aborted || (hop && state.hops >= config.maxHops) || costCapReached(state)) return undefined;
      if (rt.pool) {
        const member = await hedgeIntoPool(rt.pool, hop);
        if (member) return member;
        continue;
      }
      next += 1;
      if (skipReason(rt, state)) continue;
      if (rt.target.capabilities && unsupportedInput(needs, rt.target.capabilities)) continue;
      const permit = await rt.slot.breaker.tryAcquire();
      if (!permit) {
        state.observer.onCircuitRejected?.({ target: rt.ref, breaker: rt.slot.key });
        continue;
      }
      // A hedge is a call like any other: a target at its limits is passed over.
      if ((await admitLimited(rt, state)) !== true) {
        permit.release();
        continue;
      }
      state.hops += 1;
      tried += 1;
      return { rt, permit, kind: 'hedge' };
    }
    return undefined;
  };

  /** Pool members a hedge of this request took: the walk does not try them again when it reaches their pool. */
  let hedgedInto: Set<TargetRuntime> | undefined;
  /** Pools a hedge entered (one hop, however many of its members are hedged on). */
  let enteredPools: Set<PoolRuntime> | undefined;

  /**
   * A hedge into the pool position at `next`: a member picked by the pool's strategy, as the walk
   * would pick it (breaker, limits, input), left at `next` so that the walk, if it gets there,
   * walks the pool's other members. None can take it: `next` moves past the pool.
   */
  const hedgeIntoPool = async (pool: PoolRuntime, hop: boolean): Promise<Admitted | undefined> => {
    let end = next;
    while (end < order.length && order[end]!.pool === pool) end += 1;
    const members = order.slice(next, end);
    const passed = new Set<TargetRuntime>();
    const eligible = () => members.filter((m) => !passed.has(m) && !hedgedInto?.has(m) && m.slot.breaker.state !== 'open' && skipReason(m, state) === undefined);
    const hedgeSteps = {
      stopped,
      cannotTake: (m: TargetRuntime) => Boolean(m.target.capabilities && unsupportedInput(needs, m.target.capabilities)),
      rejected: (m: TargetRuntime) => state.observer.onCircuitRejected?.({ target: m.ref, breaker: m.slot.key }),
    };
    for (;;) {
      const member = await pickForHedge(pool, eligible, state, hedgeSteps, (m) => passed.add(m));
      if (!member) {
        next = end;
        return undefined;
      }
      // A hedge is a call like any other: a member at its limits is passed over.
      if ((await admitLimited(member.rt, state)) !== true) {
        member.permit.release();
        passed.add(member.rt);
        continue;
      }
      (hedgedInto ??= new Set()).add(member.rt);
      if (hop) {
        state.hops += 1;
        (enteredPools ??= new Set()).add(pool);
      }
      tried += 1;
      return { rt: member.rt, permit: member.permit, kind: 'hedge' };
    }
  };

  /** Hops reported to the observer by this walk (across its passes after a wait for capacity). */
  let reported: Set<string> | undefined;
  /** Entering a position after a failure is a hop: 'break' past maxHops, a result when the walk ends here. */
  const hopTo = (rt: TargetRuntime): WalkResult<T> | 'break' | undefined => {
    if (!state.lastFailure) return undefined;
    // A pool a hedge of this request entered was that hop already.
    const counted = !(rt.pool && enteredPools?.has(rt.pool));
    if (counted && state.hops >= config.maxHops) return 'break';
    if (costCapReached(state)) {
      const error = new ProviderError({ errorType: 'budget_exhausted', provider: 'bulwark', model: '', message: `Request spent $${state.costUsd.toFixed(6)}, at its maxCostUsd of $${state.request.maxCostUsd}` });
      return { ok: false, error, reason: 'budget_exhausted', stop: false };
    }
    if (counted) state.hops += 1;
    const { ref: from, reason } = state.lastFailure;
    // A request that waited for capacity walks again: the same skip is one fallback, not one per pass.
    const key = `${from.index}>${rt.ref.index}:${reason}`;
    if (reported?.has(key)) return undefined;
    (reported ??= new Set()).add(key);
    state.observer.onFallback?.({ from, to: rt.ref, reason });
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

  /** Asks the target's limits for the call the walk is about to make: false (recorded as a `limited` skip) when at one. */
  const admitted = async (rt: TargetRuntime, permit: BreakerPermit): Promise<boolean> => {
    const admission = await admitLimited(rt, state);
    if (admission === true) return true;
    // Skipped, not failed: no call, nothing charged to its breaker.
    permit.release();
    limited.push({ rt, retryInMs: admission.denial.retryInMs });
    state.lastFailure = lastTried = { ref: rt.ref, reason: 'limited', error: admission.error };
    lastGaveUp = undefined;
    return false;
  };

  const rejected = (rt: TargetRuntime): void => {
    state.observer.onCircuitRejected?.({ target: rt.ref, breaker: rt.slot.key });
    const error = new ProviderError({ errorType: 'circuit_open', provider: rt.adapter.provider, model: rt.adapter.model, message: `Circuit ${rt.slot.key} is open` });
    state.lastFailure = lastTried = { ref: rt.ref, reason: 'circuit_open', error };
  };

  const stopped = (): WalkResult<T> | undefined => {
    if (!state.walk.aborted) return undefined;
    const stop = state.walk.reason as WalkStopped;
    // Cancelled or walked away: nothing more, not even a cached answer. Deadline: degrade.
    return { ok: false, error: stop.attemptError, reason: stop.errorType, stop: stop.why !== 'deadline' };
  };
  const firstKind = (): AttemptKind => (tried === 0 && state.hops === 0 ? 'initial' : 'fallback');
  const steps: PositionSteps<T> = {
    stopped,
    skip: (rt) => (hedgedInto?.has(rt) ? 'taken by a hedge of this request' : skipReason(rt, state)),
    hopTo,
    cannotTake,
    rejected,
    async run(rt: TargetRuntime, permit: BreakerPermit, kind: AttemptKind, options: TargetRunOptions) {
      if (!(await admitted(rt, permit))) return undefined;
      tried += 1;
      try {
        return { ok: true, value: await retryOnTarget(rt, state, permit, kind, execute, options), target: rt };
      } catch (thrown) {
        return leave(rt, thrown);
      }
    },
    firstKind,
    lastGaveUp: () => lastGaveUp,
    hedges: hedging !== undefined,
    async runHedged(first: Admitted, admitMember: () => Promise<Admitted | undefined>, poolHedging?: Hedging) {
      const policy = poolHedging ?? hedging;
      if (!policy) throw new Error('runHedged without a hedging policy');
      if (!(await admitted(first.rt, first.permit))) return undefined;
      tried += 1;
      const admit = async () => {
        // A hedge on a member is one more call: a member at its limits is passed over.
        for (;;) {
          const member = await admitMember();
          if (!member) return undefined;
          if ((await admitLimited(member.rt, state)) === true) {
            tried += 1;
            return member;
          }
          member.permit.release();
        }
      };
      const ran = await raceWithHedges(policy, first, state, execute, { admitHedge: admit, leave: (left, gaveUp) => void leave(left, gaveUp) });
      return ran.ok ? { ok: true as const, value: ran.value, target: ran.rt } : leave(ran.rt, ran.thrown);
    },
  };

  const start = { hops: state.hops, lastFailure: state.lastFailure, lastTried };
  const queueStart = clock.now();
  for (;;) {
    while (next < order.length) {
      const stop = stopped();
      if (stop) return stop;
      const rt = order[next]!;
      if (rt.pool) {
        const members: TargetRuntime[] = [];
        while (next < order.length && order[next]!.pool === rt.pool) members.push(order[next++]!);
        const ended = await walkPool(rt.pool, members, state, steps);
        if (ended === 'break') break;
        if (ended) return ended;
        continue;
      }
      next += 1;
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
      if (!(await admitted(rt, permit))) continue;
      const kind = firstKind();
      tried += 1;
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
    // Nothing was sent and targets were at their limits: wait for capacity (up to the longest
    // queueMs among them, within the deadline), then walk again from the top.
    if (tried > 0 || limited.length === 0) break;
    const queueMs = Math.max(...limited.map((l) => l.rt.slot.limiter.queueMs));
    const left = Math.min(queueStart + queueMs, state.deadline) - clock.now();
    if (!(left > 0)) break;
    const soonest = Math.min(...limited.map((l) => l.retryInMs ?? Number.POSITIVE_INFINITY));
    try {
      await waitForAny(limited.map((l) => l.rt.slot.limiter), Math.min(left, soonest), clock, state.walk.signal);
    } catch {
      return stopped() ?? { ok: false, error: lastTried!.error, reason: lastTried!.error.errorType, stop: false };
    }
    state.hops = start.hops;
    state.lastFailure = start.lastFailure;
    lastTried = start.lastTried;
    unsupported.length = 0;
    limited = [];
    order = deferLow(targets);
    next = 0;
  }
  if (lastTried && lastTried.reason !== 'unsupported_input') {
    return { ok: false, error: lastTried.error, reason: lastTried.reason === 'limited' ? lastTried.error.errorType : lastTried.reason, stop: false };
  }
  if (unsupported.length > 0) {
    // Nothing was tried: no target of this chain takes these images or files. The request is the
    // problem, as with any bad request: no cached or static stand-in.
    const error = new ProviderError({ errorType: 'bad_request', provider: 'bulwark', model: '', message: `No target in the chain can take this request's input: ${unsupported.join('; ')}` });
    return { ok: false, error, reason: 'bad_request', stop: true };
  }
  const error = new ProviderError({ errorType: 'bad_request', provider: 'bulwark', model: '', message: 'No target in the chain can take this request' });
  return { ok: false, error, reason: 'bad_request', stop: false };
}

/**
 * Targets whose provider reported little left of a limit (`rateLimitHeaders.lowRemaining`) go after
 * their peers until the reset, so traffic moves before the 429; the order is kept otherwise. Pool
 * members keep their place: their pool orders them (walkPool).
 */
function deferLow(targets: readonly TargetRuntime[]): readonly TargetRuntime[] {
  let low: TargetRuntime[] | undefined;
  for (const rt of targets) if (!rt.pool && rt.slot.limiter.availability() === 'low') (low ??= []).push(rt);
  if (!low || low.length === targets.length) return targets;
  return [...targets.filter((rt) => !low.includes(rt)), ...low];
}
