import type { BreakerConfig, RetryBudgetConfig, RetryConfig, TimeoutConfig } from './types.js';

/** Full jitter, base 500 ms, cap 8 s (AWS Builders' Library); 3 attempts per target. */
export const DEFAULT_RETRY: Omit<RetryConfig, 'budget'> = {
  maxAttempts: 3,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  jitter: 'full',
  maxRetryAfterMs: 20_000,
};

/** Retries may add at most 10 % to requests, plus a floor of one retry per second (SRE book, Finagle). */
export const DEFAULT_RETRY_BUDGET: RetryBudgetConfig = {
  ratio: 0.1,
  minRetriesPerSecond: 1,
  windowMs: 10_000,
};

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

/** Consecutive failures OR a failure ratio over a window with a minimum of calls (Polly, Resilience4j). */
export const DEFAULT_BREAKER: BreakerConfig = {
  consecutiveFailures: 5,
  failureRate: 0.5,
  windowMs: 30_000,
  minCalls: 10,
  openMs: 30_000,
  halfOpenProbes: 1,
  successThreshold: 2,
};

export const DEFAULT_CACHE_TTL_MS = 3_600_000;
export const DEFAULT_CACHE_STALE_TTL_MS = 86_400_000;
export const DEFAULT_CACHE_MAX_ENTRY_BYTES = 256 * 1024;
export const DEFAULT_CACHE_MAX_ENTRIES = 10_000;
