/** Why a strategy asks the breaker to open; used as the transition reason. */
export type TripReason = 'consecutive_failures' | 'failure_rate';

/**
 * Decides when a closed breaker should open, apart from the state machine that acts on it
 * (cockatiel's `IBreaker`). The breaker feeds it the outcomes of calls made while closed.
 * `now` is passed in so strategies stay pure values, testable without time passing.
 */
export interface BreakerStrategy<Stats extends object = object> {
  /** The transition reason when this strategy trips the breaker. */
  readonly reason: TripReason;
  success(now: number): void;
  /** Records a failure; true when the breaker should open now. */
  failure(now: number): boolean;
  /** Forgets everything (the breaker closed after a recovery). */
  reset(): void;
  stats(now: number): Stats;
}
