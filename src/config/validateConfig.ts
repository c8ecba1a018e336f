import { ConfigError } from '../errors/bulwarkError.js';
import type { ModelPrice, Target } from '../providers/adapter.js';
import {
  checkCallerAttributes,
  DEFAULT_CALLER_ATTRIBUTE_LIMIT,
  type CallerAttributes,
  type CallerAttributesHook,
} from '../telemetry/callerAttributes.js';
import { systemClock } from '../time/clock.js';
import { modelPrice } from '../providers/modelPrice.js';
import { resolvePrice } from '../cost/computeCost.js';
import { BUILTIN_PRICES } from '../cost/pricing.js';
import { DEFAULT_LATENCY_MIN_SAMPLES, DEFAULT_LATENCY_PERCENTILE, DEFAULT_LATENCY_TOLERANCE, DEFAULT_LATENCY_WINDOW_MS, isPool, POOL_STRATEGIES, type ResolvedPool } from '../pool/pool.js';
import {
  arrayOf,
  boolean,
  optional,
  asConfigError,
  describe,
  fail,
  fields,
  finite,
  func,
  oneOf,
  plainObject,
  read,
  rejectUnknownKeys,
  string,
  timerMs,
  type Check,
  type NumberRule,
} from '../validation/walk.js';
import {
  DEFAULT_BREAKER,
  DEFAULT_CACHE_MAX_ENTRIES,
  DEFAULT_CACHE_MAX_ENTRY_BYTES,
  DEFAULT_CACHE_STALE_TTL_MS,
  DEFAULT_CACHE_TTL_MS,
  DEFAULT_HEDGE,
  DEFAULT_RETRY,
  DEFAULT_RETRY_BUDGET,
  DEFAULT_TIMEOUTS,
} from './defaults.js';
import { CACHE_MODES } from '../cache/types.js';
import { JITTERS } from '../retry/types.js';
import { DEFAULT_LOW_REMAINING } from '../limits/types.js';
import { targetLimits } from '../providers/targetOptions.js';
import { MID_STREAM_POLICIES, type CacheConfig, type HedgeConfig, type ResilientLLMOptions, type ResolvedConfig } from './types.js';
import { memoryStore } from '../state/memoryStore.js';
import { TARGET_TIERS } from '../request/tiers.js';
import { TRACKED_PERCENTILES, type TrackedPercentile } from '../health/latencyTracker.js';
import { isSharedStateStore } from '../state/sharedState.js';

/** Runs the shared validation walk; its findings become ConfigErrors naming the field. */
function check<T>(shape: Check<T>, value: unknown, path: string): T {
  return asConfigError(() => shape(value, path));
}

/** A number with a default: the one finite-number rule, then its bounds. */
function num(field: string, value: unknown, fallback: number, rule: NumberRule = {}): number {
  return value === undefined ? fallback : check(finite(rule), value, field);
}

function timer(field: string, value: unknown, fallback: number): number {
  return value === undefined ? fallback : check(timerMs, value, field);
}

function choice<T extends string>(field: string, value: unknown, allowed: readonly T[], fallback: T): T {
  return value === undefined ? fallback : check(oneOf(allowed), value, field);
}

function object(field: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  return check(plainObject, value, field);
}

function rejectUnknown(field: string, value: Record<string, unknown>, known: readonly string[]): void {
  check(() => rejectUnknownKeys(value, known, field), value, field);
}

/** `telemetry`: a boolean, or options (enabled, the caller-attributes hook and its cap). */
function telemetryOptions(value: unknown): Pick<ResolvedConfig, 'telemetry' | 'callerAttributes'> {
  if (value === undefined || typeof value === 'boolean') return { telemetry: value ?? true, callerAttributes: undefined };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError('telemetry', `must be a boolean or an object, got ${describe(value)}`);
  }
  const t = value as Record<string, unknown>;
  rejectUnknown('telemetry', t, ['enabled', 'attributes', 'attributeLimit', 'knownAttributes']);
  if (t.enabled !== undefined && typeof t.enabled !== 'boolean') throw new ConfigError('telemetry.enabled', `must be a boolean, got ${describe(t.enabled)}`);
  if (t.attributes !== undefined && typeof t.attributes !== 'function') {
    throw new ConfigError('telemetry.attributes', `must be a function of the request, got ${describe(t.attributes)}`);
  }
  const limit = num('telemetry.attributeLimit', t.attributeLimit, DEFAULT_CALLER_ATTRIBUTE_LIMIT, { integer: true, min: 1 });
  if (t.knownAttributes !== undefined && !Array.isArray(t.knownAttributes)) {
    throw new ConfigError('telemetry.knownAttributes', `must be an array of attribute objects, got ${describe(t.knownAttributes)}`);
  }
  if (t.knownAttributes !== undefined && t.attributes === undefined) {
    throw new ConfigError('telemetry.knownAttributes', 'needs telemetry.attributes (the hook that reports them)');
  }
  const known: CallerAttributes[] = [];
  for (const [i, set] of ((t.knownAttributes as unknown[] | undefined) ?? []).entries()) {
    const field = `telemetry.knownAttributes[${i}]`;
    const checked = checkCallerAttributes(set);
    if (!checked.ok) throw new ConfigError(checked.key === undefined ? field : `${field}['${checked.key}']`, checked.problem);
    if (checked.value === undefined) throw new ConfigError(field, 'must have at least one attribute');
    known.push(checked.value);
  }
  if (known.length > limit) throw new ConfigError('telemetry.knownAttributes', `has ${known.length} sets, more than telemetry.attributeLimit (${limit})`);
  return {
    telemetry: t.enabled ?? true,
    callerAttributes: t.attributes === undefined ? undefined : { hook: t.attributes as CallerAttributesHook, limit, known },
  };
}

const TARGET_KEYS = ['adapter', 'tier', 'contextWindow', 'pricing', 'breakerKey', 'capabilities', 'maxOutputTokens', 'limits'] as const;

/** A hand-made target's capabilities are already resolved: images, fileTypes, fileUrlTypes. */
const resolvedCapabilities = fields(
  {
    images: { required: true, check: boolean },
    fileTypes: { required: true, check: arrayOf(string({ nonEmpty: true })) },
    fileUrlTypes: { required: true, check: arrayOf(string({ nonEmpty: true })) },
  },
  { unknown: 'reject' },
);

function target(value: unknown, field: string): Target {
  const t = plainObject(value, field);
  rejectUnknownKeys(t, TARGET_KEYS, field);
  const adapter = read(t, 'adapter', `${field}.adapter`) as Target['adapter'] | undefined;
  if (!adapter || typeof adapter.chat !== 'function' || typeof adapter.stream !== 'function') {
    fail(field, 'must be a target made by openaiTarget() or anthropicTarget() (or { adapter } implementing chat and stream)');
  }
  if (typeof adapter.provider !== 'string' || adapter.provider === '') fail(`${field}.adapter.provider`, 'must be a non-empty string');
  if (typeof adapter.model !== 'string' || adapter.model === '') fail(`${field}.model`, 'must be a non-empty string');
  fields({
    tier: oneOf(TARGET_TIERS),
    contextWindow: finite({ integer: true, above: 0, unit: 'tokens' }),
    pricing: modelPrice,
    breakerKey: string({ nonEmpty: true }),
    maxOutputTokens: finite({ integer: true, above: 0, unit: 'tokens' }),
    capabilities: resolvedCapabilities,
    limits: targetLimits,
  })(t, field);
  return value as Target;
}

const POOL_KEYS = ['name', 'members', 'strategy', 'latency', 'random', 'hedge'] as const;
const POOL_NAME = /^[A-Za-z0-9_.:/-]{1,64}$/;

/** A bare target is a member of weight 1; `{ target, weight }` sets its share. */
function poolMember(value: unknown, field: string): { target: Target; weight: number } {
  const m = plainObject(value, field);
  if (!('target' in m) && !('weight' in m)) return { target: target(value, field), weight: 1 };
  rejectUnknownKeys(m, ['target', 'weight'], field);
  const weight = read(m, 'weight', `${field}.weight`);
  return {
    target: target(read(m, 'target', `${field}.target`), `${field}.target`),
    weight: weight === undefined ? 1 : finite({ above: 0 })(weight, `${field}.weight`),
  };
}

/** `pool({ … })`: name, members (distinct breakers), strategy and its options. */
function poolPosition(value: unknown, field: string): ResolvedPool {
  const options = read(value as object, 'options', field);
  const p = plainObject(options, field);
  rejectUnknownKeys(p, POOL_KEYS, field);
  const name = read(p, 'name', `${field}.name`);
  if (typeof name !== 'string' || !POOL_NAME.test(name)) fail(`${field}.name`, `must be 1-64 characters of letters, digits, '_', '.', ':', '/', '-', got ${describe(name)}`);
  const members = arrayOf(poolMember, { nonEmpty: true, what: 'members' })(read(p, 'members', `${field}.members`), `${field}.members`);
  // Each member keeps its own breaker: two members with one breaker key are one deployment twice.
  const seen = new Map<string, number>();
  members.forEach((m, i) => {
    const key = m.target.breakerKey ?? `${m.target.adapter.provider}/${m.target.adapter.model}`;
    const first = seen.get(key);
    if (first !== undefined) {
      fail(`${field}.members[${i}]`, `duplicates members[${first}] (both use breaker '${key}'): members are distinct deployments, give each its own breakerKey`);
    }
    seen.set(key, i);
  });
  const strategy = optional(oneOf(POOL_STRATEGIES))(read(p, 'strategy', `${field}.strategy`), `${field}.strategy`) ?? 'weighted';
  const latency = fields(
    { percentile: finite({ above: 0, max: 100 }), tolerance: finite({ min: 0 }), windowMs: finite({ above: 0 }), minSamples: finite({ integer: true, min: 1 }) },
    { unknown: 'reject' },
  )(read(p, 'latency', `${field}.latency`) ?? {}, `${field}.latency`);
  const random = optional(func<() => number>())(read(p, 'random', `${field}.random`), `${field}.random`);
  const hedgeIn = read(p, 'hedge', `${field}.hedge`);
  // Its hedges go to its other members: a pool of one has nowhere to send them.
  if (hedgeIn !== undefined && members.length < 2) fail(`${field}.hedge`, `needs a pool of two members or more to hedge across, got ${members.length}`);
  const hedge = hedgeIn === undefined ? undefined : hedgeSlice(hedgeIn, `${field}.hedge`);
  return {
    kind: 'pool',
    name,
    strategy,
    members,
    latency: {
      percentile: (latency.percentile as number | undefined) ?? DEFAULT_LATENCY_PERCENTILE,
      tolerance: (latency.tolerance as number | undefined) ?? DEFAULT_LATENCY_TOLERANCE,
      windowMs: (latency.windowMs as number | undefined) ?? DEFAULT_LATENCY_WINDOW_MS,
      minSamples: (latency.minSamples as number | undefined) ?? DEFAULT_LATENCY_MIN_SAMPLES,
    },
    random: random ?? Math.random,
    ...(hedge && { hedge }),
  };
}

/** A chain position: a target, or a pool of interchangeable ones. */
function position(value: unknown, field: string): Target | ResolvedPool {
  return isPool(value) ? poolPosition(value, field) : target(value, field);
}

const targets = arrayOf(position, { nonEmpty: true, what: 'targets' });

/** Every target of the chain with the field that configures it (pool members included). */
function flatTargets(positions: ReadonlyArray<Target | ResolvedPool>): Array<{ target: Target; field: string }> {
  return positions.flatMap((p, i) =>
    isPool(p) ? p.members.map((m, j) => ({ target: m.target, field: `targets[${i}].members[${j}]` })) : [{ target: p, field: `targets[${i}]` }],
  );
}

/** The cost strategy compares prices: every member of such a pool needs one. */
function requirePrices(positions: ReadonlyArray<Target | ResolvedPool>, pricing: Record<string, ModelPrice>): void {
  const table = { ...BUILTIN_PRICES, ...pricing };
  positions.forEach((p, i) => {
    if (!isPool(p) || p.strategy !== 'cost') return;
    p.members.forEach((m, j) => {
      if (m.target.pricing ?? resolvePrice(m.target.adapter.model, table)) return;
      throw new ConfigError(`targets[${i}].members[${j}].pricing`, `is needed by strategy 'cost': model '${m.target.adapter.model}' is not in the price table (set the target's pricing or the chain's pricing)`);
    });
  });
}

const OBSERVER_HOOKS = ['onRequestStart', 'onBreakerTransition', 'onStoreError', 'onLimitHeaderError', 'close'] as const;
const observerList = arrayOf((value, path) => {
  const hooks = plainObject(value, path);
  for (const hook of OBSERVER_HOOKS) {
    const fn = read(hooks, hook, `${path}.${hook}`);
    if (fn !== undefined && typeof fn !== 'function') fail(`${path}.${hook}`, `must be a function, got ${describe(fn)}`);
  }
  return value;
});

const clockShape: Check<ResolvedConfig['clock']> = (value, path) => {
  const c = plainObject(value, path);
  for (const method of ['now', 'sleep', 'setTimer']) {
    if (typeof read(c, method, `${path}.${method}`) !== 'function') fail(path, `must implement now(), sleep() and setTimer(), got ${describe(value)}`);
  }
  return value as ResolvedConfig['clock'];
};

/**
 * Two targets of the same provider/model on different endpoints (two Ollama hosts, OpenAI direct
 * and through a proxy) would share one default breaker key: one endpoint's outage would skip both.
 */
function rejectSharedDefaultKeys(positions: ReadonlyArray<Target | ResolvedPool>): void {
  const seen = new Map<string, { field: string; endpoint: string }>();
  for (const { target: t, field } of flatTargets(positions)) {
    if (t.breakerKey !== undefined) continue;
    const key = `${t.adapter.provider}/${t.adapter.model}`;
    const endpoint = `${t.adapter.serverAddress ?? ''}:${t.adapter.serverPort ?? ''}`;
    const first = seen.get(key);
    if (!first) {
      seen.set(key, { field, endpoint });
      continue;
    }
    if (first.endpoint !== endpoint) {
      throw new ConfigError(
        `${field}.breakerKey`,
        `is needed: ${first.field} and ${field} are both ${key} on different endpoints (${first.endpoint} and ${endpoint}), so they would share one breaker; give either a breakerKey`,
      );
    }
  }
}

/** A hedge config at `field` (the chain's `hedge`, a pool's `targets[i].hedge`): `after` required, defaults filled. */
function hedgeSlice(value: unknown, field: string): HedgeConfig {
  const h = object(field, value);
  rejectUnknown(field, h, ['after', 'maxHedges', 'budgetRatio']);
  const tracked = TRACKED_PERCENTILES.map((p) => `'${p}'`).join(', ');
  let after: HedgeConfig['after'];
  if (typeof h.after === 'string') {
    if (!(TRACKED_PERCENTILES as readonly string[]).includes(h.after)) {
      throw new ConfigError(`${field}.after`, `must be a delay in ms or a tracked latency percentile (${tracked}), got '${h.after}'`);
    }
    after = h.after as TrackedPercentile;
  } else if (h.after === undefined) {
    throw new ConfigError(`${field}.after`, `is required: a delay in ms or a tracked latency percentile (${tracked})`);
  } else {
    after = check(timerMs, h.after, `${field}.after`);
  }
  return {
    after,
    maxHedges: num(`${field}.maxHedges`, h.maxHedges, DEFAULT_HEDGE.maxHedges, { integer: true, min: 1 }),
    budgetRatio: num(`${field}.budgetRatio`, h.budgetRatio, DEFAULT_HEDGE.budgetRatio, { above: 0, max: 1 }),
  };
}

/** `hedge`: off when unset; `after` is required (a delay in ms, or a percentile the targets track). */
function hedgeOptions(value: unknown, positions: ReadonlyArray<Target | ResolvedPool>, maxHops: number): HedgeConfig | undefined {
  if (value === undefined) return undefined;
  const config = hedgeSlice(value, 'hedge');
  // A hedge goes to another member of a pool (no hop), or to the next target (one hop): a chain
  // with neither has nowhere to send it, and the config would be silently ignored.
  const poolToHedgeIn = positions.some((p) => isPool(p) && p.members.length > 1);
  if (!poolToHedgeIn && positions.length < 2) {
    throw new ConfigError('hedge', `needs a second target (or a pool of two members or more) to hedge across, got ${positions.length} target`);
  }
  if (!poolToHedgeIn && maxHops < 1) throw new ConfigError('hedge', 'needs maxHops >= 1 (a hedge goes to the next target, one hop), got maxHops 0');
  return config;
}

/**
 * Validates every field and fills the defaults. Throws ConfigError naming the first bad field;
 * unknown keys are errors too, so a typo ('maxAttemps') cannot silently keep a default.
 */
export function resolveConfig(options: ResilientLLMOptions): ResolvedConfig {
  const o = object('options', options);
  rejectUnknown('options', o, [
    'name', 'targets', 'retry', 'timeouts', 'breaker', 'cache', 'degrade', 'pricing', 'classify',
    'maxHops', 'hedge', 'midStream', 'captureContent', 'telemetry', 'observers', 'sharedState', 'clock', 'rateLimitHeaders',
  ]);
  if (typeof o.name !== 'string' || !/^[A-Za-z0-9_.:/-]{1,64}$/.test(o.name)) {
    throw new ConfigError('name', `must be 1-64 characters of letters, digits, '_', '.', ':', '/', '-', got ${describe(o.name)}`);
  }
  const targetList = check(targets, o.targets, 'targets');
  rejectSharedDefaultKeys(targetList);

  const r = object('retry', o.retry);
  rejectUnknown('retry', r, ['maxAttempts', 'baseDelayMs', 'maxDelayMs', 'jitter', 'maxRetryAfterMs', 'budget']);
  const baseDelayMs = num('retry.baseDelayMs', r.baseDelayMs, DEFAULT_RETRY.baseDelayMs, { min: 0 });
  const maxDelayMs = num('retry.maxDelayMs', r.maxDelayMs, Math.max(DEFAULT_RETRY.maxDelayMs, baseDelayMs), { min: 0 });
  if (maxDelayMs < baseDelayMs) throw new ConfigError('retry.maxDelayMs', `must be >= retry.baseDelayMs (${baseDelayMs}), got ${maxDelayMs}`);
  const budgetEnabled = r.budget !== false;
  const b = budgetEnabled ? object('retry.budget', r.budget) : {};
  rejectUnknown('retry.budget', b, ['ratio', 'minRetriesPerSecond', 'windowMs']);
  const retry = {
    maxAttempts: num('retry.maxAttempts', r.maxAttempts, DEFAULT_RETRY.maxAttempts, { integer: true, min: 1 }),
    baseDelayMs,
    maxDelayMs,
    jitter: choice('retry.jitter', r.jitter, JITTERS, DEFAULT_RETRY.jitter),
    maxRetryAfterMs: num('retry.maxRetryAfterMs', r.maxRetryAfterMs, DEFAULT_RETRY.maxRetryAfterMs, { min: 0 }),
    budget: {
      ratio: num('retry.budget.ratio', b.ratio, DEFAULT_RETRY_BUDGET.ratio, { min: 0, max: 1 }),
      minRetriesPerSecond: num('retry.budget.minRetriesPerSecond', b.minRetriesPerSecond, DEFAULT_RETRY_BUDGET.minRetriesPerSecond, { min: 0 }),
      windowMs: num('retry.budget.windowMs', b.windowMs, DEFAULT_RETRY_BUDGET.windowMs, { above: 0 }),
    },
    budgetEnabled,
  };

  const t = object('timeouts', o.timeouts);
  rejectUnknown('timeouts', t, ['attemptMs', 'totalMs', 'firstChunkMs', 'idleChunkMs']);
  const timeouts = {
    attemptMs: timer('timeouts.attemptMs', t.attemptMs, DEFAULT_TIMEOUTS.attemptMs),
    totalMs: timer('timeouts.totalMs', t.totalMs, DEFAULT_TIMEOUTS.totalMs),
    firstChunkMs: timer('timeouts.firstChunkMs', t.firstChunkMs, DEFAULT_TIMEOUTS.firstChunkMs),
    idleChunkMs: timer('timeouts.idleChunkMs', t.idleChunkMs, DEFAULT_TIMEOUTS.idleChunkMs),
  };

  const br = object('breaker', o.breaker);
  rejectUnknown('breaker', br, Object.keys(DEFAULT_BREAKER));
  const atLeastOne = { integer: true, min: 1 };
  const breaker = {
    consecutiveFailures: num('breaker.consecutiveFailures', br.consecutiveFailures, DEFAULT_BREAKER.consecutiveFailures, atLeastOne),
    failureRate: num('breaker.failureRate', br.failureRate, DEFAULT_BREAKER.failureRate, { above: 0, max: 1 }),
    windowMs: num('breaker.windowMs', br.windowMs, DEFAULT_BREAKER.windowMs, { above: 0 }),
    minCalls: num('breaker.minCalls', br.minCalls, DEFAULT_BREAKER.minCalls, atLeastOne),
    openMs: num('breaker.openMs', br.openMs, DEFAULT_BREAKER.openMs, { above: 0 }),
    halfOpenProbes: num('breaker.halfOpenProbes', br.halfOpenProbes, DEFAULT_BREAKER.halfOpenProbes, atLeastOne),
    successThreshold: num('breaker.successThreshold', br.successThreshold, DEFAULT_BREAKER.successThreshold, atLeastOne),
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
    // Present means a store: null is not "the default", it is a mistake.
    if (store !== undefined && (store === null || typeof store !== 'object' || typeof store.get !== 'function' || typeof store.set !== 'function')) {
      throw new ConfigError('cache.store', `must be a store (memoryStore(), redisStore(client)) with get and set, got ${describe(store)}`);
    }
    const mode = choice('cache.mode', c.mode, CACHE_MODES, 'on-failure');
    // Validated whatever the mode: a bad field is an error even while the cache is off.
    const ttlMs = num('cache.ttlMs', c.ttlMs, DEFAULT_CACHE_TTL_MS, { above: 0 });
    const staleTtlMs = num('cache.staleTtlMs', c.staleTtlMs, DEFAULT_CACHE_STALE_TTL_MS, { min: 0 });
    const maxEntryBytes = num('cache.maxEntryBytes', c.maxEntryBytes, DEFAULT_CACHE_MAX_ENTRY_BYTES, { above: 0 });
    if (mode !== 'off') {
      // The store's own timeout bounds every cache call (the engine takes it when it is a number).
      const timeoutMs = ((store ?? sharedState) as { timeoutMs?: unknown } | undefined)?.timeoutMs;
      if (typeof timeoutMs === 'number') check(timerMs, timeoutMs, store ? 'cache.store.timeoutMs' : 'sharedState.timeoutMs');
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
  for (const [model, p] of Object.entries(pricingIn)) pricing[model] = check(modelPrice, p, `pricing['${model}']`);
  requirePrices(targetList, pricing);

  if (o.classify !== undefined && typeof o.classify !== 'function') throw new ConfigError('classify', `must be a function, got ${describe(o.classify)}`);
  const maxHops = num('maxHops', o.maxHops, targetList.length - 1, { integer: true, min: 0 });
  const hedge = hedgeOptions(o.hedge, targetList, maxHops);
  const midStream = choice('midStream', o.midStream, MID_STREAM_POLICIES, 'error');
  if (o.captureContent !== undefined && typeof o.captureContent !== 'boolean') {
    throw new ConfigError('captureContent', `must be a boolean, got ${describe(o.captureContent)}`);
  }
  const { telemetry, callerAttributes } = telemetryOptions(o.telemetry);
  const observers = o.observers === undefined ? [] : check(observerList, o.observers, 'observers');
  // Present means a clock: null is not "the system clock", it is a mistake.
  const clock = o.clock === undefined ? systemClock : check(clockShape, o.clock, 'clock');

  let rateLimitHeaders: ResolvedConfig['rateLimitHeaders'] = false;
  if (o.rateLimitHeaders !== false) {
    const h = object('rateLimitHeaders', o.rateLimitHeaders);
    rejectUnknown('rateLimitHeaders', h, ['lowRemaining']);
    rateLimitHeaders = { lowRemaining: num('rateLimitHeaders.lowRemaining', h.lowRemaining, DEFAULT_LOW_REMAINING, { min: 0, max: 1 }) };
  }

  return {
    name: o.name,
    targets: targetList,
    rateLimitHeaders,
    retry,
    timeouts,
    breaker,
    cache,
    degrade: degrade as ResolvedConfig['degrade'],
    pricing,
    classify: o.classify as ResolvedConfig['classify'],
    maxHops,
    hedge,
    midStream,
    captureContent: (o.captureContent as boolean | undefined) ?? false,
    telemetry,
    callerAttributes,
    observers: observers as ResolvedConfig['observers'],
    sharedState,
    clock,
  };
}
