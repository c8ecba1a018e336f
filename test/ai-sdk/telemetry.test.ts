/**
 * Telemetry through bulwarkModel, with the real OpenTelemetry SDK: a generateText / streamText call
 * produces the same Bulwark span tree as llm.chat() / llm.stream(), and with the AI SDK's own
 * telemetry on (@ai-sdk/otel), the AI SDK's model-call span is the parent of Bulwark's request span.
 */
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { OpenTelemetry } from '@ai-sdk/otel';
import { trace } from '@opentelemetry/api';
import { generateText, streamText } from 'ai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { aiSdkTarget, bulwarkModel } from '../../src/ai-sdk/index.js';
import { fault, startFaultServer } from '../../src/testing/index.js';
import { createResilientLLM } from '../../src/createResilientLLM.js';
import { tracedFallbackChain } from '../support/scriptedAdapter.js';
import { bulwarkSpanTree as bulwarkTree, createSdk, spanId, type Sdk } from '../telemetry/harness.js';

let sdk: Sdk;
beforeAll(() => {
  sdk = createSdk();
  trace.setGlobalTracerProvider(sdk.tracerProvider);
});
afterAll(async () => {
  await sdk.shutdown();
  trace.disable();
});
beforeEach(() => sdk.exporter.reset());

const chain = tracedFallbackChain;

describe('telemetry through bulwarkModel', () => {
  it('generateText produces the same Bulwark span tree as llm.chat()', async () => {
    const request = { messages: [{ role: 'user' as const, content: 'hi' }] };
    await chain().chat(request);
    const direct = bulwarkTree(sdk.spans());
    sdk.exporter.reset();
    await generateText({ model: bulwarkModel(chain()), prompt: 'hi' });
    const viaAiSdk = bulwarkTree(sdk.spans());
    expect(viaAiSdk).toEqual(direct);
    expect(direct).toHaveLength(1);
    expect(JSON.stringify(direct)).toContain('"name":"bulwark chat traced"');
    expect(JSON.stringify(direct)).toContain('bulwark.fallback');
  });

  it('streamText produces the same Bulwark span tree as llm.stream()', async () => {
    const request = { messages: [{ role: 'user' as const, content: 'hi' }] };
    const s = chain().stream(request);
    for await (const _ of s) void _;
    const direct = bulwarkTree(sdk.spans());
    sdk.exporter.reset();
    const result = streamText({ model: bulwarkModel(chain()), prompt: 'hi' });
    expect(await result.text).toContain('anthropic/claude-sonnet-4-6');
    expect(bulwarkTree(sdk.spans())).toEqual(direct);
    expect(direct).toHaveLength(1);
    expect(JSON.stringify(direct)).toContain('bulwark.fallback');
  });

  it("the AI SDK's model-call span (telemetry on) is the parent of Bulwark's request span", async () => {
    const tracer = sdk.tracerProvider.getTracer('ai');
    await generateText({ model: bulwarkModel(chain()), prompt: 'hi', telemetry: { isEnabled: true, integrations: new OpenTelemetry({ tracer }) } });
    const spans = sdk.spans();
    const request = spans.find((s) => s.name === 'bulwark chat traced')!;
    expect(request).toBeDefined();
    const parent = spans.find((s) => spanId(s) === request.parentSpanContext?.spanId);
    expect(parent?.instrumentationScope.name).toBe('ai');
    // …and that span sits inside the AI SDK's own tree, whose root is the generateText call.
    let root = parent!;
    for (let up = spans.find((s) => spanId(s) === root.parentSpanContext?.spanId); up; up = spans.find((s) => spanId(s) === root.parentSpanContext?.spanId)) root = up;
    expect(root.instrumentationScope.name).toBe('ai');
    expect(root).not.toBe(parent);
  });

  it('an aiSdkTarget attempt span carries the semconv provider name and the model endpoint', async () => {
    await using server = await startFaultServer({ seed: 3 });
    const google = createGoogleGenerativeAI({ apiKey: 'google-test-key-0123', baseURL: server.baseURL('gemini', 'gem') });
    const llm = createResilientLLM({ name: 'gemini', targets: [aiSdkTarget({ model: google('gemini-2.5-flash') })] });
    server.script({ then: fault.ok({ text: 'hi', usage: { inputTokens: 3, outputTokens: 1 } }) });
    await llm.chat({ messages: [{ role: 'user', content: 'hi' }] });
    const attempt = sdk.spans().find((s) => s.name === 'chat gemini-2.5-flash')!;
    expect(attempt.attributes).toMatchObject({
      'gen_ai.provider.name': 'gcp.gemini',
      'gen_ai.request.model': 'gemini-2.5-flash',
      'gen_ai.usage.input_tokens': 3,
      'server.address': '127.0.0.1',
      'server.port': server.port,
    });
    await llm.close();
  });
});
