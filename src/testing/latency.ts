import type { RandomSource } from './random.js';

/**
 * How long the server waits before it starts answering (time to response headers), for every request a
 * script matches, whatever the fault. Real timers are used: the injected clock only governs outage windows.
 *
 * - a number: fixed milliseconds;
 * - `{ kind: 'fixed', ms }`;
 * - `{ kind: 'uniform', minMs, maxMs }`: uniform in [minMs, maxMs);
 * - `{ kind: 'normal', meanMs, stdDevMs, minMs?, maxMs? }`: Gaussian, clamped to [minMs ?? 0, maxMs ?? ∞).
 *
 * Random draws come from the server's seeded source (`options.seed`), so a run replays exactly.
 */
export type Latency =
  | number
  | { kind: 'fixed'; ms: number }
  | { kind: 'uniform'; minMs: number; maxMs: number }
  | { kind: 'normal'; meanMs: number; stdDevMs: number; minMs?: number; maxMs?: number };

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
  }
}
