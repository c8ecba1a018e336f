import type { BreakerStrategy } from './strategy.js';

export interface ConsecutiveFailuresStats {
  consecutiveFailures: number;
}

/** Opens after `threshold` failures in a row; any success starts the count again. */
export class ConsecutiveFailures implements BreakerStrategy<ConsecutiveFailuresStats> {
  readonly reason = 'consecutive_failures' as const;
  readonly threshold: number;
  private count = 0;

  /** `threshold` >= 1 (breaker.consecutiveFailures, validated at construction). */
  constructor(threshold: number) {
    this.threshold = threshold;
  }

  success(_now: number): void {
    this.count = 0;
  }

  failure(_now: number): boolean {
    this.count++;
    return this.count >= this.threshold;
  }

  reset(): void {
    this.count = 0;
  }

  stats(_now: number): ConsecutiveFailuresStats {
    return { consecutiveFailures: this.count };
  }
}
