import type { BreakerOverride, CircuitState } from '../events/breakerTransition.js';
import type { BreakerPermit, BreakerStats, CircuitBreaker } from './circuitBreaker.js';

/**
 * What the engine needs of a breaker, local or shared: one interface, one return type per
 * method. A shared breaker may have to ask the store, so admission and overrides are promises;
 * the local one answers at once (through `localBreakerHandle`).
 */
export interface BreakerHandle {
  /** A permit for one call, or undefined when the breaker rejects it. */
  tryAcquire(): Promise<BreakerPermit | undefined>;
  readonly state: CircuitState;
  readonly override: BreakerOverride;
  /** Applies here at once (bad input throws); resolves true once the shared store has it too. */
  setOverride(override: BreakerOverride): Promise<boolean>;
  stats(): BreakerStats;
}

/** The in-memory breaker behind the engine's handle (nothing is shared: overrides resolve false). */
export function localBreakerHandle(breaker: CircuitBreaker): BreakerHandle {
  return {
    tryAcquire: () => Promise.resolve(breaker.tryAcquire()),
    get state() {
      return breaker.state;
    },
    get override() {
      return breaker.override;
    },
    setOverride(override) {
      breaker.setOverride(override);
      return Promise.resolve(false);
    },
    stats: () => breaker.stats(),
  };
}
