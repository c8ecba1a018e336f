import type { BreakerConfig } from './types.js';
import { ConsecutiveFailures } from './consecutiveFailures.js';
import { FailureRate } from './failureRate.js';
import type { BreakerStrategy, TripReason } from './strategy.js';

/**
 * The two ways a breaker trips (consecutive failures OR a failure ratio over a window with a
 * minimum of calls), built from a config validated at construction (config/validateConfig.ts).
 */
export function tripStrategies(config: BreakerConfig): { consecutive: ConsecutiveFailures; rate: FailureRate; all: readonly BreakerStrategy[] } {
  const consecutive = new ConsecutiveFailures(config.consecutiveFailures);
  const rate = new FailureRate({ threshold: config.failureRate, windowMs: config.windowMs, minCalls: config.minCalls });
  return { consecutive, rate, all: [consecutive, rate] };
}

/**
 * Feeds one call's outcome to every strategy (all of them count it) and returns the reason of
 * the first that says the breaker should open, if any.
 */
export function countOutcome(strategies: readonly BreakerStrategy[], outcome: 'success' | 'failure', now: number): TripReason | undefined {
  if (outcome === 'success') {
    for (const s of strategies) s.success(now);
    return undefined;
  }
  let tripped: TripReason | undefined;
  for (const s of strategies) if (s.failure(now) && tripped === undefined) tripped = s.reason;
  return tripped;
}
