import { ResponseCache } from './cache/responseCache.js';
import { chat, type ChainEngine } from './chain/chat.js';
import { cacheableAnswer } from './chain/results.js';
import { stream, type ResilientStream } from './chain/stream.js';
import { buildTargetRuntimes, type PoolRuntime, type TargetRuntime } from './chain/targetRuntime.js';
import { Hedging } from './chain/hedge.js';
import { latencyScore } from './chain/walkPool.js';
import { isPool } from './pool/pool.js';
import type { ResilientLLMOptions, ResolvedConfig } from './config/types.js';
import { resolveConfig } from './config/validateConfig.js';
import { ConfigError } from './errors/bulwarkError.js';
import { BREAKER_OVERRIDES, type BreakerOverride, type BreakerTransition } from './events/breakerTransition.js';
import type { EngineObserver } from './events/engineObserver.js';
import { fanOut } from './events/observerFanout.js';
import type { StoreErrorEvent } from './events/storeError.js';
import type { ChainHealth, PoolHealth, TargetHealth } from './health/types.js';
import { FORCED_TIERS, type ForcedTier } from './request/tiers.js';
import type { ChatRequest, ChatResult } from './request/types.js';
import { SharedChainState } from './state/sharedChainState.js';
import { cacheStoreErrorEvent, STORE_OPERATIONS } from './state/sharedState.js';
import { createOtelObserver } from './telemetry/otelObserver.js';

export type { ResilientStream } from './chain/stream.js';

export interface ResilientLLM {
  readonly name: string;
  /** Asks for an answer; Bulwark owns retries, breakers, fallback, cache and degradation. */
  chat(request: ChatRequest): Promise<ChatResult>;
  /**
   * Streams an answer. Failures before the first content chunk walk the chain like chat();
   * after it, `midStream` decides: 'error' throws StreamInterruptedError, 'restart' emits a
   * `reset` event and streams the next target's whole answer. Breaking out of the loop closes
   * the upstream connection. Nothing is sent until the first `next()`.
   */
  stream(request: ChatRequest): ResilientStream;
  /** Per target: breaker state, failures, failure rate, last error, latency, retry budget. */
  health(): ChainHealth;
  /**
   * Operator control: force a breaker (by key `provider/model` or target index) open, closed, or
   * back to automatic. Applies in this process at once (bad input throws here); with
   * `sharedState` it applies fleet-wide, and the promise says whether the store took it.
   */
  forceBreaker(breaker: string | number, override: BreakerOverride): Promise<OverrideResult>;
  /**
   * Operator control: serve every request from a tier ('cached' = no upstream calls) until set
   * back to 'auto'. Same rules as forceBreaker.
   */
  forceTier(tier: ForcedTier): Promise<OverrideResult>;
  /** Waits for pending cache writes and detaches telemetry. */
  close(): Promise<void>;
}

/** Where an operator override took effect. */
export interface OverrideResult {
  /**
   * True when the shared store has it: every process of the chain applies it within one sync
   * interval. False without `sharedState`, or when the store was unreachable (then it is
   * written when the store answers again).
   */
  shared: boolean;
}

export function createResilientLLM(options: ResilientLLMOptions): ResilientLLM {
  const config: ResolvedConfig = resolveConfig(options);
  const { clock } = config;
  const observers: EngineObserver[] = [];
  let forcedTier: ForcedTier = 'auto';

  // Breaker transitions go to every observer (and, through the permit, to the attempt that caused them).
  const onTransition = (t: BreakerTransition) => observer.onBreakerTransition?.(t);
  // A store that fails (cache, shared state) is reported; the request goes on with local state.
  const reportStoreError = (e: StoreErrorEvent) => observer.onStoreError?.(e);
  const shared = config.sharedState
    ? new SharedChainState({ store: config.sharedState, chain: config.name, clock, budget: config.retry.budget, probeLeaseMs: config.timeouts.totalMs, report: reportStoreError })
    : undefined;
  shared?.onForcedTier((tier) => {
    forcedTier = tier;
  });
  const runtimes: TargetRuntime[] = buildTargetRuntimes(config, onTransition, shared, (breaker, header) => observer.onLimitHeaderError?.({ breaker, header }));
  const pools = [...new Set(runtimes.flatMap((rt) => (rt.pool ? [rt.pool] : [])))];
  const cacheTimeoutMs = (config.cache?.store as { timeoutMs?: unknown } | undefined)?.timeoutMs;
  const cache = config.cache
    ? new ResponseCache(config.cache, config.name, clock, {
        ...(typeof cacheTimeoutMs === 'number' && { storeTimeoutMs: cacheTimeoutMs }),
        onStoreError: (e) => reportStoreError(cacheStoreErrorEvent(e)),
      })
    : undefined;
  /** Keeps a complete answer for later (never rejects); close() waits for the store's write. */
  function saveToCache(request: ChatRequest, result: ChatResult): void {
    const answer = cache && cacheableAnswer(result, clock.now());
    if (answer) void cache.save(request, answer);
  }

  function health(): ChainHealth {
    return {
      chain: config.name,
      forcedTier,
      targets: runtimes.map((rt): TargetHealth => {
        const stats = rt.slot.breaker.stats();
        const limits = rt.slot.limiter.health();
        return {
          index: rt.index,
          provider: rt.adapter.provider,
          model: rt.adapter.model,
          tier: rt.target.tier,
          breaker: rt.slot.key,
          state: rt.slot.breaker.state,
          override: rt.slot.breaker.override,
          consecutiveFailures: stats.consecutiveFailures,
          failureRate: stats.failureRate,
          windowCalls: stats.windowCalls,
          ...(rt.lastError && { lastError: rt.lastError }),
          latencyMs: rt.latency.summary(),
          retryBudgetRemaining: config.retry.budgetEnabled ? rt.slot.budget.remaining() : Number.POSITIVE_INFINITY,
          inFlight: rt.inFlight,
          ...(rt.ref.pool !== undefined && { pool: rt.ref.pool, member: rt.ref.member! }),
          ...(limits && { limits }),
        };
      }),
      ...(pools.length > 0 && { pools: pools.map(poolHealth) }),
      ...(shared && { sharedState: shared.status() }),
    };
  }

  function poolHealth(pool: PoolRuntime): PoolHealth {
    const since = clock.now() - pool.config.latency.windowMs;
    return {
      index: pool.index,
      name: pool.config.name,
      strategy: pool.config.strategy,
      members: pool.members.map((rt) => ({
        member: rt.member!,
        provider: rt.adapter.provider,
        model: rt.adapter.model,
        breaker: rt.slot.key,
        state: rt.slot.breaker.state,
        inFlight: rt.inFlight,
        weight: rt.weight,
        recentP50Ms: rt.latency.summary(since)?.p50 ?? null,
        latencyScoreMs: latencyScore(pool, rt, since) ?? null,
      })),
    };
  }

  if (config.telemetry) {
    observers.push(
      createOtelObserver({
        chain: config.name,
        targets: runtimes.map((rt) => ({
          index: rt.index,
          provider: rt.adapter.provider,
          model: rt.adapter.model,
          breaker: rt.slot.key,
          tier: rt.target.tier,
          ...(rt.adapter.rateLimitHeaders && { limitHeaders: rt.adapter.rateLimitHeaders }),
          ...(rt.ref.pool !== undefined && { pool: rt.ref.pool, member: rt.ref.member! }),
        })),
        snapshot: health,
        captureContent: config.captureContent,
        ...(config.callerAttributes && { callerAttributes: config.callerAttributes }),
        hedging: config.hedge !== undefined || config.targets.some((t) => isPool(t) && t.hedge !== undefined),
        storeOperations: [...(cache ? (['cache.get', 'cache.set'] as const) : []), ...(shared ? STORE_OPERATIONS.filter((op) => !op.startsWith('cache.')) : [])],
      }),
    );
  }
  observers.push(...config.observers);
  const observer = fanOut(observers);
  const hedging = config.hedge ? new Hedging(config.hedge, clock, shared && { link: shared, scope: 'chain' }) : undefined;
  const engine: ChainEngine = { config, runtimes, cache, hedging, observer, forcedTier: () => forcedTier, saveToCache };

  function slotFor(breaker: string | number) {
    const rt = typeof breaker === 'number' ? runtimes.find((r) => r.index === breaker) : runtimes.find((r) => r.slot.key === breaker);
    if (rt?.pool && typeof breaker === 'number') {
      throw new ConfigError('breaker', `names pool '${rt.pool.config.name}' of chain '${config.name}': name one of its members' breakers (${rt.pool.members.map((m) => m.slot.key).join(', ')})`);
    }
    if (!rt) throw new ConfigError('breaker', `names no breaker of chain '${config.name}' (known: ${[...new Set(runtimes.map((r) => r.slot.key))].join(', ')})`);
    return rt.slot;
  }

  return {
    name: config.name,
    chat: (request) => chat(engine, request),
    stream: (request) => stream(engine, request),
    health,
    forceBreaker(breaker, override) {
      if (!BREAKER_OVERRIDES.includes(override)) throw new ConfigError('override', `must be 'auto', 'open' or 'closed', got '${String(override)}'`);
      return slotFor(breaker).breaker.setOverride(override).then((stored) => ({ shared: stored }));
    },
    forceTier(tier) {
      if (!FORCED_TIERS.includes(tier)) throw new ConfigError('tier', `must be 'auto', 'reduced', 'cached' or 'static', got '${String(tier)}'`);
      forcedTier = tier;
      return shared ? shared.setForcedTier(tier).then((stored) => ({ shared: stored })) : Promise.resolve({ shared: false });
    },
    async close() {
      await shared?.close();
      await cache?.flush();
      await observer.close();
    },
  };
}
