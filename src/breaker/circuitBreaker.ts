import type { Clock } from '../time/clock.js';
import type { ConsecutiveFailures } from './consecutiveFailures.js';
import type { FailureRate } from './failureRate.js';
import { ProbeLeases } from './probeLeases.js';
import { countOutcome, tripStrategies } from './tripStrategies.js';
import type { BreakerStrategy } from './strategy.js';
import type { AttemptObserver } from '../events/engineObserver.js';
import { BREAKER_OVERRIDES, type BreakerOverride, type BreakerTransition, type CircuitState } from '../events/breakerTransition.js';
import { DEFAULT_PROBE_LEASE_MS, type BreakerConfig } from './types.js';

/**
 * Why the breaker changed state (`BreakerTransition.reason`): the strategies' trip reasons
 * (a TripReason missing here does not compile where a trip becomes a transition), then the rest.
 */
export const TRANSITION_REASONS = ['consecutive_failures', 'failure_rate', 'immediate', 'open_elapsed', 'probe_failed', 'probes_succeeded', 'forced'] as const;
export type TransitionReason = (typeof TRANSITION_REASONS)[number];

/** A `BreakerTransition` whose reason is one of ours. */
export interface CircuitBreakerTransition extends BreakerTransition {
  reason: TransitionReason;
}

/**
 * Who hears of the transitions a permit's outcome causes, besides every observer: the attempt
 * that held the permit (its span records them). Passed with the outcome — the breaker keeps no
 * notion of a "current" attempt.
 */
export type TransitionWitness = Pick<AttemptObserver, 'onBreakerTransition'>;

/**
 * Permission for one call through the breaker. Settle it exactly once with the outcome;
 * later calls are ignored. `witness` hears of the transitions this outcome causes.
 */
export interface BreakerPermit {
  /** True when the breaker is half-open and this call is one of its limited probes. */
  readonly isProbe: boolean;
  success(witness?: TransitionWitness): void;
  /**
   * The target failed. `immediate` opens the breaker at once whatever the counts say: for
   * failures that retrying will not fix (authentication, permission, model not found).
   */
  failure(options?: { immediate?: boolean }, witness?: TransitionWitness): void;
  /**
   * Neutral: the outcome says nothing about the target's health (the request's own fault, or
   * cancelled). Counts for nothing and frees a probe slot.
   */
  release(witness?: TransitionWitness): void;
}

export interface BreakerStats {
  consecutiveFailures: number;
  /** Failure ratio over the breaker window (0..1). */
  failureRate: number;
  /** Calls the failure ratio is computed over. */
  windowCalls: number;
}

const OVERRIDES: readonly BreakerOverride[] = BREAKER_OVERRIDES;

/** How a permit was settled. */
export type PermitOutcome = 'success' | 'failure' | 'immediate' | 'release';
type Outcome = PermitOutcome;

/** A permit whose first settlement wins; later calls are ignored. */
export function settleOnce(isProbe: boolean, settle: (outcome: PermitOutcome, witness: TransitionWitness | undefined) => void): BreakerPermit {
  return new OncePermit(isProbe, settle);
}

/** settleOnce's permit: one object whose methods are on its prototype (a permit is taken per attempt). */
class OncePermit implements BreakerPermit {
  private settled = false;
  constructor(
    readonly isProbe: boolean,
    private readonly settle: (outcome: PermitOutcome, witness: TransitionWitness | undefined) => void,
  ) {}

  success(witness?: TransitionWitness): void {
    this.once('success', witness);
  }

  failure(options?: { immediate?: boolean }, witness?: TransitionWitness): void {
    this.once(options?.immediate === true ? 'immediate' : 'failure', witness);
  }

  release(witness?: TransitionWitness): void {
    this.once('release', witness);
  }

  private once(outcome: PermitOutcome, witness: TransitionWitness | undefined): void {
    if (this.settled) return;
    this.settled = true;
    this.settle(outcome, witness);
  }
}

/**
 * Reports a transition to every observer (`onTransition`), then to the witness of the outcome
 * that caused it. An observer's exception is swallowed: a bug there must never wedge a breaker.
 */
export function announce<T extends BreakerTransition>(transition: T, onTransition: (t: T) => void, witness: TransitionWitness | undefined): void {
  try {
    onTransition(transition);
  } catch {
    // An observer's bug must not break the breaker.
  }
  try {
    witness?.onBreakerTransition?.(transition);
  } catch {
    // Nor an attempt observer's.
  }
}

interface PermitTicket {
  readonly isProbe: boolean;
  /** The breaker generation the permit was issued in; outcomes from an older one are stale. */
  readonly generation: number;
  /** A probe's slot. */
  readonly lease?: number;
}

export interface CircuitBreakerOptions {
  /**
   * Longest a probe holds its half-open slot: a probe permit nobody settles frees it then.
   * Default: DEFAULT_PROBE_LEASE_MS (the default attempt timeout).
   */
  probeLeaseMs?: number;
  /**
   * Who takes the open → half-open step once `openMs` elapsed. 'look' (the default): anyone
   * looking at the breaker (its state, a settled permit). 'acquire': only a caller asking for a
   * permit — for a shared breaker, whose store takes that step for the whole fleet; until
   * someone asks, the state reads half-open but nothing changed.
   */
  halfOpenOn?: 'look' | 'acquire';
}

/**
 * A breaker's state as a value: what a shared breaker's store keeps of it (the record adds the
 * store's own bookkeeping: generation, who changed it, when).
 */
export interface BreakerSnapshot {
  /** The automatic state (what it is when the override is 'auto'). */
  readonly state: CircuitState;
  readonly override: BreakerOverride;
  readonly openedAt: number;
  /** Probe successes counted in the current half-open period. */
  readonly successes: number;
}

/** Settles a permit with an outcome given as a value. */
export function settlePermit(permit: BreakerPermit, outcome: PermitOutcome, witness?: TransitionWitness): void {
  if (outcome === 'success') permit.success(witness);
  else if (outcome === 'release') permit.release(witness);
  else permit.failure({ immediate: outcome === 'immediate' }, witness);
}

/**
 * The state machine of one target's circuit breaker (closed → open → half_open → closed).
 *
 * - Closed: admits every call; opens when a strategy trips (consecutive failures, or the
 *   failure ratio over a window once `minCalls` were seen) or on an `immediate` failure.
 * - Open: rejects everything; after `openMs` it turns half-open, lazily, the next time
 *   anyone looks at it (no timers to clean up).
 * - Half-open: admits at most `halfOpenProbes` concurrent probes, each holding its slot for at
 *   most `probeLeaseMs` (a permit nobody settles must not wedge the breaker). `successThreshold`
 *   probe successes close it (with fresh statistics); one failed probe reopens it for a fresh
 *   `openMs`.
 * - Override: 'open' rejects and 'closed' admits whatever happens (outcomes are still counted
 *   so health shows them, but trip nothing); 'auto' resumes automatic operation from closed,
 *   keeping the counts, so a target that is still failing reopens on its next failure.
 *
 * Outcomes of permits issued before the last state change are ignored (a call that started
 * while closed and fails after the breaker already opened and recovered says nothing about
 * now), except `immediate` failures, which are never transient.
 *
 * Every change of the effective state is reported through `onTransition`, synchronously and
 * after the state has changed; an exception thrown by it is swallowed so an observer bug can
 * never wedge the breaker.
 */
export class CircuitBreaker {
  readonly key: string;
  private readonly config: BreakerConfig;
  private readonly clock: Clock;
  private readonly onTransition: (t: CircuitBreakerTransition) => void;
  private readonly consecutive: ConsecutiveFailures;
  private readonly rate: FailureRate;
  private readonly strategies: readonly BreakerStrategy[];

  private autoState: CircuitState = 'closed';
  private overrideValue: BreakerOverride = 'auto';
  private openedAt = 0;
  private readonly probes: ProbeLeases;
  private probeSuccesses = 0;
  private period = 0;
  private readonly halfOpenOnLook: boolean;

  constructor(key: string, config: BreakerConfig, clock: Clock, onTransition: (t: CircuitBreakerTransition) => void, options: CircuitBreakerOptions = {}) {
    const { consecutive, rate, all } = tripStrategies(config);
    this.probes = new ProbeLeases(options.probeLeaseMs ?? DEFAULT_PROBE_LEASE_MS);
    this.halfOpenOnLook = (options.halfOpenOn ?? 'look') === 'look';
    this.key = key;
    this.config = { ...config };
    this.clock = clock;
    this.onTransition = onTransition;
    this.consecutive = consecutive;
    this.rate = rate;
    this.strategies = all;
  }

  /**
   * The effective state; an open breaker whose `openMs` elapsed turns half-open here (with
   * `halfOpenOn: 'acquire'` it only reads half-open until a caller asks for a permit).
   */
  get state(): CircuitState {
    if (this.halfOpenOnLook) this.refresh();
    else if (this.overrideValue === 'auto' && this.openElapsed()) return 'half_open';
    return this.effectiveState();
  }

  /**
   * Bumped by every change of state or override: permits issued in an older period are stale
   * (their outcome says nothing about now, `immediate` failures aside).
   */
  get generation(): number {
    return this.period;
  }

  snapshot(): BreakerSnapshot {
    return { state: this.autoState, override: this.overrideValue, openedAt: this.openedAt, successes: this.probeSuccesses };
  }

  /**
   * Takes a state decided elsewhere (a shared breaker's store), announcing nothing: the caller
   * reports what it learnt. Permits issued before go stale when the state or the override
   * changed, or when `newPeriod` says the store started a new one; entering half-open frees the
   * probe slots; `freshStatistics` starts the trip strategies afresh (a new closed period).
   */
  restore(next: BreakerSnapshot, options: { newPeriod?: boolean; freshStatistics?: boolean } = {}): void {
    if (options.newPeriod === true || next.state !== this.autoState || next.override !== this.overrideValue) this.period++;
    if (next.state === 'half_open' && this.autoState !== 'half_open') this.probes.clear();
    this.autoState = next.state;
    this.overrideValue = next.override;
    this.openedAt = next.openedAt;
    this.probeSuccesses = next.successes;
    if (options.freshStatistics === true) for (const s of this.strategies) s.reset();
  }

  /**
   * A probe permit of the current half-open period whose slot is held elsewhere (a shared
   * breaker's lease in its store): its outcome counts as a probe's; it takes no slot here.
   */
  admitProbe(): BreakerPermit {
    return this.permit({ isProbe: true, generation: this.period });
  }

  get override(): BreakerOverride {
    return this.overrideValue;
  }

  /** When an automatically opened breaker will admit a probe; undefined unless it is open. */
  get nextProbeAt(): number | undefined {
    return this.state === 'open' && this.overrideValue === 'auto' ? this.openedAt + this.config.openMs : undefined;
  }

  /** Operator control: 'open' forces rejecting, 'closed' forces admitting, 'auto' resumes. */
  setOverride(override: BreakerOverride): void {
    if (!OVERRIDES.includes(override)) throw new TypeError(`breaker override must be one of ${OVERRIDES.join(', ')}, got ${String(override)}`);
    const before = this.state;
    if (override === this.overrideValue) return;
    this.overrideValue = override;
    if (override === 'auto') {
      this.autoState = 'closed';
      this.probes.clear();
      this.probeSuccesses = 0;
    }
    const after = this.effectiveState();
    if (after !== before) {
      this.period++;
      this.emit(before, after, 'forced');
    }
  }

  /** A permit for one call, or undefined when the breaker rejects it (open, or no probe slot free). */
  tryAcquire(): BreakerPermit | undefined {
    this.refresh();
    const state = this.effectiveState();
    if (state === 'open') return undefined;
    if (state === 'half_open') {
      const lease = this.probes.take(this.clock.now(), this.config.halfOpenProbes);
      if (lease === undefined) return undefined;
      return this.permit({ isProbe: true, generation: this.period, lease });
    }
    return this.permit({ isProbe: false, generation: this.period });
  }

  stats(): BreakerStats {
    const now = this.clock.now();
    const { failureRate, windowCalls } = this.rate.stats(now);
    return { consecutiveFailures: this.consecutive.stats(now).consecutiveFailures, failureRate, windowCalls };
  }

  private permit(ticket: PermitTicket): BreakerPermit {
    return settleOnce(ticket.isProbe, (outcome, witness) => this.settle(ticket, outcome, witness));
  }

  /** Every transition an outcome causes (the open_elapsed step included) reaches its witness too. */
  private settle(ticket: PermitTicket, outcome: Outcome, witness: TransitionWitness | undefined): void {
    if (this.halfOpenOnLook) this.refresh(witness);
    const now = this.clock.now();
    const current = ticket.generation === this.period;

    if (ticket.isProbe) {
      if (!current) {
        if (outcome === 'immediate') this.openImmediately(witness);
        return;
      }
      if (ticket.lease !== undefined) this.probes.release(ticket.lease);
      if (outcome === 'success') {
        this.probeSuccesses++;
        if (this.probeSuccesses >= this.config.successThreshold) {
          for (const s of this.strategies) s.reset();
          this.transition('closed', 'probes_succeeded', witness);
        }
      } else if (outcome !== 'release') {
        this.transition('open', outcome === 'immediate' ? 'immediate' : 'probe_failed', witness);
      }
      return;
    }

    if (outcome === 'release') return;
    if (this.overrideValue === 'closed') {
      // Forced closed: keep counting so health tells the truth, but trip nothing.
      countOutcome(this.strategies, outcome === 'success' ? 'success' : 'failure', now);
      return;
    }
    if (!current || this.autoState !== 'closed') {
      if (outcome === 'immediate') this.openImmediately(witness);
      return;
    }
    const tripped = countOutcome(this.strategies, outcome === 'success' ? 'success' : 'failure', now);
    if (outcome === 'success') return;
    if (outcome === 'immediate') this.transition('open', 'immediate', witness);
    else if (tripped !== undefined) this.transition('open', tripped, witness);
  }

  /** An immediate failure opens an automatic breaker that is not open already. */
  private openImmediately(witness: TransitionWitness | undefined): void {
    if (this.overrideValue === 'auto' && this.autoState !== 'open') this.transition('open', 'immediate', witness);
  }

  private refresh(witness?: TransitionWitness): void {
    if (this.overrideValue === 'auto' && this.openElapsed()) this.transition('half_open', 'open_elapsed', witness);
  }

  private openElapsed(): boolean {
    return this.autoState === 'open' && this.clock.now() >= this.openedAt + this.config.openMs;
  }

  private effectiveState(): CircuitState {
    return this.overrideValue === 'auto' ? this.autoState : this.overrideValue;
  }

  /** Automatic transition (override 'auto' only). */
  private transition(to: CircuitState, reason: TransitionReason, witness?: TransitionWitness): void {
    const from = this.autoState;
    this.autoState = to;
    this.period++;
    if (to === 'open') this.openedAt = this.clock.now();
    if (to === 'half_open') {
      this.probes.clear();
      this.probeSuccesses = 0;
    }
    this.emit(from, to, reason, witness);
  }

  private emit(from: CircuitState, to: CircuitState, reason: TransitionReason, witness?: TransitionWitness): void {
    announce({ breaker: this.key, from, to, reason, at: this.clock.now() }, this.onTransition, witness);
  }
}
