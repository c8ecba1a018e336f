import type { CircuitState, BreakerOverride } from '../breaker/types.js';

export interface TargetHealth {
  index: number;
  provider: string;
  model: string;
  tier: 'full' | 'reduced';
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
}
