import { randomUUID } from 'node:crypto';
import { defaultRecord, type ScriptReply, type SharedBreakerRecord, type SharedChainState, type SyncedBreaker } from '../state/sharedChainState.js';
import type { Clock } from '../time/clock.js';
import type { BreakerHandle } from './breakerHandle.js';
import {
  CircuitBreaker,
  announce,
  settleOnce,
  settlePermit,
  type BreakerPermit,
  type BreakerStats,
  type CircuitBreakerTransition,
  type PermitOutcome,
  type TransitionWitness,
} from './circuitBreaker.js';
import type { BreakerOverride, BreakerTransition, CircuitState } from '../events/breakerTransition.js';
import type { BreakerConfig } from './types.js';

/** What the shared record adds to the local breaker's state: the store's bookkeeping. */
type RecordMeta = Pick<SharedBreakerRecord, 'exists' | 'gen' | 'reason' | 'by' | 'at'>;

function effective(r: SharedBreakerRecord): CircuitState {
  return r.override === 'auto' ? r.state : r.override;
}

function metaOf(r: SharedBreakerRecord): RecordMeta {
  return { exists: r.exists, gen: r.gen, reason: r.reason, by: r.by, at: r.at };
}

/**
 * A circuit breaker shared by every process of a chain through the store, so that what one
 * process learns about a target every process acts on (DESIGN §5). It holds an in-memory
 * CircuitBreaker — the one state machine: states, thresholds, probe limits, overrides — and
 * adds what sharing needs, the way SharedRetryBudget wraps RetryBudget:
 *
 * - Local first. The local breaker admits (closed) and rejects (open, before `openMs`) without
 *   a store call, and counts this process's outcomes; a trip it decides goes to the store. The
 *   decisions that must be fleet-wide are the store's atomic scripts: tripping (open), the
 *   open → half-open step, handing out the `halfOpenProbes` probe slots (leases, so at most that
 *   many probes are out across every process), probe outcomes, and operator overrides. Their
 *   replies are restored into the local breaker.
 * - Other processes' transitions arrive with the background sync (every `syncIntervalMs`) or
 *   with the reply of any script this process runs.
 * - Counting: a transition is reported with `observed: false` only by the process whose script
 *   performed it (the script says so); every other process reports it with `observed: true`,
 *   which telemetry shows but does not add to `bulwark.circuit.transitions`. Operator overrides
 *   count in the process that received the operator's call.
 * - Store unreachable or slow: the local breaker decides at once, as without a store (each
 *   process then counts its own transitions), and it is reported as a store error. When the
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
  /** The state machine; its transitions are heard here, and reported once the store has spoken. */
  private readonly local: CircuitBreaker;
  private readonly heard: CircuitBreakerTransition[] = [];

  /** The shared record's bookkeeping as last seen (its state is the local breaker's). */
  private meta: RecordMeta = metaOf(defaultRecord());
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

  constructor(key: string, config: BreakerConfig, clock: Clock, onTransition: (t: BreakerTransition) => void, link: SharedChainState) {
    this.key = key;
    this.config = { ...config };
    this.clock = clock;
    this.onTransition = onTransition;
    this.link = link;
    // Probes admitted while the store is unreachable are leased here, as the fleet's are in Redis.
    this.local = new CircuitBreaker(key, config, clock, (t) => this.heard.push(t), { probeLeaseMs: link.probeLeaseMs, halfOpenOn: 'acquire' });
  }

  /** The effective state; an open breaker whose `openMs` elapsed reads half-open (its next caller makes it so). */
  get state(): CircuitState {
    return this.local.state;
  }

  get override(): BreakerOverride {
    return this.local.override;
  }

  get storeCalls(): number {
    return this.issued;
  }

  /** The shared record as this process knows it (health, tests). */
  get record(): Readonly<SharedBreakerRecord> {
    return this.rec;
  }

  stats(): BreakerStats {
    return this.local.stats();
  }

  /**
   * Operator control, here at once and fleet-wide: resolves true once the store has it, false
   * when it was unreachable (then it is written when the store answers again).
   */
  setOverride(override: BreakerOverride): Promise<boolean> {
    const before = this.rec;
    this.hear(() => this.local.setOverride(override)); // bad input throws here, before anything changed
    this.meta = { ...this.meta, reason: 'forced' };
    this.emit(effective(before), effective(this.rec), 'forced', false, undefined);
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
    const state = this.local.state;
    if (state === 'open') return undefined;
    if (state === 'closed') return this.wrap(this.local.tryAcquire());

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
        if (reply.decision === 'probe') return this.sharedProbe(reply.record.gen, lease);
        if (reply.decision === 'pass') return this.wrap(this.local.tryAcquire());
        return undefined;
      }
    } else if (!this.dirty) {
      this.link.reportUnavailable('breaker.acquire');
    }
    // Decided here: the local breaker takes the half-open step and leases its own probe slots.
    const before = this.rec;
    let permit: BreakerPermit | undefined;
    if (this.hear(() => (permit = this.local.tryAcquire())).length > 0) this.decidedLocally(before, undefined);
    return this.wrap(permit);
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

  /** The shared record as this process knows it: the store's bookkeeping and the local state. */
  private get rec(): SharedBreakerRecord {
    const { state, override, openedAt, successes } = this.local.snapshot();
    return { ...this.meta, state, override, openedAt: Math.floor(openedAt), successes };
  }

  /** A store call goes out: a sync read issued before it is older than its answer. */
  private begin(): void {
    this.busy++;
    this.issued++;
  }

  private now(): number {
    return Math.floor(this.clock.now());
  }

  /**
   * Runs `change` on the local breaker and returns the transitions it made, unannounced (this
   * class reports them, once it knows whether the store performed them); the record's reason
   * becomes the last one's.
   */
  private hear(change: () => void): CircuitBreakerTransition[] {
    this.heard.length = 0;
    change();
    const heard = this.heard.splice(0);
    const last = heard.at(-1);
    if (last) this.meta = { ...this.meta, reason: last.reason };
    return heard;
  }

  /**
   * A local permit (closed, or a probe admitted here while the store was unreachable) whose
   * outcome the local breaker counts; a trip it decides goes to the store.
   */
  private wrap(permit: BreakerPermit | undefined): BreakerPermit | undefined {
    if (!permit) return undefined;
    const generation = this.local.generation;
    return settleOnce(permit.isProbe, (outcome, witness) => {
      const before = this.rec;
      const current = generation === this.local.generation;
      const heard = this.hear(() => settlePermit(permit, outcome));
      const last = heard.at(-1);
      if (!last) return;
      // A probe of a local half-open period settles it locally; anything else trips.
      if (permit.isProbe && current) this.decidedLocally(before, witness);
      else this.trip(before, last.reason, outcome === 'immediate', witness);
    });
  }

  /** The local breaker opened: fleet-wide through the store (here it is open already). */
  private trip(before: SharedBreakerRecord, reason: string, immediate: boolean, attempt: TransitionWitness | undefined): void {
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

  /** A probe whose slot the store leased; the store counts its outcome for the fleet. */
  private sharedProbe(gen: number, lease: string): BreakerPermit {
    const local = this.local.admitProbe();
    return settleOnce(true, (outcome, attempt) => {
      const before = this.rec;
      // A failed probe stops this process's traffic at once; the store confirms for everyone.
      if (outcome === 'failure' || outcome === 'immediate') this.hear(() => settlePermit(local, outcome));
      if (!this.link.available()) {
        if (outcome !== 'release') this.link.reportUnavailable('breaker.record');
        this.probeLocally(before, local, outcome, attempt);
        return;
      }
      this.begin();
      void this.link.probeResult(this.key, this.now(), gen, lease, outcome, this.config.successThreshold).then((reply) => {
        this.busy--;
        if (reply) this.settleReply(before, reply, attempt);
        else this.probeLocally(before, local, outcome, attempt);
      });
    });
  }

  /** A shared probe's outcome when the store cannot take it: the local breaker decides. */
  private probeLocally(before: SharedBreakerRecord, local: BreakerPermit, outcome: PermitOutcome, attempt: TransitionWitness | undefined): void {
    if (outcome === 'release') return;
    if (outcome === 'success') this.hear(() => local.success());
    if (effective(this.rec) !== effective(before)) this.decidedLocally(before, attempt);
  }

  /** A change made here without the store: reported as this process's own, written back later. */
  private decidedLocally(before: SharedBreakerRecord, attempt: TransitionWitness | undefined): void {
    this.dirty = true;
    const now = this.rec;
    this.emit(effective(before), effective(now), now.reason, false, attempt);
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
    // A new closed period (recovered here or elsewhere) starts with fresh statistics.
    this.setLocal(next, next.state === 'closed' && (before.state !== 'closed' || next.gen !== before.gen));
    this.emit(from, effective(next), next.reason, !reply.changed, reply.changed ? attempt : undefined);
  }

  /** Takes the fleet's record as it is. */
  private adopt(record: SharedBreakerRecord): void {
    const before = this.rec;
    if (record.gen === before.gen && record.state === before.state && record.override === before.override && record.exists === before.exists) {
      this.setLocal(record);
      return;
    }
    this.setLocal(record, record.state === 'closed' && record.gen !== before.gen);
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

  /** Takes a record into the local breaker, quietly (the caller reports what changed). */
  private setLocal(next: SharedBreakerRecord, freshStatistics = false): void {
    const newPeriod = next.gen !== this.meta.gen;
    this.meta = metaOf(next);
    this.local.restore(next, { newPeriod, freshStatistics });
  }

  private emit(from: CircuitState, to: CircuitState, reason: string, observed: boolean, attempt: TransitionWitness | undefined): void {
    if (from === to) return;
    announce({ breaker: this.key, from, to, reason, at: this.clock.now(), ...(observed && { observed: true }) }, this.onTransition, attempt);
  }
}
