import type { BreakerPermit } from '../breaker/circuitBreaker.js';
import { untilAborted, type LinkedAbort } from './linkedAbort.js';
import { beginAttempt, type Attempt, type AttemptFailure } from './runAttempt.js';
import type { TargetRuntime } from './targetRuntime.js';
import type { WalkState } from './walkState.js';
import { ProviderError } from '../errors/providerError.js';
import type { AttemptKind, StreamEvent, Usage } from '../request/types.js';
import type { Clock } from '../time/clock.js';

/**
 * Aborts a streamed attempt when the provider goes quiet: `firstChunkMs` until the first
 * content chunk (a hung provider is caught here, not after the attempt timeout), then
 * `idleChunkMs` between chunks.
 */
export class StreamWatchdog {
  private cancel: (() => void) | undefined;
  constructor(
    private readonly clock: Clock,
    private readonly attempt: Attempt,
    private readonly rt: TargetRuntime,
  ) {}

  arm(ms: number, code: 'first_chunk_timeout' | 'idle_chunk_timeout'): void {
    this.cancel?.();
    const { provider, model } = this.rt.adapter;
    this.cancel = this.clock.setTimer(() => {
      const label = code === 'first_chunk_timeout' ? 'No first chunk' : 'Stream idle';
      this.attempt.abort.abort(new ProviderError({ errorType: 'timeout', provider, model, message: `${label} after ${ms} ms`, providerCode: code }));
    }, ms);
  }

  disarm(): void {
    this.cancel?.();
    this.cancel = undefined;
  }
}

/** A streamed attempt that has delivered its first content chunk: committed to this target. */
export interface LiveStream {
  rt: TargetRuntime;
  attempt: Attempt;
  iterator: AsyncIterator<StreamEvent>;
  watchdog: StreamWatchdog;
  /** Events read while waiting for the first content chunk (usage, the chunk itself). */
  buffered: StreamEvent[];
  /** The stream ended before any content (an empty answer). */
  ended: boolean;
  timeToFirstChunkMs: number | undefined;
}

/** Next event, or the abort reason as soon as the attempt aborts (never waits on a hung socket). */
export function nextOrAbort(iterator: AsyncIterator<StreamEvent>, abort: LinkedAbort): Promise<IteratorResult<StreamEvent>> {
  // Checked first: an aborted attempt asks nothing more of the provider.
  if (abort.aborted) return Promise.reject(abort.reason);
  return untilAborted(iterator.next(), abort);
}

/** Closes the upstream stream; never throws. */
function closeUpstream(live: Pick<LiveStream, 'iterator' | 'attempt'>): void {
  if (!live.attempt.abort.aborted) live.attempt.abort.abort(new ProviderError({ errorType: 'cancelled', provider: 'bulwark', model: '', message: 'stream closed' }));
  try {
    void live.iterator.return?.()?.catch(() => undefined);
  } catch {
    /* an iterator that throws on return is closed anyway */
  }
}

/** How a live stream ended before its last event. */
export type LiveStreamEnd =
  /** The provider failed, a timeout fired, or the walk ended (deadline, caller's cancel): the attempt fails with what `thrown` stands for. */
  | { failed: unknown }
  /** The consumer stopped reading: nothing counts against the target. */
  | { walkedAway: true };

/** What the attempt reports as it ends: usage received so far, the time to its first chunk. */
interface EndReport {
  usage?: Usage | undefined;
  timeToFirstChunkMs?: number | undefined;
}

/**
 * The one teardown of a live stream, whichever way it ends early — provider failure, timeout,
 * deadline or cancel while the consumer holds the stream, a consumer that walks away, a stream
 * nobody will read: the watchdog stops, the upstream connection closes, and the attempt is
 * settled exactly once (its breaker permit, cost and observer with it).
 */
export function endLiveStream(live: LiveStream, end: { failed: unknown }, report?: EndReport): AttemptFailure;
export function endLiveStream(live: LiveStream, end: { walkedAway: true }, report?: EndReport): undefined;
export function endLiveStream(live: LiveStream, end: LiveStreamEnd, report: EndReport = {}): AttemptFailure | undefined {
  live.watchdog.disarm();
  const extra = { ...(report.usage && { usage: report.usage }), ...(report.timeToFirstChunkMs !== undefined && { timeToFirstChunkMs: report.timeToFirstChunkMs }) };
  if ('walkedAway' in end) {
    closeUpstream(live);
    live.attempt.release(extra.usage);
    return undefined;
  }
  const error = live.attempt.errorFor(end.failed);
  // The upstream call's signal carries the reason the attempt ended (before closeUpstream's own).
  if (!live.attempt.abort.aborted) live.attempt.abort.abort(error);
  closeUpstream(live);
  return live.attempt.fail(error, extra);
}

function bufferedUsage(buffered: readonly StreamEvent[]): Usage | undefined {
  const usage = buffered.findLast((e) => e.type === 'usage');
  return usage?.type === 'usage' ? usage.usage : undefined;
}

/** What commits a stream to its target: text, a tool call, or reasoning (the provider is answering). */
const isContent = (e: StreamEvent) => e.type === 'text' || e.type === 'tool_call' || e.type === 'reasoning';

/**
 * Opens a stream on one target and waits for its first content chunk. Failures before it
 * (HTTP errors, connection failures, the first-chunk timeout) go through the same retry,
 * breaker and fallback walk as chat(); after it the stream belongs to the consumer.
 */
export async function runStreamAttempt(rt: TargetRuntime, state: WalkState, permit: BreakerPermit, kind: AttemptKind, resendCount: number): Promise<LiveStream> {
  const { clock, timeouts } = state.config;
  const attempt = beginAttempt(rt, state, permit, kind, resendCount, Number.POSITIVE_INFINITY, 'attempt_timeout');
  const watchdog = new StreamWatchdog(clock, attempt, rt);
  watchdog.arm(timeouts.firstChunkMs, 'first_chunk_timeout');
  const buffered: StreamEvent[] = [];
  let iterator: AsyncIterator<StreamEvent> | undefined;
  try {
    const open = () => rt.adapter.stream(attempt.request, attempt.options)[Symbol.asyncIterator]();
    iterator = attempt.observer.run ? attempt.observer.run(open) : open();
    for (;;) {
      const next = await nextOrAbort(iterator, attempt.abort);
      if (next.done) {
        watchdog.disarm();
        return { rt, attempt, iterator, watchdog, buffered, ended: true, timeToFirstChunkMs: undefined };
      }
      buffered.push(next.value);
      if (isContent(next.value)) {
        const timeToFirstChunkMs = clock.now() - attempt.startedAt;
        rt.firstChunkLatency.record(timeToFirstChunkMs);
        attempt.responded(timeToFirstChunkMs);
        attempt.observer.onFirstChunk?.(timeToFirstChunkMs);
        // From here on the watchdog runs only while we wait on the provider, not on the consumer.
        watchdog.disarm();
        return { rt, attempt, iterator, watchdog, buffered, ended: false, timeToFirstChunkMs };
      }
    }
  } catch (thrown) {
    if (!iterator) {
      watchdog.disarm();
      throw attempt.fail(attempt.errorFor(thrown));
    }
    throw endLiveStream({ rt, attempt, iterator, watchdog, buffered, ended: false, timeToFirstChunkMs: undefined }, { failed: thrown }, { usage: bufferedUsage(buffered) });
  }
}

/**
 * A stream opened for a walk that ended as it was handed over (the caller aborted, the deadline
 * passed): nobody will read it, so close it and settle its attempt.
 */
runStreamAttempt.discard = (live: LiveStream, reason: unknown): void => {
  endLiveStream(live, { failed: reason }, { usage: bufferedUsage(live.buffered) });
};
