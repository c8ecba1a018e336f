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
  /** Live (unexpired) entries. */
  size(): number;
}

interface Entry {
  value: string;
  expiresAt: number;
}

export const DEFAULT_MEMORY_STORE_MAX_ENTRIES = 10_000;

/**
 * The embedded default store: a Map used as an LRU (a Map iterates in insertion order, so
 * re-inserting on every read keeps the least recently used entry first), bounded by entry
 * count, with a TTL per entry. Expired entries are dropped when read; entries nobody reads
 * drift to the least-recently-used end and are the first evicted, so eviction stays O(1).
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

  return {
    kind: 'memory',

    async get(key) {
      const entry = live(key, clock.now());
      if (entry === undefined) return undefined;
      entries.delete(key);
      entries.set(key, entry);
      return entry.value;
    },

    async set(key, value, ttlMs) {
      if (typeof value !== 'string') throw new TypeError('memoryStore.set: value must be a string');
      if (!(ttlMs > 0)) throw new RangeError(`memoryStore.set: ttlMs must be > 0, got ${ttlMs}`);
      const now = clock.now();
      entries.delete(key);
      entries.set(key, { value, expiresAt: now + ttlMs });
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done === true) break;
        entries.delete(oldest.value);
      }
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
