/**
 * An in-process provider: answers at once, no network, so what is measured is Bulwark's pipeline
 * (validation, cache, breaker, budget, walk, cost, telemetry) and nothing else.
 */
import type { ChatRequest, ProviderAdapter, ProviderResponse, ResilientLLM, StreamEvent, Target } from '../src/index.js';
import { ProviderError } from '../src/index.js';

export const FAKE_RESPONSE: ProviderResponse = {
  text: 'Hello there, how can I help today?',
  toolCalls: [],
  finishReason: 'stop',
  usage: { inputTokens: 12, outputTokens: 9 },
  model: 'gpt-4o',
  responseId: 'resp-bench',
};

export interface FakeAdapter extends ProviderAdapter {
  /** When true, every call fails with a 503 server error. */
  failing: boolean;
}

export function fakeAdapter(provider: string, model: string): FakeAdapter {
  const adapter: FakeAdapter = {
    provider,
    model,
    failing: false,
    async chat() {
      if (adapter.failing) throw new ProviderError({ errorType: 'server_error', provider, model, status: 503, message: 'fake outage' });
      return FAKE_RESPONSE;
    },
    async *stream(): AsyncGenerator<StreamEvent> {
      if (adapter.failing) throw new ProviderError({ errorType: 'server_error', provider, model, status: 503, message: 'fake outage' });
      yield { type: 'text', delta: FAKE_RESPONSE.text };
      yield { type: 'usage', usage: FAKE_RESPONSE.usage! };
      yield { type: 'finish', finishReason: 'stop', model };
    },
  };
  return adapter;
}

/** A three-target chain of fake providers; the first is returned so a benchmark can make it fail. */
export function fakeTargets(): { targets: Target[]; primary: FakeAdapter } {
  const primary = fakeAdapter('openai', 'gpt-4o');
  return {
    primary,
    targets: [
      { adapter: primary, tier: 'full' },
      { adapter: fakeAdapter('anthropic', 'claude-haiku-4-5'), tier: 'full' },
      { adapter: fakeAdapter('openai', 'gpt-4o-mini'), tier: 'reduced' },
    ],
  };
}

/** One turn of the event loop, so timers (the span batcher, the metric reader) run as they would. */
export const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The pipeline scenario (throughput suite, profile suite): `total` requests from `concurrency` callers on
 * one event loop, 5,000 distinct prompts; returns requests per second.
 */
export async function drivePipeline(llm: Pick<ResilientLLM, 'chat'>, total: number, concurrency = 64): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const request: ChatRequest = { messages: [{ role: 'user', content: `question ${i % 5000}` }], maxTokens: 64 };
        await llm.chat(request);
        // The fake answers without I/O; let timers (the span batcher, the metric reader) run as they would.
        if (i % 1000 === 0) await yieldToLoop();
      }
    }),
  );
  return total / ((performance.now() - started) / 1000);
}
