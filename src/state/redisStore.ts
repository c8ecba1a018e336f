import { ConfigError } from '../errors/bulwarkError.js';
import { asConfigError, rejectUnknownKeys, timerMs } from '../validation/walk.js';
import type { StoreErrorType } from '../events/storeError.js';
import { StoreError, type SharedStateStore, type StateScript, type StoreStatus } from './sharedState.js';

/**
 * The part of a node-redis client (`createClient()` from the `redis` package, 6.3 or later)
 * that redisStore uses. Typed structurally so Bulwark never imports `redis` itself: the
 * package stays an optional peer dependency.
 */
export interface RedisClientLike {
  readonly isReady: boolean;
  readonly isOpen?: boolean;
  sendCommand(args: string[], options?: { timeout?: number }): Promise<unknown>;
  on?(event: 'error', listener: (error: unknown) => void): unknown;
  off?(event: 'error', listener: (error: unknown) => void): unknown;
}

export interface RedisStoreOptions {
  /**
   * Prefix for every key (`<namespace>:bulwark:…`), to keep environments apart on one Redis
   * (staging and production, say). Default: none.
   */
  namespace?: string;
  /** Longest a single Redis call may take before Bulwark gives up on it and uses local state. Default 50 ms. */
  timeoutMs?: number;
  /** How often each process re-reads the shared breaker states, budgets and forced tier. Default 1000 ms. */
  syncIntervalMs?: number;
  /** After a call timed out, calls go straight to local state for this long (the sync keeps probing). Default 1000 ms. */
  pauseAfterTimeoutMs?: number;
}

export const DEFAULT_REDIS_TIMEOUT_MS = 50;
const NOT_CONNECTED = 'the Redis client is not connected';
export const DEFAULT_SYNC_INTERVAL_MS = 1000;
export const DEFAULT_PAUSE_AFTER_TIMEOUT_MS = 1000;

/** What `redisStore()` returns: a cache store and a shared-state store in one. */
export interface RedisStore extends SharedStateStore {
  readonly kind: 'redis';
}

/** A duration that becomes a timer: the shared finite rule, > 0 and at most what Node.js can set. */
function positive(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  return asConfigError(() => timerMs(value, `redisStore.${field}`));
}

const REDIS_STORE_OPTIONS = ['namespace', 'timeoutMs', 'syncIntervalMs', 'pauseAfterTimeoutMs'];

/**
 * One 'error' listener per client however many stores share it (one store per chain is usual):
 * a listener per store passed Node's limit of 10 (MaxListenersExceededWarning) and stayed
 * attached for the life of the client. Each store hears every error until it is closed.
 */
const clientErrorListeners = new WeakMap<RedisClientLike, { stores: Set<(error: unknown) => void>; listener: (error: unknown) => void }>();

function listenForErrors(client: RedisClientLike, onError: (error: unknown) => void): () => void {
  let entry = clientErrorListeners.get(client);
  if (!entry) {
    const stores = new Set<(error: unknown) => void>();
    const listener = (error: unknown) => {
      for (const store of stores) store(error);
    };
    entry = { stores, listener };
    clientErrorListeners.set(client, entry);
    client.on?.('error', listener);
  }
  const { stores, listener } = entry;
  stores.add(onError);
  return () => {
    if (!stores.delete(onError) || stores.size > 0) return;
    clientErrorListeners.delete(client);
    client.off?.('error', listener);
  };
}

/** Maps anything a Redis call threw to a low-cardinality `error.type`. */
export function classifyRedisError(error: unknown): StoreErrorType {
  if (error instanceof StoreError) return error.errorType;
  const name = error instanceof Error ? error.name : '';
  const ctor = typeof error === 'object' && error !== null ? (error.constructor?.name ?? '') : '';
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'TimeoutError' || ctor === 'TimeoutError' || ctor === 'AbortError') return 'timeout';
  if (message.startsWith('OOM')) return 'out_of_memory';
  if (/^(NOAUTH|WRONGPASS|NOPERM)/.test(message)) return 'authentication';
  if (/ClientClosed|ClientOffline|SocketClosed|Disconnects/.test(ctor) || /ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EPIPE|closed/i.test(message)) return 'unavailable';
  return 'error';
}

/**
 * A store on Redis, through a node-redis client you create, connect and own:
 *
 * ```ts
 * import { createClient } from 'redis';
 * const client = createClient({ url: process.env.REDIS_URL });
 * client.on('error', (e) => log.warn(e));   // redisStore adds one too, so errors never crash
 * client.connect().catch((e) => log.warn(e)); // no need to wait: Bulwark runs locally until it is ready
 * const llm = createResilientLLM({ name, targets, sharedState: redisStore(client) });
 * ```
 *
 * Used as `sharedState`, it shares breakers, retry budgets, the operator's overrides and (by
 * default) the cache across every process using the same Redis and chain name. Used only as
 * `cache.store`, it shares the cache.
 *
 * Every call is bounded by `timeoutMs`, and is not even attempted while the client is not
 * ready (node-redis would otherwise queue it until the reconnect): callers fall back to local
 * state at once. The client is never closed by Bulwark.
 */
export function redisStore(client: RedisClientLike, options: RedisStoreOptions = {}): RedisStore {
  if (typeof client !== 'object' || client === null || typeof (client as Partial<RedisClientLike>).sendCommand !== 'function' || !('isReady' in client)) {
    throw new ConfigError('redisStore(client)', "expects a node-redis client: createClient() from the 'redis' package (6.3 or later)");
  }
  if (options === null || typeof options !== 'object') throw new ConfigError('redisStore options', 'must be an object');
  asConfigError(() => rejectUnknownKeys(options, REDIS_STORE_OPTIONS, 'redisStore'));
  const namespace = options.namespace;
  if (namespace !== undefined && (typeof namespace !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(namespace))) {
    throw new ConfigError('redisStore.namespace', `must be 1-64 characters of letters, digits, '_', '.', ':', '-', got ${String(namespace)}`);
  }
  const timeoutMs = positive('timeoutMs', options.timeoutMs, DEFAULT_REDIS_TIMEOUT_MS);
  const syncIntervalMs = positive('syncIntervalMs', options.syncIntervalMs, DEFAULT_SYNC_INTERVAL_MS);
  const pauseMs = positive('pauseAfterTimeoutMs', options.pauseAfterTimeoutMs, DEFAULT_PAUSE_AFTER_TIMEOUT_MS);
  const keyPrefix = namespace ? `${namespace}:` : '';

  let pausedUntil = 0;
  let lastError: StoreStatus['lastError'];
  // node-redis throws an 'error' event that nobody listens to, which would take the process
  // down; Bulwark's fallback promise ("never a crash") needs a listener. It only records.
  const stopListening = listenForErrors(client, (error: unknown) => {
    lastError = { type: classifyRedisError(error), message: describe(error), at: Date.now() };
  });

  const ready = () => client.isReady === true;

  function call(args: string[], probe = false, limitMs = timeoutMs): Promise<unknown> {
    if (!ready()) {
      // Keep the client's own last error (ECONNREFUSED, WRONGPASS, …): it says why.
      lastError ??= { type: 'unavailable', message: NOT_CONNECTED, at: Date.now() };
      const why = lastError.message === NOT_CONNECTED ? '' : ` (last error: ${lastError.message})`;
      // A client that cannot log in is as unavailable as a down one, but the metric should say why.
      const type: StoreErrorType = lastError.type === 'authentication' ? 'authentication' : 'unavailable';
      return Promise.reject(new StoreError(type, 'redis', `${NOT_CONNECTED}${why}`));
    }
    if (!probe && Date.now() < pausedUntil) {
      return Promise.reject(new StoreError('unavailable', 'redis', 'Redis calls are paused after a timeout'));
    }
    return new Promise((resolve, reject) => {
      let done = false;
      const timer = setTimeout(() => {
        if (done) return;
        done = true;
        pausedUntil = Date.now() + pauseMs;
        reject(fail(new StoreError('timeout', 'redis', `Redis did not answer within ${timeoutMs} ms`)));
      }, limitMs);
      timer.unref?.();
      let sent: Promise<unknown>;
      try {
        sent = client.sendCommand(args, { timeout: limitMs });
      } catch (error) {
        sent = Promise.reject(error);
      }
      sent.then(
        (value) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          lastError = undefined;
          resolve(value);
        },
        (error: unknown) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          const type = classifyRedisError(error);
          if (type === 'timeout') pausedUntil = Date.now() + pauseMs;
          reject(fail(error instanceof StoreError ? error : new StoreError(type, 'redis', `Redis: ${describe(error)}`, error)));
        },
      );
    });
  }

  function fail(error: StoreError): StoreError {
    lastError = { type: error.errorType, message: error.message, at: Date.now() };
    return error;
  }

  async function runScript(s: StateScript, keys: readonly string[], args: readonly (string | number)[], opts: { probe?: boolean } = {}): Promise<string> {
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    const startedAt = Date.now();
    let reply: unknown;
    try {
      reply = await call(['EVALSHA', s.sha, ...tail], opts.probe);
    } catch (error) {
      // A restarted Redis has an empty script cache: load it with the script itself, within
      // what is left of the one timeout the whole call may take.
      if (!(error instanceof StoreError) || !/NOSCRIPT/.test(error.message)) throw error;
      reply = await call(['EVAL', s.source, ...tail], opts.probe, Math.max(1, timeoutMs - (Date.now() - startedAt)));
    }
    if (typeof reply !== 'string') throw fail(new StoreError('corrupt', 'redis', `script ${s.name} replied with ${typeof reply}, not JSON text`));
    return reply;
  }

  return {
    kind: 'redis',
    shared: true,
    keyPrefix,
    timeoutMs,
    syncIntervalMs,

    available: () => ready() && Date.now() >= pausedUntil,

    status: () => ({
      kind: 'redis',
      available: ready() && Date.now() >= pausedUntil,
      ...(lastError && { lastError: { ...lastError } }),
    }),

    runScript,

    async get(key) {
      const value = await call(['GET', keyPrefix + key]);
      if (value === null || value === undefined) return undefined;
      if (typeof value === 'string') return value;
      if (Buffer.isBuffer(value)) return value.toString('utf8');
      throw fail(new StoreError('corrupt', 'redis', `GET replied with ${typeof value}`));
    },

    async set(key, value, ttlMs) {
      if (typeof value !== 'string') throw new TypeError('redisStore.set: value must be a string');
      if (!(ttlMs > 0)) throw new RangeError(`redisStore.set: ttlMs must be > 0, got ${ttlMs}`);
      await call(['SET', keyPrefix + key, value, 'PX', String(Math.ceil(ttlMs))]);
    },

    async delete(key) {
      await call(['DEL', keyPrefix + key]);
    },

    async close() {
      // The client is the application's: it closes it. Only detach what redisStore added.
      stopListening();
    },
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
