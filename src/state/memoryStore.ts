import { ConfigError } from '../errors/bulwarkError.js';
import { asConfigError, rejectUnknownKeys } from '../validation/walk.js';
import { systemClock, type Clock } from '../time/clock.js';
import type { KeyValueStore } from './store.js';

export interface MemoryStoreOptions {
  /** Most entries kept; the least recently used goes first. Default 10 000. */
  maxEntries?: number;
  /** Time source for expiry (tests inject a fake one). */
  clock?: Clock;
}

/** The in-process store: what `memoryStore()` returns. */
export interface MemoryStore extends KeyValueStore {
  readonly kind: 'memory';
  readonly inProcess: true;
  /** Live (unexpired) entries. */
  size(): number;
}

export const DEFAULT_MEMORY_STORE_MAX_ENTRIES = 10_000;

/**
 * The embedded default store: bounded by entry count, with a TTL per entry, evicting the least
 * recently used entry first — approximately, as a "second chance" (CLOCK) ring. Entries live in
 * slots of parallel arrays (key, value, expiry, a used mark) and a Map finds a key's slot: an entry
 * is its two strings and a Map entry, with no object or boxed number of its own (every entry of a
 * cache that answers unique prompts outlives many young-generation GCs, so what it holds is copied
 * and promoted: the store's own overhead was 64 bytes of ~450 per entry). A read or a re-set only
 * marks its slot used. When full, the hand sweeps the ring from where it stopped: an expired entry
 * is evicted at once, a used one is unmarked and passed over (its second chance), the first unused
 * one is evicted and its slot takes the new entry; nothing moves, so eviction is amortised O(1).
 * The room of deleted and expired entries is reused first. Expired entries are also dropped when read.
 */
export function memoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  if (options === null || typeof options !== 'object') throw new ConfigError('memoryStore options', 'must be an object');
  asConfigError(() => rejectUnknownKeys(options, ['maxEntries', 'clock'], 'memoryStore'));
  const maxEntries = options.maxEntries ?? DEFAULT_MEMORY_STORE_MAX_ENTRIES;
  if (typeof maxEntries !== 'number' || !Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new ConfigError('memoryStore.maxEntries', `must be an integer >= 1, got ${String(maxEntries)}`);
  }
  const clock = options.clock ?? systemClock;
  if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function') {
    throw new ConfigError('memoryStore.clock', 'must be a Clock with now()');
  }
  return new SlotStore(maxEntries, clock);
}

/** Slots a store starts with (the arrays double up to maxEntries as entries arrive). */
const INITIAL_SLOTS = 1024;

class SlotStore implements MemoryStore {
  readonly kind = 'memory';
  readonly inProcess = true;
  /** The slot of each live key. */
  private readonly slotOf = new Map<string, number>();
  /** Per slot: its key and value (undefined when the slot is free), when it expires, whether it was used since the hand passed. */
  private keys: Array<string | undefined> = [];
  private values: Array<string | undefined> = [];
  private expiresAt: Float64Array;
  private used: Uint8Array;
  /** Slots below `keys.length` whose entry was deleted or expired: reused before the ring grows. */
  private free: number[] = [];
  /** Where the eviction sweep goes on from. */
  private hand = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly clock: Clock,
  ) {
    const slots = Math.min(maxEntries, INITIAL_SLOTS);
    this.expiresAt = new Float64Array(slots);
    this.used = new Uint8Array(slots);
  }

  async get(key: string): Promise<string | undefined> {
    const slot = this.slotOf.get(key);
    if (slot === undefined) return undefined;
    if (this.expiresAt[slot]! <= this.clock.now()) {
      this.drop(key, slot);
      return undefined;
    }
    this.used[slot] = 1;
    return this.values[slot];
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    if (typeof value !== 'string') throw new TypeError('memoryStore.set: value must be a string');
    if (!(ttlMs > 0)) throw new RangeError(`memoryStore.set: ttlMs must be > 0, got ${ttlMs}`);
    const now = this.clock.now();
    let slot = this.slotOf.get(key);
    if (slot !== undefined) {
      // Re-setting a key counts as using it.
      this.values[slot] = value;
      this.expiresAt[slot] = now + ttlMs;
      this.used[slot] = 1;
      return;
    }
    // Found before the insert: a new entry is never the one evicted to make room for itself.
    const reused = this.free.pop();
    slot = reused ?? this.slotForNew(now);
    this.keys[slot] = key;
    this.values[slot] = value;
    this.expiresAt[slot] = now + ttlMs;
    // A slot the sweep just left (or a new one) is the last it reaches again; a freed slot may be the
    // next: marked, the new entry is passed over once there, as if just used.
    this.used[slot] = reused === undefined ? 0 : 1;
    this.slotOf.set(key, slot);
  }

  async delete(key: string): Promise<void> {
    const slot = this.slotOf.get(key);
    if (slot !== undefined) this.drop(key, slot);
  }

  async close(): Promise<void> {
    this.slotOf.clear();
    this.keys = [];
    this.values = [];
    this.free = [];
    this.hand = 0;
  }

  size(): number {
    const now = this.clock.now();
    for (const [key, slot] of this.slotOf) if (this.expiresAt[slot]! <= now) this.drop(key, slot);
    return this.slotOf.size;
  }

  private drop(key: string, slot: number): void {
    this.slotOf.delete(key);
    this.keys[slot] = undefined;
    this.values[slot] = undefined;
    this.free.push(slot);
  }

  /** With no free slot: a new one while below maxEntries, else the one the sweep evicts. */
  private slotForNew(now: number): number {
    const count = this.keys.length;
    if (count < this.maxEntries) {
      if (count === this.expiresAt.length) this.grow(Math.min(this.maxEntries, count * 2));
      this.keys.push(undefined);
      this.values.push(undefined);
      return count;
    }
    for (;;) {
      const slot = this.hand;
      this.hand = slot + 1 === count ? 0 : slot + 1;
      // Full with no free slot: every slot holds an entry.
      if (this.used[slot] === 1 && this.expiresAt[slot]! > now) {
        this.used[slot] = 0;
        continue;
      }
      this.slotOf.delete(this.keys[slot]!);
      return slot;
    }
  }

  private grow(slots: number): void {
    const expiresAt = new Float64Array(slots);
    expiresAt.set(this.expiresAt);
    this.expiresAt = expiresAt;
    const used = new Uint8Array(slots);
    used.set(this.used);
    this.used = used;
  }
}
