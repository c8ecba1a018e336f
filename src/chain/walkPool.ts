import type { BreakerPermit } from '../breaker/circuitBreaker.js';
import { estimateTokens } from '../validation/validateRequest.js';
import { costOf } from '../cost/computeCost.js';
import { pickMember, type MemberView } from '../pool/selectMember.js';
import type { AttemptKind } from '../request/types.js';
import type { TargetGaveUp, TargetRunOptions } from './retryOnTarget.js';
import type { Admitted, Hedging } from './hedge.js';
import type { PoolRuntime, TargetRuntime } from './targetRuntime.js';
import type { WalkResult } from './walkChain.js';
import type { WalkState } from './walkState.js';

/** What the walk does for any position, handed to the pool so both walk the same way. */
export interface PositionSteps<T> {
  /** The walk was stopped (deadline, cancel, walk-away): its result. */
  stopped(): WalkResult<T> | undefined;
  /** Why the target cannot help this request (refused already, window too small), or undefined. */
  skip(rt: TargetRuntime): string | undefined;
  /** Entering the position after a failure is a hop: 'break' past maxHops, a result when the walk ends here. */
  hopTo(rt: TargetRuntime): WalkResult<T> | 'break' | undefined;
  /** The target cannot take the request's input (recorded as such). */
  cannotTake(rt: TargetRuntime): boolean;
  /** Its breaker refused the call (recorded as such). */
  rejected(rt: TargetRuntime): void;
  /** Runs the target: its answer, the walk's end, or undefined when it gave up (recorded as such). */
  run(rt: TargetRuntime, permit: BreakerPermit, kind: AttemptKind, options: TargetRunOptions): Promise<WalkResult<T> | undefined>;
  /**
   * With hedging: runs `first` and, while it is slow, hedges on what `admitHedge` admits (another
   * member of the pool). Same results as `run`; every racer that gave up is recorded as such.
   * `hedging`: the pool's own (default: the chain's).
   */
  /** The chain hedges (`hedge` on the chain). */
  hedges: boolean;
  runHedged?(first: Admitted, admitHedge: () => Promise<Admitted | undefined>, hedging?: Hedging): Promise<WalkResult<T> | undefined>;
  /** Kind of the first attempt at a position. */
  firstKind(): AttemptKind;
  /** Why the last target run gave up. */
  lastGaveUp(): TargetGaveUp | undefined;
}

/**
 * Whether a member may take an attempt now, besides its breaker. Limits do not turn members away
 * here: the walk's admission (`steps.run`) counts the call and records a refusal as `limited` (so a
 * request that finds every member limited can wait for capacity); `byHeadroom` orders them.
 */
export function memberAvailable(rt: TargetRuntime, state: WalkState): boolean {
  void rt;
  void state;
  return true;
}

const HEADROOM_RANK = { available: 0, low: 1, limited: 2 } as const;

/**
 * The members the strategy picks among: those with headroom; failing that, those whose provider
 * reported little left (`low`); failing that, those at a limit (their admission will say).
 */
function byHeadroom(candidates: TargetRuntime[]): TargetRuntime[] {
  if (candidates.length < 2) return candidates;
  const ranks = candidates.map((rt) => HEADROOM_RANK[rt.slot.limiter.availability()]);
  const best = Math.min(...ranks);
  return candidates.filter((_, i) => ranks[i] === best);
}

type Candidate = MemberView & { rt: TargetRuntime };

/** What the pool's strategy needs to know of a member, for this request. */
function viewOf(pool: PoolRuntime, rt: TargetRuntime, state: WalkState, since: number): Candidate {
  const view: Candidate = { rt, weight: rt.weight, inFlight: rt.inFlight };
  const { strategy } = pool.config;
  if (strategy === 'latency') view.latencyScoreMs = latencyScore(pool, rt, since);
  if (strategy === 'cost' && rt.price) {
    const input = estimateTokens(state.request);
    // Output priced at what the request allows, or (no maxTokens) as many tokens as its input.
    view.costUsd = costOf({ inputTokens: input, outputTokens: state.request.maxTokens ?? input }, rt.price);
  }
  return view;
}

/**
 * The latency strategy's score of a member: the pool's percentile of its response times since
 * `since` (timed-out and outrun attempts included, at the time they had waited), undefined while
 * it has fewer than `minSamples` of them.
 */
export function latencyScore(pool: PoolRuntime, rt: TargetRuntime, since: number): number | undefined {
  const { percentile, minSamples } = pool.config.latency;
  return rt.responseLatency.percentile(percentile, since, minSamples);
}

/**
 * One pool position. The strategy picks among the members still available to this request —
 * breaker not open, not turned away by `memberAvailable`, not failed for it yet — and the pick
 * runs like a target. A retryable failure moves to another member at once (kind 'retry', no
 * backoff); only the last member left backs off and retries on itself. The walk goes on to the
 * next position when every member is open, unavailable or has failed this request.
 */
export async function walkPool<T>(pool: PoolRuntime, members: readonly TargetRuntime[], state: WalkState, steps: PositionSteps<T>): Promise<WalkResult<T> | 'break' | undefined> {
  const { clock } = state.config;
  const { strategy, latency, random } = pool.config;
  /** Members this request is done with: failed, refused by their breaker, unable to help. */
  const out = new Set<TargetRuntime>(members.filter((rt) => steps.skip(rt) !== undefined));
  const available = (rt: TargetRuntime) => !out.has(rt) && rt.slot.breaker.state !== 'open' && memberAvailable(rt, state);
  let entered = false;
  /** Attempts this request made at this position: the next member's first one is a resend. */
  let attemptsHere = 0;
  /** The failed attempt whose retry goes to the next member picked. */
  let retryOf: TargetGaveUp | undefined;
  for (;;) {
    const stopped = steps.stopped();
    if (stopped) return stopped;
    const candidates = byHeadroom(members.filter(available));
    if (candidates.length === 0) break;
    const since = clock.now() - latency.windowMs;
    const { rt } = pickMember(strategy, candidates.map((m) => viewOf(pool, m, state, since)), { random, tolerance: latency.tolerance });
    if (!entered) {
      entered = true;
      const hop = steps.hopTo(rt);
      if (hop) return hop;
    }
    if (steps.cannotTake(rt)) {
      out.add(rt);
      continue;
    }
    // Counted in flight from the pick: concurrent requests choosing now see it (least-busy).
    rt.inFlight += 1;
    state.reserved = rt;
    const unreserve = () => {
      if (state.reserved !== rt) return;
      state.reserved = undefined;
      rt.inFlight -= 1;
    };
    let permit: BreakerPermit | undefined;
    try {
      permit = await rt.slot.breaker.tryAcquire();
    } finally {
      if (!permit) unreserve();
    }
    if (!permit) {
      steps.rejected(rt);
      out.add(rt);
      continue;
    }
    if (retryOf?.attempt) state.observer.onRetryScheduled?.({ attempt: retryOf.attempt, delayMs: 0, reason: retryOf.reason });
    retryOf = undefined;
    const before = state.attempts.length;
    let ended: WalkResult<T> | undefined;
    /** Members racing for this request (hedging): the pick, and the hedges it got. */
    const racing = new Set<TargetRuntime>([rt]);
    const options = (member: TargetRuntime): TargetRunOptions => ({
      resendBase: attemptsHere,
      preferOther: () => members.some((m) => m !== member && !racing.has(m) && available(m)),
    });
    /** A hedge goes to another member still available, picked by the strategy; never a hop. */
    const admitMember = async (): Promise<Admitted | undefined> => {
      const member = await pickForHedge(pool, () => members.filter((m) => !racing.has(m) && available(m)), state, steps, (m) => out.add(m));
      if (!member) return undefined;
      racing.add(member.rt);
      return { ...member, kind: 'hedge', options: options(member.rt) };
    };
    const kind = attemptsHere === 0 ? steps.firstKind() : 'retry';
    try {
      // The pool's own hedging wins over the chain's at this position.
      ended =
        steps.runHedged && (pool.hedging || steps.hedges)
          ? await steps.runHedged({ rt, permit, kind, options: options(rt) }, admitMember, pool.hedging)
          : await steps.run(rt, permit, kind, options(rt));
    } finally {
      unreserve();
    }
    if (ended) return ended;
    attemptsHere += state.attempts.length - before;
    for (const member of racing) out.add(member);
    retryOf = steps.lastGaveUp();
  }
  // Members never picked because their breaker is open: refused, as a target's would be.
  const open = members.filter((rt) => !out.has(rt) && rt.slot.breaker.state === 'open');
  if (open.length > 0 && !entered) {
    const hop = steps.hopTo(open[0]!);
    if (hop) return hop;
  }
  for (const rt of open) steps.rejected(rt);
  return undefined;
}

/**
 * A member of `pool` for a hedge: picked by the pool's strategy among `eligible()` (those with
 * headroom first), its breaker permit taken. A member that cannot take the input or whose breaker
 * refuses is handed to `passOver` (so `eligible` leaves it out) and the next is picked; undefined
 * when none is left or the walk was stopped. Used by the pool's own hedges and by a hedge the
 * chain sends into a pool position.
 */
export async function pickForHedge<T>(
  pool: PoolRuntime,
  eligible: () => TargetRuntime[],
  state: WalkState,
  steps: Pick<PositionSteps<T>, 'stopped' | 'cannotTake' | 'rejected'>,
  passOver: (rt: TargetRuntime) => void,
): Promise<{ rt: TargetRuntime; permit: BreakerPermit } | undefined> {
  const { strategy, latency, random } = pool.config;
  for (;;) {
    if (steps.stopped()) return undefined;
    const candidates = byHeadroom(eligible());
    if (candidates.length === 0) return undefined;
    const since = state.config.clock.now() - latency.windowMs;
    const { rt } = pickMember(strategy, candidates.map((m) => viewOf(pool, m, state, since)), { random, tolerance: latency.tolerance });
    if (steps.cannotTake(rt)) {
      passOver(rt);
      continue;
    }
    const permit = await rt.slot.breaker.tryAcquire();
    if (!permit) {
      steps.rejected(rt);
      passOver(rt);
      continue;
    }
    return { rt, permit };
  }
}
