/**
 * An in-process provider: answers at once, no network, so what is measured is Bulwark's pipeline
 * (validation, cache, breaker, budget, walk, cost, telemetry) and nothing else.
 */
import type { ProviderAdapter, ProviderResponse, StreamEvent, Target } from '../src/index.js';
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
