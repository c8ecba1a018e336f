import type { Jitter } from './types.js';

export interface BackoffOptions {
  baseDelayMs: number;
  maxDelayMs: number;
  jitter: Jitter;
}

/**
 * The wait before retry number `retryNumber` (0 for the first retry), in whole milliseconds.
 *
 * The ceiling grows exponentially, `min(maxDelayMs, baseDelayMs · 2^retryNumber)`, then jitter
 * spreads clients out so a provider that comes back is not hit by everyone at once
 * (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * - 'full':  uniform in [0, ceiling]         (the default: least total work for the provider)
 * - 'equal': uniform in [ceiling/2, ceiling] (never retries almost at once)
 * - 'none':  the ceiling itself
 *
 * Large retry numbers saturate at `maxDelayMs` instead of overflowing to Infinity or NaN.
 * `random` must return values in [0, 1), like Math.random; out-of-range values are clamped.
 */
export function computeBackoff(retryNumber: number, options: BackoffOptions, random: () => number = Math.random): number {
  if (!Number.isInteger(retryNumber) || retryNumber < 0) throw new RangeError(`retryNumber must be an integer >= 0, got ${retryNumber}`);
  // The delays and the jitter come validated from the config (retry.*, at construction).
  const { baseDelayMs, maxDelayMs, jitter } = options;

  const ceiling = exponentialCeiling(retryNumber, baseDelayMs, maxDelayMs);
  switch (jitter) {
    case 'none':
      return Math.round(ceiling);
    case 'full':
      return Math.round(unit(random) * ceiling);
    case 'equal':
      return Math.round(ceiling / 2 + (unit(random) * ceiling) / 2);
    default:
      throw new RangeError(`jitter must be 'full', 'equal' or 'none', got ${String(jitter)}`);
  }
}

/** min(cap, base · 2^n) without ever computing an infinite or NaN intermediate. */
function exponentialCeiling(n: number, base: number, cap: number): number {
  if (base === 0) return 0;
  // base · 2^n >= cap  ⇔  n >= log2(cap / base); past that point the answer is the cap.
  if (base >= cap || n >= Math.log2(cap / base)) return cap;
  return Math.min(cap, base * 2 ** n);
}

function unit(random: () => number): number {
  const r = random();
  return Number.isFinite(r) ? Math.min(1, Math.max(0, r)) : 0;
}
