import type { BreakerPermit } from '../breaker/circuitBreaker.js';
import { classifyError, asProviderError, type Classification } from '../errors/classifyError.js';
import { ProviderError } from '../errors/providerError.js';
import { foreignReasoning } from '../validation/reasoning.js';
import { checkStructuredOutput } from '../validation/structuredOutput.js';
import { costOf } from '../cost/computeCost.js';
import type { AttemptInfo, AttemptObserver } from '../events/engineObserver.js';
import type { AttemptKind, AttemptRecord, ChatRequest, ProviderResponse, Usage } from '../request/types.js';
import { linkedAbort, untilAborted, type LinkedAbort } from './linkedAbort.js';
import type { AttemptOptions } from '../providers/adapter.js';
import type { TargetRuntime } from './targetRuntime.js';
import { RaceLost, WalkStopped, walkStopOf, type WalkState } from './walkState.js';
import { takeLimitGrant } from './limited.js';
import type { LimitGrant } from '../limits/types.js';

/** A failed attempt with its classification, as the retry loop and the walk see it. */
export class AttemptFailure extends Error {
  override readonly name = 'AttemptFailure';
  constructor(
    readonly error: ProviderError,
    readonly classification: Classification,
    readonly record: AttemptRecord,
    readonly info: AttemptInfo,
  ) {
    super(error.message);
  }
}

/**
 * One upstream call in progress: its record, observer, abort signal (attempt timeout, walk
 * abort) and breaker permit. Settled exactly once with `succeed` or `fail`.
 */
export interface Attempt {
  info: AttemptInfo;
  /** The request as this target gets it (maxTokens clamped to the target's maxOutputTokens). */
  request: ChatRequest;
  observer: AttemptObserver;
  record: AttemptRecord;
  abort: LinkedAbort;
  /** What the adapter's call gets: the attempt's signal and the target's rate-limit listener. */
  options: AttemptOptions;
  startedAt: number;
  /** The error to report for a thrown value: the abort reason when the attempt was aborted. */
  errorFor(thrown: unknown): ProviderError;
  succeed(response: ProviderResponse | undefined, usage: Usage | undefined, extra?: { timeToFirstChunkMs?: number }): void;
  /** Records the failure (breaker, cost, observer) and returns what the retry loop expects. */
  fail(error: ProviderError, extra?: { usage?: Usage; timeToFirstChunkMs?: number }): AttemptFailure;
  /** Neutral end (the consumer walked away): frees the breaker permit, counts nothing but the usage reported so far. */
  release(usage?: Usage): void;
  /** A stream's first content chunk came `ms` after the start: its response time (once; `succeed` counts it otherwise). */
  responded(ms: number): void;
}

/*
 * What the adapter's call gets: `{ signal, rateLimits }`, two data properties, the attempt's AbortSignal
 * made at once (an AbortController, ~0.1 µs; an HTTP adapter reads it at once anyway). It was an own
 * enumerable getter, to put the AbortSignal off until read, first as an object literal with a getter
 * and then as a class defining the accessor per instance. Both cost more than the signal they put off
 * (Node 24, 1M creations: ~0.8 µs for the literal, built on V8's slow path; ~0.23 µs for the
 * defineProperty; ~0.1 µs for an AbortController and a plain literal). And the literal's getter made a
 * closure per attempt: V8 gave each options object a hidden class of its own holding it, reached from
 * the shared parent class by a weak transition that the young-generation GC treats as strong, so every
 * attempt and its request survived every scavenge until the next full GC (40 % of all bytes allocated).
 * A plain object has neither: no accessor, no closure, one shared hidden class.
 */

export function beginAttempt(rt: TargetRuntime, state: WalkState, permit: BreakerPermit, kind: AttemptKind, resendCount: number, timeoutMs: number, timeoutCode: string): Attempt {
  return new AttemptInFlight(rt, state, permit, kind, resendCount, timeoutMs, timeoutCode);
}

/**
 * The one implementation of `Attempt`: a class whose methods live on its prototype, so an
 * attempt is a few objects (its info, record, abort scope, adapter options) instead of a dozen
 * closures.
 */
class AttemptInFlight implements Attempt {
  readonly info: AttemptInfo;
  readonly request: ChatRequest;
  readonly observer: AttemptObserver;
  readonly record: AttemptRecord;
  readonly abort: LinkedAbort;
  readonly options: AttemptOptions;
  readonly startedAt: number;
  /** Until it answers (streams: sends its first content chunk), the attempt is a wait the latency strategy measures. */
  private waiting = true;
  private settled = false;
  /** The limits' admission of this call: settled with the tokens it reported (correcting the estimate). */
  private readonly grant: LimitGrant | undefined;

  constructor(
    private readonly rt: TargetRuntime,
    private readonly state: WalkState,
    private readonly permit: BreakerPermit,
    kind: AttemptKind,
    resendCount: number,
    timeoutMs: number,
    timeoutCode: string,
  ) {
    const { adapter, ref } = rt;
    const info: AttemptInfo = { request: state.info, number: state.attempts.length + 1, kind, target: ref, breaker: rt.slot.key, resendCount };
    if (adapter.serverAddress !== undefined) info.serverAddress = adapter.serverAddress;
    if (adapter.serverPort !== undefined) info.serverPort = adapter.serverPort;
    this.info = info;
    const observer = state.observer.onAttemptStart?.(info) ?? {};
    this.observer = observer;
    this.request = requestForTarget(rt, state.request, observer);
    // Another provider's thinking blocks cannot go to this one: the adapter leaves them out; say so.
    const dropped = foreignReasoning(state.request, adapter.provider);
    if (dropped) observer.onReasoningDropped?.(dropped);
    this.startedAt = state.config.clock.now();
    const abort = linkedAbort(state.config.clock, state.walk, {
      ms: timeoutMs,
      from: this.startedAt,
      reason: () => new ProviderError({ errorType: 'timeout', provider: adapter.provider, model: adapter.model, message: `${timeoutCode.replace('_', ' ')} after ${timeoutMs} ms`, providerCode: timeoutCode }),
    });
    this.abort = abort;
    const { provider, model } = adapter;
    const record: AttemptRecord =
      ref.pool !== undefined
        ? { provider, model, targetIndex: rt.index, pool: ref.pool, member: ref.member!, kind, durationMs: 0 }
        : { provider, model, targetIndex: rt.index, kind, durationMs: 0 };
    this.record = record;
    state.attempts.push(record);
    // In flight until settled; a pool's reservation for this request becomes this attempt's count.
    if (state.reserved === rt) state.reserved = undefined;
    else rt.inFlight += 1;
    this.grant = takeLimitGrant(state, rt);
    this.options = { signal: abort.signal, rateLimits: rt.slot.limiter.listener };
  }

  errorFor(thrown: unknown): ProviderError {
    // Why the attempt's signal fired comes first: the adapter's own error is only its echo.
    const reason: unknown = this.abort.aborted ? this.abort.reason : undefined;
    const cause = reason instanceof ProviderError || reason instanceof WalkStopped ? reason : thrown;
    if (cause instanceof WalkStopped) return cause.attemptError;
    return asProviderError(cause, this.rt.adapter.provider, this.rt.adapter.model);
  }

  succeed(response: ProviderResponse | undefined, usage: Usage | undefined, extra?: { timeToFirstChunkMs?: number }): void {
    if (!this.settle()) return;
    const { rt, record, observer } = this;
    // One clock read for the end: the duration and both latency samples are taken at it.
    const at = this.state.config.clock.now();
    const durationMs = at - this.startedAt;
    record.durationMs = durationMs;
    const costUsd = this.addCost(usage);
    this.grant?.settle(usedTokens(usage));
    rt.latency.record(durationMs, at);
    this.respondedAt(durationMs, at);
    this.permit.success(observer);
    observer.onEnd?.({ durationMs, ...(response && { response }), ...(usage && { usage }), costUsd, ...extra });
  }

  fail(error: ProviderError, extra?: { usage?: Usage; timeToFirstChunkMs?: number }): AttemptFailure {
    const { rt, record, observer, state } = this;
    const classification = classifyError(error, state.config.classify);
    const failure = new AttemptFailure(error, classification, record, this.info);
    if (!this.settle()) return failure;
    const at = state.config.clock.now();
    const durationMs = at - this.startedAt;
    const usage = extra?.usage ?? error.usage;
    record.durationMs = durationMs;
    record.errorType = classification.errorType;
    const costUsd = this.addCost(usage);
    this.grant?.settle(usedTokens(usage));
    // A walk abort (caller cancelled, total deadline) says nothing about this target's health.
    const stop = walkStopOf(error);
    const walkAbort = stop !== undefined;
    if (this.waiting && (error.errorType === 'timeout' || stop instanceof RaceLost)) censoredWait(rt, durationMs, at);
    this.waiting = false;
    // Transitions the outcome causes reach this attempt's span through the permit.
    if (walkAbort || !classification.countsForBreaker) this.permit.release(observer);
    else this.permit.failure({ immediate: classification.opensBreaker }, observer);
    // A local failure says nothing about the target either: it never heard of the request.
    if (!walkAbort && !error.local) rt.lastError = { type: classification.errorType, at, message: error.message };
    observer.onEnd?.({ durationMs, error, errorType: classification.errorType, ...(usage && { usage }), costUsd, ...(extra?.timeToFirstChunkMs !== undefined && { timeToFirstChunkMs: extra.timeToFirstChunkMs }) });
    return failure;
  }

  release(usage?: Usage): void {
    if (!this.settle()) return;
    const { record } = this;
    record.durationMs = this.state.config.clock.now() - this.startedAt;
    const costUsd = this.addCost(usage);
    this.grant?.settle(usedTokens(usage));
    this.permit.release(this.observer);
    this.observer.onEnd?.({ durationMs: record.durationMs, ...(usage && { usage }), costUsd });
  }

  responded(ms: number): void {
    if (this.waiting) this.respondedAt(ms, this.state.config.clock.now());
  }

  private respondedAt(ms: number, at: number): void {
    if (!this.waiting) return;
    this.waiting = false;
    this.rt.responseLatency.record(ms, at);
  }

  private settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.rt.inFlight -= 1;
    this.abort.dispose();
    return true;
  }

  private addCost(usage: Usage | undefined): number {
    const costUsd = usage ? costOf(usage, this.rt.price) : 0;
    this.record.costUsd = costUsd;
    this.state.costUsd += costUsd;
    return costUsd;
  }
}

/**
 * An attempt that ran out of time, or that another call of its hedged request outran, before it
 * answered: its wait is a lower bound of its response time. It counts for the latency strategy
 * when it says something about the member's tail — at least the member's median so far (any wait
 * when there is none): a stalled call's wait does, a hedge cancelled a moment after it started
 * (the call it raced answered) would only pass for a quick answer.
 */
function censoredWait(rt: TargetRuntime, waitedMs: number, at: number): void {
  const median = rt.responseLatency.summary()?.p50;
  if (median === undefined || waitedMs >= median) rt.responseLatency.record(waitedMs, at);
}

/** Tokens a call used, for the tpm correction; undefined (keep the estimate) when it reported none. */
function usedTokens(usage: Usage | undefined): number | undefined {
  return usage ? usage.inputTokens + usage.outputTokens : undefined;
}

/**
 * A `maxTokens` above the target's `maxOutputTokens` is clamped for this target only (other
 * targets get what was asked), and the attempt says so.
 */
function requestForTarget(rt: TargetRuntime, request: ChatRequest, observer: AttemptObserver): ChatRequest {
  const allowed = rt.target.maxOutputTokens;
  const requested = request.maxTokens;
  if (allowed === undefined || requested === undefined || requested <= allowed) return request;
  observer.onClamped?.({ requested, allowed });
  return { ...request, maxTokens: allowed };
}

/** One non-streamed upstream call: the answer, or an AttemptFailure. */
export async function runChatAttempt(rt: TargetRuntime, state: WalkState, permit: BreakerPermit, kind: AttemptKind, resendCount: number): Promise<ProviderResponse> {
  const attempt = beginAttempt(rt, state, permit, kind, resendCount, state.config.timeouts.attemptMs, 'attempt_timeout');
  const call = () => rt.adapter.chat(attempt.request, attempt.options);
  let response: ProviderResponse;
  try {
    // Raced against the attempt's signal: a timeout or cancellation ends the attempt even when
    // the adapter does not honour its signal.
    response = await untilAborted(Promise.resolve(attempt.observer.run ? attempt.observer.run(call) : call()), attempt.abort);
    if (attempt.abort.aborted) throw attempt.abort.reason;
    // An answer that is not the requested JSON is this attempt's failure (invalid_output).
    response = checkStructuredOutput(state.request, response, rt.adapter.provider, rt.adapter.model);
  } catch (thrown) {
    throw attempt.fail(attempt.errorFor(thrown));
  }
  attempt.succeed(response, response.usage);
  return response;
}
