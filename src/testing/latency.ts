import type { RandomSource } from './random.js';

/**
 * How long the server waits before it starts answering (time to response headers), for every request a
 * script matches, whatever the fault. Real timers are used unless the server
 * was given `options.sleep` (a test's fake clock).
 *
 * - a number: fixed milliseconds;
 * - `{ kind: 'fixed', ms }`;
 * - `{ kind: 'uniform', minMs, maxMs }`: uniform in [minMs, maxMs);
 * - `{ kind: 'normal', meanMs, stdDevMs, minMs?, maxMs? }`: Gaussian, clamped to [minMs ?? 0, maxMs ?? ∞);
 * - `{ kind: 'mixture', parts: [{ probability, latency }, …] }`: one draw picks a part (cumulative
 *   probabilities, which must add up to 1), whose latency is then sampled — "10 % of calls after 3 s" is
 *   `{ kind: 'mixture', parts: [{ probability: 0.9, latency: 20 }, { probability: 0.1, latency: 3_000 }] }`.
 *
 * Random draws come from the server's seeded source (`options.seed`), so a run replays exactly.
 */
export type Latency =
  | number
  | { kind: 'fixed'; ms: number }
  | { kind: 'uniform'; minMs: number; maxMs: number }
  | { kind: 'normal'; meanMs: number; stdDevMs: number; minMs?: number; maxMs?: number }
  | { kind: 'mixture'; parts: ReadonlyArray<{ probability: number; latency: Latency }> };

/** Throws a RangeError naming the field when a latency cannot be sampled. */
export function validateLatency(latency: Latency | undefined, field = 'latency'): void {
  if (latency === undefined || typeof latency === 'number') return;
  if (latency.kind !== 'mixture') return;
  if (latency.parts.length === 0) throw new RangeError(`${field}.parts must not be empty`);
  let total = 0;
  latency.parts.forEach((part, i) => {
    if (!(part.probability >= 0 && part.probability <= 1)) {
      throw new RangeError(`${field}.parts[${i}].probability must be within [0, 1], got ${part.probability}`);
    }
    total += part.probability;
    validateLatency(part.latency, `${field}.parts[${i}].latency`);
  });
  if (Math.abs(total - 1) > 1e-9) throw new RangeError(`${field}.parts probabilities add up to ${total}, not 1`);
}

/** Draws one delay in whole milliseconds (never negative). */
export function sampleLatency(latency: Latency | undefined, random: RandomSource): number {
  if (latency === undefined) return 0;
  if (typeof latency === 'number') return Math.max(0, Math.round(latency));
  switch (latency.kind) {
    case 'fixed':
      return Math.max(0, Math.round(latency.ms));
    case 'uniform':
      return Math.max(0, Math.round(latency.minMs + random.next() * (latency.maxMs - latency.minMs)));
    case 'normal': {
      // Box–Muller; 1 - next() keeps the logarithm's argument in (0, 1].
      const u = 1 - random.next();
      const v = random.next();
      const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
      const value = latency.meanMs + z * latency.stdDevMs;
      const clamped = Math.min(latency.maxMs ?? Number.POSITIVE_INFINITY, Math.max(latency.minMs ?? 0, value));
      return Math.round(clamped);
    }
    case 'mixture': {
      const draw = random.next();
      let cumulative = 0;
      for (const part of latency.parts) {
        cumulative += part.probability;
        if (draw < cumulative) return sampleLatency(part.latency, random);
      }
      return sampleLatency(latency.parts[latency.parts.length - 1]?.latency, random);
    }
  }
}
