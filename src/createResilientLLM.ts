import type { BreakerOverride, BreakerTransition } from './breaker/types.js';
import { ResponseCache, type CachedAnswer } from './cache/responseCache.js';
import { buildTargetRuntimes, type TargetRuntime } from './chain/targetRuntime.js';
import { walkChain } from './chain/walkChain.js';
import { runChatAttempt } from './chain/runAttempt.js';
import { cancelledError, currentAttempt, deadlineError, type WalkState } from './chain/walkState.js';
import type { ResilientLLMOptions, ResolvedConfig } from './config/types.js';
import { resolveConfig } from './config/validateConfig.js';
import { degrade, type ForcedTier } from './degrade/degrade.js';
import { BulwarkError, ConfigError } from './errors/bulwarkError.js';
import type { EngineObserver, Outcome, RequestInfo } from './events/engineObserver.js';
import { fanOut } from './events/observerFanout.js';
import type { ChainHealth, TargetHealth } from './health/types.js';
import type { ChatRequest, ChatResult, Tier } from './request/types.js';
import { validateRequest } from './request/validateRequest.js';
import { createOtelObserver } from './telemetry/otelObserver.js';
import { linkedAbort } from './timeout/linkedAbort.js';

export interface ResilientLLM {
  /** Asks for an answer; Bulwark owns retries, breakers, fallback, cache and degradation. */
  chat(request: ChatRequest): Promise<ChatResult>;
  /** Per target: breaker state, failures, failure rate, last error, latency, retry budget. */
  health(): ChainHealth;
  /** Operator control: force a breaker (by key `provider/model` or target index) open, closed, or back to automatic. */
  forceBreaker(breaker: string | number, override: BreakerOverride): void;
  /** Operator control: serve every request from a tier ('cached' = no upstream calls) until set back to 'auto'. */
  forceTier(tier: ForcedTier): void;
  readonly name: string;
  /** Flushes pending cache writes and detaches telemetry. */
  close(): Promise<void>;
}

let requestSeq = 0;
const requestPrefix = Math.random().toString(36).slice(2, 8);

function outcomeOf(result: ChatResult): Outcome {
  if (result.tier === 'cached') return 'cached';
  if (result.tier === 'static') return 'static';
  if (result.fallbackUsed) return 'success_via_fallback';
  return result.attempts.length > 1 ? 'success_after_retry' : 'success';
}

export function createResilientLLM(options: ResilientLLMOptions): ResilientLLM {
  const config: ResolvedConfig = resolveConfig(options);
  const { clock } = config;
  const observers: EngineObserver[] = [];
  let forcedTier: ForcedTier = 'auto';

  // Breaker transitions go to every observer, and onto the span of the attempt that caused them.
  const onTransition = (t: BreakerTransition) => {
    observer.onBreakerTransition?.(t);
    currentAttempt.observer?.onBreakerTransition?.(t);
  };
  const runtimes: TargetRuntime[] = buildTargetRuntimes(config, onTransition);
  const cache = config.cache ? new ResponseCache(config.cache, config.name, clock) : undefined;
  const pendingWrites = new Set<Promise<unknown>>();

  function health(): ChainHealth {
    return {
      chain: config.name,
      forcedTier,
      targets: runtimes.map((rt): TargetHealth => {
        const stats = rt.slot.breaker.stats();
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
        };
      }),
    };
  }

  if (config.telemetry) {
    observers.push(
      createOtelObserver({
        chain: config.name,
        targets: runtimes.map((rt) => ({ index: rt.index, provider: rt.adapter.provider, model: rt.adapter.model, breaker: rt.slot.key })),
        snapshot: health,
        captureContent: config.captureContent,
      }),
    );
  }
  observers.push(...config.observers);
  const observer = fanOut(observers);

  function saveToCache(request: ChatRequest, result: ChatResult): void {
    if (!cache || result.finishReason === 'error') return;
    const answer: CachedAnswer = {
      text: result.text,
      toolCalls: result.toolCalls,
      finishReason: result.finishReason,
      usage: result.usage,
      model: result.model,
      provider: result.target.provider,
      storedAt: clock.now(),
    };
    const write = cache.save(request, answer).finally(() => pendingWrites.delete(write));
    pendingWrites.add(write);
  }

  async function walk(state: WalkState): Promise<ChatResult> {
    const { request, observer: obs } = state;
    let known: { answer: CachedAnswer; ageMs: number } | undefined;
    if (cache && config.cache?.mode === 'read-through' && forcedTier === 'auto') {
      const hit = await cache.lookup(request);
      if (hit?.fresh) {
        obs.onCacheLookup?.('hit');
        return cachedFromHit(state, hit.answer);
      }
      obs.onCacheLookup?.('miss');
      known = hit;
    }
    if (forcedTier === 'cached' || forcedTier === 'static') {
      const served = await degrade(state, cache, 'forced', `the operator forced tier '${forcedTier}'`, forcedTier, known);
      if (served) return served;
      throw new BulwarkError('circuit_open', `Tier '${forcedTier}' is forced and has no answer for this request`, { attempts: state.attempts });
    }
    const eligible = forcedTier === 'reduced' ? runtimes.filter((rt) => rt.target.tier === 'reduced') : runtimes;
    const walked = await walkChain(eligible, state, runChatAttempt);
    if (walked.ok) {
      const { value: response, target } = walked;
      const fallbackUsed = target.index !== 0;
      const tier: Tier = fallbackUsed || target.target.tier === 'reduced' ? 'reduced' : 'full';
      const result: ChatResult = {
        text: response.text,
        toolCalls: response.toolCalls,
        finishReason: response.finishReason,
        usage: response.usage ?? { inputTokens: 0, outputTokens: 0 },
        costUsd: state.costUsd,
        tier,
        target: target.ref,
        attempts: state.attempts,
        fallbackUsed,
        model: response.model,
        ...(response.responseId !== undefined && { responseId: response.responseId }),
        ...(fallbackUsed && { warning: `Answered by fallback target ${target.label} (${state.lastFailure?.ref.provider}/${state.lastFailure?.ref.model} failed: ${state.lastFailure?.reason})` }),
      };
      saveToCache(request, result);
      return result;
    }
    const { error, reason } = walked;
    const summary = `every target failed (last: ${reason}: ${error.message})`;
    if (walked.stop || request.critical || !config.degrade.enabled) {
      const why = reason === 'cancelled' ? 'The request was cancelled' : request.critical && !walked.stop ? `Critical request: ${summary}` : summary;
      throw new BulwarkError(reason, why, { attempts: state.attempts, cause: error });
    }
    const served = await degrade(state, cache, reason, summary, 'auto', known);
    if (served) return served;
    throw new BulwarkError(reason, summary, { attempts: state.attempts, cause: error });
  }

  function cachedFromHit(state: WalkState, answer: CachedAnswer): ChatResult {
    return {
      text: answer.text,
      toolCalls: answer.toolCalls,
      finishReason: answer.finishReason,
      usage: answer.usage,
      costUsd: 0,
      tier: 'cached',
      target: { provider: answer.provider, model: answer.model, index: -1 },
      attempts: state.attempts,
      fallbackUsed: false,
      model: answer.model,
    };
  }

  async function chat(request: ChatRequest): Promise<ChatResult> {
    const startedAt = clock.now();
    const info: RequestInfo = { id: `${requestPrefix}-${++requestSeq}`, chain: config.name, operation: 'chat', stream: false, request, startedAt };
    const obs = observer.startRequest(info);
    const run = async (): Promise<ChatResult> => {
      const totalMs = request?.totalTimeoutMs ?? config.timeouts.totalMs;
      const walkAbort = linkedAbort(clock, undefined, { ms: totalMs, reason: () => deadlineError(totalMs) });
      const onCallerAbort = () => walkAbort.abort(cancelledError());
      const signal = request?.signal;
      const state: WalkState = {
        config,
        info,
        request,
        observer: obs,
        walk: walkAbort,
        deadline: startedAt + totalMs,
        attempts: [],
        retries: 0,
        hops: 0,
        costUsd: 0,
        lastFailure: undefined,
        refusedBy: new Set(),
        needsContextTokens: undefined,
      };
      const end = (outcome: Outcome, extra: { result?: ChatResult; error?: BulwarkError }) =>
        obs.onEnd?.({ outcome, durationMs: clock.now() - startedAt, attempts: state.attempts.length, retries: state.retries, hops: state.hops, costUsd: state.costUsd, ...extra });
      try {
        validateRequest(request);
        if (signal?.aborted) throw new BulwarkError('cancelled', 'The request was cancelled before it started');
        signal?.addEventListener('abort', onCallerAbort, { once: true });
        const result = await walk(state);
        end(outcomeOf(result), { result });
        return result;
      } catch (thrown) {
        const error =
          thrown instanceof BulwarkError ? thrown : new BulwarkError('server_error', `Internal error: ${thrown instanceof Error ? thrown.message : String(thrown)}`, { attempts: state.attempts, cause: thrown });
        end('failed', { error });
        throw error;
      } finally {
        signal?.removeEventListener('abort', onCallerAbort);
        walkAbort.dispose();
      }
    };
    return obs.run ? obs.run(run) : run();
  }

  function slotFor(breaker: string | number) {
    const rt = typeof breaker === 'number' ? runtimes[breaker] : runtimes.find((r) => r.slot.key === breaker);
    if (!rt) throw new ConfigError('breaker', `names no breaker of chain '${config.name}' (known: ${[...new Set(runtimes.map((r) => r.slot.key))].join(', ')})`);
    return rt.slot;
  }

  return {
    name: config.name,
    chat,
    health,
    forceBreaker(breaker, override) {
      if (!['auto', 'open', 'closed'].includes(override)) throw new ConfigError('override', `must be 'auto', 'open' or 'closed', got '${String(override)}'`);
      slotFor(breaker).breaker.setOverride(override);
    },
    forceTier(tier) {
      if (!['auto', 'reduced', 'cached', 'static'].includes(tier)) throw new ConfigError('tier', `must be 'auto', 'reduced', 'cached' or 'static', got '${String(tier)}'`);
      forcedTier = tier;
    },
    async close() {
      await Promise.allSettled([...pendingWrites]);
      await observer.close();
    },
  };
}
