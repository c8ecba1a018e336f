import type { KeyValueStore } from '../state/store.js';

/** 'read-through' serves fresh answers before any call; 'on-failure' only when every target failed. */
export const CACHE_MODES = ['read-through', 'on-failure', 'off'] as const;
export type CacheMode = (typeof CACHE_MODES)[number];

/** The cache slice of the config (validated by config/, composed in config/types.ts). */
export interface CacheConfig {
  store: KeyValueStore;
  /** Fresh for this long: served by 'read-through' before any call. */
  ttlMs: number;
  /** Kept this much longer as a stale answer for when every target fails. */
  staleTtlMs: number;
  mode: CacheMode;
  /** Answers larger than this (serialized bytes) are not cached. */
  maxEntryBytes: number;
}

export const DEFAULT_CACHE_TTL_MS = 3_600_000;
export const DEFAULT_CACHE_STALE_TTL_MS = 86_400_000;
export const DEFAULT_CACHE_MAX_ENTRY_BYTES = 256 * 1024;
export const DEFAULT_CACHE_MAX_ENTRIES = 10_000;
