import { estimateTokens } from '../validation/validateRequest.js';
import { inputNeeds, type InputNeeds } from '../request/contentParts.js';
import { unsupportedInput } from '../providers/capabilities.js';
import { retryOnTarget, TargetGaveUp, type AttemptExecutor, type TargetRunOptions } from './retryOnTarget.js';
import { raceWithHedges, type Admitted, type Hedging, type RaceResult, type RaceWalk } from './hedge.js';
import { pickForHedge, walkPool, type PositionSteps } from './walkPool.js';
import type { BreakerPermit } from '../breaker/circuitBreaker.js';
import type { AttemptKind } from '../request/types.js';
import { ProviderError } from '../errors/providerError.js';
import type { ErrorType } from '../errors/errorTypes.js';
import type { PoolRuntime, TargetRuntime } from './targetRuntime.js';
import { costCapReached, walkStopOf, type WalkStopped, type WalkState } from './walkState.js';
import { waitForAny } from '../limits/targetLimiter.js';
import { admitLimited, isLimitedError, type LimitRefusal } from './limited.js';

export type WalkResult<T> =
  | { ok: true; value: T; target: TargetRuntime }
  /** Every eligible target failed (or the walk was stopped): `stop` means do not degrade. */
  | { ok: false; error: ProviderError; reason: ErrorType; stop: boolean };

/** How a plain target (not a pool member) is run: nothing to prefer, no attempts before it. */
const PLAIN_TARGET: TargetRunOptions = Object.freeze({});

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
export function walkChain<T>(targets: readonly TargetRuntime[], state: WalkState, execute: AttemptExecutor<T>, hedging?: Hedging): Promise<WalkResult<T>> {
  return new ChainWalk(targets, state, execute, hedging).walk();
}

/**
 * One walk: what it has done so far, and the steps a position takes (the walk's own loop, walkPool
 * for a pool's members, the hedge race for the next target). A class, so that a walk is one object
 * and its steps are methods, not a dozen closures per request.
 */
class ChainWalk<T> implements PositionSteps<T>, RaceWalk {
  readonly hedges: boolean;
  private tried = 0;
  private readonly needs: InputNeeds;
  /** Targets skipped because they cannot take the request's parts: `provider/model takes no images`. */
  private readonly unsupported: string[] = [];
  /** The last failure of a target that was tried (or refused by its breaker): what the walk reports. */
  private lastTried: WalkState['lastFailure'];
  private gaveUp: TargetGaveUp | undefined;
  /** The next target to consider: the walk's and its hedges' (a hedge takes the target the walk would try next). */
  private next = 0;
  /** Targets whose provider reported little left go after their peers (see deferLow). */
  private order: readonly TargetRuntime[];
  /** Targets skipped at one of their limits in this pass, and when each may fit again. */
  private limited: Array<{ rt: TargetRuntime; retryInMs: number | undefined }> = [];
  /** Pool members a hedge of this request took: the walk does not try them again when it reaches their pool. */
  private hedgedInto: Set<TargetRuntime> | undefined;
  /** Pools a hedge entered (one hop, however many of its members are hedged on). */
  private enteredPools: Set<PoolRuntime> | undefined;
  /** Hops reported to the observer by this walk (across its passes after a wait for capacity). */
  private reported: Set<string> | undefined;

  constructor(
    private readonly targets: readonly TargetRuntime[],
    private readonly state: WalkState,
    private readonly execute: AttemptExecutor<T>,
    private readonly hedging: Hedging | undefined,
  ) {
    this.hedges = hedging !== undefined;
    this.needs = inputNeeds(state.request.messages);
    this.lastTried = state.lastFailure?.reason === 'unsupported_input' ? undefined : state.lastFailure;
    this.order = deferLow(targets);
  }

  async walk(): Promise<WalkResult<T>> {
    const { state } = this;
    const { clock } = state.config;
    const start = { hops: state.hops, lastFailure: state.lastFailure, lastTried: this.lastTried };
    const queueStart = clock.now();
    for (;;) {
      const { order } = this;
      while (this.next < order.length) {
        const stop = this.stopped();
        if (stop) return stop;
        const rt = order[this.next]!;
        if (rt.pool) {
          const members: TargetRuntime[] = [];
          while (this.next < order.length && order[this.next]!.pool === rt.pool) members.push(order[this.next++]!);
          const ended = await walkPool(rt.pool, members, state, this);
          if (ended === 'break') break;
          if (ended) return ended;
          continue;
        }
        this.next += 1;
        if (skipReason(rt, state)) continue;
        const hop = this.hopTo(rt);
        if (hop === 'break') break;
        if (hop) return hop;
        if (this.cannotTake(rt)) continue;
        const permit = await rt.slot.breaker.tryAcquire();
        if (!permit) {
          this.rejected(rt);
          continue;
        }
        const ended = this.hedging ? await this.race(this.hedging, rt, permit) : await this.run(rt, permit, this.firstKind(), PLAIN_TARGET);
        if (ended) return ended;
      }
      // Nothing was sent and targets were at their limits: wait for capacity (up to the longest
      // queueMs among them, within the deadline), then walk again from the top.
      const { limited } = this;
      if (this.tried > 0 || limited.length === 0) break;
      const queueMs = Math.max(...limited.map((l) => l.rt.slot.limiter.queueMs));
      const left = Math.min(queueStart + queueMs, state.deadline) - clock.now();
      if (!(left > 0)) break;
      const soonest = Math.min(...limited.map((l) => l.retryInMs ?? Number.POSITIVE_INFINITY));
      try {
        await waitForAny(limited.map((l) => l.rt.slot.limiter), Math.min(left, soonest), clock, state.walk.signal);
      } catch {
        return this.stopped() ?? { ok: false, error: this.lastTried!.error, reason: this.lastTried!.error.errorType, stop: false };
      }
      state.hops = start.hops;
      state.lastFailure = start.lastFailure;
      this.lastTried = start.lastTried;
      this.unsupported.length = 0;
      this.limited = [];
      this.order = deferLow(this.targets);
      this.next = 0;
    }
    const { lastTried, unsupported } = this;
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

  /** A plain target with the chain's hedging: it races the next target when it is slow. */
  private async race(hedging: Hedging, rt: TargetRuntime, permit: BreakerPermit): Promise<WalkResult<T> | undefined> {
    if (!(await this.admitted(rt, permit))) return undefined;
    const kind = this.firstKind();
    this.tried += 1;
    const ran: RaceResult<T> = await raceWithHedges(hedging, { rt, permit, kind }, this.state, this.execute, this);
    return ran.ok ? { ok: true, value: ran.value, target: ran.rt } : this.leaveWith(ran.rt, ran.thrown);
  }

  // -- RaceWalk: what a hedge race asks of the walk

  /** A racer gave up while others still run: recorded as the walk leaving it. */
  leave(rt: TargetRuntime, gaveUp: TargetGaveUp): void {
    this.leaveWith(rt, gaveUp);
  }

  /**
   * The next target, for a hedge: one hop, no fallback event (nothing failed), and no call at all
   * when the request is over, out of hops or at its cost cap. Targets that cannot help are passed
   * over as the walk would.
   */
  async admitHedge(): Promise<Admitted | undefined> {
    const { state, order } = this;
    while (this.next < order.length) {
      const rt = order[this.next]!;
      // Another member of a pool a hedge already entered is no new hop.
      const hop = !(rt.pool && this.enteredPools?.has(rt.pool));
      if (state.walk.aborted || (hop && state.hops >= state.config.maxHops) || costCapReached(state)) return undefined;
      if (rt.pool) {
        const member = await this.hedgeIntoPool(rt.pool, hop);
        if (member) return member;
        continue;
      }
      this.next += 1;
      if (skipReason(rt, state)) continue;
      if (rt.target.capabilities && unsupportedInput(this.needs, rt.target.capabilities)) continue;
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
      this.tried += 1;
      return { rt, permit, kind: 'hedge' };
    }
    return undefined;
  }

  /**
   * A hedge into the pool position at `next`: a member picked by the pool's strategy, as the walk
   * would pick it (breaker, limits, input), left at `next` so that the walk, if it gets there,
   * walks the pool's other members. None can take it: `next` moves past the pool.
   */
  private async hedgeIntoPool(pool: PoolRuntime, hop: boolean): Promise<Admitted | undefined> {
    const { state, order, needs } = this;
    let end = this.next;
    while (end < order.length && order[end]!.pool === pool) end += 1;
    const members = order.slice(this.next, end);
    const passed = new Set<TargetRuntime>();
    const eligible = () => members.filter((m) => !passed.has(m) && !this.hedgedInto?.has(m) && m.slot.breaker.state !== 'open' && skipReason(m, state) === undefined);
    const hedgeSteps = {
      stopped: () => this.stopped(),
      cannotTake: (m: TargetRuntime) => Boolean(m.target.capabilities && unsupportedInput(needs, m.target.capabilities)),
      rejected: (m: TargetRuntime) => state.observer.onCircuitRejected?.({ target: m.ref, breaker: m.slot.key }),
    };
    for (;;) {
      const member = await pickForHedge(pool, eligible, state, hedgeSteps, (m) => passed.add(m));
      if (!member) {
        this.next = end;
        return undefined;
      }
      // A hedge is a call like any other: a member at its limits is passed over.
      if ((await admitLimited(member.rt, state)) !== true) {
        member.permit.release();
        passed.add(member.rt);
        continue;
      }
      (this.hedgedInto ??= new Set()).add(member.rt);
      if (hop) {
        state.hops += 1;
        (this.enteredPools ??= new Set()).add(pool);
      }
      this.tried += 1;
      return { rt: member.rt, permit: member.permit, kind: 'hedge' };
    }
  }

  // -- PositionSteps: what a position (a target, a pool's members) asks of the walk

  stopped(): WalkResult<T> | undefined {
    const { walk } = this.state;
    if (!walk.aborted) return undefined;
    const stop = walk.reason as WalkStopped;
    // Cancelled or walked away: nothing more, not even a cached answer. Deadline: degrade.
    return { ok: false, error: stop.attemptError, reason: stop.errorType, stop: stop.why !== 'deadline' };
  }

  skip(rt: TargetRuntime): string | undefined {
    return this.hedgedInto?.has(rt) ? 'taken by a hedge of this request' : skipReason(rt, this.state);
  }

  /** Entering a position after a failure is a hop: 'break' past maxHops, a result when the walk ends here. */
  hopTo(rt: TargetRuntime): WalkResult<T> | 'break' | undefined {
    const { state } = this;
    if (!state.lastFailure) return undefined;
    // A pool a hedge of this request entered was that hop already.
    const counted = !(rt.pool && this.enteredPools?.has(rt.pool));
    if (counted && state.hops >= state.config.maxHops) return 'break';
    if (costCapReached(state)) {
      const error = new ProviderError({ errorType: 'budget_exhausted', provider: 'bulwark', model: '', message: `Request spent $${state.costUsd.toFixed(6)}, at its maxCostUsd of $${state.request.maxCostUsd}` });
      return { ok: false, error, reason: 'budget_exhausted', stop: false };
    }
    if (counted) state.hops += 1;
    const { ref: from, reason } = state.lastFailure;
    // A request that waited for capacity walks again: the same skip is one fallback, not one per pass.
    const key = `${from.index}>${rt.ref.index}:${reason}`;
    if (this.reported?.has(key)) return undefined;
    (this.reported ??= new Set()).add(key);
    state.observer.onFallback?.({ from, to: rt.ref, reason });
    return undefined;
  }

  /** Before the breaker: a target that cannot take the input is no call, so no probe either. */
  cannotTake(rt: TargetRuntime): boolean {
    const cannot = rt.target.capabilities && unsupportedInput(this.needs, rt.target.capabilities);
    if (!cannot) return false;
    this.unsupported.push(`${rt.label} ${cannot}`);
    const error = new ProviderError({ errorType: 'bad_request', provider: rt.adapter.provider, model: rt.adapter.model, message: `${rt.label} ${cannot} (target capabilities)` });
    this.state.lastFailure = { ref: rt.ref, reason: 'unsupported_input', error };
    return true;
  }

  rejected(rt: TargetRuntime): void {
    const { state } = this;
    state.observer.onCircuitRejected?.({ target: rt.ref, breaker: rt.slot.key });
    const error = new ProviderError({ errorType: 'circuit_open', provider: rt.adapter.provider, model: rt.adapter.model, message: `Circuit ${rt.slot.key} is open` });
    state.lastFailure = this.lastTried = { ref: rt.ref, reason: 'circuit_open', error };
  }

  async run(rt: TargetRuntime, permit: BreakerPermit, kind: AttemptKind, options: TargetRunOptions): Promise<WalkResult<T> | undefined> {
    if (!(await this.admitted(rt, permit))) return undefined;
    this.tried += 1;
    try {
      return { ok: true, value: await retryOnTarget(rt, this.state, permit, kind, this.execute, options), target: rt };
    } catch (thrown) {
      return this.leaveWith(rt, thrown);
    }
  }

  async runHedged(first: Admitted, admitMember: () => Promise<Admitted | undefined>, poolHedging?: Hedging): Promise<WalkResult<T> | undefined> {
    const policy = poolHedging ?? this.hedging;
    if (!policy) throw new Error('runHedged without a hedging policy');
    if (!(await this.admitted(first.rt, first.permit))) return undefined;
    this.tried += 1;
    const { state } = this;
    const admitHedge = async () => {
      // A hedge on a member is one more call: a member at its limits is passed over.
      for (;;) {
        const member = await admitMember();
        if (!member) return undefined;
        if ((await admitLimited(member.rt, state)) === true) {
          this.tried += 1;
          return member;
        }
        member.permit.release();
      }
    };
    const ran = await raceWithHedges(policy, first, state, this.execute, { admitHedge, leave: (left, gaveUp) => this.leave(left, gaveUp) });
    return ran.ok ? { ok: true as const, value: ran.value, target: ran.rt } : this.leaveWith(ran.rt, ran.thrown);
  }

  firstKind(): AttemptKind {
    return this.tried === 0 && this.state.hops === 0 ? 'initial' : 'fallback';
  }

  lastGaveUp(): TargetGaveUp | undefined {
    return this.gaveUp;
  }

  // -- the walk's own records

  /** Asks the target's limits for the call the walk is about to make: false (recorded as a `limited` skip) when at one. */
  private admitted(rt: TargetRuntime, permit: BreakerPermit): boolean | Promise<boolean> {
    const admission = admitLimited(rt, this.state);
    return admission instanceof Promise ? admission.then((settled) => this.recordAdmission(rt, permit, settled)) : this.recordAdmission(rt, permit, admission);
  }

  private recordAdmission(rt: TargetRuntime, permit: BreakerPermit, admission: true | LimitRefusal): boolean {
    if (admission === true) return true;
    // Skipped, not failed: no call, nothing charged to its breaker.
    permit.release();
    this.limited.push({ rt, retryInMs: admission.denial.retryInMs });
    this.state.lastFailure = this.lastTried = { ref: rt.ref, reason: 'limited', error: admission.error };
    this.gaveUp = undefined;
    return false;
  }

  /** The walk leaves `rt`: a result that ends the walk, or undefined to go on with the next target. */
  private leaveWith(rt: TargetRuntime, thrown: unknown): WalkResult<T> | undefined {
    if (!(thrown instanceof TargetGaveUp)) throw thrown;
    const { state } = this;
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
    state.lastFailure = this.lastTried = { ref: rt.ref, reason, error };
    this.gaveUp = thrown;
    return undefined;
  }
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
