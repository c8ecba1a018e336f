import type { BreakerOverride, BreakerTransition } from './events/breakerTransition.js';
import { ResponseCache, type CachedAnswer } from './cache/responseCache.js';
import { runChatAttempt } from './chain/runAttempt.js';
import { buildTargetRuntimes, type TargetRuntime } from './chain/targetRuntime.js';
import { walkChain, type WalkResult } from './chain/walkChain.js';
import { cancelledError, consumerStoppedError, currentAttempt, deadlineError, isWalkAbort, type WalkState } from './chain/walkState.js';
import type { ResilientLLMOptions, ResolvedConfig } from './config/types.js';
import { resolveConfig } from './config/validateConfig.js';
import { degrade } from './chain/degrade.js';
import type { ForcedTier } from './request/tiers.js';
import { BulwarkError, ConfigError, StreamInterruptedError } from './errors/bulwarkError.js';
import type { EngineObserver, Outcome, RequestInfo, RequestObserver } from './events/engineObserver.js';
import { fanOut } from './events/observerFanout.js';
import type { ChainHealth, TargetHealth } from './health/types.js';
import type { ChatRequest, ChatResult, ProviderResponse, StreamEvent, Tier } from './request/types.js';
import { validateRequest } from './request/validateRequest.js';
import { StreamAccumulator } from './chain/streamAccumulator.js';
import { closeUpstream, nextOrAbort, runStreamAttempt, type LiveStream } from './chain/streamAttempt.js';
import { createOtelObserver } from './telemetry/otelObserver.js';
import { linkedAbort } from './chain/linkedAbort.js';
import { SharedChainState } from './state/sharedChainState.js';
import { cacheStoreErrorEvent, STORE_OPERATIONS } from './state/sharedState.js';
import type { StoreErrorEvent } from './events/storeError.js';

/** A streamed answer: iterate it for events; `result` settles with the final metadata when iteration ends. */
export interface ResilientStream extends AsyncIterable<StreamEvent> {
  readonly result: Promise<ChatResult>;
}

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

let requestSeq = 0;
const requestPrefix = Math.random().toString(36).slice(2, 8);

function outcomeOf(result: ChatResult): Outcome {
  if (result.tier === 'cached') return 'cached';
  if (result.tier === 'static') return 'static';
  if (result.fallbackUsed) return 'success_via_fallback';
  return result.attempts.length > 1 ? 'success_after_retry' : 'success';
}

/**
 * Answers served without any upstream call (cache hits, open breakers everywhere, forced tiers)
 * involve no I/O; a caller awaiting them in a tight loop would never let timers run — other
 * requests' deadlines included. One macrotask turn per such answer keeps the event loop fair.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A finished answer replayed as stream events (cached and static answers, streamed). */
function* replay(result: ChatResult): Generator<StreamEvent> {
  if (result.text) yield { type: 'text', delta: result.text };
  for (const [index, call] of result.toolCalls.entries()) yield { type: 'tool_call', index, id: call.id, name: call.name, argumentsDelta: call.arguments };
  yield { type: 'usage', usage: result.usage };
  yield { type: 'finish', finishReason: result.finishReason, model: result.model };
}

type CacheHit = { answer: CachedAnswer; ageMs: number };

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
  // A store that fails (cache, shared state) is reported; the request goes on with local state.
  const reportStoreError = (e: StoreErrorEvent) => observer.onStoreError?.(e);
  const shared = config.sharedState
    ? new SharedChainState({ store: config.sharedState, chain: config.name, clock, budget: config.retry.budget, probeLeaseMs: config.timeouts.totalMs, report: reportStoreError })
    : undefined;
  shared?.onForcedTier((tier) => {
    forcedTier = tier;
  });
  const runtimes: TargetRuntime[] = buildTargetRuntimes(config, onTransition, shared);
  const cacheTimeoutMs = (config.cache?.store as { timeoutMs?: unknown } | undefined)?.timeoutMs;
  const cache = config.cache
    ? new ResponseCache(config.cache, config.name, clock, {
        ...(typeof cacheTimeoutMs === 'number' && { storeTimeoutMs: cacheTimeoutMs }),
        onStoreError: (e) => reportStoreError(cacheStoreErrorEvent(e)),
      })
    : undefined;
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
      ...(shared && { sharedState: shared.status() }),
    };
  }

  if (config.telemetry) {
    observers.push(
      createOtelObserver({
        chain: config.name,
        targets: runtimes.map((rt) => ({ index: rt.index, provider: rt.adapter.provider, model: rt.adapter.model, breaker: rt.slot.key, tier: rt.target.tier })),
        snapshot: health,
        captureContent: config.captureContent,
        storeOperations: [...(cache ? (['cache.get', 'cache.set'] as const) : []), ...(shared ? STORE_OPERATIONS.filter((op) => !op.startsWith('cache.')) : [])],
      }),
    );
  }
  observers.push(...config.observers);
  const observer = fanOut(observers);

  /** Opens the per-request state: total deadline, caller's signal, counters. */
  function openState(request: ChatRequest, info: RequestInfo, obs: RequestObserver): WalkState & { close(): void } {
    const totalMs = request?.totalTimeoutMs ?? config.timeouts.totalMs;
    const walk = linkedAbort(clock, undefined, { ms: totalMs, reason: () => deadlineError(totalMs) });
    const signal = request?.signal;
    const onCallerAbort = () => walk.abort(cancelledError());
    signal?.addEventListener('abort', onCallerAbort, { once: true });
    return {
      config,
      info,
      request,
      observer: obs,
      walk,
      deadline: info.startedAt + totalMs,
      attempts: [],
      retries: 0,
      hops: 0,
      costUsd: 0,
      lastFailure: undefined,
      refusedBy: new Set(),
      needsContextTokens: undefined,
      close() {
        signal?.removeEventListener('abort', onCallerAbort);
        walk.dispose();
      },
    };
  }

  function startRequest(request: ChatRequest, stream: boolean) {
    const startedAt = clock.now();
    const info: RequestInfo = { id: `${requestPrefix}-${++requestSeq}`, chain: config.name, operation: 'chat', stream, request, startedAt };
    const obs = observer.startRequest(info);
    let ended = false;
    const end = (state: WalkState | undefined, outcome: Outcome, extra: { result?: ChatResult; error?: BulwarkError }) => {
      if (ended) return;
      ended = true;
      obs.onEnd?.({
        outcome,
        durationMs: clock.now() - startedAt,
        attempts: state?.attempts.length ?? 0,
        retries: state?.retries ?? 0,
        hops: state?.hops ?? 0,
        costUsd: state?.costUsd ?? 0,
        ...extra,
      });
    };
    return { info, obs, end };
  }

  function asBulwarkError(thrown: unknown, state: WalkState | undefined): BulwarkError {
    if (thrown instanceof BulwarkError) return thrown;
    // Not a provider's failure and not the caller's: Bulwark's own, reported as such.
    return new BulwarkError('internal', `Internal error: ${thrown instanceof Error ? thrown.message : String(thrown)}`, { attempts: state?.attempts ?? [], cause: thrown });
  }

  /**
   * Only complete answers are kept: a cached answer may be served hours later as a stand-in
   * during an outage. A finished text or a tool call is; an answer cut at maxTokens ('length'),
   * one of unknown completeness ('other'), a refusal or an empty answer is not.
   */
  function cacheable(result: ChatResult): boolean {
    if (result.finishReason !== 'stop' && result.finishReason !== 'tool_calls') return false;
    return result.text !== '' || result.toolCalls.length > 0;
  }

  function saveToCache(request: ChatRequest, result: ChatResult): void {
    if (!cache || !cacheable(result)) return;
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

  function fromCache(state: WalkState, answer: CachedAnswer): ChatResult {
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

  /** Before the chain: a fresh cache hit (read-through), or the tier an operator forced. */
  async function beforeChain(state: WalkState): Promise<{ served?: ChatResult; known?: CacheHit }> {
    let known: CacheHit | undefined;
    if (cache && config.cache?.mode === 'read-through' && forcedTier === 'auto') {
      const hit = await cache.lookup(state.request);
      if (hit?.fresh) {
        state.observer.onCacheLookup?.('hit');
        return { served: fromCache(state, hit.answer) };
      }
      state.observer.onCacheLookup?.('miss');
      known = hit;
    }
    if (forcedTier === 'cached' || forcedTier === 'static') {
      if (state.request.critical) {
        throw new BulwarkError('circuit_open', `Tier '${forcedTier}' is forced and the request is critical (it takes no cached or static answer)`, { attempts: state.attempts });
      }
      const served = await degrade(state, cache, 'forced', `the operator forced tier '${forcedTier}'`, forcedTier, known);
      if (served) return { served };
      throw new BulwarkError('circuit_open', `Tier '${forcedTier}' is forced and has no answer for this request`, { attempts: state.attempts });
    }
    return known ? { known } : {};
  }

  function eligibleTargets(after = -1): TargetRuntime[] {
    return runtimes.filter((rt) => rt.index > after && (forcedTier !== 'reduced' || rt.target.tier === 'reduced'));
  }

  function answered(state: WalkState, target: TargetRuntime, response: ProviderResponse): ChatResult {
    const fallbackUsed = target.index !== 0;
    const tier: Tier = fallbackUsed || target.target.tier === 'reduced' ? 'reduced' : 'full';
    const last = state.lastFailure;
    return {
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
      ...(fallbackUsed && last && { warning: `Answered by fallback target ${target.label} (${last.ref.provider}/${last.ref.model} failed: ${last.reason})` }),
    };
  }

  /** No target answered: degrade to cached/static, or throw when that is not allowed. */
  async function afterFailure(state: WalkState, walked: Extract<WalkResult<unknown>, { ok: false }>, known: CacheHit | undefined): Promise<ChatResult> {
    const { error, reason } = walked;
    // Failed here before anything was sent (bad_request / internal): no target failed, nothing degrades.
    if (error.local) throw new BulwarkError(reason, error.message, { attempts: state.attempts, cause: error });
    const summary = `every target failed (last: ${reason}: ${error.message})`;
    if (walked.stop || state.request.critical || !config.degrade.enabled) {
      const why = reason === 'cancelled' ? 'The request was cancelled' : state.request.critical && !walked.stop ? `Critical request: ${summary}` : summary;
      throw new BulwarkError(reason, why, { attempts: state.attempts, cause: error });
    }
    const served = await degrade(state, cache, reason, summary, 'auto', known);
    if (served) return served;
    throw new BulwarkError(reason, summary, { attempts: state.attempts, cause: error });
  }

  async function chat(request: ChatRequest): Promise<ChatResult> {
    const { info, obs, end } = startRequest(request, false);
    const run = async (): Promise<ChatResult> => {
      let state: (WalkState & { close(): void }) | undefined;
      try {
        validateRequest(request);
        if (request.signal?.aborted) throw new BulwarkError('cancelled', 'The request was cancelled before it started');
        state = openState(request, info, obs);
        const before = await beforeChain(state);
        let result = before.served;
        if (!result) {
          const walked = await walkChain(eligibleTargets(), state, runChatAttempt);
          if (walked.ok) {
            result = answered(state, walked.target, walked.value);
            saveToCache(request, result);
          } else {
            result = await afterFailure(state, walked, before.known);
          }
        }
        end(state, outcomeOf(result), { result });
        if (state.attempts.length === 0) await yieldToEventLoop();
        return result;
      } catch (thrown) {
        const error = asBulwarkError(thrown, state);
        end(state, 'failed', { error });
        throw error;
      } finally {
        state?.close();
      }
    };
    return obs.run ? obs.run(run) : run();
  }

  function stream(request: ChatRequest): ResilientStream {
    let settle!: { resolve: (r: ChatResult) => void; reject: (e: unknown) => void };
    const result = new Promise<ChatResult>((resolve, reject) => (settle = { resolve, reject }));
    result.catch(() => undefined); // a caller who only iterates must not see an unhandled rejection
    /** The consumer called return() or throw(): whatever the generator is doing ends as a walk-away. */
    let consumerStopped = false;
    /** Aborts the walk, so a next() waiting on the provider or a backoff ends at once. */
    let interrupt: (() => void) | undefined;

    async function* events(): AsyncGenerator<StreamEvent> {
      const { info, obs, end } = startRequest(request, true);
      let state: (WalkState & { close(): void }) | undefined;
      let live: LiveStream | undefined;
      let acc = new StreamAccumulator();
      let settled = false;
      /** An answer being replayed (cached, static): still the result if the consumer stops early. */
      let replaying: ChatResult | undefined;
      const finish = (r: ChatResult) => {
        if (settled) return;
        settled = true;
        end(state, outcomeOf(r), { result: r });
        settle.resolve(r);
      };
      try {
        validateRequest(request);
        if (request.signal?.aborted) throw new BulwarkError('cancelled', 'The request was cancelled before it started');
        state = openState(request, info, obs);
        const opened = state;
        const { walk } = opened;
        interrupt = () => walk.abort(consumerStoppedError());
        // The consumer may hold the stream at a yield and never come back (an iterator dropped
        // without return()). When the walk ends — deadline, cancellation — settle the live attempt
        // and let go of the caller's signal now rather than at a next() that may never come.
        walk.signal.addEventListener(
          'abort',
          () => {
            if (live && !consumerStopped) {
              live.watchdog.disarm();
              const error = live.attempt.errorFor(walk.signal.reason);
              live.attempt.abort.abort(error); // before closeUpstream, so the reason stays the walk's
              closeUpstream(live);
              live.attempt.fail(error, acc.usage && { usage: acc.usage });
            }
            opened.close();
          },
          { once: true },
        );
        const before = await beforeChain(state);
        if (before.served) {
          await yieldToEventLoop();
          replaying = before.served;
          yield* replay(before.served);
          return finish(before.served);
        }
        let walked = await walkChain(eligibleTargets(), state, runStreamAttempt);
        for (;;) {
          if (!walked.ok) {
            const degraded = await afterFailure(state, walked, before.known);
            replaying = degraded;
            yield* replay(degraded);
            return finish(degraded);
          }
          live = walked.value;
          const current: LiveStream = live;
          try {
            for (const event of current.buffered.splice(0)) {
              acc.add(event);
              yield event;
            }
            while (!current.ended) {
              current.watchdog.arm(config.timeouts.idleChunkMs, 'idle_chunk_timeout');
              const next = await nextOrAbort(current.iterator, current.attempt.abort.signal);
              current.watchdog.disarm();
              if (next.done) break;
              acc.add(next.value);
              yield next.value;
            }
          } catch (thrown) {
            // The consumer stopped while we waited on the provider: `finally` closes it as a walk-away.
            if (consumerStopped) return;
            current.watchdog.disarm();
            const error = current.attempt.errorFor(thrown);
            closeUpstream(current);
            const failure = current.attempt.fail(error, { ...(acc.usage && { usage: acc.usage }), ...(current.timeToFirstChunkMs !== undefined && { timeToFirstChunkMs: current.timeToFirstChunkMs }) });
            live = undefined;
            const reason = failure.classification.errorType;
            if (isWalkAbort(error) || config.midStream === 'error') {
              if (error.errorType === 'cancelled') throw new BulwarkError('cancelled', 'The request was cancelled', { attempts: state.attempts, cause: error });
              throw new StreamInterruptedError(reason, `The stream from ${current.rt.label} failed after content was sent: ${error.message}`, { text: acc.text, toolCalls: acc.toolCalls }, { attempts: state.attempts, cause: error });
            }
            // 'restart': tell the consumer to discard what it showed, then run the request on the next targets.
            state.lastFailure = { ref: current.rt.ref, reason, error };
            obs.onStreamReset?.(reason);
            yield { type: 'reset', reason };
            acc = new StreamAccumulator();
            walked = await walkChain(eligibleTargets(current.rt.index), state, runStreamAttempt);
            continue;
          }
          const response = acc.response(current.rt.adapter.model);
          current.attempt.succeed(response, acc.usage, current.timeToFirstChunkMs !== undefined ? { timeToFirstChunkMs: current.timeToFirstChunkMs } : undefined);
          live = undefined;
          const r = answered(state, current.rt, response);
          saveToCache(request, r);
          return finish(r);
        }
      } catch (thrown) {
        if (consumerStopped) return; // settled in `finally`: the consumer is no longer listening
        const error = asBulwarkError(thrown, state);
        settled = true;
        end(state, 'failed', { error });
        settle.reject(error);
        throw error;
      } finally {
        if (replaying) finish(replaying);
        if (live && state) {
          // The consumer stopped reading: close the upstream connection, count nothing against
          // the target, and settle with what was received.
          const walkedAway = live;
          walkedAway.watchdog.disarm();
          closeUpstream(walkedAway);
          walkedAway.attempt.release(acc.usage);
          const partial = answered(state, walkedAway.rt, { ...acc.response(walkedAway.rt.adapter.model), finishReason: 'other' });
          finish({ ...partial, warning: 'The consumer stopped reading the stream; the upstream connection was closed' });
        }
        if (!settled) {
          // The consumer stopped with no answer under way (at a reset, during the walk): nothing to resolve with.
          settled = true;
          const error = new BulwarkError('cancelled', 'The consumer stopped reading the stream before an answer was under way', { attempts: state?.attempts ?? [] });
          end(state, 'failed', { error });
          settle.reject(error);
        }
        state?.close();
      }
    }

    const generator = events();
    let started = false;
    const stop = () => {
      if (consumerStopped) return;
      consumerStopped = true;
      if (started) interrupt?.();
      // Never started: nothing was sent and the generator body will never run.
      else settle.reject(new BulwarkError('cancelled', 'The stream was closed before it was read'));
    };
    // A generator queues return() behind a pending next(); this wrapper makes return() and
    // throw() stop a next() that is waiting on the provider, and makes throw() a walk-away
    // (the consumer's error is not the provider's failure).
    const iterator: AsyncIterableIterator<StreamEvent> & AsyncDisposable = {
      next() {
        started = true;
        return generator.next();
      },
      return(value?: unknown) {
        stop();
        return generator.return(value);
      },
      async throw(error?: unknown) {
        stop();
        await generator.return(undefined);
        throw error;
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
      async [Symbol.asyncDispose]() {
        await iterator.return!();
      },
    };
    return { [Symbol.asyncIterator]: () => iterator, result };
  }

  function slotFor(breaker: string | number) {
    const rt = typeof breaker === 'number' ? runtimes[breaker] : runtimes.find((r) => r.slot.key === breaker);
    if (!rt) throw new ConfigError('breaker', `names no breaker of chain '${config.name}' (known: ${[...new Set(runtimes.map((r) => r.slot.key))].join(', ')})`);
    return rt.slot;
  }

  return {
    name: config.name,
    chat,
    stream,
    health,
    forceBreaker(breaker, override) {
      if (!['auto', 'open', 'closed'].includes(override)) throw new ConfigError('override', `must be 'auto', 'open' or 'closed', got '${String(override)}'`);
      const applied = slotFor(breaker).breaker.setOverride(override);
      return Promise.resolve(applied).then((stored) => ({ shared: stored === true }));
    },
    forceTier(tier) {
      if (!['auto', 'reduced', 'cached', 'static'].includes(tier)) throw new ConfigError('tier', `must be 'auto', 'reduced', 'cached' or 'static', got '${String(tier)}'`);
      forcedTier = tier;
      return shared ? shared.setForcedTier(tier).then((stored) => ({ shared: stored })) : Promise.resolve({ shared: false });
    },
    async close() {
      await shared?.close();
      await Promise.allSettled([...pendingWrites]);
      await observer.close();
    },
  };
}
