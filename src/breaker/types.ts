/** The breaker's slice of the config (validated by config/, composed in config/types.ts). */
export interface BreakerConfig {
  consecutiveFailures: number;
  failureRate: number;
  windowMs: number;
  minCalls: number;
  openMs: number;
  halfOpenProbes: number;
  successThreshold: number;
}

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

/**
 * Longest a probe holds its half-open slot when the engine gives no lease (the engine passes its
 * total deadline): the default attempt timeout (DEFAULT_TIMEOUTS.attemptMs in config/defaults.ts).
 */
export const DEFAULT_PROBE_LEASE_MS = 120_000;
