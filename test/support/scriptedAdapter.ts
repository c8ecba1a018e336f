import { ProviderError } from '../../src/errors/providerError.js';
import type { ErrorType } from '../../src/errors/errorTypes.js';
import type { AttemptOptions, ProviderAdapter, Target, TargetOptions } from '../../src/providers/adapter.js';
import type { ChatRequest, ProviderResponse, StreamEvent } from '../../src/request/types.js';

/** One scripted outcome of a call: an answer, a failure, or a hang until the signal aborts. */
export type Step =
  | { ok: string; usage?: { inputTokens: number; outputTokens: number } }
  | { fail: ErrorType; status?: number; retryAfterMs?: number; usage?: { inputTokens: number; outputTokens: number } }
  | 'hang';

export interface ScriptedAdapter extends ProviderAdapter {
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
  let fallback: Step = { ok: `answer from ${provider}/${model}` };
  const adapter: ScriptedAdapter = {
    provider,
    model,
    calls: [],
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
    // eslint-disable-next-line require-yield
    async *stream(): AsyncIterable<StreamEvent> {
      throw new Error('scriptedAdapter does not stream');
    },
  };
  return adapter;
}

export function scriptedTarget(adapter: ProviderAdapter, options: Omit<TargetOptions, 'model'> = {}): Target {
  return { adapter, tier: options.tier ?? 'full', ...options };
}
