/** The percentiles a LatencyTracker keeps: what `llm.health()` shows and `hedge.after` may name. */
export const TRACKED_PERCENTILES = ['p50', 'p95'] as const;
export type TrackedPercentile = (typeof TRACKED_PERCENTILES)[number];

export type LatencyPercentiles = Record<TrackedPercentile, number>;

export const DEFAULT_LATENCY_SAMPLES = 256;

/**
 * Latency of a target's recent successful attempts for `llm.health()`: a fixed-size ring of
 * the last `capacity` samples (memory never grows), percentiles by nearest rank over them.
 */
export class LatencyTracker {
  readonly capacity: number;
  private readonly samples: Float64Array;
  /** When each sample was taken (clock ms): `summary(since)` reads only the recent ones. */
  private readonly takenAt: Float64Array;
  private count = 0;
  private next = 0;

  constructor(capacity = DEFAULT_LATENCY_SAMPLES) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`LatencyTracker capacity must be an integer >= 1, got ${capacity}`);
    this.capacity = capacity;
    this.samples = new Float64Array(capacity);
    this.takenAt = new Float64Array(capacity);
  }

  /** Adds one latency in ms, taken at clock time `at`; negative or non-finite values are ignored. */
  record(ms: number, at = 0): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.samples[this.next] = ms;
    this.takenAt[this.next] = at;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** Samples currently held. */
  get size(): number {
    return this.count;
  }

  /**
   * p50 and p95 of the held samples (nearest rank: the smallest sample ≥ p of them) — only those
   * taken at or after `since`, when given — or null when there are none.
   */
  summary(since?: number): LatencyPercentiles | null {
    if (this.count === 0) return null;
    let held = this.samples.slice(0, this.count);
    if (since !== undefined) held = held.filter((_, i) => this.takenAt[i]! >= since);
    if (held.length === 0) return null;
    const sorted = held.sort();
    return { p50: nearestRank(sorted, 0.5), p95: nearestRank(sorted, 0.95) };
  }

  /**
   * The `percent` percentile (nearest rank, 0 < percent <= 100) of the samples taken at or after
   * `since`, or undefined when fewer than `minSamples` (at least 1) were.
   */
  percentile(percent: number, since: number, minSamples = 1): number | undefined {
    const held = this.samples.slice(0, this.count).filter((_, i) => this.takenAt[i]! >= since);
    if (held.length === 0 || held.length < minSamples) return undefined;
    return nearestRank(held.sort(), percent / 100);
  }

  reset(): void {
    this.count = 0;
    this.next = 0;
  }
}

function nearestRank(sorted: Float64Array, p: number): number {
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[rank - 1]!;
}
