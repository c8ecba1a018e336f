import { ConfigError } from '../errors/bulwarkError.js';
import type { ModelPrice, Target } from '../providers/adapter.js';
import { systemClock } from '../time/clock.js';
import {
  DEFAULT_BREAKER,
  DEFAULT_CACHE_MAX_ENTRIES,
  DEFAULT_CACHE_MAX_ENTRY_BYTES,
  DEFAULT_CACHE_STALE_TTL_MS,
  DEFAULT_CACHE_TTL_MS,
  DEFAULT_RETRY,
  DEFAULT_RETRY_BUDGET,
  DEFAULT_TIMEOUTS,
} from './defaults.js';
import type { CacheConfig, ResilientLLMOptions, ResolvedConfig } from './types.js';
import { memoryStore } from '../state/memoryStore.js';
import { isSharedStateStore } from '../state/sharedState.js';

type Check = (value: number) => boolean;
const isInt: Check = (v) => Number.isInteger(v);
const positive: Check = (v) => v > 0;
const nonNegative: Check = (v) => v >= 0;
/** Longest timer Node.js can set: a longer one fires after 1 ms, which would cut every call at once. */
const MAX_TIMER_MS = 2_147_483_647;
const timer: [Check, string] = [(v) => v <= MAX_TIMER_MS, `must be at most ${MAX_TIMER_MS} (the longest timer Node.js can set)`];
const finiteNumber: [Check, string] = [(v) => Number.isFinite(v), 'must be a finite number'];

function num(field: string, value: unknown, fallback: number, ...checks: Array<[Check, string]>): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value)) throw new ConfigError(field, `must be a number, got ${describe(value)}`);
  for (const [check, problem] of checks) if (!check(value)) throw new ConfigError(field, `${problem}, got ${value}`);
  return value;
}

function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new ConfigError(field, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : String(value);
}

function object(field: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(field, `must be an object, got ${describe(value)}`);
  return value as Record<string, unknown>;
}

function rejectUnknown(field: string, value: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw new ConfigError(`${field}.${key}`, `is not an option (known: ${known.join(', ')})`);
  }
}

function price(field: string, value: unknown): ModelPrice {
  const p = object(field, value);
  rejectUnknown(field, p, ['inputPerMTok', 'outputPerMTok', 'cachedInputPerMTok']);
  const inputPerMTok = num(`${field}.inputPerMTok`, p.inputPerMTok, Number.NaN, [nonNegative, 'must be >= 0']);
  const outputPerMTok = num(`${field}.outputPerMTok`, p.outputPerMTok, Number.NaN, [nonNegative, 'must be >= 0']);
  if (Number.isNaN(inputPerMTok) || Number.isNaN(outputPerMTok)) throw new ConfigError(field, 'needs inputPerMTok and outputPerMTok');
  const cached = p.cachedInputPerMTok === undefined ? undefined : num(`${field}.cachedInputPerMTok`, p.cachedInputPerMTok, 0, [nonNegative, 'must be >= 0']);
  return { inputPerMTok, outputPerMTok, ...(cached !== undefined && { cachedInputPerMTok: cached }) };
}

function target(field: string, value: unknown): Target {
  const t = object(field, value);
  rejectUnknown(field, t, ['adapter', 'tier', 'contextWindow', 'pricing', 'breakerKey', 'capabilities', 'maxOutputTokens']);
  const adapter = t.adapter as Target['adapter'] | undefined;
  if (!adapter || typeof adapter.chat !== 'function' || typeof adapter.stream !== 'function') {
    throw new ConfigError(field, 'must be a target made by openaiTarget() or anthropicTarget() (or { adapter } implementing chat and stream)');
  }
  if (typeof adapter.provider !== 'string' || adapter.provider === '') throw new ConfigError(`${field}.adapter.provider`, 'must be a non-empty string');
  if (typeof adapter.model !== 'string' || adapter.model === '') throw new ConfigError(`${field}.model`, 'must be a non-empty string');
  oneOf(`${field}.tier`, t.tier, ['full', 'reduced'] as const, 'full');
  num(`${field}.contextWindow`, t.contextWindow, 1, [isInt, 'must be an integer'], [positive, 'must be > 0']);
  num(`${field}.maxOutputTokens`, t.maxOutputTokens, 1, [isInt, 'must be an integer'], [positive, 'must be > 0']);
  if (t.pricing !== undefined) price(`${field}.pricing`, t.pricing);
  if (t.breakerKey !== undefined && (typeof t.breakerKey !== 'string' || t.breakerKey === '')) {
    throw new ConfigError(`${field}.breakerKey`, 'must be a non-empty string');
  }
  return value as Target;
}

/**
 * Two targets of the same provider/model on different endpoints (two Ollama hosts, OpenAI direct
 * and through a proxy) would share one default breaker key: one endpoint's outage would skip both.
 */
function rejectSharedDefaultKeys(targets: Target[]): void {
  const seen = new Map<string, { index: number; endpoint: string }>();
  targets.forEach((t, index) => {
    if (t.breakerKey !== undefined) return;
    const key = `${t.adapter.provider}/${t.adapter.model}`;
    const endpoint = `${t.adapter.serverAddress ?? ''}:${t.adapter.serverPort ?? ''}`;
    const first = seen.get(key);
    if (!first) return void seen.set(key, { index, endpoint });
    if (first.endpoint !== endpoint) {
      throw new ConfigError(
        `targets[${index}].breakerKey`,
        `is needed: targets[${first.index}] and targets[${index}] are both ${key} on different endpoints (${first.endpoint} and ${endpoint}), so they would share one breaker; give either a breakerKey`,
      );
    }
  });
}

/**
 * Validates every field and fills the defaults. Throws ConfigError naming the first bad field;
 * unknown keys are errors too, so a typo ('maxAttemps') cannot silently keep a default.
 */
export function resolveConfig(options: ResilientLLMOptions): ResolvedConfig {
  const o = object('options', options);
  rejectUnknown('options', o, [
    'name', 'targets', 'retry', 'timeouts', 'breaker', 'cache', 'degrade', 'pricing', 'classify',
    'maxHops', 'midStream', 'captureContent', 'telemetry', 'observers', 'sharedState', 'clock',
  ]);
  if (typeof o.name !== 'string' || !/^[A-Za-z0-9_.:/-]{1,64}$/.test(o.name)) {
    throw new ConfigError('name', `must be 1-64 characters of letters, digits, '_', '.', ':', '/', '-', got ${describe(o.name)}`);
  }
  if (!Array.isArray(o.targets) || o.targets.length === 0) throw new ConfigError('targets', 'must be a non-empty array of targets');
  const targets = o.targets.map((t, i) => target(`targets[${i}]`, t));
  rejectSharedDefaultKeys(targets);

  const r = object('retry', o.retry);
  rejectUnknown('retry', r, ['maxAttempts', 'baseDelayMs', 'maxDelayMs', 'jitter', 'maxRetryAfterMs', 'budget']);
  const baseDelayMs = num('retry.baseDelayMs', r.baseDelayMs, DEFAULT_RETRY.baseDelayMs, [nonNegative, 'must be >= 0'], finiteNumber);
  const maxDelayMs = num('retry.maxDelayMs', r.maxDelayMs, Math.max(DEFAULT_RETRY.maxDelayMs, baseDelayMs), [nonNegative, 'must be >= 0'], finiteNumber);
  if (maxDelayMs < baseDelayMs) throw new ConfigError('retry.maxDelayMs', `must be >= retry.baseDelayMs (${baseDelayMs}), got ${maxDelayMs}`);
  const budgetEnabled = r.budget !== false;
  const b = budgetEnabled ? object('retry.budget', r.budget) : {};
  rejectUnknown('retry.budget', b, ['ratio', 'minRetriesPerSecond', 'windowMs']);
  const retry = {
    maxAttempts: num('retry.maxAttempts', r.maxAttempts, DEFAULT_RETRY.maxAttempts, [isInt, 'must be an integer'], [(v) => v >= 1, 'must be >= 1']),
    baseDelayMs,
    maxDelayMs,
    jitter: oneOf('retry.jitter', r.jitter, ['full', 'equal', 'none'] as const, DEFAULT_RETRY.jitter),
    maxRetryAfterMs: num('retry.maxRetryAfterMs', r.maxRetryAfterMs, DEFAULT_RETRY.maxRetryAfterMs, [nonNegative, 'must be >= 0']),
    budget: {
      ratio: num('retry.budget.ratio', b.ratio, DEFAULT_RETRY_BUDGET.ratio, [(v) => v >= 0 && v <= 1, 'must be between 0 and 1']),
      minRetriesPerSecond: num('retry.budget.minRetriesPerSecond', b.minRetriesPerSecond, DEFAULT_RETRY_BUDGET.minRetriesPerSecond, [nonNegative, 'must be >= 0']),
      windowMs: num('retry.budget.windowMs', b.windowMs, DEFAULT_RETRY_BUDGET.windowMs, [positive, 'must be > 0']),
    },
    budgetEnabled,
  };

  const t = object('timeouts', o.timeouts);
  rejectUnknown('timeouts', t, ['attemptMs', 'totalMs', 'firstChunkMs', 'idleChunkMs']);
  const timeouts = {
    attemptMs: num('timeouts.attemptMs', t.attemptMs, DEFAULT_TIMEOUTS.attemptMs, [positive, 'must be > 0'], timer),
    totalMs: num('timeouts.totalMs', t.totalMs, DEFAULT_TIMEOUTS.totalMs, [positive, 'must be > 0'], timer),
    firstChunkMs: num('timeouts.firstChunkMs', t.firstChunkMs, DEFAULT_TIMEOUTS.firstChunkMs, [positive, 'must be > 0'], timer),
    idleChunkMs: num('timeouts.idleChunkMs', t.idleChunkMs, DEFAULT_TIMEOUTS.idleChunkMs, [positive, 'must be > 0'], timer),
  };

  const br = object('breaker', o.breaker);
  rejectUnknown('breaker', br, Object.keys(DEFAULT_BREAKER));
  const breaker = {
    consecutiveFailures: num('breaker.consecutiveFailures', br.consecutiveFailures, DEFAULT_BREAKER.consecutiveFailures, [isInt, 'must be an integer'], [(v) => v >= 1, 'must be >= 1']),
    failureRate: num('breaker.failureRate', br.failureRate, DEFAULT_BREAKER.failureRate, [(v) => v > 0 && v <= 1, 'must be in (0, 1]']),
    windowMs: num('breaker.windowMs', br.windowMs, DEFAULT_BREAKER.windowMs, [positive, 'must be > 0'], finiteNumber),
    minCalls: num('breaker.minCalls', br.minCalls, DEFAULT_BREAKER.minCalls, [isInt, 'must be an integer'], [(v) => v >= 1, 'must be >= 1']),
    openMs: num('breaker.openMs', br.openMs, DEFAULT_BREAKER.openMs, [positive, 'must be > 0'], finiteNumber),
    halfOpenProbes: num('breaker.halfOpenProbes', br.halfOpenProbes, DEFAULT_BREAKER.halfOpenProbes, [isInt, 'must be an integer'], [(v) => v >= 1, 'must be >= 1']),
    successThreshold: num('breaker.successThreshold', br.successThreshold, DEFAULT_BREAKER.successThreshold, [isInt, 'must be an integer'], [(v) => v >= 1, 'must be >= 1']),
  };

  if (o.sharedState !== undefined && !isSharedStateStore(o.sharedState)) {
    const kind = typeof o.sharedState === 'object' && o.sharedState !== null ? (o.sharedState as { kind?: unknown }).kind : undefined;
    throw new ConfigError(
      'sharedState',
      kind === 'memory'
        ? 'must be a store shared between processes (redisStore(client)); memoryStore() is process-local: leave sharedState unset for in-memory state'
        : `must be redisStore(client), got ${describe(o.sharedState)}`,
    );
  }
  const sharedState = o.sharedState as ResolvedConfig['sharedState'];

  let cache: CacheConfig | undefined;
  if (o.cache !== false) {
    const c = object('cache', o.cache);
    rejectUnknown('cache', c, ['store', 'ttlMs', 'staleTtlMs', 'mode', 'maxEntryBytes']);
    const store = c.store as CacheConfig['store'] | undefined;
    if (store !== undefined && (typeof store !== 'object' || typeof store.get !== 'function' || typeof store.set !== 'function')) {
      throw new ConfigError('cache.store', 'must be a store (memoryStore(), redisStore(client)) with get and set');
    }
    const mode = oneOf('cache.mode', c.mode, ['read-through', 'on-failure', 'off'] as const, 'on-failure');
    // Validated whatever the mode: a bad field is an error even while the cache is off.
    const ttlMs = num('cache.ttlMs', c.ttlMs, DEFAULT_CACHE_TTL_MS, [positive, 'must be > 0'], finiteNumber);
    const staleTtlMs = num('cache.staleTtlMs', c.staleTtlMs, DEFAULT_CACHE_STALE_TTL_MS, [nonNegative, 'must be >= 0'], finiteNumber);
    const maxEntryBytes = num('cache.maxEntryBytes', c.maxEntryBytes, DEFAULT_CACHE_MAX_ENTRY_BYTES, [positive, 'must be > 0']);
    if (mode !== 'off') {
      cache = {
        // With shared state the cache is shared too, unless the user chose its store.
        store: store ?? sharedState ?? memoryStore({ maxEntries: DEFAULT_CACHE_MAX_ENTRIES }),
        ttlMs,
        staleTtlMs,
        mode,
        maxEntryBytes,
      };
    }
  }

  const d = object('degrade', o.degrade);
  rejectUnknown('degrade', d, ['enabled', 'staticReply']);
  if (d.enabled !== undefined && typeof d.enabled !== 'boolean') throw new ConfigError('degrade.enabled', `must be a boolean, got ${describe(d.enabled)}`);
  if (d.staticReply !== undefined && typeof d.staticReply !== 'string' && typeof d.staticReply !== 'function') {
    throw new ConfigError('degrade.staticReply', `must be a string or a function of the request, got ${describe(d.staticReply)}`);
  }
  const degrade = {
    enabled: d.enabled !== false,
    ...(d.staticReply !== undefined && { staticReply: d.staticReply as string | ((req: never) => string) }),
  };

  const pricingIn = object('pricing', o.pricing);
  const pricing: Record<string, ModelPrice> = {};
  for (const [model, p] of Object.entries(pricingIn)) pricing[model] = price(`pricing['${model}']`, p);

  if (o.classify !== undefined && typeof o.classify !== 'function') throw new ConfigError('classify', `must be a function, got ${describe(o.classify)}`);
  const maxHops = num('maxHops', o.maxHops, targets.length - 1, [isInt, 'must be an integer'], [nonNegative, 'must be >= 0']);
  const midStream = oneOf('midStream', o.midStream, ['error', 'restart'] as const, 'error');
  for (const flag of ['captureContent', 'telemetry'] as const) {
    if (o[flag] !== undefined && typeof o[flag] !== 'boolean') throw new ConfigError(flag, `must be a boolean, got ${describe(o[flag])}`);
  }
  if (o.observers !== undefined && !Array.isArray(o.observers)) throw new ConfigError('observers', 'must be an array');
  for (const [i, observer] of ((o.observers as unknown[] | undefined) ?? []).entries()) {
    const hooks = object(`observers[${i}]`, observer ?? null);
    for (const hook of ['onRequestStart', 'onBreakerTransition', 'onStoreError', 'close']) {
      if (hooks[hook] !== undefined && typeof hooks[hook] !== 'function') throw new ConfigError(`observers[${i}].${hook}`, `must be a function, got ${describe(hooks[hook])}`);
    }
  }
  const clock = (o.clock as ResolvedConfig['clock'] | undefined) ?? systemClock;
  if (typeof clock.now !== 'function' || typeof clock.sleep !== 'function' || typeof clock.setTimer !== 'function') {
    throw new ConfigError('clock', 'must implement now(), sleep() and setTimer()');
  }

  return {
    name: o.name,
    targets,
    retry,
    timeouts,
    breaker,
    cache,
    degrade: degrade as ResolvedConfig['degrade'],
    pricing,
    classify: o.classify as ResolvedConfig['classify'],
    maxHops,
    midStream,
    captureContent: (o.captureContent as boolean | undefined) ?? false,
    telemetry: (o.telemetry as boolean | undefined) ?? true,
    observers: (o.observers as ResolvedConfig['observers'] | undefined) ?? [],
    sharedState,
    clock,
  };
}
