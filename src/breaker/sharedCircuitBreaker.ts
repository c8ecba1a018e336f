import { randomUUID } from 'node:crypto';
import { defaultRecord, type ScriptReply, type SharedBreakerRecord, type SharedChainState, type SyncedBreaker } from '../state/sharedChainState.js';
import type { Clock } from '../time/clock.js';
import type { BreakerHandle } from './breakerHandle.js';
import { announce, settleOnce, type BreakerPermit, type BreakerStats, type PermitOutcome, type TransitionWitness } from './circuitBreaker.js';
import type { ConsecutiveFailures } from './consecutiveFailures.js';
import type { FailureRate } from './failureRate.js';
import { ProbeLeases } from './probeLeases.js';
import { countOutcome, tripStrategies } from './tripStrategies.js';
import type { BreakerStrategy, TripReason } from './strategy.js';
import { BREAKER_OVERRIDES, type BreakerOverride, type BreakerTransition, type CircuitState } from '../events/breakerTransition.js';
import type { BreakerConfig } from './types.js';

type Outcome = PermitOutcome;

interface Ticket {
  readonly isProbe: boolean;
  /** Local epoch the permit was issued in; outcomes from an older one are stale. */
  readonly epoch: number;
  /** Shared probes: the half-open period (gen) and the lease holding the fleet-wide slot. */
  readonly gen?: number;
  readonly lease?: string;
  /** Local probes (store unreachable): the lease holding this process's slot. */
  readonly localLease?: number;
}

const OVERRIDES: readonly BreakerOverride[] = BREAKER_OVERRIDES;

function effective(r: SharedBreakerRecord): CircuitState {
  return r.override === 'auto' ? r.state : r.override;
}

/**
 * A circuit breaker whose state machine lives in the shared store, so that what one process
 * learns about a target every process acts on (DESIGN §5). Same states, thresholds and rules
 * as the in-memory CircuitBreaker; the differences are where decisions are made:
 *
 * - Local first. Closed admits and open (before `openMs`) rejects without a store call; the
 *   failure statistics that trip the breaker are this process's own. Only the decisions that
 *   must be fleet-wide go to the store, as atomic scripts: tripping (open), the open → half-open
 *   step, handing out the `halfOpenProbes` probe slots (leases, so at most that many probes are
 *   out across every process), probe outcomes, and operator overrides.
 * - Other processes' transitions arrive with the background sync (every `syncIntervalMs`) or
 *   with the reply of any script this process runs.
 * - Counting: a transition is reported with `observed: false` only by the process whose script
 *   performed it (the script says so); every other process reports it with `observed: true`,
 *   which telemetry shows but does not add to `bulwark.circuit.transitions`. Operator overrides
 *   count in the process that received the operator's call.
 * - Store unreachable or slow: decisions are taken locally at once, as by the in-memory breaker
 *   (each process then counts its own transitions), and reported as store errors. When the
 *   store answers again, what changed locally is written back unless another process changed
 *   the shared record meanwhile (then the fleet's record wins); a record lost in a Redis
 *   restart is rebuilt from the processes' local state.
 */
export class SharedCircuitBreaker implements BreakerHandle, SyncedBreaker {
  readonly key: string;
  private readonly config: BreakerConfig;
  private readonly clock: Clock;
  private readonly onTransition: (t: BreakerTransition) => void;
  private readonly link: SharedChainState;
  private readonly consecutive: ConsecutiveFailures;
  private readonly rate: FailureRate;
  private readonly strategies: readonly BreakerStrategy[];

  /** The shared record as last seen, plus local changes not confirmed yet. */
  private rec: SharedBreakerRecord = defaultRecord();
  private epoch = 0;
  /** Store calls in flight that will bring a newer record than a sync could. */
  private busy = 0;
  /** Store calls issued so far (SyncedBreaker.storeCalls). */
  private issued = 0;
  /** Local changes the store has not seen (it was unreachable when they happened). */
  private dirty = false;
  /**
   * An operator override the store has not taken yet (it was unreachable), with the override
   * the shared record had before it. Written back even if the fleet's automatic state moved
   * meanwhile — the operator's decision is the newer one — unless another override was given.
   */
  private pendingOverride: { base: BreakerOverride } | undefined;
  /** Probes admitted locally while the store was unreachable (leased, as the fleet's are in Redis). */
  private readonly localProbes: ProbeLeases;

  constructor(key: string, config: BreakerConfig, clock: Clock, onTransition: (t: BreakerTransition) => void, link: SharedChainState) {
    const { consecutive, rate, all } = tripStrategies(config);
    this.key = key;
    this.config = { ...config };
    this.clock = clock;
    this.onTransition = onTransition;
    this.link = link;
    this.consecutive = consecutive;
    this.rate = rate;
    this.strategies = all;
    this.localProbes = new ProbeLeases(link.probeLeaseMs);
  }

  /** The effective state; an open breaker whose `openMs` elapsed reads half-open (its next caller makes it so). */
  get state(): CircuitState {
    const r = this.rec;
    if (r.override !== 'auto') return r.override;
    if (r.state === 'open' && this.clock.now() >= r.openedAt + this.config.openMs) return 'half_open';
    return r.state;
  }

  get override(): BreakerOverride {
    return this.rec.override;
  }

  get storeCalls(): number {
    return this.issued;
  }

  /** The shared record as this process knows it (health, tests). */
  get record(): Readonly<SharedBreakerRecord> {
    return { ...this.rec };
  }

  stats(): BreakerStats {
    const now = this.clock.now();
    const { failureRate, windowCalls } = this.rate.stats(now);
    return { consecutiveFailures: this.consecutive.stats(now).consecutiveFailures, failureRate, windowCalls };
  }

  /**
   * Operator control, here at once and fleet-wide: resolves true once the store has it, false
   * when it was unreachable (then it is written when the store answers again).
   */
  setOverride(override: BreakerOverride): Promise<boolean> {
    if (!OVERRIDES.includes(override)) throw new TypeError(`breaker override must be one of ${OVERRIDES.join(', ')}, got ${String(override)}`);
    const before = this.rec;
    const next: SharedBreakerRecord = { ...before, override, reason: 'forced' };
    if (override === 'auto') {
      next.state = 'closed';
      next.successes = 0;
      this.localProbes.clear();
    }
    this.setLocal(next);
    this.emit(effective(before), effective(next), 'forced', false, undefined);
    const pending = { base: this.pendingOverride?.base ?? before.override };
    if (!this.link.available()) {
      this.dirty = true;
      this.pendingOverride = pending;
      this.link.reportUnavailable('breaker.override');
      return Promise.resolve(false);
    }
    this.begin();
    return this.link.override(this.key, override, this.now()).then((reply) => {
      this.busy--;
      if (!reply) {
        this.dirty = true;
        this.pendingOverride = pending;
        return false;
      }
      this.pendingOverride = undefined;
      // Already reported as this process's transition; take the record quietly.
      this.setLocal(reply.record);
      return true;
    });
  }

  /** A permit for one call, or undefined when the breaker rejects it. */
  async tryAcquire(): Promise<BreakerPermit | undefined> {
    // A process that just started asks the fleet first (bounded by the store timeout).
    if (!this.link.synced) await this.link.firstSync;
    const now = this.clock.now();
    const r = this.rec;
    if (r.override === 'open') return undefined;
    if (r.override === 'closed' || r.state === 'closed') return this.permit({ isProbe: false, epoch: this.epoch });
    if (r.state === 'open' && now < r.openedAt + this.config.openMs) return undefined;

    // Half-open, or due to be: probe slots are counted fleet-wide, by the store.
    if (!this.dirty && this.link.available()) {
      const lease = randomUUID();
      this.begin();
      let reply: ScriptReply | undefined;
      try {
        reply = await this.link.acquire(this.key, this.now(), lease, this.config.openMs, this.config.halfOpenProbes);
      } finally {
        this.busy--;
      }
      if (reply) {
        this.settleReply(this.rec, reply, undefined);
        if (reply.decision === 'probe') return this.permit({ isProbe: true, epoch: this.epoch, gen: reply.record.gen, lease });
        if (reply.decision === 'pass') return this.permit({ isProbe: false, epoch: this.epoch });
        return undefined;
      }
    } else if (!this.dirty) {
      this.link.reportUnavailable('breaker.acquire');
    }
    return this.acquireLocally();
  }

  /** The background sync brought the shared record. */
  applySynced(record: SharedBreakerRecord): void {
    if (this.busy > 0) return; // a script in flight brings a fresher one
    const mine = this.rec;
    const nonDefault = mine.state !== 'closed' || mine.override !== 'auto';
    // Changed here while the store was unreachable, or lost by the store (a Redis restart
    // without persistence): put it back.
    if (this.dirty || (!record.exists && mine.exists && nonDefault)) {
      this.writeBack(record);
      return;
    }
    this.adopt(record);
  }

  // ------------------------------------------------------------------------------ internals

  /** A store call goes out: a sync read issued before it is older than its answer. */
  private begin(): void {
    this.busy++;
    this.issued++;
  }

  private now(): number {
    return Math.floor(this.clock.now());
  }

  private permit(ticket: Ticket): BreakerPermit {
    return settleOnce(ticket.isProbe, (outcome, witness) => this.settle(ticket, outcome, witness));
  }

  private settle(ticket: Ticket, outcome: Outcome, witness: TransitionWitness | undefined): void {
    const now = this.clock.now();
    // Transitions this outcome causes belong on the attempt span that is being settled, even
    // when the store's answer arrives a moment later.
    const attempt = witness;
    if (ticket.isProbe) {
      if (ticket.lease === undefined) this.settleLocalProbe(ticket, outcome, attempt);
      else this.settleSharedProbe(ticket, outcome, attempt);
      return;
    }
    if (outcome === 'release') return;
    const r = this.rec;
    if (r.override === 'closed') {
      // Forced closed: keep counting so health tells the truth, but trip nothing.
      countOutcome(this.strategies, outcome === 'success' ? 'success' : 'failure', now);
      return;
    }
    if (ticket.epoch !== this.epoch || r.override !== 'auto' || r.state !== 'closed') {
      if (outcome === 'immediate') this.trip('immediate', true, attempt);
      return;
    }
    const tripped = countOutcome(this.strategies, outcome === 'success' ? 'success' : 'failure', now);
    if (outcome === 'success') return;
    if (outcome === 'immediate') this.trip('immediate', true, attempt);
    else if (tripped !== undefined) this.trip(tripped, false, attempt);
  }

  /** Opens the breaker here at once, and fleet-wide through the store. */
  private trip(reason: string, immediate: boolean, attempt: TransitionWitness | undefined): void {
    const before = this.rec;
    if (before.override !== 'auto' || before.state === 'open') return;
    if (!immediate && before.state !== 'closed') return;
    this.setLocal({ ...before, state: 'open', openedAt: this.now(), reason, successes: 0 });
    if (this.dirty || !this.link.available()) {
      this.decidedLocally(before, attempt);
      return;
    }
    this.begin();
    void this.link.trip(this.key, this.now(), before.gen, reason, immediate).then((reply) => {
      this.busy--;
      if (reply) this.settleReply(before, reply, attempt);
      else this.decidedLocally(before, attempt);
    });
  }

  private settleSharedProbe(ticket: Ticket, outcome: Outcome, attempt: TransitionWitness | undefined): void {
    const before = this.rec;
    const lease = ticket.lease as string;
    const gen = ticket.gen ?? -1;
    const inPeriod = before.override === 'auto' && before.state === 'half_open' && before.gen === gen;
    // A failed probe stops this process's traffic at once; the store confirms for everyone.
    if ((outcome === 'failure' && inPeriod) || (outcome === 'immediate' && before.override === 'auto' && before.state !== 'open')) {
      this.setLocal({ ...before, state: 'open', openedAt: this.now(), reason: outcome === 'immediate' ? 'immediate' : 'probe_failed', successes: 0 });
    }
    if (!this.link.available()) {
      if (outcome !== 'release') this.link.reportUnavailable('breaker.record');
      this.probeLocally(before, outcome, inPeriod, attempt);
      return;
    }
    this.begin();
    void this.link.probeResult(this.key, this.now(), gen, lease, outcome, this.config.successThreshold).then((reply) => {
      this.busy--;
      if (reply) this.settleReply(before, reply, attempt);
      else this.probeLocally(before, outcome, inPeriod, attempt);
    });
  }

  /** One more probe success: closes the breaker once `successThreshold` is reached (returns whether it did). */
  private probeSucceeded(before: SharedBreakerRecord): boolean {
    const successes = before.successes + 1;
    if (successes < this.config.successThreshold) {
      this.rec = { ...before, successes };
      return false;
    }
    for (const s of this.strategies) s.reset();
    this.setLocal({ ...before, state: 'closed', reason: 'probes_succeeded', successes: 0 });
    return true;
  }

  /** A shared probe's outcome when the store cannot take it: decide as the in-memory breaker would. */
  private probeLocally(before: SharedBreakerRecord, outcome: Outcome, inPeriod: boolean, attempt: TransitionWitness | undefined): void {
    if (outcome === 'release') return;
    if (outcome === 'success') {
      if (!inPeriod || this.rec !== before) return;
      if (!this.probeSucceeded(before)) return;
    }
    if (effective(this.rec) !== effective(before)) this.decidedLocally(before, attempt);
  }

  private settleLocalProbe(ticket: Ticket, outcome: Outcome, attempt: TransitionWitness | undefined): void {
    const before = this.rec;
    if (ticket.epoch !== this.epoch) {
      if (outcome === 'immediate') this.trip('immediate', true, attempt);
      return;
    }
    this.localProbes.release(ticket.localLease as number);
    if (outcome === 'release') return;
    if (outcome === 'success') {
      if (!this.probeSucceeded(before)) return;
    } else {
      this.setLocal({ ...before, state: 'open', openedAt: this.now(), reason: outcome === 'immediate' ? 'immediate' : 'probe_failed', successes: 0 });
    }
    this.decidedLocally(before, attempt);
  }

  /** Half-open admission when the store is unreachable: this process's own probe limit. */
  private acquireLocally(): BreakerPermit | undefined {
    const r = this.rec;
    if (r.state === 'open' && r.override === 'auto') {
      if (this.clock.now() < r.openedAt + this.config.openMs) return undefined;
      this.setLocal({ ...r, state: 'half_open', reason: 'open_elapsed', successes: 0 });
      this.decidedLocally(r, undefined);
    }
    const now = this.rec;
    if (now.state === 'closed') return this.permit({ isProbe: false, epoch: this.epoch });
    if (now.state !== 'half_open') return undefined;
    const localLease = this.localProbes.take(this.clock.now(), this.config.halfOpenProbes);
    if (localLease === undefined) return undefined;
    return this.permit({ isProbe: true, epoch: this.epoch, localLease });
  }

  /** A change made here without the store: reported as this process's own, written back later. */
  private decidedLocally(before: SharedBreakerRecord, attempt: TransitionWitness | undefined): void {
    this.dirty = true;
    this.emit(effective(before), effective(this.rec), this.rec.reason, false, attempt);
  }

  /** A script answered: take its record; report what changed, as performed here or observed. */
  private settleReply(before: SharedBreakerRecord, reply: ScriptReply, attempt: TransitionWitness | undefined): void {
    let from = effective(before);
    const next = reply.record;
    if (reply.changed && reply.from !== undefined && reply.from !== from) {
      // Someone else moved it first (we had not heard yet): theirs, then ours.
      this.emit(from, reply.from, 'shared', true, undefined);
      from = reply.from;
    }
    this.setLocal(next);
    // A new closed period (recovered here or elsewhere) starts with fresh statistics.
    if (next.state === 'closed' && (before.state !== 'closed' || next.gen !== before.gen)) for (const s of this.strategies) s.reset();
    this.emit(from, effective(next), next.reason, !reply.changed, reply.changed ? attempt : undefined);
  }

  /** Takes the fleet's record as it is. */
  private adopt(record: SharedBreakerRecord): void {
    const before = this.rec;
    if (record.gen === before.gen && record.state === before.state && record.override === before.override && record.exists === before.exists) {
      this.rec = { ...record };
      return;
    }
    this.setLocal(record);
    if (record.state === 'closed' && record.gen !== before.gen) for (const s of this.strategies) s.reset();
    this.emit(effective(before), effective(record), record.reason, true, undefined);
  }

  /** Puts back what changed here while the store could not hear it, unless the fleet moved on. */
  private writeBack(stored: SharedBreakerRecord): void {
    const mine = this.rec;
    // An operator's override given here wins over automatic changes made elsewhere meanwhile,
    // not over another override (nor when it was withdrawn again before the store heard of it).
    const base = this.pendingOverride?.base;
    const overrideStands = base !== undefined && mine.override !== base && stored.exists && stored.override === base;
    if (stored.exists && stored.gen !== mine.gen && !overrideStands) {
      // Another process changed the shared record meanwhile: the fleet's newer record wins.
      this.dirty = false;
      this.pendingOverride = undefined;
      this.adopt(stored);
      return;
    }
    this.begin();
    void this.link.restore(this.key, stored.exists ? stored.gen : -1, mine, this.now(), overrideStands ? base : undefined).then((reply) => {
      this.busy--;
      if (!reply) return; // still unreachable: stay dirty, try again at the next sync
      this.dirty = false;
      this.pendingOverride = undefined;
      // Changed: our own state, now shared, already reported when it happened here.
      if (reply.changed) this.setLocal(reply.record);
      else this.adopt(reply.record);
    });
  }

  private setLocal(next: SharedBreakerRecord): void {
    const before = this.rec;
    if (next.state !== before.state || next.override !== before.override || next.gen !== before.gen) this.epoch++;
    if (next.state === 'half_open' && before.state !== 'half_open') this.localProbes.clear();
    this.rec = { ...next };
  }

  private emit(from: CircuitState, to: CircuitState, reason: string, observed: boolean, attempt: TransitionWitness | undefined): void {
    if (from === to) return;
    announce({ breaker: this.key, from, to, reason, at: this.clock.now(), ...(observed && { observed: true }) }, this.onTransition, attempt);
  }
}
