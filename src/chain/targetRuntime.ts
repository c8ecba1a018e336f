import { localBreakerHandle, type BreakerHandle } from '../breaker/breakerHandle.js';
import { Hedging } from './hedge.js';
import { CircuitBreaker } from '../breaker/circuitBreaker.js';
import type { BreakerTransition } from '../events/breakerTransition.js';
import type { ResolvedConfig } from '../config/types.js';
import { resolvePrice } from '../cost/computeCost.js';
import { BUILTIN_PRICES } from '../cost/pricing.js';
import { LatencyTracker } from '../health/latencyTracker.js';
import type { ModelPrice, ProviderAdapter, Target } from '../providers/adapter.js';
import type { TargetRef } from '../request/types.js';
import { RetryBudget, type RetryBudgetHandle } from '../retry/retryBudget.js';
import { SharedCircuitBreaker } from '../breaker/sharedCircuitBreaker.js';
import { SharedRetryBudget } from '../retry/sharedRetryBudget.js';
import type { SharedChainState } from '../state/sharedChainState.js';
import { TargetLimiter } from '../limits/targetLimiter.js';
import { isPool, type ResolvedPool } from '../pool/pool.js';

/** Per-breaker-key state: targets sharing a key share their breaker, retry budget and limits. */
export interface BreakerSlot {
  key: string;
  breaker: BreakerHandle;
  budget: RetryBudgetHandle;
  /** Its limits (the first target of the key that declares some) and its provider's headroom. */
  limiter: TargetLimiter;
}

/** A configured target plus everything the engine keeps about it. */
export interface TargetRuntime {
  index: number;
  target: Target;
  adapter: ProviderAdapter;
  ref: TargetRef;
  /** `provider/model`, the label used for fallbacks. */
  label: string;
  slot: BreakerSlot;
  price: ModelPrice | undefined;
  /** Successful attempts, start to answer (streams: to the end). */
  latency: LatencyTracker;
  /** Streamed attempts, start to first content chunk (what a stream's hedge waits on). */
  firstChunkLatency: LatencyTracker;
  /**
   * What a pool's latency strategy scores by: start to answer (streams: to the first content
   * chunk), and the wait of attempts that never got there — timed out, or outrun by another call
   * of their hedged request — as a lower bound of theirs, when it is at least the median so far.
   */
  responseLatency: LatencyTracker;
  lastError: { type: string; at: number; message: string } | undefined;
  /** Attempts in flight on this target now, plus members a pool has picked for an attempt about to start. */
  inFlight: number;
  /** Set when the target is a member of a pool (the chain position `index`). */
  pool?: PoolRuntime;
  /** Position among the pool's members. */
  member?: number;
  /** Share of the pool's traffic (weighted strategy); 1 outside pools. */
  weight: number;
}

/** A pool position: its members are TargetRuntimes of the same `index`. */
export interface PoolRuntime {
  index: number;
  config: ResolvedPool;
  members: TargetRuntime[];
  /** The pool's own hedging (`hedge` on the pool), with its own budget. */
  hedging?: Hedging;
}

/** With `shared`, breakers and retry budgets are the fleet-wide ones (DESIGN §5). */
export function buildTargetRuntimes(
  config: ResolvedConfig,
  onTransition: (t: BreakerTransition) => void,
  shared?: SharedChainState,
  onLimitHeaderError?: (breaker: string, header: string) => void,
): TargetRuntime[] {
  const slots = new Map<string, BreakerSlot>();
  const limiterFor = (key: string) =>
    new TargetLimiter({
      key,
      limits: config.targets
        .flatMap((position) => (isPool(position) ? position.members.map((m) => m.target) : [position]))
        .find((t) => (t.breakerKey ?? `${t.adapter.provider}/${t.adapter.model}`) === key && t.limits)?.limits,
      headers: config.rateLimitHeaders,
      clock: config.clock,
      shared,
      // No call outlives the total deadline: a concurrency lease held that long is one a dead process left.
      leaseMs: config.timeouts.totalMs,
      ...(onLimitHeaderError && { onHeaderError: (header: string) => onLimitHeaderError(key, header) }),
    });
  const table = { ...BUILTIN_PRICES, ...config.pricing };
  const runtimes: TargetRuntime[] = [];
  const slotFor = (key: string): BreakerSlot => {
    let slot = slots.get(key);
    if (!slot && shared) {
      const breaker = new SharedCircuitBreaker(key, config.breaker, config.clock, onTransition, shared);
      const budget = config.retry.budgetEnabled ? new SharedRetryBudget(key, config.retry.budget, config.clock, shared) : undefined;
      shared.register(key, breaker, budget);
      slot = { key, breaker, budget: budget ?? new RetryBudget(config.retry.budget, config.clock), limiter: limiterFor(key) };
      slots.set(key, slot);
    }
    if (!slot) {
      slot = {
        key,
        // A probe lives at most as long as its request (the total deadline ends every attempt,
        // streams included), so a probe permit nobody settled frees its slot by then.
        breaker: localBreakerHandle(new CircuitBreaker(key, config.breaker, config.clock, onTransition, { probeLeaseMs: config.timeouts.totalMs })),
        budget: new RetryBudget(config.retry.budget, config.clock),
        limiter: limiterFor(key),
      };
      slots.set(key, slot);
    }
    return slot;
  };
  const runtimeOf = (target: Target, index: number, extra: Partial<Pick<TargetRuntime, 'pool' | 'member' | 'weight'>> = {}): TargetRuntime => {
    const { adapter } = target;
    const label = `${adapter.provider}/${adapter.model}`;
    const ref: TargetRef = { provider: adapter.provider, model: adapter.model, index };
    if (extra.pool) {
      ref.pool = extra.pool.config.name;
      ref.member = extra.member!;
    }
    return {
      index,
      target,
      adapter,
      ref,
      label,
      slot: slotFor(target.breakerKey ?? label),
      price: target.pricing ?? resolvePrice(adapter.model, table),
      latency: new LatencyTracker(),
      firstChunkLatency: new LatencyTracker(),
      responseLatency: new LatencyTracker(),
      lastError: undefined,
      inFlight: 0,
      weight: 1,
      ...extra,
    };
  };
  config.targets.forEach((position, index) => {
    if (!isPool(position)) return void runtimes.push(runtimeOf(position, index));
    const pool: PoolRuntime = { index, config: position, members: [], ...(position.hedge && { hedging: new Hedging(position.hedge, config.clock, shared && { link: shared, scope: `pool:${position.name}` }) }) };
    position.members.forEach((m, member) => pool.members.push(runtimeOf(m.target, index, { pool, member, weight: m.weight })));
    runtimes.push(...pool.members);
  });
  return runtimes;
}
