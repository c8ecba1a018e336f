import type { PoolStrategy } from './pool.js';

/** What a strategy knows of one member when it picks: the request path fills in what it needs. */
export interface MemberView {
  weight: number;
  /** Calls in flight on the member now (least-busy). */
  inFlight: number;
  /** The member's latency score in ms (the pool's percentile of its recent response times), undefined while it has too few recent samples (latency). */
  latencyScoreMs?: number | undefined;
  /** What this request would cost on the member, USD (cost). */
  costUsd?: number | undefined;
}

export interface PickOptions {
  /** Uniform in [0, 1). */
  random: () => number;
  /** latency: the band above the fastest score, as a fraction of it. */
  tolerance: number;
}

/**
 * The member for the next attempt, among `candidates` (non-empty: the members still available
 * to the request). Pure: everything it depends on is passed in, randomness included.
 */
export function pickMember<M extends MemberView>(strategy: PoolStrategy, candidates: readonly M[], options: PickOptions): M {
  if (candidates.length === 0) throw new RangeError('pickMember: no candidates');
  switch (strategy) {
    case 'weighted':
      return weightedPick(candidates, options.random);
    case 'least-busy': {
      const fewest = Math.min(...candidates.map((m) => m.inFlight));
      return weightedPick(candidates.filter((m) => m.inFlight === fewest), options.random);
    }
    case 'latency': {
      const known = candidates.map((m) => m.latencyScoreMs).filter((p): p is number => p !== undefined);
      if (known.length === 0) return weightedPick(candidates, options.random);
      const limit = Math.min(...known) * (1 + options.tolerance);
      // Members not scored yet (too few recent samples) stay in the band: that is how a member that
      // was slow gets measured again, and how a new one gets its first samples.
      return weightedPick(candidates.filter((m) => m.latencyScoreMs === undefined || m.latencyScoreMs <= limit), options.random);
    }
    case 'cost': {
      const priced = candidates.filter((m) => m.costUsd !== undefined);
      if (priced.length === 0) return weightedPick(candidates, options.random);
      const cheapest = Math.min(...priced.map((m) => m.costUsd!));
      return weightedPick(priced.filter((m) => m.costUsd! <= cheapest), options.random);
    }
  }
}

/** At random, in proportion to the weights (all > 0, checked with the configuration). */
export function weightedPick<M extends { weight: number }>(members: readonly M[], random: () => number): M {
  if (members.length === 1) return members[0]!;
  let total = 0;
  for (const m of members) total += m.weight;
  const r = random();
  // A source outside [0, 1) must not pick outside the list.
  let point = (Number.isFinite(r) ? Math.min(Math.max(r, 0), 1 - Number.EPSILON) : 0) * total;
  for (const m of members) {
    point -= m.weight;
    if (point < 0) return m;
  }
  return members[members.length - 1]!;
}
