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

interface Entry {
  value: string;
  expiresAt: number;
  /** Read or re-set since eviction last passed over it: it gets a second chance. */
  used: boolean;
}

export const DEFAULT_MEMORY_STORE_MAX_ENTRIES = 10_000;

/**
 * The embedded default store: bounded by entry count, with a TTL per entry, evicting the least
 * recently used entry first — as a "second chance" (CLOCK) list: a Map iterates in insertion
 * order, and a read or a re-set only marks its entry used instead of moving it (a delete and a
 * set per read churns the Map's table and leaves garbage that outlives young-generation GCs).
 * When full, eviction looks at the oldest entry: used since it was last looked at → unmarked and
 * moved to the back; otherwise evicted. Expired entries are dropped when read; entries nobody
 * reads reach the front unmarked and are the first evicted, so eviction stays amortised O(1).
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

  const entries = new Map<string, Entry>();

  function live(key: string, now: number): Entry | undefined {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  }

  function purgeExpired(now: number): void {
    for (const [key, entry] of entries) if (entry.expiresAt <= now) entries.delete(key);
  }

  /** Makes room for one more entry: evicts the oldest entry not used since eviction last passed over it. */
  function makeRoom(): void {
    while (entries.size >= maxEntries) {
      const [key, entry] = entries.entries().next().value!;
      entries.delete(key);
      if (entry.used) {
        entry.used = false;
        entries.set(key, entry);
      }
    }
  }

  return {
    kind: 'memory',
    inProcess: true,

    async get(key) {
      const entry = live(key, clock.now());
      if (entry === undefined) return undefined;
      entry.used = true;
      return entry.value;
    },

    async set(key, value, ttlMs) {
      if (typeof value !== 'string') throw new TypeError('memoryStore.set: value must be a string');
      if (!(ttlMs > 0)) throw new RangeError(`memoryStore.set: ttlMs must be > 0, got ${ttlMs}`);
      const expiresAt = clock.now() + ttlMs;
      const entry = entries.get(key);
      if (entry === undefined) {
        // Before the insert: a new entry is never the one evicted to make room for itself.
        makeRoom();
        entries.set(key, { value, expiresAt, used: false });
        return;
      }
      entry.value = value;
      entry.expiresAt = expiresAt;
      entry.used = true;
    },

    async delete(key) {
      entries.delete(key);
    },

    async close() {
      entries.clear();
    },

    size() {
      purgeExpired(clock.now());
      return entries.size;
    },
  };
}
