import type { StoreErrorEvent, StoreErrorType } from '../events/storeError.js';
import { STORE_ERROR_TYPES, STORE_OPERATIONS } from '../telemetry/names.js';
import type { KeyValueStore } from './store.js';

/**
 * What a store must offer, beyond get/set/delete, to share breaker state, retry budgets and
 * operator overrides across processes: atomic scripts (one round trip, all or nothing) and a
 * cheap "can I call you now?" check. `redisStore(client)` is the implementation; the in-memory
 * store is process-local and is not one (leave `sharedState` unset for in-memory state).
 */
export interface SharedStateStore extends KeyValueStore {
  readonly shared: true;
  /**
   * Whether a call may be made now: false while the client is disconnected, or for a short
   * pause after a call timed out. Callers then use local state at once instead of waiting.
   */
  available(): boolean;
  /**
   * Runs one of Bulwark's state scripts atomically and returns its JSON reply (a string).
   * Rejects with a StoreError (never hangs longer than the store's timeout). `probe: true`
   * ignores the pause after a timeout (the background sync uses it to notice recovery).
   */
  runScript(script: StateScript, keys: readonly string[], args: readonly (string | number)[], options?: { probe?: boolean }): Promise<string>;
  /** The store's own view of its health, for `health()` and the operator handler. */
  status(): StoreStatus;
  /** Prefix for every key this store writes (`namespace:`), '' when none. */
  readonly keyPrefix: string;
  /** Longest a single call may take, ms. */
  readonly timeoutMs: number;
  /** How often processes re-read the shared state, ms. */
  readonly syncIntervalMs: number;
}

export interface StoreStatus {
  kind: string;
  /** The client is connected and no call is paused. */
  available: boolean;
  /** The last failure (type and message), if the last call failed. */
  lastError?: { type: StoreErrorType; message: string; at: number };
}

/** A named Lua script: its source and the SHA1 Redis knows it by. */
export interface StateScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

export { STORE_ERROR_TYPES, STORE_OPERATIONS };

/** A store call that failed, timed out, or found the store unreachable. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly errorType: StoreErrorType;
  readonly storeKind: string;
  constructor(errorType: StoreErrorType, storeKind: string, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.errorType = errorType;
    this.storeKind = storeKind;
  }
}

export function isSharedStateStore(value: unknown): value is SharedStateStore {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<SharedStateStore>;
  return v.shared === true && typeof v.runScript === 'function' && typeof v.available === 'function' && typeof v.get === 'function' && typeof v.set === 'function';
}

/** The store error type of anything a store call threw. */
export function storeErrorTypeOf(error: unknown): StoreErrorType {
  return error instanceof StoreError ? error.errorType : 'error';
}

/**
 * Where a chain's shared state lives. Every key of one chain carries the same hash tag
 * (`{chain}`), so a script touching several of them stays on one Redis Cluster slot.
 * Segments are percent-encoded so neither a chain nor a breaker key can forge another's key.
 */
export function stateKeys(prefix: string, chain: string) {
  const base = `${prefix}bulwark:{${encodeURIComponent(chain)}}`;
  return {
    tier: `${base}:tier`,
    breaker: (key: string) => `${base}:breaker:${encodeURIComponent(key)}`,
    probes: (key: string) => `${base}:probes:${encodeURIComponent(key)}`,
    budget: (key: string) => `${base}:budget:${encodeURIComponent(key)}`,
    /** A hedging policy's budget: the chain's (scope 'chain') or a pool's ('pool:<name>'). */
    hedgeBudget: (scope: string) => `${base}:hedge-budget:${encodeURIComponent(scope)}`,
    limit: (key: string) => `${base}:limit:${encodeURIComponent(key)}`,
    leases: (key: string) => `${base}:leases:${encodeURIComponent(key)}`,
  };
}

/** The report of a failed cache store call (ResponseCache's CacheStoreError, structurally). */
export function cacheStoreErrorEvent(e: { operation: 'get' | 'set'; problem: 'failed' | 'timeout' | 'corrupt'; storeKind: string; message: string; cause?: unknown }): StoreErrorEvent {
  const errorType: StoreErrorType = e.problem === 'timeout' ? 'timeout' : e.problem === 'corrupt' ? 'corrupt' : storeErrorTypeOf(e.cause);
  return { operation: e.operation === 'get' ? 'cache.get' : 'cache.set', errorType, storeKind: e.storeKind, message: e.message };
}
