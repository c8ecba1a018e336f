import { SlidingWindowCounter } from '../time/slidingWindowCounter.js';
import type { BreakerStrategy } from './strategy.js';

export interface FailureRateOptions {
  /** Opens when failures / calls in the window reaches this (0 < threshold <= 1). */
  threshold: number;
  /** The sliding window the ratio is measured over. */
  windowMs: number;
  /** No opinion below this many calls in the window: 2 failures out of 3 calls is noise. */
  minCalls: number;
  /** Time buckets the window is kept in (resolution windowMs / buckets). Default 10. */
  buckets?: number;
}

export interface FailureRateStats {
  /** failures / calls over the window, 0 when there were no calls. */
  failureRate: number;
  windowCalls: number;
  windowFailures: number;
}

/**
 * Opens when the failure ratio over a sliding time window reaches `threshold`, once at least
 * `minCalls` calls were seen in it (Resilience4j's time-based sliding window, Polly's
 * advanced circuit breaker). Catches a provider failing every other call, which never
 * produces a long run of consecutive failures.
 */
export class FailureRate implements BreakerStrategy<FailureRateStats> {
  readonly reason = 'failure_rate' as const;
  private readonly window: SlidingWindowCounter<'calls' | 'failures'>;
  private readonly threshold: number;
  private readonly minCalls: number;

  /** Threshold in (0, 1], minCalls >= 1 (breaker.failureRate / breaker.minCalls, validated at construction). */
  constructor(options: FailureRateOptions) {
    this.threshold = options.threshold;
    this.minCalls = options.minCalls;
    this.window = new SlidingWindowCounter(['calls', 'failures'], options.windowMs, options.buckets ?? 10);
  }

  success(now: number): void {
    this.window.add(now, 'calls');
  }

  failure(now: number): boolean {
    this.window.add(now, 'calls');
    this.window.add(now, 'failures');
    const { calls, failures } = this.window.totals(now);
    // failures / calls >= threshold, without the division's rounding.
    return calls >= this.minCalls && failures >= this.threshold * calls - 1e-9;
  }

  reset(): void {
    this.window.clear();
  }

  stats(now: number): FailureRateStats {
    const { calls, failures } = this.window.totals(now);
    return { failureRate: calls === 0 ? 0 : failures / calls, windowCalls: calls, windowFailures: failures };
  }
}
