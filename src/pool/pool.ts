import type { Target } from '../providers/adapter.js';

/**
 * How a pool picks the member for the next attempt, among the members still available to the
 * request (breaker not open, not at a limit, not yet failed for it):
 * - `weighted`: at random, in proportion to the members' weights;
 * - `least-busy`: the member with the fewest calls in flight (ties: weighted);
 * - `latency`: among the members whose recent `latency.percentile` (p95 by default) of response
 *   times is within `latency.tolerance` of the fastest member's — and those with fewer than
 *   `latency.minSamples` recent samples, so a member that was slow is tried again once its samples
 *   age out — weighted (a band, not the single fastest: traffic does not herd onto one member).
 *   A response time is the wait for the answer (streams: the first chunk); an attempt that timed
 *   out, or was cancelled because another call of its hedged request answered first, counts with
 *   the time it had waited (a lower bound, counted when it is at least the member's median);
 * - `cost`: the cheapest member for this request by the price table (ties: weighted).
 */
export const POOL_STRATEGIES = ['weighted', 'least-busy', 'latency', 'cost'] as const;
export type PoolStrategy = (typeof POOL_STRATEGIES)[number];

/** A member with its options; a bare target is `{ target, weight: 1 }`. */
export interface PoolMemberOptions {
  target: Target;
  /** Share of traffic relative to the other members (weighted strategy; tie-breaks for the others). Default 1. */
  weight?: number;
}

export interface PoolLatencyOptions {
  /**
   * The percentile of recent response times a member is scored by, 0 < percentile <= 100. Default 95:
   * it sees a member that stalls on more than 5 % of its calls (a median sees nothing below 50 %).
   */
  percentile?: number;
  /** Members whose score is at most (1 + tolerance) × the fastest member's share the traffic. Default 0.25. */
  tolerance?: number;
  /** Only samples of the last `windowMs` count. Default 60 000. */
  windowMs?: number;
  /** A member with fewer recent samples is not scored yet: it stays in the band (how it is measured again). Default 5. */
  minSamples?: number;
}

/**
 * Hedging among the pool's members, in place of the chain's `hedge` at this position (same fields
 * and rules, docs/api.md "Hedging"): a member silent past `after` races another member. Its own budget.
 */
export interface PoolHedgeOptions {
  /** Ms, or a latency percentile the members track ('p50', 'p95'). */
  after: number | 'p50' | 'p95';
  maxHedges?: number;
  budgetRatio?: number;
}

export interface PoolOptions {
  /** The pool's name: telemetry attribute `bulwark.pool.name`, shown by health(). */
  name: string;
  /** Interchangeable deployments of one model (keys, regions, accounts); each keeps its own breaker. */
  members: ReadonlyArray<Target | PoolMemberOptions>;
  /** Default 'weighted'. */
  strategy?: PoolStrategy;
  latency?: PoolLatencyOptions;
  /** A source of uniform numbers in [0, 1) for the weighted choices (tests inject a seeded one). Default Math.random. */
  random?: () => number;
  hedge?: PoolHedgeOptions;
}

export const DEFAULT_LATENCY_TOLERANCE = 0.25;
export const DEFAULT_LATENCY_WINDOW_MS = 60_000;
export const DEFAULT_LATENCY_PERCENTILE = 95;
export const DEFAULT_LATENCY_MIN_SAMPLES = 5;

/** A pool as a chain position: what `pool()` returns, and what the configuration validates. */
export interface Pool {
  readonly kind: 'pool';
  readonly options: PoolOptions;
}

/** A pool after validation, every default filled in. */
export interface ResolvedPool {
  readonly kind: 'pool';
  readonly name: string;
  readonly strategy: PoolStrategy;
  readonly members: ReadonlyArray<{ target: Target; weight: number }>;
  readonly latency: Required<PoolLatencyOptions>;
  readonly random: () => number;
  /** The pool's own hedging, when set. */
  readonly hedge?: Required<PoolHedgeOptions>;
}

/**
 * A chain position made of interchangeable deployments:
 *
 * ```ts
 * targets: [
 *   pool({ name: 'gpt-4o', strategy: 'least-busy', members: [openaiTarget({ client: east, model: 'gpt-4o', breakerKey: 'east' }), …] }),
 *   anthropicTarget({ client, model: 'claude-sonnet-4-5' }),
 * ]
 * ```
 *
 * The options are checked with the rest of the configuration, by createResilientLLM.
 */
export function pool(options: PoolOptions): Pool {
  return { kind: 'pool', options };
}

export function isPool(value: unknown): value is Pool | ResolvedPool {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'pool';
}
