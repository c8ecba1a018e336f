/**
 * Named counters over a sliding time window, kept in a ring of time buckets so memory and the
 * cost of a read are fixed however busy the target is (the failure-rate breaker and the retry
 * budget both count "what happened in the last windowMs").
 *
 * The window is the current bucket plus the `buckets - 1` before it: an event is forgotten
 * between `windowMs - bucketMs` and `windowMs` after it happened (exactly `windowMs` after it
 * when it lands on a bucket boundary). Time is taken from the caller and never runs backwards
 * here: an earlier `now` than one already seen counts as the latest one.
 */
export class SlidingWindowCounter<Name extends string> {
  readonly windowMs: number;
  readonly bucketMs: number;
  private readonly names: readonly Name[];
  /** Bucket epoch (floor(t / bucketMs)) each ring slot currently holds; -Infinity when empty. */
  private readonly epochs: number[];
  private readonly counts: Record<Name, number>[];
  private latest = -Infinity;

  /** `windowMs` finite and > 0: breaker.windowMs or retry.budget.windowMs, validated at construction. */
  constructor(names: readonly Name[], windowMs: number, buckets = 10) {
    if (!Number.isInteger(buckets) || buckets < 1) throw new RangeError(`buckets must be an integer >= 1, got ${buckets}`);
    this.names = names;
    this.windowMs = windowMs;
    this.bucketMs = windowMs / buckets;
    this.epochs = Array.from({ length: buckets }, () => -Infinity);
    this.counts = Array.from({ length: buckets }, () => this.zero());
  }

  /** Adds `n` to counter `name` at time `now`. */
  add(now: number, name: Name, n = 1): void {
    const epoch = this.epochOf(now);
    const slot = this.slotOf(epoch);
    if (this.epochs[slot] !== epoch) {
      this.epochs[slot] = epoch;
      this.counts[slot] = this.zero();
    }
    this.counts[slot]![name] += n;
  }

  /** Sums of every counter over the window ending at `now`. */
  totals(now: number): Record<Name, number> {
    const epoch = this.epochOf(now);
    const oldest = epoch - this.epochs.length + 1;
    const sums = this.zero();
    for (let slot = 0; slot < this.epochs.length; slot++) {
      const e = this.epochs[slot]!;
      if (e < oldest || e > epoch) continue;
      const c = this.counts[slot]!;
      for (const name of this.names) sums[name] += c[name];
    }
    return sums;
  }

  /** Forgets everything. */
  clear(): void {
    this.epochs.fill(-Infinity);
    for (let slot = 0; slot < this.counts.length; slot++) this.counts[slot] = this.zero();
  }

  private epochOf(now: number): number {
    if (Number.isFinite(now) && now > this.latest) this.latest = now;
    return Math.floor((this.latest === -Infinity ? 0 : this.latest) / this.bucketMs);
  }

  private slotOf(epoch: number): number {
    const n = this.epochs.length;
    return ((epoch % n) + n) % n;
  }

  private zero(): Record<Name, number> {
    const z = {} as Record<Name, number>;
    for (const name of this.names) z[name] = 0;
    return z;
  }
}
