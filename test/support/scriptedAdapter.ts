import { createResilientLLM, type ResilientLLM } from '../../src/createResilientLLM.js';
import { ProviderError } from '../../src/errors/providerError.js';
import type { ErrorType } from '../../src/errors/errorTypes.js';
import type { AttemptOptions, ProviderAdapter, Target, TargetOptions } from '../../src/providers/adapter.js';
import type { ChatRequest, ProviderResponse, StreamEvent } from '../../src/request/types.js';
import { createFakeClock } from './fakeClock.js';

/** One scripted outcome of a call: an answer, a failure, or a hang until the signal aborts. */
export type Step =
  | { ok: string; usage?: { inputTokens: number; outputTokens: number } }
  | { fail: ErrorType; status?: number; retryAfterMs?: number; usage?: { inputTokens: number; outputTokens: number } }
  | 'hang';

/** One scripted stream: chunks of text, then the end, a failure or a stall. */
export interface StreamStep {
  chunks: string[];
  /** After the chunks: fail with this error type (a cut stream)… */
  failWith?: ErrorType;
  /** …or go silent forever (until aborted). */
  stall?: boolean;
  /** Fail before any chunk (an HTTP error on open). */
  failBefore?: ErrorType;
  usage?: { inputTokens: number; outputTokens: number };
}

export interface ScriptedAdapter extends ProviderAdapter {
  /** Streams opened, and whether each was closed (aborted) before it finished. */
  streams: Array<{ closed: boolean; finished: boolean }>;
  streamScript(...steps: StreamStep[]): ScriptedAdapter;
  /** Requests this adapter received, in order. */
  calls: ChatRequest[];
  /** Steps consumed in order; when empty, `then` repeats. */
  script(...steps: Step[]): ScriptedAdapter;
  then(step: Step): ScriptedAdapter;
}

/**
 * An in-process provider for engine unit tests: no network, every call scripted. Integration
 * tests use the real clients against the fault server instead.
 */
export function scriptedAdapter(provider: string, model: string): ScriptedAdapter {
  const queue: Step[] = [];
  const streamQueue: StreamStep[] = [];
  let fallback: Step = { ok: `answer from ${provider}/${model}` };
  const adapter: ScriptedAdapter = {
    provider,
    model,
    calls: [],
    streams: [],
    streamScript(...steps) {
      streamQueue.push(...steps);
      return adapter;
    },
    script(...steps) {
      queue.push(...steps);
      return adapter;
    },
    then(step) {
      fallback = step;
      return adapter;
    },
    async chat(request: ChatRequest, options: AttemptOptions): Promise<ProviderResponse> {
      adapter.calls.push(request);
      const step = queue.shift() ?? fallback;
      if (step === 'hang') {
        return new Promise((_, reject) => {
          if (options.signal.aborted) reject(options.signal.reason);
          options.signal.addEventListener('abort', () => reject(options.signal.reason), { once: true });
        });
      }
      if ('fail' in step) {
        throw new ProviderError({
          errorType: step.fail,
          provider,
          model,
          message: `scripted ${step.fail}`,
          ...(step.status !== undefined && { status: step.status }),
          ...(step.retryAfterMs !== undefined && { retryAfterMs: step.retryAfterMs }),
          ...(step.usage !== undefined && { usage: step.usage }),
        });
      }
      return { text: step.ok, toolCalls: [], finishReason: 'stop', usage: step.usage ?? { inputTokens: 100, outputTokens: 20 }, model, responseId: `resp-${adapter.calls.length}` };
    },
    async *stream(request: ChatRequest, options: AttemptOptions): AsyncIterable<StreamEvent> {
      adapter.calls.push(request);
      const record = { closed: false, finished: false };
      adapter.streams.push(record);
      const step = streamQueue.shift() ?? { chunks: [`streamed from ${provider}/${model}`] };
      const fail = (errorType: ErrorType) => new ProviderError({ errorType, provider, model, message: `scripted ${errorType}` });
      const silence = () =>
        new Promise<never>((_, reject) => {
          if (options.signal.aborted) reject(options.signal.reason);
          options.signal.addEventListener('abort', () => reject(options.signal.reason), { once: true });
        });
      try {
        if (step.failBefore) throw fail(step.failBefore);
        for (const chunk of step.chunks) {
          await Promise.resolve();
          if (options.signal.aborted) throw options.signal.reason;
          yield { type: 'text', delta: chunk };
        }
        if (step.failWith) throw fail(step.failWith);
        if (step.stall) await silence();
        yield { type: 'usage', usage: step.usage ?? { inputTokens: 50, outputTokens: step.chunks.length } };
        yield { type: 'finish', finishReason: 'stop', model };
        record.finished = true;
      } finally {
        if (!record.finished) record.closed = true;
      }
    },
  };
  return adapter;
}

export function scriptedTarget(adapter: ProviderAdapter, options: Omit<TargetOptions, 'model' | 'capabilities' | 'providerOptions'> & { capabilities?: Target['capabilities'] } = {}): Target {
  return { adapter, tier: options.tier ?? 'full', ...options };
}

/**
 * A chain whose primary fails (503, chat and stream) and whose secondary answers: one request span,
 * two attempt spans and a fallback event — the scenario entry-point telemetry tests compare.
 */
export function tracedFallbackChain(): ResilientLLM {
  const primary = scriptedAdapter('openai', 'gpt-4o').then({ fail: 'server_error', status: 503 }).streamScript({ chunks: [], failBefore: 'server_error' });
  const secondary = scriptedAdapter('anthropic', 'claude-sonnet-4-6');
  return createResilientLLM({ name: 'traced', targets: [scriptedTarget(primary), scriptedTarget(secondary)], retry: { maxAttempts: 1 }, clock: createFakeClock(Date.now()) });
}
