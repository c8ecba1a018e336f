import type { CircuitState, BreakerOverride } from '../events/breakerTransition.js';
import type { LimitsHealth } from '../limits/types.js';
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
  /** Its limits and headroom (own limits, and what its provider's headers last reported), when it has any. */
  limits?: LimitsHealth;
  /** Attempts in flight on this target now. */
  inFlight: number;
  /** When the target is a pool member: the pool's name and the member's place in it. */
  pool?: string;
  member?: number;
}

/** One member of a pool, as its strategy sees it. */
export interface PoolMemberHealth {
  member: number;
  provider: string;
  model: string;
  breaker: string;
  state: CircuitState;
  inFlight: number;
  weight: number;
  /** p50 of the member's successful attempts within the pool's latency window, ms. */
  recentP50Ms: number | null;
  /**
   * What the latency strategy compares, ms: the pool's `latency.percentile` of the member's response
   * times within its window (timed-out and outrun waits included); null with fewer than `latency.minSamples`.
   */
  latencyScoreMs: number | null;
}

export interface PoolHealth {
  /** The pool's chain position. */
  index: number;
  name: string;
  strategy: string;
  members: PoolMemberHealth[];
}

export interface ChainHealth {
  chain: string;
  forcedTier: import('../request/types.js').Tier | 'auto';
  /** Every target, pool members included (each with its `pool` and `member`). */
  targets: TargetHealth[];
  /** The chain's pools, member by member (absent when it has none). */
  pools?: PoolHealth[];
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
