import { DEFAULT_CACHE_MAX_ENTRIES, type CacheConfig } from './types.js';
import type { ChatRequest, FinishReason, ToolCall, Usage } from '../request/types.js';
import type { Clock } from '../time/clock.js';
import { keyPrefix, requestDigest, storeKey } from './cacheKey.js';

/** What the cache keeps of an answer: the answer itself and where it came from, nothing else. */
export interface CachedAnswer {
  text: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  usage: Usage;
  model: string;
  provider: string;
  /** Clock time the answer was stored. */
  storedAt: number;
}

/** `save` input: `storedAt` defaults to the clock's now. */
export type CachedAnswerInput = Omit<CachedAnswer, 'storedAt'> & { storedAt?: number };

export interface CacheHit {
  answer: CachedAnswer;
  /** Younger than `ttlMs`: good for read-through. Otherwise only a stale fallback. */
  fresh: boolean;
  ageMs: number;
}

/** `unchanged`: in 'on-failure' mode, this cache stored an answer to the same request less than `ttlMs / 10` ago. */
export type CacheSaveResult = 'saved' | 'unchanged' | 'too_large' | 'disabled' | 'failed';

export interface ResponseCacheOptions {
  /** Longest a store call may take before the cache gives up on it. Default 50 ms. */
  storeTimeoutMs?: number;
  /** Told about every store failure, timeout and corrupt entry (the cache itself never throws). */
  onStoreError?: (error: CacheStoreError) => void;
}

export const DEFAULT_STORE_TIMEOUT_MS = 50;

export type CacheStoreOperation = 'get' | 'set';
export type CacheStoreProblem = 'failed' | 'timeout' | 'corrupt';

/** A store call that failed, timed out, or returned something that is not a cached answer. */
export class CacheStoreError extends Error {
  override readonly name = 'CacheStoreError';
  readonly operation: CacheStoreOperation;
  readonly problem: CacheStoreProblem;
  /** The store's kind ('memory', 'redis', …). */
  readonly storeKind: string;

  constructor(operation: CacheStoreOperation, problem: CacheStoreProblem, storeKind: string, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.operation = operation;
    this.problem = problem;
    this.storeKind = storeKind;
  }
}

/** Stored envelope version; a different version reads as a miss. */
const ENTRY_VERSION = 1;

const FINISH_REASONS: ReadonlySet<string> = new Set<FinishReason>(['stop', 'length', 'tool_calls', 'content_filter', 'error', 'other']);

/**
 * In 'on-failure' mode the entry is only a stand-in for outages, read when every target failed:
 * an answer this cache stored less than this share of `ttlMs` ago is kept rather than rewritten
 * by every later answer to the same request (which cost a third of the pipeline's CPU).
 */
const REFRESH_SHARE = 0.1;
/** Most keys whose last write this cache remembers (the oldest is forgotten first: then it is written again). */
const MAX_REMEMBERED_WRITES = DEFAULT_CACHE_MAX_ENTRIES;

const TIMED_OUT: unique symbol = Symbol('timed out');
const FAILED: unique symbol = Symbol('failed');

/**
 * Answers by request, for read-through serving and as the stale fallback when every target
 * failed (DESIGN §1). The cache is an optimisation and a safety net, never a new way to fail:
 * a store that throws, hangs past `storeTimeoutMs` or returns garbage makes `lookup` a miss
 * and `save` a no-op, reported through `onStoreError`.
 *
 * Entries live in the store for `ttlMs + staleTtlMs`: fresh while younger than `ttlMs`, stale
 * after. Store timeouts run on the injected clock, so with a fake clock they fire on `advance`;
 * an in-process store (`inProcess`) cannot hang and gets no timer.
 *
 * In 'on-failure' mode a request answered again within `ttlMs / 10` of the answer this cache
 * stored for it is not rewritten (`unchanged`): the entry keeps the earlier answer and its age.
 * In 'read-through' mode every save follows a miss and is written.
 */
export class ResponseCache {
  readonly config: CacheConfig;
  readonly chain: string;
  private readonly clock: Clock;
  private readonly storeTimeoutMs: number;
  private readonly onStoreError: ((error: CacheStoreError) => void) | undefined;
  /** The store cannot hang: no timeout timer around its calls. */
  private readonly inProcess: boolean;
  /** `bulwark:cache:<chain>:`, escaped once. */
  private readonly keyPrefix: string;
  /**
   * Request digest (partition included, so it names one entry of this chain) → clock time this
   * cache last wrote it ('on-failure' mode), oldest write first. Keyed by the digest rather than
   * the key: no key string is built, flattened and hashed for an answer that is not rewritten.
   */
  private readonly writtenAt = new Map<string, number>();
  /** Store writes in flight: `flush()` waits for them. */
  private readonly writes = new Set<Promise<unknown>>();

  constructor(config: CacheConfig, chain: string, clock: Clock, options: ResponseCacheOptions = {}) {
    // > 0: the cache store's timeoutMs, validated at construction (cache.store.timeoutMs).
    const storeTimeoutMs = options.storeTimeoutMs ?? DEFAULT_STORE_TIMEOUT_MS;
    this.config = config;
    this.chain = chain;
    this.keyPrefix = keyPrefix(chain);
    this.clock = clock;
    this.storeTimeoutMs = storeTimeoutMs;
    this.onStoreError = options.onStoreError;
    this.inProcess = config.store.inProcess === true;
  }

  /** The key this request is cached under. */
  keyOf(request: ChatRequest): string {
    return storeKey(this.keyPrefix, request.partition, requestDigest(request.partition, request));
  }

  /** The cached answer for this request (fresh or stale), or undefined: a miss, or the store misbehaved. */
  async lookup(request: ChatRequest): Promise<CacheHit | undefined> {
    if (this.config.mode === 'off') return undefined;
    let key: string;
    try {
      key = this.keyOf(request);
    } catch {
      return undefined; // an unhashable request (circular) is simply not cached
    }
    const raw = await this.call('get', () => this.config.store.get(key));
    if (raw === TIMED_OUT || raw === FAILED || raw === undefined || raw === null) return undefined;

    const answer = this.parse(raw);
    if (answer === undefined) return undefined;
    const ageMs = Math.max(0, this.clock.now() - answer.storedAt);
    // The store should have expired it already; don't trust every store to be exact.
    if (ageMs >= this.config.ttlMs + this.config.staleTtlMs) return undefined;
    return { answer, fresh: ageMs < this.config.ttlMs, ageMs };
  }

  /**
   * Stores an answer for this request. Resolves (never rejects) once stored, skipped or failed;
   * the result says which. Only the `CachedAnswer` fields are stored, whatever else `answer` holds.
   */
  async save(request: ChatRequest, answer: CachedAnswerInput): Promise<CacheSaveResult> {
    if (this.config.mode === 'off') return 'disabled';
    const ttl = this.config.ttlMs + this.config.staleTtlMs;
    if (!(ttl > 0)) return 'disabled';
    const now = this.clock.now();
    let digest: string;
    let json: string;
    try {
      digest = requestDigest(request.partition, request);
      if (this.writtenRecently(digest, now)) return 'unchanged';
      json = JSON.stringify({ v: ENTRY_VERSION, ...pick(answer, now) });
    } catch {
      return 'disabled';
    }
    if (Buffer.byteLength(json, 'utf8') > this.config.maxEntryBytes) return 'too_large';
    // Remembered before the write settles, so concurrent answers to the same request write once.
    this.rememberWrite(digest, now);
    const key = storeKey(this.keyPrefix, request.partition, digest);
    const write = this.call('set', () => this.config.store.set(key, json, ttl));
    this.writes.add(write);
    const done = await write;
    this.writes.delete(write);
    if (done !== TIMED_OUT && done !== FAILED) return 'saved';
    this.writtenAt.delete(digest);
    return 'failed';
  }

  /** Resolves once every store write started so far has settled (stored, failed or timed out). */
  async flush(): Promise<void> {
    await Promise.all([...this.writes]);
  }

  /** 'on-failure' mode: this cache wrote the request's entry less than `ttlMs / 10` ago. */
  private writtenRecently(digest: string, now: number): boolean {
    if (this.config.mode !== 'on-failure') return false;
    const at = this.writtenAt.get(digest);
    return at !== undefined && now - at < this.config.ttlMs * REFRESH_SHARE;
  }

  private rememberWrite(digest: string, now: number): void {
    if (this.config.mode !== 'on-failure') return;
    // Re-inserted: the map stays in write order, so the oldest write is forgotten first.
    this.writtenAt.delete(digest);
    this.writtenAt.set(digest, now);
    if (this.writtenAt.size > MAX_REMEMBERED_WRITES) this.writtenAt.delete(this.writtenAt.keys().next().value!);
  }

  /** Runs one store call, bounded by the timeout; never throws. */
  private call<T>(operation: CacheStoreOperation, fn: () => Promise<T>): Promise<T | typeof TIMED_OUT | typeof FAILED> {
    return new Promise((resolve) => {
      let finished = false;
      const finish = (value: T | typeof TIMED_OUT | typeof FAILED) => {
        if (finished) return false;
        finished = true;
        cancelTimer?.();
        resolve(value);
        return true;
      };
      const cancelTimer = this.inProcess
        ? undefined
        : this.clock.setTimer(() => {
            if (finish(TIMED_OUT)) {
              this.report(new CacheStoreError(operation, 'timeout', this.storeKind(), `cache store ${operation} took longer than ${this.storeTimeoutMs} ms`));
            }
          }, this.storeTimeoutMs);
      const fail = (error: unknown) => {
        if (finish(FAILED)) this.report(new CacheStoreError(operation, 'failed', this.storeKind(), `cache store ${operation} failed: ${describe(error)}`, error));
      };
      try {
        Promise.resolve(fn()).then((value) => finish(value), fail);
      } catch (error) {
        fail(error);
      }
    });
  }

  private parse(raw: unknown): CachedAnswer | undefined {
    const corrupt = (why: string, cause?: unknown) => {
      this.report(new CacheStoreError('get', 'corrupt', this.storeKind(), `cache entry is not a cached answer: ${why}`, cause));
      return undefined;
    };
    if (typeof raw !== 'string') return corrupt(`expected a string, got ${typeof raw}`);
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      return corrupt('invalid JSON', error);
    }
    if (!isRecord(value)) return corrupt('not an object');
    if (value.v !== ENTRY_VERSION) return undefined; // written by another version: a plain miss
    const answer = validate(value);
    return typeof answer === 'string' ? corrupt(answer) : answer;
  }

  private storeKind(): string {
    const kind: unknown = this.config.store.kind;
    return typeof kind === 'string' ? kind : 'unknown';
  }

  private report(error: CacheStoreError): void {
    try {
      this.onStoreError?.(error);
    } catch {
      // A reporting bug must not turn a cache problem into a request failure.
    }
  }
}

/** The optional parts of a Usage a cached answer keeps. */
const USAGE_BREAKDOWNS = ['cacheReadTokens', 'cacheWriteTokens', 'reasoningTokens'] as const satisfies readonly (keyof Usage)[];

/** Copies exactly the stored fields: never credentials or anything else riding along. */
function pick(answer: CachedAnswerInput, now: number): CachedAnswer {
  const usage: Usage = { inputTokens: answer.usage.inputTokens, outputTokens: answer.usage.outputTokens };
  for (const key of USAGE_BREAKDOWNS) if (answer.usage[key] !== undefined) usage[key] = answer.usage[key];
  return {
    text: answer.text,
    toolCalls: answer.toolCalls.map((c) => ({ id: c.id, name: c.name, arguments: c.arguments })),
    finishReason: answer.finishReason,
    usage,
    model: answer.model,
    provider: answer.provider,
    storedAt: answer.storedAt ?? now,
  };
}

/** The answer, or why the value is not one. */
function validate(v: Record<string, unknown>): CachedAnswer | string {
  if (typeof v.text !== 'string') return 'text';
  if (!Array.isArray(v.toolCalls)) return 'toolCalls';
  const toolCalls: ToolCall[] = [];
  for (const c of v.toolCalls as unknown[]) {
    if (!isRecord(c) || typeof c.id !== 'string' || typeof c.name !== 'string' || typeof c.arguments !== 'string') return 'toolCalls';
    toolCalls.push({ id: c.id, name: c.name, arguments: c.arguments });
  }
  if (typeof v.finishReason !== 'string' || !FINISH_REASONS.has(v.finishReason)) return 'finishReason';
  if (!isRecord(v.usage) || !isCount(v.usage.inputTokens) || !isCount(v.usage.outputTokens)) return 'usage';
  const stored = v.usage;
  if (USAGE_BREAKDOWNS.some((key) => stored[key] !== undefined && !isCount(stored[key]))) return 'usage';
  if (typeof v.model !== 'string') return 'model';
  if (typeof v.provider !== 'string') return 'provider';
  if (typeof v.storedAt !== 'number' || !Number.isFinite(v.storedAt)) return 'storedAt';
  const usage: Usage = { inputTokens: v.usage.inputTokens, outputTokens: v.usage.outputTokens };
  for (const key of USAGE_BREAKDOWNS) if (stored[key] !== undefined) usage[key] = stored[key] as number;
  return {
    text: v.text,
    toolCalls,
    finishReason: v.finishReason as FinishReason,
    usage,
    model: v.model,
    provider: v.provider,
    storedAt: v.storedAt,
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
