/**
 * Issue 12, part A over real HTTP: images and files, capabilities, provider options, the output
 * token clamp and parallelToolCalls through the official `openai` and `@anthropic-ai/sdk` clients
 * against the fault server, which checks each provider's wire shapes and echoes what it received.
 */
import Anthropic from '@anthropic-ai/sdk';
import { metrics, trace } from '@opentelemetry/api';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createResilientLLM } from '../../src/createResilientLLM.js';
import { BulwarkError } from '../../src/errors/bulwarkError.js';
import { anthropicTarget, openaiTarget, type AnthropicTargetOptions, type OpenAITargetOptions } from '../../src/providers/index.js';
import type { ChatRequest, Message } from '../../src/request/types.js';
import { ATTR, EVENT, METRIC } from '../../src/telemetry/names.js';
import { fault, startFaultServer, type FaultServer, type InputSummary } from '../../src/testing/index.js';
import { createFakeClock } from '../support/fakeClock.js';
import { createSdk, sumOf, type Sdk } from '../telemetry/harness.js';
import { ANTHROPIC_KEY, OPENAI_KEY, threeTargetChain } from './setup.js';

// A real 1×1 PNG and a minimal PDF.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');

let server: FaultServer;
let sdk: Sdk;
beforeAll(async () => {
  server = await startFaultServer({ seed: 12 });
  sdk = createSdk();
  metrics.setGlobalMeterProvider(sdk.meterProvider);
  trace.setGlobalTracerProvider(sdk.tracerProvider);
});
afterAll(async () => {
  await sdk.shutdown();
  metrics.disable();
  trace.disable();
  await server.close();
});
beforeEach(() => {
  server.reset();
  sdk.exporter.reset();
});

const bodies = (route: string) => server.requests.filter((r) => r.route === route).map((r) => r.body as Record<string, any>);
const echoed = (text: string) => JSON.parse(text) as InputSummary;

/** An agent mid tool loop: a screenshot and a PDF were sent, a tool answered with another image. */
const toolLoop: Message[] = [
  { role: 'developer', content: 'You review documents.' },
  {
    role: 'user',
    content: [
      { type: 'text', text: 'Does the screenshot match the report?' },
      { type: 'image', image: new Uint8Array(PNG) },
      { type: 'file', data: `data:application/pdf;base64,${PDF.toString('base64')}`, mediaType: 'application/pdf', filename: 'report.pdf' },
    ],
  },
  { role: 'assistant', content: null, toolCalls: [{ id: 'call_shot1', name: 'screenshot', arguments: '{"page":2}' }] },
  { role: 'tool', toolCallId: 'call_shot1', content: [{ type: 'text', text: 'Page 2:' }, { type: 'image', image: `data:image/png;base64,${PNG.toString('base64')}` }] },
];
const toolLoopRequest: ChatRequest = { messages: toolLoop, tools: [{ name: 'screenshot', parameters: { type: 'object', properties: { page: { type: 'number' } } } }] };

const expectedOnAnthropic = [
  { message: 0, kind: 'image', source: 'base64', mediaType: 'image/png', bytes: PNG.length },
  { message: 0, kind: 'file', source: 'base64', mediaType: 'application/pdf', bytes: PDF.length, filename: 'report.pdf' },
  { message: 2, kind: 'image', source: 'base64', mediaType: 'image/png', bytes: PNG.length, inToolResult: true },
];

describe('an image + PDF conversation hops OpenAI → Anthropic mid tool loop', () => {
  it.each([['chat'], ['stream']])('%s: OpenAI got image_url / file parts, Anthropic image / document blocks, the tool-result image on both', async (mode) => {
    const { llm } = threeTargetChain(server, { order: ['primary', 'backup'], retry: { maxAttempts: 1 } });
    server.script({ route: 'primary' }, { sequence: [fault.serverError(500)] });
    server.script({ route: 'backup' }, { sequence: [fault.ok({ echo: true })] });

    let text: string;
    if (mode === 'chat') {
      const res = await llm.chat(toolLoopRequest);
      expect(res.target).toMatchObject({ provider: 'anthropic', index: 1 });
      text = res.text;
    } else {
      const stream = llm.stream(toolLoopRequest);
      text = '';
      for await (const event of stream) if (event.type === 'text') text += event.delta;
      expect((await stream.result).target.provider).toBe('anthropic');
    }

    // The OpenAI attempt (a 500, after the fault server checked every part) carried the parts in OpenAI's shapes.
    const [openaiBody] = bodies('primary');
    expect(openaiBody!.messages.map((m: { role: string }) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'user']);
    expect(openaiBody!.messages[1].content.map((p: { type: string }) => p.type)).toEqual(['text', 'image_url', 'file']);
    expect(openaiBody!.messages[1].content[1].image_url.url).toBe(`data:image/png;base64,${PNG.toString('base64')}`);
    expect(openaiBody!.messages[4].content.map((p: { type: string }) => p.type)).toEqual(['text', 'image_url']);
    // Anthropic got image / document blocks, the tool result's image inside its tool_result, all bytes intact.
    expect(echoed(text).attachments).toEqual(expectedOnAnthropic);
    expect(bodies('backup')[0]!.system).toBe('You review documents.');
  });

  it('a 20 MB image is sent as given (no resizing), its size intact on the wire', async () => {
    const big = new Uint8Array(20 * 1024 * 1024);
    big.set(PNG);
    const { llm } = threeTargetChain(server, { order: ['backup'] });
    server.script({ route: 'backup' }, { sequence: [fault.ok({ echo: true })] });
    const res = await llm.chat({ messages: [{ role: 'user', content: [{ type: 'image', image: big }] }] });
    expect(echoed(res.text).attachments).toEqual([{ message: 0, kind: 'image', source: 'base64', mediaType: 'image/png', bytes: big.length }]);
  });
});

describe('capabilities: a target that cannot take the input is skipped before any call', () => {
  it('skips the local text-only model with zero upstream calls to it; the hop says unsupported_input', async () => {
    const { llm } = threeTargetChain(server, { order: ['local', 'primary'], telemetry: true, retry: { maxAttempts: 1 } });
    server.script({ route: 'primary' }, { sequence: [fault.ok({ echo: true })] });
    const res = await llm.chat({ messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image', image: 'https://example.com/cat.png' }] }] });

    expect(server.hits({ route: 'local' })).toBe(0);
    expect(res.target).toMatchObject({ provider: 'openai', model: 'gpt-4o', index: 1 });
    expect(res.attempts).toEqual([expect.objectContaining({ targetIndex: 1, kind: 'fallback' })]);
    expect(echoed(res.text).attachments).toEqual([{ message: 0, kind: 'image', source: 'url', url: 'https://example.com/cat.png' }]);

    const request = sdk.spans().find((s) => s.name === 'bulwark chat support-agent')!;
    expect(request.events.find((e) => e.name === EVENT.FALLBACK)?.attributes).toMatchObject({
      [ATTR.FALLBACK_FROM]: 'openai/llama3.1',
      [ATTR.FALLBACK_TO]: 'openai/gpt-4o',
      [ATTR.FALLBACK_REASON]: 'unsupported_input',
    });
    // The only chain of this file that skips for unsupported input: its counter is exactly this hop.
    expect(sumOf(await sdk.collect(), METRIC.FALLBACKS, { [ATTR.CHAIN]: 'support-agent', [ATTR.FALLBACK_REASON]: 'unsupported_input' })).toBe(1);
  });

  it('a PDF by URL skips OpenAI (Chat Completions takes files only inline) and goes to Anthropic as a URL document', async () => {
    const { llm } = threeTargetChain(server, { order: ['primary', 'backup'] });
    server.script({ route: 'backup' }, { sequence: [fault.ok({ echo: true })] });
    const res = await llm.chat({ messages: [{ role: 'user', content: [{ type: 'file', data: 'https://example.com/r.pdf', mediaType: 'application/pdf' }] }] });
    expect(server.hits({ route: 'primary' })).toBe(0);
    expect(echoed(res.text).attachments).toEqual([{ message: 0, kind: 'file', source: 'url', url: 'https://example.com/r.pdf' }]);
  });

  it('when no target can take the input: bad_request naming why, zero upstream calls, no static stand-in', async () => {
    const { llm } = threeTargetChain(server, { order: ['local'], degrade: { staticReply: 'static' } });
    const error = await llm.chat({ messages: [{ role: 'user', content: [{ type: 'image', image: new Uint8Array(PNG) }] }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulwarkError);
    expect((error as BulwarkError).errorType).toBe('bad_request');
    expect((error as BulwarkError).message).toMatch(/openai\/llama3\.1 takes no images/);
    expect(server.requests).toHaveLength(0);
  });

  it('a declared capability overrides the family default', async () => {
    const clock = createFakeClock(Date.now());
    const llm = createResilientLLM({
      name: 'vision-local',
      clock,
      telemetry: false,
      targets: [openaiTarget({ client: new OpenAI({ apiKey: 'ollama', baseURL: server.baseURL('openai', 'local') }), model: 'llava', capabilities: { images: true } })],
    });
    server.script({ route: 'local' }, { sequence: [fault.ok({ echo: true })] });
    const res = await llm.chat({ messages: [{ role: 'user', content: [{ type: 'image', image: new Uint8Array(PNG) }] }] });
    expect(echoed(res.text).attachments).toHaveLength(1);
  });
});

function twoProviderChain(openai: Partial<OpenAITargetOptions>, anthropic: Partial<AnthropicTargetOptions>) {
  const clock = createFakeClock(Date.now());
  return createResilientLLM({
    name: 'options-chain',
    clock,
    retry: { maxAttempts: 1 },
    targets: [
      openaiTarget({ client: new OpenAI({ apiKey: OPENAI_KEY, baseURL: server.baseURL('openai', 'primary') }), model: 'gpt-4o', ...openai }),
      anthropicTarget({ client: new Anthropic({ apiKey: ANTHROPIC_KEY, baseURL: server.baseURL('anthropic', 'backup') }), model: 'claude-sonnet-4-5', ...anthropic }),
    ],
  });
}

describe('provider options reach only their provider', () => {
  it("target's options, then the request's over them, for the attempt's provider only; betas as the anthropic-beta header", async () => {
    const llm = twoProviderChain(
      { providerOptions: { openai: { service_tier: 'flex', seed: 1 }, anthropic: { top_k: 3 } } },
      { providerOptions: { anthropic: { top_k: 5, metadata: { user_id: 'u-1' } } } },
    );
    server.script({ route: 'primary' }, { sequence: [fault.serverError(503)] });
    server.script({ route: 'backup' }, { sequence: [fault.ok({ echo: true })] });
    const res = await llm.chat({
      messages: [{ role: 'user', content: 'hi' }],
      providerOptions: { openai: { seed: 42 }, anthropic: { metadata: { user_id: 'u-2' }, betas: ['context-1m-2025-08-07'] } },
    });

    const [openaiBody] = bodies('primary');
    expect(openaiBody).toMatchObject({ seed: 42, service_tier: 'flex' });
    expect(openaiBody).not.toHaveProperty('top_k');
    expect(openaiBody).not.toHaveProperty('metadata');
    expect(openaiBody).not.toHaveProperty('betas');

    const [anthropicBody] = bodies('backup');
    expect(anthropicBody).toMatchObject({ top_k: 5, metadata: { user_id: 'u-2' } });
    expect(anthropicBody).not.toHaveProperty('seed');
    expect(anthropicBody).not.toHaveProperty('service_tier');
    expect(anthropicBody).not.toHaveProperty('betas');
    const summary = echoed(res.text);
    expect(summary.betas).toEqual(['context-1m-2025-08-07']);
    expect(summary.fields).toEqual(['max_tokens', 'messages', 'metadata', 'model', 'top_k']);
  });

  it('a request option that would override a field Bulwark owns fails before any call, naming the key', async () => {
    const llm = twoProviderChain({}, {});
    const error = await llm.chat({ messages: [{ role: 'user', content: 'hi' }], providerOptions: { openai: { messages: [] } } }).catch((e: unknown) => e);
    expect((error as BulwarkError).errorType).toBe('bad_request');
    expect((error as BulwarkError).message).toMatch(/providerOptions\.openai\.messages is a field Bulwark owns/);
    expect(server.requests).toHaveLength(0);
    expect(() => twoProviderChain({ providerOptions: { openai: { stream: true } } }, {})).toThrow(/openaiTarget\.providerOptions\.openai\.stream/);
  });
});

describe('parallelToolCalls reaches both providers', () => {
  it('OpenAI parallel_tool_calls: false; Anthropic tool_choice.disable_parallel_tool_use: true', async () => {
    const llm = twoProviderChain({}, {});
    server.script({ route: 'primary' }, { sequence: [fault.serverError(500)] });
    const res = await llm.chat({ messages: [{ role: 'user', content: 'hi' }], tools: [{ name: 'lookup', parameters: { type: 'object' } }], parallelToolCalls: false });
    expect(res.target.provider).toBe('anthropic');
    expect(bodies('primary')[0]).toMatchObject({ parallel_tool_calls: false });
    expect(bodies('backup')[0]!.tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true });
  });
});

describe('output-token clamp', () => {
  it("a maxTokens above a target's maxOutputTokens is clamped for that target only, with bulwark.clamped on its attempt span", async () => {
    const llm = twoProviderChain({ maxOutputTokens: 1_000 }, {});
    server.script({ route: 'primary' }, { sequence: [fault.serverError(500)] });
    const res = await llm.chat({ messages: [{ role: 'user', content: 'hi' }], maxTokens: 4_000 });
    expect(res.target.provider).toBe('anthropic');
    expect(bodies('primary')[0]).toMatchObject({ max_tokens: 1_000 });
    expect(bodies('backup')[0]).toMatchObject({ max_tokens: 4_000 });

    const openaiSpan = sdk.spans().find((s) => s.name === 'chat gpt-4o')!;
    expect(openaiSpan.events.find((e) => e.name === EVENT.CLAMPED)?.attributes).toEqual({ [ATTR.CLAMPED_REQUESTED]: 4_000, [ATTR.CLAMPED_ALLOWED]: 1_000 });
    expect(openaiSpan.attributes[ATTR.GEN_AI_REQUEST_MAX_TOKENS]).toBe(1_000);
    const anthropicSpan = sdk.spans().find((s) => s.name === 'chat claude-sonnet-4-5')!;
    expect(anthropicSpan.events.some((e) => e.name === EVENT.CLAMPED)).toBe(false);
    expect(anthropicSpan.attributes[ATTR.GEN_AI_REQUEST_MAX_TOKENS]).toBe(4_000);
  });

  it("an Anthropic target's default max_tokens never exceeds its maxOutputTokens", async () => {
    const llm = twoProviderChain({}, { maxOutputTokens: 512 });
    server.script({ route: 'primary' }, { sequence: [fault.serverError(500)] });
    await llm.chat({ messages: [{ role: 'user', content: 'hi' }] });
    expect(bodies('backup')[0]).toMatchObject({ max_tokens: 512 });
  });
});

describe('content capture of images and files', () => {
  it('with capture on, a 20 MB image is recorded by type and size only, a signed URL without its query; with capture off, nothing', async () => {
    const big = new Uint8Array(20 * 1024 * 1024);
    big.set(PNG);
    const request: ChatRequest = {
      messages: [{ role: 'user', content: [{ type: 'image', image: big }, { type: 'image', image: 'https://bucket.example.com/a.png?X-Amz-Signature=SIGNED-SECRET' }] }],
    };
    for (const captureContent of [true, false]) {
      sdk.exporter.reset();
      const { llm } = threeTargetChain(server, { order: ['primary'], telemetry: true, captureContent });
      server.script({ route: 'primary' }, { sequence: [fault.ok({ text: 'ok' })] });
      await llm.chat(request);
      const attempt = sdk.spans().find((s) => s.name === 'chat gpt-4o')!;
      const input = attempt.attributes[ATTR.GEN_AI_INPUT_MESSAGES];
      expect(JSON.stringify(sdk.spans().map((s) => [s.attributes, s.events]))).not.toContain('SIGNED-SECRET');
      if (!captureContent) {
        expect(input).toBeUndefined();
        continue;
      }
      expect(typeof input).toBe('string');
      expect((input as string).length).toBeLessThan(1_000);
      expect(JSON.parse(input as string)[0].parts).toEqual([
        { type: 'blob', modality: 'image', mime_type: 'image/png', size_bytes: big.length, truncated: true },
        { type: 'uri', modality: 'image', uri: 'https://bucket.example.com/a.png' },
      ]);
    }
  });
});
