import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type BreakerPermit, type CircuitBreakerTransition } from '../../src/breaker/circuitBreaker.js';
import { DEFAULT_TIMEOUTS } from '../../src/config/defaults.js';
import type { BreakerConfig } from '../../src/config/types.js';
import { createFakeClock, type FakeClock } from '../support/fakeClock.js';

const CONFIG: BreakerConfig = {
  consecutiveFailures: 3,
  failureRate: 0.5,
  windowMs: 10_000,
  minCalls: 10,
  openMs: 5_000,
  halfOpenProbes: 1,
  successThreshold: 2,
};

function setup(overrides: Partial<BreakerConfig> = {}) {
  const clock = createFakeClock(0);
  const transitions: CircuitBreakerTransition[] = [];
  const breaker = new CircuitBreaker('openai/gpt-4o', { ...CONFIG, ...overrides }, clock, (t) => transitions.push(t));
  const moves = () => transitions.map((t) => `${t.from}->${t.to}:${t.reason}@${t.at}`);
  return { clock, breaker, transitions, moves };
}

function acquire(breaker: CircuitBreaker): BreakerPermit {
  const permit = breaker.tryAcquire();
  if (permit === undefined) throw new Error('expected a permit');
  return permit;
}

function fail(breaker: CircuitBreaker, times: number): void {
  for (let i = 0; i < times; i++) acquire(breaker).failure();
}

function succeed(breaker: CircuitBreaker, times: number): void {
  for (let i = 0; i < times; i++) acquire(breaker).success();
}

function openByFailures(breaker: CircuitBreaker): void {
  fail(breaker, CONFIG.consecutiveFailures);
  expect(breaker.state).toBe('open');
}

function toHalfOpen(breaker: CircuitBreaker, clock: FakeClock): void {
  openByFailures(breaker);
  clock.advance(CONFIG.openMs);
  expect(breaker.state).toBe('half_open');
}

describe('CircuitBreaker', () => {
  it('admits calls while closed, with permits that are not probes', () => {
    const { breaker } = setup();
    const permit = acquire(breaker);
    expect(permit.isProbe).toBe(false);
    expect(breaker.state).toBe('closed');
  });

  it('goes through the full cycle closed → open → half_open → closed', () => {
    const { clock, breaker, moves } = setup();
    fail(breaker, 3);
    expect(breaker.state).toBe('open');
    expect(breaker.tryAcquire()).toBeUndefined();

    clock.advance(4_999);
    expect(breaker.state).toBe('open');
    clock.advance(1);
    expect(breaker.state).toBe('half_open');

    const probe1 = acquire(breaker);
    expect(probe1.isProbe).toBe(true);
    probe1.success();
    expect(breaker.state).toBe('half_open');
    acquire(breaker).success();
    expect(breaker.state).toBe('closed');

    expect(moves()).toEqual([
      'closed->open:consecutive_failures@0',
      'open->half_open:open_elapsed@5000',
      'half_open->closed:probes_succeeded@5000',
    ]);
  });

  it('turns half-open lazily: nothing happens until someone looks', () => {
    const { clock, breaker, transitions } = setup();
    openByFailures(breaker);
    clock.advance(60_000);
    expect(transitions).toHaveLength(1);
    expect(breaker.tryAcquire()?.isProbe).toBe(true);
    expect(transitions.at(-1)).toEqual({ breaker: 'openai/gpt-4o', from: 'open', to: 'half_open', reason: 'open_elapsed', at: 60_000 });
  });

  it('starts the closed state afresh after recovering', () => {
    const { clock, breaker } = setup();
    toHalfOpen(breaker, clock);
    succeed(breaker, 2);
    expect(breaker.stats()).toEqual({ consecutiveFailures: 0, failureRate: 0, windowCalls: 0 });
    fail(breaker, 2);
    expect(breaker.state).toBe('closed');
  });

  it('a success while closed resets the consecutive count', () => {
    const { breaker } = setup();
    fail(breaker, 2);
    succeed(breaker, 1);
    fail(breaker, 2);
    expect(breaker.state).toBe('closed');
    expect(breaker.stats().consecutiveFailures).toBe(2);
  });

  it('a failed probe reopens the breaker for a fresh openMs', () => {
    const { clock, breaker, moves } = setup();
    toHalfOpen(breaker, clock);
    clock.advance(1_000);
    acquire(breaker).failure();
    expect(breaker.state).toBe('open');
    clock.advance(4_999);
    expect(breaker.state).toBe('open');
    clock.advance(1);
    expect(breaker.state).toBe('half_open');
    expect(moves()).toEqual([
      'closed->open:consecutive_failures@0',
      'open->half_open:open_elapsed@5000',
      'half_open->open:probe_failed@6000',
      'open->half_open:open_elapsed@11000',
    ]);
  });

  it('one probe success then a failed probe reopens: successes must be consecutive probes', () => {
    const { clock, breaker } = setup();
    toHalfOpen(breaker, clock);
    acquire(breaker).success();
    acquire(breaker).failure();
    expect(breaker.state).toBe('open');
    clock.advance(5_000);
    acquire(breaker).success();
    expect(breaker.state).toBe('half_open'); // the earlier success does not carry over
  });

  it('admits at most halfOpenProbes concurrent probes', () => {
    const { clock, breaker } = setup({ halfOpenProbes: 2, successThreshold: 3 });
    toHalfOpen(breaker, clock);
    const a = acquire(breaker);
    const b = acquire(breaker);
    expect(breaker.tryAcquire()).toBeUndefined();
    a.success();
    const c = acquire(breaker); // a's slot is free again
    expect(c.isProbe).toBe(true);
    expect(breaker.tryAcquire()).toBeUndefined();
    b.success();
    c.success();
    expect(breaker.state).toBe('closed');
  });

  it('release() frees a probe slot without counting as a success or a failure', () => {
    const { clock, breaker } = setup();
    toHalfOpen(breaker, clock);
    const probe = acquire(breaker);
    expect(breaker.tryAcquire()).toBeUndefined();
    probe.release();
    expect(breaker.state).toBe('half_open');
    succeed(breaker, 2);
    expect(breaker.state).toBe('closed');
  });

  it('a probe permit nobody settles frees its slot when its lease runs out (the breaker is not stuck half-open)', () => {
    const clock = createFakeClock(0);
    const breaker = new CircuitBreaker('k', { ...CONFIG, successThreshold: 1 }, clock, () => undefined, { probeLeaseMs: 60_000 });
    toHalfOpen(breaker, clock);
    const lost = acquire(breaker); // e.g. a stream whose consumer walked away without closing it
    expect(lost.isProbe).toBe(true);
    clock.advance(59_999);
    expect(breaker.tryAcquire()).toBeUndefined();
    clock.advance(1);
    const next = acquire(breaker);
    expect(next.isProbe).toBe(true);
    expect(breaker.tryAcquire()).toBeUndefined();
    // The lost permit, settled late, still speaks for this half-open period.
    lost.success();
    expect(breaker.state).toBe('closed');
  });

  it('the probe lease defaults to the default attempt timeout', () => {
    const { clock, breaker } = setup();
    toHalfOpen(breaker, clock);
    acquire(breaker);
    clock.advance(DEFAULT_TIMEOUTS.attemptMs - 1);
    expect(breaker.tryAcquire()).toBeUndefined();
    clock.advance(1);
    expect(breaker.tryAcquire()?.isProbe).toBe(true);
  });

  it('release() while closed counts for nothing', () => {
    const { breaker } = setup();
    fail(breaker, 2);
    for (let i = 0; i < 5; i++) acquire(breaker).release();
    expect(breaker.stats()).toEqual({ consecutiveFailures: 2, failureRate: 1, windowCalls: 2 });
    expect(breaker.state).toBe('closed');
  });

  it('settles each permit once: later calls are ignored', () => {
    const { breaker } = setup();
    const permit = acquire(breaker);
    permit.failure();
    permit.failure();
    permit.failure();
    permit.success();
    expect(breaker.stats().consecutiveFailures).toBe(1);
    expect(breaker.state).toBe('closed');
  });

  it('an immediate failure opens a closed breaker at once', () => {
    const { breaker, moves } = setup();
    acquire(breaker).failure({ immediate: true });
    expect(breaker.state).toBe('open');
    expect(moves()).toEqual(['closed->open:immediate@0']);
  });

  it('an immediate failure of a probe reopens with reason immediate', () => {
    const { clock, breaker, transitions } = setup();
    toHalfOpen(breaker, clock);
    acquire(breaker).failure({ immediate: true });
    expect(transitions.at(-1)?.reason).toBe('immediate');
    expect(breaker.state).toBe('open');
  });

  it('opens on the failure rate when failures are not consecutive', () => {
    const { breaker, moves } = setup({ consecutiveFailures: 100, minCalls: 10, failureRate: 0.5 });
    for (let i = 0; i < 4; i++) {
      acquire(breaker).success();
      acquire(breaker).failure();
    }
    acquire(breaker).success();
    expect(breaker.state).toBe('closed'); // 4/9, below minCalls anyway
    acquire(breaker).failure(); // 5/10
    expect(breaker.state).toBe('open');
    expect(moves()).toEqual(['closed->open:failure_rate@0']);
  });

  it('the failure rate ignores calls that left the window', () => {
    const { clock, breaker } = setup({ consecutiveFailures: 100, minCalls: 4 });
    fail(breaker, 3);
    clock.advance(10_000);
    succeed(breaker, 3);
    acquire(breaker).failure(); // 1/4 in the window, not 4/7
    expect(breaker.state).toBe('closed');
    expect(breaker.stats()).toEqual({ consecutiveFailures: 1, failureRate: 0.25, windowCalls: 4 });
  });

  it('names consecutive_failures when both strategies trip on the same call', () => {
    const { moves, breaker } = setup({ consecutiveFailures: 3, minCalls: 3 });
    fail(breaker, 3);
    expect(moves()).toEqual(['closed->open:consecutive_failures@0']);
  });

  it('ignores the outcome of a call that started before the breaker last changed state', () => {
    const { clock, breaker } = setup();
    const slow = acquire(breaker); // issued while closed
    toHalfOpen(breaker, clock);
    succeed(breaker, 2); // recovered: closed again, fresh stats
    slow.failure();
    expect(breaker.stats().consecutiveFailures).toBe(0);
  });

  it('a stale permit failing while the breaker is open does not extend openMs', () => {
    const { clock, breaker, transitions } = setup();
    const slow = acquire(breaker);
    openByFailures(breaker);
    clock.advance(4_000);
    slow.failure();
    clock.advance(1_000);
    expect(breaker.state).toBe('half_open');
    expect(transitions).toHaveLength(2);
  });

  it('a stale permit does not take or free a probe slot', () => {
    const { clock, breaker } = setup();
    const slow = acquire(breaker);
    toHalfOpen(breaker, clock);
    const probe = acquire(breaker);
    slow.release();
    slow.success();
    expect(breaker.tryAcquire()).toBeUndefined();
    probe.success();
    expect(breaker.state).toBe('half_open');
  });

  it('an immediate failure opens the breaker even from a stale permit', () => {
    const { clock, breaker, transitions } = setup();
    const slow = acquire(breaker);
    toHalfOpen(breaker, clock);
    slow.failure({ immediate: true });
    expect(breaker.state).toBe('open');
    expect(transitions.at(-1)).toMatchObject({ from: 'half_open', to: 'open', reason: 'immediate' });
  });

  describe('override', () => {
    it("'open' rejects everything and reports a forced transition", () => {
      const { breaker, moves } = setup();
      breaker.setOverride('open');
      expect(breaker.override).toBe('open');
      expect(breaker.state).toBe('open');
      expect(breaker.tryAcquire()).toBeUndefined();
      expect(moves()).toEqual(['closed->open:forced@0']);
    });

    it("'open' never turns half-open by itself", () => {
      const { clock, breaker, transitions } = setup();
      breaker.setOverride('open');
      clock.advance(60_000);
      expect(breaker.state).toBe('open');
      expect(transitions).toHaveLength(1);
    });

    it("'closed' admits everything whatever the failures, counting them without tripping", () => {
      const { breaker, moves } = setup();
      openByFailures(breaker);
      breaker.setOverride('closed');
      expect(breaker.state).toBe('closed');
      fail(breaker, 10);
      const permit = acquire(breaker);
      expect(permit.isProbe).toBe(false);
      permit.failure({ immediate: true });
      expect(breaker.state).toBe('closed');
      expect(breaker.stats().consecutiveFailures).toBe(14);
      expect(moves()).toEqual(['closed->open:consecutive_failures@0', 'open->closed:forced@0']);
    });

    it("'auto' resumes from closed, so a still-failing target reopens on its next failure", () => {
      const { breaker, moves } = setup();
      breaker.setOverride('closed');
      fail(breaker, 5);
      breaker.setOverride('auto');
      expect(breaker.state).toBe('closed');
      acquire(breaker).failure();
      expect(breaker.state).toBe('open');
      expect(moves()).toEqual(['closed->open:consecutive_failures@0']);
    });

    it("'auto' after a forced open closes the breaker with a forced transition", () => {
      const { breaker, moves } = setup();
      breaker.setOverride('open');
      breaker.setOverride('auto');
      expect(breaker.state).toBe('closed');
      expect(moves()).toEqual(['closed->open:forced@0', 'open->closed:forced@0']);
    });

    it('reports nothing when the effective state does not change', () => {
      const { breaker, transitions } = setup();
      openByFailures(breaker);
      breaker.setOverride('open');
      breaker.setOverride('open');
      expect(transitions).toHaveLength(1);
      breaker.setOverride('auto');
      breaker.setOverride('auto');
      breaker.setOverride('closed');
      expect(transitions.map((t) => t.reason)).toEqual(['consecutive_failures', 'forced']);
    });

    it('makes probes in flight stale: forcing closed mid half-open ignores their outcome', () => {
      const { clock, breaker } = setup();
      toHalfOpen(breaker, clock);
      const probe = acquire(breaker);
      breaker.setOverride('closed');
      probe.failure();
      breaker.setOverride('auto');
      expect(breaker.state).toBe('closed');
      expect(breaker.stats().consecutiveFailures).toBe(3);
    });

    it('rejects an unknown override', () => {
      const { breaker } = setup();
      expect(() => breaker.setOverride('half_open' as never)).toThrow(TypeError);
    });
  });

  it('reports when an open breaker will admit its next probe', () => {
    const { clock, breaker } = setup();
    expect(breaker.nextProbeAt).toBeUndefined();
    clock.advance(100);
    openByFailures(breaker);
    expect(breaker.nextProbeAt).toBe(5_100);
  });

  it('keeps working when the transition callback throws', () => {
    const clock = createFakeClock(0);
    const breaker = new CircuitBreaker('k', CONFIG, clock, () => {
      throw new Error('observer bug');
    });
    fail(breaker, 3);
    expect(breaker.state).toBe('open');
    clock.advance(5_000);
    expect(breaker.tryAcquire()?.isProbe).toBe(true);
  });

  it('lets the callback read the new state (it runs after the change)', () => {
    const clock = createFakeClock(0);
    const seen: string[] = [];
    const breaker: CircuitBreaker = new CircuitBreaker('k', CONFIG, clock, () => seen.push(breaker.state));
    fail(breaker, 3);
    expect(seen).toEqual(['open']);
  });
});

describe('CircuitBreaker as the state machine of a shared breaker', () => {
  it("with halfOpenOn 'acquire', an elapsed open breaker reads half-open but changes only when a permit is asked for", () => {
    const clock = createFakeClock(0);
    const transitions: CircuitBreakerTransition[] = [];
    const breaker = new CircuitBreaker('k', CONFIG, clock, (t) => transitions.push(t), { halfOpenOn: 'acquire' });
    const late = acquire(breaker);
    fail(breaker, 3);
    clock.advance(CONFIG.openMs);
    expect(breaker.state).toBe('half_open');
    late.failure();
    expect(breaker.snapshot().state).toBe('open');
    expect(transitions.map((t) => t.to)).toEqual(['open']);
    expect(acquire(breaker).isProbe).toBe(true);
    expect(transitions.map((t) => `${t.to}:${t.reason}`)).toEqual(['open:consecutive_failures', 'half_open:open_elapsed']);
  });

  it('restores a state decided elsewhere without announcing it; permits issued before go stale', () => {
    const { breaker, transitions } = setup();
    const before = acquire(breaker);
    const generation = breaker.generation;
    breaker.restore({ state: 'open', override: 'auto', openedAt: 0, successes: 0 });
    expect(breaker.state).toBe('open');
    expect(breaker.generation).toBeGreaterThan(generation);
    expect(transitions).toEqual([]);
    breaker.restore({ state: 'closed', override: 'auto', openedAt: 0, successes: 0 });
    for (let i = 0; i < 5; i++) before.failure(); // settled once, and stale: counts for nothing
    expect(breaker.stats().consecutiveFailures).toBe(0);
  });

  it('restores a new period on demand, and fresh statistics', () => {
    const { breaker } = setup();
    fail(breaker, 2);
    const permit = acquire(breaker);
    breaker.restore(breaker.snapshot(), { newPeriod: true, freshStatistics: true });
    expect(breaker.stats().consecutiveFailures).toBe(0);
    permit.failure();
    expect(breaker.stats().consecutiveFailures).toBe(0);
  });

  it('admits a probe whose slot is held elsewhere: it counts as a probe and takes no local slot', () => {
    const { clock, breaker, moves } = setup({ successThreshold: 1 });
    toHalfOpen(breaker, clock);
    const elsewhere = breaker.admitProbe();
    expect(elsewhere.isProbe).toBe(true);
    const local = acquire(breaker); // the one local slot is still free
    expect(local.isProbe).toBe(true);
    elsewhere.success();
    expect(breaker.state).toBe('closed');
    expect(moves().at(-1)).toBe('half_open->closed:probes_succeeded@5000');
  });
});
