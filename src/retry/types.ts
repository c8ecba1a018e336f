/** How retry delays are spread (see backoff.ts). */
export const JITTERS = ['full', 'equal', 'none'] as const;
export type Jitter = (typeof JITTERS)[number];

export interface RetryBudgetConfig {
  /** Retries may add at most this share of requests (0.1 = 10 %). */
  ratio: number;
  /** Retries always allowed per second regardless of traffic (the floor). */
  minRetriesPerSecond: number;
  /** Window the ratio is measured over. */
  windowMs: number;
}

/** The retry slice of the config (validated by config/, composed in config/types.ts). */
export interface RetryConfig {
  /** Attempts per target, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  jitter: Jitter;
  /** A Retry-After longer than this sends the request to the next target at once. */
  maxRetryAfterMs: number;
  budget: RetryBudgetConfig;
}

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
