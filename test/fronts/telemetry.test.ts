/**
 * Telemetry through a wire front, with the real OpenTelemetry SDK: a call made by the official
 * OpenAI / Anthropic client through bulwarkFetch produces the same Bulwark span tree as llm.chat()
 * / llm.stream(), under the caller's active span.
 */
import Anthropic from '@anthropic-ai/sdk';
import { trace } from '@opentelemetry/api';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bulwarkFetch } from '../../src/fronts/index.js';
import { tracedFallbackChain } from '../support/scriptedAdapter.js';
import { bulwarkSpanTree, createSdk, installContextManager, spanId, type Sdk } from '../telemetry/harness.js';

let sdk: Sdk;
beforeAll(() => {
  installContextManager();
  sdk = createSdk();
  trace.setGlobalTracerProvider(sdk.tracerProvider);
});
afterAll(async () => {
  await sdk.shutdown();
  trace.disable();
});
beforeEach(() => sdk.exporter.reset());

const chain = tracedFallbackChain;
const request = { messages: [{ role: 'user' as const, content: 'hi' }] };

async function directTree(stream: boolean, maxTokens?: number): Promise<unknown> {
  const req = maxTokens === undefined ? request : { ...request, maxTokens };
  if (stream) for await (const _ of chain().stream(req)) void _;
  else await chain().chat(req);
  const tree = bulwarkSpanTree(sdk.spans());
  sdk.exporter.reset();
  expect(JSON.stringify(tree)).toContain('bulwark.fallback');
  return tree;
}

describe('telemetry through the wire fronts', () => {
  it('an OpenAI chat.completions call is the same span tree as llm.chat(), under the caller’s span', async () => {
    const direct = await directTree(false);
    const openai = new OpenAI({ apiKey: 'unused', fetch: bulwarkFetch(chain()) });
    const tracer = sdk.tracerProvider.getTracer('agent');
    await tracer.startActiveSpan('agent turn', async (span) => {
      await openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
      span.end();
    });
    expect(bulwarkSpanTree(sdk.spans())).toEqual(direct);
    const spans = sdk.spans();
    const bulwarkRequest = spans.find((s) => s.name === 'bulwark chat traced')!;
    expect(spans.find((s) => spanId(s) === bulwarkRequest.parentSpanContext?.spanId)?.name).toBe('agent turn');
  });

  it('an OpenAI streamed call is the same span tree as llm.stream()', async () => {
    const direct = await directTree(true);
    const openai = new OpenAI({ apiKey: 'unused', fetch: bulwarkFetch(chain()) });
    const stream = await openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true });
    for await (const _ of stream) void _;
    expect(bulwarkSpanTree(sdk.spans())).toEqual(direct);
  });

  it('an Anthropic messages call and stream are the same span trees as llm.chat() and llm.stream()', async () => {
    const anthropic = () => new Anthropic({ apiKey: 'unused', fetch: bulwarkFetch(chain(), { front: 'anthropic' }) });
    const directChat = await directTree(false, 10);
    await anthropic().messages.create({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    expect(bulwarkSpanTree(sdk.spans())).toEqual(directChat);
    sdk.exporter.reset();
    const directStream = await directTree(true, 10);
    await anthropic().messages.stream({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
    expect(bulwarkSpanTree(sdk.spans())).toEqual(directStream);
  });
});
