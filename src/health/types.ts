import type { CircuitState, BreakerOverride } from '../events/breakerTransition.js';
import type { TargetTier } from '../request/tiers.js';

export interface TargetHealth {
  index: number;
  provider: string;
  model: string;
  tier: TargetTier;
  breaker: string;
  state: CircuitState;
  override: BreakerOverride;
  consecutiveFailures: number;
  /** Failure ratio over the breaker window (0..1), and the calls it is computed over. */
  failureRate: number;
  windowCalls: number;
  lastError?: { type: string; at: number; message: string };
  /** Latency of recent successful attempts, ms. */
  latencyMs: { p50: number; p95: number } | null;
  /** Retries this target may still spend now. */
  retryBudgetRemaining: number;
}

export interface ChainHealth {
  chain: string;
  forcedTier: import('../request/types.js').Tier | 'auto';
  targets: TargetHealth[];
  /** With `sharedState`: the store this chain shares state through, as this process sees it. */
  sharedState?: SharedStateHealth;
}

export interface SharedStateHealth {
  kind: string;
  /** Reachable now; false means this process decides on local state. */
  available: boolean;
  /** This process's id in the shared records (`by`). */
  instance: string;
  /** Clock time of the last successful sync. */
  lastSyncAt?: number;
  lastError?: { type: string; message: string; at: number };
}
