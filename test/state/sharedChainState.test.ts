/**
 * SharedChainState against stand-in stores (no Redis): what it does when a store breaks its
 * contract. Requests must be answered and the background sync must keep going, whatever the
 * store does.
 */
import { describe, expect, it } from 'vitest';
import { SharedCircuitBreaker } from '../../src/breaker/sharedCircuitBreaker.js';
import { SharedChainState } from '../../src/state/sharedChainState.js';
import type { SharedStateStore } from '../../src/state/sharedState.js';
import type { StoreErrorEvent } from '../../src/events/storeError.js';
import { createFakeClock } from '../support/fakeClock.js';

const BREAKER = { consecutiveFailures: 1, failureRate: 1, windowMs: 60_000, minCalls: 100, openMs: 1_000, halfOpenProbes: 1, successThreshold: 1 };

function throwingStore(): SharedStateStore & { calls: number } {
  const store = {
    kind: 'custom',
    shared: true as const,
    keyPrefix: '',
    timeoutMs: 50,
    syncIntervalMs: 60_000,
    calls: 0,
    available: () => true,
    status: () => ({ kind: 'custom', available: true }),
    get: async () => undefined,
    set: async () => undefined,
    delete: async () => undefined,
    // Breaks the contract ("rejects with a StoreError"): throws before returning a promise.
    runScript(): Promise<string> {
      store.calls++;
      throw new Error('custom store bug');
    },
  };
  return store;
}

describe('SharedChainState with a store that throws instead of rejecting', () => {
  it('reports it as a store error; the first sync settles and breakers decide locally', async () => {
    const store = throwingStore();
    const errors: StoreErrorEvent[] = [];
    const clock = createFakeClock(1_000_000);
    const link = new SharedChainState({ store, chain: 'c', clock, budget: { ratio: 0.1, minRetriesPerSecond: 1, windowMs: 10_000 }, probeLeaseMs: 5_000, report: (e) => errors.push(e) });
    const breaker = new SharedCircuitBreaker('k', BREAKER, clock, () => undefined, link);
    link.register('k', breaker, undefined);
    await expect(link.firstSync).resolves.toBeUndefined();
    (await breaker.tryAcquire())!.failure();
    expect(breaker.state).toBe('open');
    clock.advance(1_000);
    expect((await breaker.tryAcquire())?.isProbe).toBe(true);
    expect(await link.setForcedTier('static')).toBe(false);
    expect(store.calls).toBeGreaterThanOrEqual(3);
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect(errors.every((e) => e.errorType === 'error' && /custom store bug/.test(e.message))).toBe(true);
    await link.close();
  });
});
