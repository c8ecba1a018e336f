import type { CachedAnswer, ResponseCache } from '../cache/responseCache.js';
import type { ResolvedConfig } from '../config/types.js';
import { BulwarkError } from '../errors/bulwarkError.js';
import type { Outcome, RequestInfo, RequestObserver } from '../events/engineObserver.js';
import type { SafeEngineObserver } from '../events/observerFanout.js';
import type { ForcedTier } from '../request/tiers.js';
import type { ChatRequest, ChatResult } from '../request/types.js';
import { validateRequest } from '../validation/validateRequest.js';
import { degrade } from './degrade.js';
import { linkedAbort, type LinkedAbort } from './linkedAbort.js';
import { answered, freshCachedResult, outcomeOf } from './results.js';
import { runChatAttempt } from './runAttempt.js';
import type { TargetRuntime } from './targetRuntime.js';
import { walkChain, type WalkResult } from './walkChain.js';
import type { Hedging } from './hedge.js';
import { cancelledError, deadlineError, type WalkState } from './walkState.js';

/** What the request path needs of the client that runs it (createResilientLLM wires it). */
export interface ChainEngine {
  readonly config: ResolvedConfig;
  readonly runtimes: readonly TargetRuntime[];
  readonly cache: ResponseCache | undefined;
  /** The chain's hedging policy, when `hedge` is configured. */
  readonly hedging: Hedging | undefined;
  /** Every observer, fanned out. */
  readonly observer: SafeEngineObserver;
  /** The tier an operator forced ('auto' when none). */
  forcedTier(): ForcedTier;
  /** Keeps a target's answer for later, if it is complete (writes are awaited by close()). */
  saveToCache(request: ChatRequest, result: ChatResult): void;
}

export type CacheHit = { answer: CachedAnswer; ageMs: number };

let requestSeq = 0;
const requestPrefix = Math.random().toString(36).slice(2, 8);

/**
 * One logical request from its start to its end: its observer, the one way to end it (reported
 * once), and the state its walk runs on. A class, so that a request is one object and its steps
 * are methods, not closures made per request.
 */
export class ChainRequest {
  readonly info: RequestInfo;
  readonly obs: RequestObserver;
  private ended = false;

  constructor(
    private readonly engine: ChainEngine,
    readonly request: ChatRequest,
    stream: boolean,
  ) {
    this.info = { id: `${requestPrefix}-${++requestSeq}`, chain: engine.config.name, operation: 'chat', stream, request, startedAt: engine.config.clock.now() };
    this.obs = engine.observer.startRequest(this.info);
  }

  end(state: WalkState | undefined, outcome: Outcome, extra: { result?: ChatResult; error?: BulwarkError }): void {
    if (this.ended) return;
    this.ended = true;
    this.obs.onEnd?.({
      outcome,
      durationMs: this.engine.config.clock.now() - this.info.startedAt,
      attempts: state?.attempts.length ?? 0,
      retries: state?.retries ?? 0,
      hops: state?.hops ?? 0,
      costUsd: state?.costUsd ?? 0,
      ...extra,
    });
  }

  /** Validates the request and opens its state: total deadline, caller's signal, counters. */
  open(): OpenState {
    validateRequest(this.request);
    if (this.request.signal?.aborted) throw new BulwarkError('cancelled', 'The request was cancelled before it started');
    return new OpenState(this.engine.config, this.info, this.request, this.obs);
  }

  /** The non-streamed request, DESIGN §1 from top to bottom (run inside the observer's context by `chat`). */
  async chat(): Promise<ChatResult> {
    const { engine, request } = this;
    let state: OpenState | undefined;
    try {
      state = this.open();
      const before = await beforeChain(engine, state);
      let result = before.served;
      if (!result) {
        const walked = await walkChain(eligibleTargets(engine), state, runChatAttempt, engine.hedging);
        if (walked.ok) {
          result = answered(state, walked.target, walked.value);
          engine.saveToCache(request, result);
        } else {
          result = await afterFailure(engine, state, walked, before.known);
        }
      }
      this.end(state, outcomeOf(result), { result });
      if (state.attempts.length === 0) await yieldToEventLoop();
      return result;
    } catch (thrown) {
      const error = asBulwarkError(thrown, state);
      this.end(state, 'failed', { error });
      throw error;
    } finally {
      state?.close();
    }
  }
}

/**
 * An open request's walk state: aborted by its total deadline or its caller's signal (the state
 * itself is the signal's listener: no closure per request); `close()` lets both go.
 */
export class OpenState implements WalkState {
  readonly walk: LinkedAbort;
  readonly deadline: number;
  attempts: WalkState['attempts'] = [];
  retries = 0;
  hops = 0;
  costUsd = 0;
  lastFailure: WalkState['lastFailure'] = undefined;
  refusedBy: WalkState['refusedBy'] = undefined;
  needsContextTokens: WalkState['needsContextTokens'] = undefined;
  limitGrants: WalkState['limitGrants'] = undefined;
  estimatedTokens: WalkState['estimatedTokens'] = undefined;
  reserved: WalkState['reserved'] = undefined;

  constructor(
    readonly config: ResolvedConfig,
    readonly info: RequestInfo,
    readonly request: ChatRequest,
    readonly observer: RequestObserver,
  ) {
    const totalMs = request.totalTimeoutMs ?? config.timeouts.totalMs;
    this.walk = linkedAbort(config.clock, undefined, { ms: totalMs, reason: () => deadlineError(totalMs) });
    this.deadline = info.startedAt + totalMs;
    request.signal?.addEventListener('abort', this, { once: true });
  }

  /** The caller's signal aborted. */
  handleEvent(): void {
    this.walk.abort(cancelledError());
  }

  close(): void {
    this.request.signal?.removeEventListener('abort', this);
    this.walk.dispose();
  }
}

export function asBulwarkError(thrown: unknown, state: WalkState | undefined): BulwarkError {
  if (thrown instanceof BulwarkError) return thrown;
  // Not a provider's failure and not the caller's: Bulwark's own, reported as such.
  return new BulwarkError('internal', `Internal error: ${thrown instanceof Error ? thrown.message : String(thrown)}`, { attempts: state?.attempts ?? [], cause: thrown });
}

/**
 * Answers served without any upstream call (cache hits, open breakers everywhere, forced tiers)
 * involve no I/O; a caller awaiting them in a tight loop would never let timers run — other
 * requests' deadlines included. One macrotask turn per such answer keeps the event loop fair.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Before the chain: a fresh cache hit (read-through), or the tier an operator forced. */
export async function beforeChain(engine: ChainEngine, state: WalkState): Promise<{ served?: ChatResult; known?: CacheHit }> {
  const { cache, config } = engine;
  const forcedTier = engine.forcedTier();
  let known: CacheHit | undefined;
  if (cache && config.cache?.mode === 'read-through' && forcedTier === 'auto') {
    const hit = await cache.lookup(state.request);
    if (hit?.fresh) {
      state.observer.onCacheLookup?.('hit');
      return { served: freshCachedResult(state, hit.answer) };
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

/** The targets a walk may use, after index `after` (a restarted stream goes on past its target). */
export function eligibleTargets(engine: ChainEngine, after = -1): TargetRuntime[] {
  const forcedTier = engine.forcedTier();
  return engine.runtimes.filter((rt) => rt.index > after && (forcedTier !== 'reduced' || rt.target.tier === 'reduced'));
}

/** No target answered: degrade to cached/static, or throw when that is not allowed. */
export async function afterFailure(engine: ChainEngine, state: WalkState, walked: Extract<WalkResult<unknown>, { ok: false }>, known: CacheHit | undefined): Promise<ChatResult> {
  const { error, reason } = walked;
  // Failed here before anything was sent (bad_request / internal): no target failed, nothing degrades.
  if (error.local) throw new BulwarkError(reason, error.message, { attempts: state.attempts, cause: error });
  const summary = `every target failed (last: ${reason}: ${error.message})`;
  if (walked.stop || state.request.critical || !engine.config.degrade.enabled) {
    const why = reason === 'cancelled' ? 'The request was cancelled' : state.request.critical && !walked.stop ? `Critical request: ${summary}` : summary;
    throw new BulwarkError(reason, why, { attempts: state.attempts, cause: error });
  }
  const served = await degrade(state, engine.cache, reason, summary, 'auto', known);
  if (served) return served;
  throw new BulwarkError(reason, summary, { attempts: state.attempts, cause: error });
}

/** One non-streamed request, DESIGN §1 from top to bottom. */
export function chat(engine: ChainEngine, request: ChatRequest): Promise<ChatResult> {
  const req = new ChainRequest(engine, request, false);
  return req.obs.run ? req.obs.run(() => req.chat()) : req.chat();
}
