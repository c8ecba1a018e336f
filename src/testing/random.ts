/**
 * A seedable pseudo-random source, so probabilistic faults and latency distributions replay exactly.
 *
 * mulberry32: tiny, fast and good enough for test scheduling (not for cryptography).
 */
export interface RandomSource {
  /** A float in [0, 1). */
  next(): number;
}

/** Creates a {@link RandomSource}. The same `seed` always yields the same sequence. */
export function createRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return {
    next() {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}
