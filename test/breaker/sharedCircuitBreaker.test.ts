/**
 * The shared breaker when its store cannot be reached: the local CircuitBreaker it holds decides,
 * and every transition is reported as this process's own, with the local breaker's reason.
 * (Against a real Redis: test/state/sharedState.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { SharedCircuitBreaker } from '../../src/breaker/sharedCircuitBreaker.js';
import type { BreakerTransition } from '../../src/events/breakerTransition.js';
import type { StoreErrorEvent } from '../../src/events/storeError.js';
import { SharedChainState } from '../../src/state/sharedChainState.js';
import type { SharedStateStore } from '../../src/state/sharedState.js';
import { StoreError } from '../../src/state/sharedState.js';
import { createFakeClock } from '../support/fakeClock.js';

const BREAKER = { consecutiveFailures: 2, failureRate: 1, windowMs: 60_000, minCalls: 100, openMs: 1_000, halfOpenProbes: 1, successThreshold: 2 };

/** A store that is never reachable. */
function unreachableStore(): SharedStateStore {
  const down = () => Promise.reject(new StoreError('unavailable', 'custom', 'down'));
  return {
    kind: 'custom',
    shared: true,
    keyPrefix: '',
    timeoutMs: 50,
    syncIntervalMs: 60_000,
    available: () => false,
    status: () => ({ kind: 'custom', available: false }),
    get: down,
    set: down,
    delete: down,
    runScript: down,
  };
}

async function setup() {
  const clock = createFakeClock(1_000_000);
  const errors: StoreErrorEvent[] = [];
  const link = new SharedChainState({ store: unreachableStore(), chain: 'c', clock, budget: { ratio: 0.1, minRetriesPerSecond: 1, windowMs: 10_000 }, probeLeaseMs: 5_000, report: (e) => errors.push(e) });
  const transitions: BreakerTransition[] = [];
  const breaker = new SharedCircuitBreaker('k', BREAKER, clock, (t) => transitions.push(t), link);
  link.register('k', breaker, undefined);
  await link.firstSync;
  const moves = () => transitions.map((t) => `${t.from}->${t.to}:${t.reason}${t.observed ? ' (observed)' : ''}`);
  return { clock, link, breaker, moves, errors };
}

describe('SharedCircuitBreaker with its store unreachable', () => {
  it('goes through the whole cycle locally, each transition with its own reason', async () => {
    const { clock, link, breaker, moves } = await setup();
    for (let i = 0; i < 2; i++) (await breaker.tryAcquire())!.failure();
    expect(breaker.state).toBe('open');
    expect(await breaker.tryAcquire()).toBeUndefined();
    clock.advance(BREAKER.openMs);
    expect(breaker.state).toBe('half_open');
    const probe = await breaker.tryAcquire();
    expect(probe?.isProbe).toBe(true);
    expect(await breaker.tryAcquire(), 'one probe slot').toBeUndefined();
    probe!.success();
    expect(breaker.state).toBe('half_open');
    (await breaker.tryAcquire())!.success();
    expect(breaker.state).toBe('closed');
    expect(moves()).toEqual(['closed->open:consecutive_failures', 'open->half_open:open_elapsed', 'half_open->closed:probes_succeeded']);
    expect(breaker.record).toMatchObject({ state: 'closed', reason: 'probes_succeeded' });
    await link.close();
  });

  it('a failed local probe reopens for a fresh openMs; an override applies at once and reports the store did not take it', async () => {
    const { clock, link, breaker, moves } = await setup();
    for (let i = 0; i < 2; i++) (await breaker.tryAcquire())!.failure();
    clock.advance(BREAKER.openMs);
    (await breaker.tryAcquire())!.failure();
    expect(breaker.state).toBe('open');
    expect(breaker.record.openedAt).toBe(clock.now());
    expect(await breaker.setOverride('closed')).toBe(false);
    expect(breaker.state).toBe('closed');
    expect(() => breaker.setOverride('half_open' as never)).toThrow(TypeError);
    expect(moves()).toEqual(['closed->open:consecutive_failures', 'open->half_open:open_elapsed', 'half_open->open:probe_failed', 'open->closed:forced']);
    await link.close();
  });
});
