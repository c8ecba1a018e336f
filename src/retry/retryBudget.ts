import type { RetryBudgetConfig } from './types.js';
import type { Clock } from '../time/clock.js';
import { SlidingWindowCounter } from '../time/slidingWindowCounter.js';

/** What the engine needs of a retry budget, local (RetryBudget) or shared (SharedRetryBudget). */
export interface RetryBudgetHandle {
  recordRequest(): void;
  tryWithdraw(): boolean | Promise<boolean>;
  remaining(): number;
}

/**
 * Caps how much retries may add to a target's load, so retries cannot multiply traffic to a
 * provider that is already failing (Google SRE book "Handling Overload"; Finagle's
 * RetryBudget, whose shape this follows; Envoy's retry_budget; gRPC retryThrottling).
 *
 * Over the sliding window (`windowMs`):
 *   allowed retries = ratio × requests + minRetriesPerSecond × windowMs / 1000
 *   remaining       = floor(allowed − retries already withdrawn)
 *
 * The floor keeps retries possible at low traffic, where a ratio alone would allow none.
 * Requests and retries age out of the window together, so a burst of retries is paid back by
 * the traffic that follows, not forever.
 */
export class RetryBudget implements RetryBudgetHandle {
  private readonly config: RetryBudgetConfig;
  private readonly clock: Clock;
  private readonly window: SlidingWindowCounter<'requests' | 'retries'>;
  private readonly reserve: number;

  /** `config` is validated at construction (retry.budget in config/validateConfig.ts). */
  constructor(config: RetryBudgetConfig, clock: Clock) {
    this.config = { ...config };
    this.clock = clock;
    this.window = new SlidingWindowCounter(['requests', 'retries'], config.windowMs);
    this.reserve = (config.minRetriesPerSecond * config.windowMs) / 1000;
  }

  /** One logical request reached this target (retries are not requests). */
  recordRequest(): void {
    this.window.add(this.clock.now(), 'requests');
  }

  /** Takes one retry from the budget; false (and nothing taken) when none is left. */
  tryWithdraw(): boolean {
    const now = this.clock.now();
    if (this.available(now) < 1) return false;
    this.window.add(now, 'retries');
    return true;
  }

  /** Retries that may go out now (whole retries, never negative). */
  remaining(): number {
    return Math.max(0, Math.floor(this.available(this.clock.now())));
  }

  private available(now: number): number {
    const { requests, retries } = this.window.totals(now);
    // The epsilon absorbs binary rounding (0.29 × 100 = 28.999999999999996).
    return this.config.ratio * requests + this.reserve - retries + 1e-9;
  }
}
