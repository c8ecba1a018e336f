import { BulwarkError, StreamInterruptedError } from '../errors/bulwarkError.js';
import { checkStructuredOutput } from '../validation/structuredOutput.js';
import type { ChatRequest, ChatResult, ProviderResponse, StreamEvent } from '../request/types.js';
import { afterFailure, asBulwarkError, beforeChain, ChainRequest, eligibleTargets, yieldToEventLoop, type ChainEngine, type OpenState } from './chat.js';
import { answered, outcomeOf, replay } from './results.js';
import { StreamAccumulator } from './streamAccumulator.js';
import { endLiveStream, nextOrAbort, runStreamAttempt, type LiveStream } from './streamAttempt.js';
import { walkChain } from './walkChain.js';
import { consumerStoppedError, walkStopOf } from './walkState.js';

/** A streamed answer: iterate it for events; `result` settles with the final metadata when iteration ends. */
export interface ResilientStream extends AsyncIterable<StreamEvent> {
  readonly result: Promise<ChatResult>;
}

/**
 * One streamed request. Failures before the first content chunk walk the chain like chat();
 * after it, `midStream` decides: 'error' throws StreamInterruptedError, 'restart' emits a
 * `reset` event and streams the next target's whole answer. Every way a live stream ends early
 * (provider failure, timeout, deadline or cancel while the consumer holds it, the consumer
 * walking away) goes through `endLiveStream`. Nothing is sent until the first `next()`.
 */
export function stream(engine: ChainEngine, request: ChatRequest): ResilientStream {
  const { config } = engine;
  let settle!: { resolve: (r: ChatResult) => void; reject: (e: unknown) => void };
  const result = new Promise<ChatResult>((resolve, reject) => (settle = { resolve, reject }));
  result.catch(() => undefined); // a caller who only iterates must not see an unhandled rejection
  /** The consumer called return() or throw(): whatever the generator is doing ends as a walk-away. */
  let consumerStopped = false;
  /** Aborts the walk, so a next() waiting on the provider or a backoff ends at once. */
  let interrupt: (() => void) | undefined;

  async function* events(): AsyncGenerator<StreamEvent> {
    const req = new ChainRequest(engine, request, true);
    const { obs } = req;
    let state: OpenState | undefined;
    let live: LiveStream | undefined;
    let acc = new StreamAccumulator();
    let settled = false;
    /** An answer being replayed (cached, static): still the result if the consumer stops early. */
    let replaying: ChatResult | undefined;
    const finish = (r: ChatResult) => {
      if (settled) return;
      settled = true;
      req.end(state, outcomeOf(r), { result: r });
      settle.resolve(r);
    };
    try {
      state = req.open();
      const opened = state;
      const { walk } = opened;
      interrupt = () => walk.abort(consumerStoppedError());
      // The consumer may hold the stream at a yield and never come back (an iterator dropped
      // without return()). When the walk ends — deadline, cancellation — settle the live attempt
      // and let go of the caller's signal now rather than at a next() that may never come.
      walk.onAbort((reason) => {
        if (live && !consumerStopped) endLiveStream(live, { failed: reason }, { usage: acc.usage });
        opened.close();
      });
      const before = await beforeChain(engine, state);
      if (before.served) {
        await yieldToEventLoop();
        replaying = before.served;
        yield* replay(before.served);
        return finish(before.served);
      }
      let walked = await walkChain(eligibleTargets(engine), state, runStreamAttempt, engine.hedging);
      for (;;) {
        if (!walked.ok) {
          const degraded = await afterFailure(engine, state, walked, before.known);
          replaying = degraded;
          yield* replay(degraded);
          return finish(degraded);
        }
        live = walked.value;
        const current: LiveStream = live;
        let checked: ProviderResponse | undefined;
        try {
          for (const event of current.buffered.splice(0)) {
            acc.add(event);
            yield event;
          }
          while (!current.ended) {
            current.watchdog.arm(config.timeouts.idleChunkMs, 'idle_chunk_timeout');
            const next = await nextOrAbort(current.iterator, current.attempt.abort);
            current.watchdog.disarm();
            if (next.done) break;
            acc.add(next.value);
            yield next.value;
          }
          // Only the whole answer can be parsed: a JSON answer that does not match the request's
          // responseFormat fails here (invalid_output), after its text went out — handled exactly as a
          // failure after content (midStream 'error' throws, 'restart' resets and walks on).
          checked = checkStructuredOutput(request, acc.response(current.rt.adapter.model), current.rt.adapter.provider, current.rt.adapter.model);
        } catch (thrown) {
          // The consumer stopped while we waited on the provider: `finally` closes it as a walk-away.
          if (consumerStopped) return;
          const failure = endLiveStream(current, { failed: thrown }, { usage: acc.usage, timeToFirstChunkMs: current.timeToFirstChunkMs });
          live = undefined;
          const { error } = failure;
          const reason = failure.classification.errorType;
          if (walkStopOf(error) !== undefined || config.midStream === 'error') {
            if (error.errorType === 'cancelled') throw new BulwarkError('cancelled', 'The request was cancelled', { attempts: state.attempts, cause: error });
            throw new StreamInterruptedError(reason, `The stream from ${current.rt.label} failed after content was sent: ${error.message}`, { text: acc.text, toolCalls: acc.toolCalls }, { attempts: state.attempts, cause: error });
          }
          // 'restart': tell the consumer to discard what it showed, then run the request on the next targets.
          state.lastFailure = { ref: current.rt.ref, reason, error };
          obs.onStreamReset?.(reason);
          yield { type: 'reset', reason };
          acc = new StreamAccumulator();
          walked = await walkChain(eligibleTargets(engine, current.rt.index), state, runStreamAttempt, engine.hedging);
          continue;
        }
        const response = checked ?? acc.response(current.rt.adapter.model);
        current.attempt.succeed(response, acc.usage, current.timeToFirstChunkMs !== undefined ? { timeToFirstChunkMs: current.timeToFirstChunkMs } : undefined);
        live = undefined;
        const r = answered(state, current.rt, response);
        engine.saveToCache(request, r);
        return finish(r);
      }
    } catch (thrown) {
      if (consumerStopped) return; // settled in `finally`: the consumer is no longer listening
      const error = asBulwarkError(thrown, state);
      settled = true;
      req.end(state, 'failed', { error });
      settle.reject(error);
      throw error;
    } finally {
      if (replaying) finish(replaying);
      if (live && state) {
        // The consumer stopped reading: close the upstream connection, count nothing against
        // the target, and settle with what was received.
        const walkedAway = live;
        endLiveStream(walkedAway, { walkedAway: true }, { usage: acc.usage });
        const partial = answered(state, walkedAway.rt, { ...acc.response(walkedAway.rt.adapter.model), finishReason: 'other' });
        finish({ ...partial, warning: 'The consumer stopped reading the stream; the upstream connection was closed' });
      }
      if (!settled) {
        // The consumer stopped with no answer under way (at a reset, during the walk): nothing to resolve with.
        settled = true;
        const error = new BulwarkError('cancelled', 'The consumer stopped reading the stream before an answer was under way', { attempts: state?.attempts ?? [] });
        req.end(state, 'failed', { error });
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
