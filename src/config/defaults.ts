import type { HedgeConfig, TimeoutConfig } from './types.js';

// The policies' defaults live beside the policies; the request path's own here.
export { DEFAULT_BREAKER } from '../breaker/types.js';
export { DEFAULT_CACHE_MAX_ENTRIES, DEFAULT_CACHE_MAX_ENTRY_BYTES, DEFAULT_CACHE_STALE_TTL_MS, DEFAULT_CACHE_TTL_MS } from '../cache/types.js';
export { DEFAULT_RETRY, DEFAULT_RETRY_BUDGET } from '../retry/types.js';

/**
 * LLM calls are long: a 4k-token completion at 40 tokens/s takes 100 s, so the per-attempt
 * timeout must not cut it. Hung streams are caught by the first-chunk timeout instead.
 */
export const DEFAULT_TIMEOUTS: TimeoutConfig = {
  attemptMs: 120_000,
  totalMs: 300_000,
  firstChunkMs: 15_000,
  idleChunkMs: 30_000,
};

/**
 * One hedge per request, and hedges adding at most 5 % to the chain's requests over a minute
 * (Dean & Barroso, "The Tail at Scale": hedging after the p95 adds about 5 % load).
 */
export const DEFAULT_HEDGE: Omit<HedgeConfig, 'after'> = {
  maxHedges: 1,
  budgetRatio: 0.05,
};

/** The window the hedge budget's ratio is measured over. */
export const HEDGE_BUDGET_WINDOW_MS = 60_000;
