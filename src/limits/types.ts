import type { TargetLimits } from '../providers/adapter.js';
import type { LIMIT_KINDS, LIMIT_SOURCES } from '../telemetry/names.js';

/**
 * A target's own limits, accounted by Bulwark before each call (`openaiTarget({ …, limits })`).
 * Every field is optional; a target without limits is only steered by its provider's headers.
 * - rpm: calls per minute (sliding 60 s window), fleet-wide with `sharedState`;
 * - tpm: tokens per minute, input + output: a call is charged its estimated input tokens before it
 *   is sent (ceil(characters / 4) of its messages and tools, the estimate the context-window checks
 *   use), then corrected to the usage the provider reports; fleet-wide with `sharedState`;
 * - maxConcurrent: calls in flight at once, fleet-wide with `sharedState` (leases that expire after the
 *   total deadline, so a process that dies mid-call frees its slots);
 * - queueMs: how long a request that finds every target at its limits waits for capacity before it
 *   degrades like an exhausted chain (bounded by the total deadline). Default 0: it does not wait.
 */
export type LimitsConfig = TargetLimits;

/**
 * The providers' own rate-limit headers (chain option `rateLimitHeaders`). On every successful
 * response Bulwark reads the remaining requests / tokens and their reset; a target whose remaining
 * share falls under `lowRemaining` is tried after its peers until the reset, and one at 0 is skipped
 * (`limited`) until the reset. `false` ignores the headers.
 */
/** Default `rateLimitHeaders.lowRemaining`: under 5 % of a limit left, a target is tried after its peers. */
export const DEFAULT_LOW_REMAINING = 0.05;

export interface RateLimitHeadersConfig {
  /** Share of the limit (0..1) under which a target is tried last. Default 0.05. */
  lowRemaining: number;
}

/** `bulwark.limit.kind`. */
export type LimitKind = (typeof LIMIT_KINDS)[number];
/** `bulwark.limit.source`. */
export type LimitSource = (typeof LIMIT_SOURCES)[number];

/**
 * How a target stands against its limits now, without a store call (what a pool consults to order
 * its members, and the walk to defer a target):
 * - `available`: go ahead;
 * - `low`: its provider reported under `lowRemaining` of a limit left: try it after its peers;
 * - `limited`: at a limit (its own, or its provider's remaining at 0 before the reset): skip it.
 */
export type Availability = 'available' | 'low' | 'limited';

/** A refusal: which limit, whose count, and (when known) in how many ms it may fit again. */
export interface LimitDenial {
  readonly granted: false;
  kind: LimitKind;
  source: LimitSource;
  /** Undefined for concurrency: a slot frees up when a call ends. */
  retryInMs: number | undefined;
}

/**
 * A call admitted by a target's limits: settle it exactly once when the attempt ends (with the
 * tokens it reported, to correct the estimate), or cancel it when the call was never sent.
 */
export interface LimitGrant {
  readonly granted: true;
  settle(usedTokens: number | undefined): void;
  cancel(): void;
}

/** One `bulwark.limit.remaining` point. */
export interface LimitRemaining {
  kind: LimitKind;
  source: LimitSource;
  remaining: number;
  /** The limit it is a part of. */
  limit: number;
}

/** A target's limits as `health()` shows them. */
export interface LimitsHealth {
  availability: Availability;
  rpm?: number;
  tpm?: number;
  maxConcurrent?: number;
  inFlight: number;
  remaining: LimitRemaining[];
}
