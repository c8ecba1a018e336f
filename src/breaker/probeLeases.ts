/**
 * A half-open breaker's probe slots, held as leases. A probe permit nobody settles (a stream
 * whose consumer walked away without closing it, a caller's bug) frees its slot when its lease
 * runs out, instead of leaving the breaker half-open with no slot free — and its target without
 * traffic — for good. (The shared breaker's fleet-wide slots are leases in Redis; these are the
 * in-process ones.)
 */
export class ProbeLeases {
  readonly leaseMs: number;
  /** Lease id → expiry. Never more than the probe limit: expired leases go before a new one. */
  private readonly leases = new Map<number, number>();
  private lastId = 0;

  /** `leaseMs` > 0: the engine's total deadline (timeouts.totalMs, validated at construction). */
  constructor(leaseMs: number) {
    this.leaseMs = leaseMs;
  }

  /** A lease id, or undefined when `max` unexpired leases are held. */
  take(now: number, max: number): number | undefined {
    for (const [id, expiresAt] of this.leases) if (expiresAt <= now) this.leases.delete(id);
    if (this.leases.size >= max) return undefined;
    const id = ++this.lastId;
    this.leases.set(id, now + this.leaseMs);
    return id;
  }

  /** Frees a slot (no-op when its lease ran out or was cleared). */
  release(id: number): void {
    this.leases.delete(id);
  }

  /** A new half-open period: no probe is out. */
  clear(): void {
    this.leases.clear();
  }
}
