import type { BreakerPermit } from '../breaker/circuitBreaker.js';
import { HEDGE_BUDGET_WINDOW_MS } from '../config/defaults.js';
import type { HedgeConfig } from '../config/types.js';
import type { AttemptKind } from '../request/types.js';
import { RetryBudget, type RetryBudgetHandle } from '../retry/retryBudget.js';
import { SharedRetryBudget } from '../retry/sharedRetryBudget.js';
import type { SharedChainState } from '../state/sharedChainState.js';
import type { LatencyPercentiles } from '../health/latencyTracker.js';
import type { HedgeOutcome } from '../telemetry/names.js';
import type { Clock } from '../time/clock.js';
import { linkedAbort, type LinkedAbort } from './linkedAbort.js';
import { retryOnTarget, TargetGaveUp, type AttemptExecutor, type TargetRunOptions } from './retryOnTarget.js';
import type { TargetRuntime } from './targetRuntime.js';
import { RaceLost, WalkStopped, type WalkState } from './walkState.js';

/*
 * Hedged requests ("The Tail at Scale", Dean & Barroso): when a target has not answered (streams:
 * sent no first content chunk) after `hedge.after`, the same request starts on the next target
 * the walk would try, and the first success wins. Every other call of the race is then cancelled:
 * its upstream connection closes, its breaker permit is released (a cancel, never a failure),
 * and whatever usage it reported still counts in the request's cost.
 */

/** A target the walk admitted: breaker permit taken, ready for its first call. */
export interface Admitted {
  rt: TargetRuntime;
  permit: BreakerPermit;
  kind: AttemptKind;
  /** How a pool runs its member. */
  options?: TargetRunOptions;
}

/** How a race ended: the winner's value, or the target that gave up last and why. */
export type RaceResult<T> = { ok: true; value: T; rt: TargetRuntime } | { ok: false; rt: TargetRuntime; thrown: unknown };

/** What the race needs of the walk that runs it. */
export interface RaceWalk {
  /** Where the hedge goes, admitted: another member of the pool, or the next target (a hop); undefined when none may be tried. */
  admitHedge(): Promise<Admitted | undefined>;
  /** A racer gave up while others still run: the walk records why (last failure, refusals). */
  leave(rt: TargetRuntime, gaveUp: TargetGaveUp): void;
}

/**
 * The chain's hedging policy: when to hedge, and the budget that bounds hedges like the retry
 * budget bounds retries (hedges may add at most `budgetRatio` of the requests over the window; no
 * floor: at low traffic hedges wait for the requests that pay for them).
 */
export class Hedging {
  private readonly budget: RetryBudgetHandle;
  /** Per request: hedges started (maxHedges bounds the whole request, every position of its walk). */
  private readonly started = new WeakMap<WalkState, { hedges: number }>();

  /**
   * `shared`: with `sharedState`, the budget is fleet-wide like the retry budgets (SharedRetryBudget:
   * the fleet's requests and hedges, one atomic script per hedge, this process's own count when the
   * store is unreachable); `scope` names it ('chain', or 'pool:<name>' for a pool's own hedging).
   */
  constructor(
    readonly config: HedgeConfig,
    clock: Clock,
    shared?: { link: SharedChainState; scope: string },
  ) {
    const window = { ratio: config.budgetRatio, minRetriesPerSecond: 0, windowMs: HEDGE_BUDGET_WINDOW_MS };
    if (shared) {
      const { link, scope } = shared;
      const budget = new SharedRetryBudget(`hedge:${scope}`, window, clock, link, (now, add) => link.hedgeBudget(scope, window, now, add, true));
      link.registerHedgeBudget(scope, budget, window);
      this.budget = budget;
    } else {
      this.budget = new RetryBudget(window, clock);
    }
  }

  /**
   * How long to wait on `rt` before hedging; undefined when no percentile it may use has samples yet.
   * A pool member waits the quickest member's percentile: the members are interchangeable, and a
   * member slow on more than 5 % of its calls has its slow time as its own p95 — it would never be
   * hedged, and the answers it still gives slowly would keep it so. 'p95' waits at least twice that
   * member's p50 too: a hedge answers about a median call after it starts, so one sent earlier races a
   * call not yet twice as slow as usual, most often about to answer. With a tight latency spread
   * (p95 a little above p50, as once the latency strategy has routed off a stalling member) hedges
   * at p95 would spend the budget on calls that were not stalled, leaving none for those that are.
   */
  delayFor(rt: TargetRuntime, stream: boolean): number | undefined {
    const { after } = this.config;
    if (typeof after === 'number') return after;
    // Streams are hedged on their first chunk: the time to first chunk is what to compare with.
    const summary = (r: TargetRuntime) => (stream ? r.firstChunkLatency : r.latency).summary();
    if (!rt.pool) return summary(rt)?.[after];
    let quickest: LatencyPercentiles | undefined;
    for (const member of rt.pool.members) {
      const s = summary(member);
      if (s && (quickest === undefined || s[after] < quickest[after])) quickest = s;
    }
    // 'p50' asks for that: hedging about half the calls.
    return quickest && (after === 'p95' ? Math.max(quickest.p95, 2 * quickest.p50) : quickest[after]);
  }

  /** The request's hedge count, its request recorded in the budget once (a restarted stream walks again). */
  forRequest(state: WalkState): { hedges: number } {
    let run = this.started.get(state);
    if (!run) {
      run = { hedges: 0 };
      this.started.set(state, run);
      this.budget.recordRequest();
    }
    return run;
  }

  /**
   * Takes one hedge from the budget. Taken before the walk looks for a target: a hedge the walk
   * then finds no target for (breakers open) is still spent, which errs towards fewer hedges.
   */
  tryTake(): boolean | Promise<boolean> {
    return this.budget.tryWithdraw();
  }

  /** Hedges the budget allows now. */
  remaining(): number {
    return this.budget.remaining();
  }
}

/** The abort reason of a call another call of its request beat. */
function lostRace(): WalkStopped {
  return new RaceLost();
}

/**
 * The request's state as one racer sees it: its own `walk` signal (a child of the request's, so
 * the caller's cancel and the deadline still end it, and it can be cancelled alone), everything
 * else — attempts, cost, retries, hops — shared with the request.
 */
function racerState(state: WalkState, walk: LinkedAbort): WalkState {
  return new Proxy(state, { get: (target, key) => (key === 'walk' ? walk : Reflect.get(target, key)) });
}

interface Racer {
  rt: TargetRuntime;
  walk: LinkedAbort;
  hedge: boolean;
  settled: boolean;
  /** Settles when the racer's retry loop has ended, whichever way. */
  done: Promise<unknown>;
  /** Its own failure (not a cancel by the race or the walk). */
  failedAlone: boolean;
}

/**
 * Runs `first` on its target (with its retries) and, while no call has answered, starts hedges on
 * the next targets after the hedge delay, within `maxHedges` and the budget. Resolves with the
 * first success (every other racer cancelled and settled, so its cost is in the request's), or
 * with the failure that ended the race: the last racer's when all gave up, at once when one
 * gave up for good (a bad request, the walk stopped).
 */
export function raceWithHedges<T>(hedging: Hedging, first: Admitted, state: WalkState, execute: AttemptExecutor<T>, walk: RaceWalk): Promise<RaceResult<T>> {
  const { clock } = state.config;
  const run = hedging.forRequest(state);
  const racers: Racer[] = [];
  let decided = false;
  let cancelTimer: (() => void) | undefined;

  return new Promise<RaceResult<T>>((resolve) => {
    const report = (racer: Racer, outcome: HedgeOutcome) => {
      if (racer.hedge) state.observer.onHedge?.({ target: racer.rt.ref, outcome });
    };

    /** Ends the race: cancels the others, waits for them to settle (their cost counted), then resolves. */
    const decide = (result: RaceResult<T>, winner: Racer | undefined) => {
      decided = true;
      cancelTimer?.();
      const others = racers.filter((r) => r !== winner);
      for (const r of others) if (!r.settled) r.walk.abort(lostRace());
      for (const r of racers) {
        if (!r.hedge) continue;
        // Won or lost when an answer came; without one the race ended for the request (cancelled), unless this hedge had failed on its own.
        report(r, r === winner ? 'won' : winner || r.failedAlone ? 'lost' : 'cancelled');
      }
      void Promise.allSettled(others.map((r) => r.done)).then(() => {
        for (const r of others) r.walk.dispose();
        resolve(result);
      });
    };

    const onValue = (racer: Racer, value: T) => {
      racer.settled = true;
      if (decided) {
        // Answered after the race was decided: closed unread (a stream), its cost already counted.
        execute.discard?.(value, lostRace());
        return;
      }
      decide({ ok: true, value, rt: racer.rt }, racer);
    };

    const onFailure = (racer: Racer, thrown: unknown) => {
      racer.settled = true;
      if (decided) return;
      const running = racers.filter((r) => !r.settled);
      const stops = !(thrown instanceof TargetGaveUp) || thrown.stopWalk;
      if (stops || running.length === 0) {
        // Everything is over, or this failure ends the request: the others are of no use.
        if (!stops) racer.failedAlone = true;
        decide({ ok: false, rt: racer.rt, thrown }, undefined);
        return;
      }
      // Others still run: this target is left, and the race goes on without it.
      racer.failedAlone = true;
      walk.leave(racer.rt, thrown as TargetGaveUp);
    };

    const armHedge = (waitingOn: TargetRuntime) => {
      if (run.hedges >= hedging.config.maxHedges) return;
      const delay = hedging.delayFor(waitingOn, state.info.stream);
      if (delay === undefined) return;
      cancelTimer = clock.setTimer(() => void startHedge(), delay);
    };

    const startHedge = async () => {
      if (decided || state.walk.aborted || run.hedges >= hedging.config.maxHedges) return;
      if (!(await hedging.tryTake())) return; // budget exhausted: no hedge, the race goes on as it is
      if (decided || state.walk.aborted) return;
      const next = await walk.admitHedge();
      if (!next) return;
      if (decided) {
        next.permit.release();
        return;
      }
      run.hedges += 1;
      start(next, true);
    };

    const start = (admitted: Admitted, hedge: boolean) => {
      const child = linkedAbort(clock, state.walk);
      const racer: Racer = { rt: admitted.rt, walk: child, hedge, settled: false, done: Promise.resolve(), failedAlone: false };
      racers.push(racer);
      racer.done = retryOnTarget(admitted.rt, racerState(state, child), admitted.permit, hedge ? 'hedge' : admitted.kind, execute, admitted.options).then(
        (value) => onValue(racer, value),
        (thrown: unknown) => onFailure(racer, thrown),
      );
      armHedge(admitted.rt);
    };

    start(first, false);
  });
}
