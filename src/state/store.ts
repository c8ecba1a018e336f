/**
 * The one small storage interface behind the cache (and, with a shared store, breaker state,
 * retry budgets and operator overrides). In-memory by default; Redis when processes must agree.
 * Values are strings (JSON); every call may fail or time out — callers degrade to local state.
 */
export interface KeyValueStore {
  readonly kind: string;
  /**
   * True when every call settles without I/O (the in-process `memoryStore()`): it cannot hang, so
   * callers set no timeout timer around its calls. Leave it unset for any store that does I/O.
   */
  readonly inProcess?: boolean;
  get(key: string): Promise<string | undefined>;
  /** Stores `value`, expiring after `ttlMs`. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  close?(): Promise<void>;
}
