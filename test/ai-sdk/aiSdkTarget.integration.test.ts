/**
 * aiSdkTarget: AI SDK provider models (@ai-sdk/openai, @ai-sdk/anthropic, @ai-sdk/google) as chain
 * targets, over real HTTP against the fault server (OpenAI, Anthropic and Gemini wires): answers,
 * streams and tool calls through each; every failure classified into Bulwark's taxonomy from the
 * AI SDK's APICallError (status, headers, Google's RetryInfo); no retries of the model's own; and a
 * chain OpenAI → Gemini end to end with scripted faults.
 */
import { createAnthropic } from '@ai-sdk/anthropic';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createOpenAI } from '@ai-sdk/openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { aiSdkTarget } from '../../src/ai-sdk/index.js';
import { genAiProviderName } from '../../src/providers/aiSdk.js';
import { createResilientLLM } from '../../src/createResilientLLM.js';
import { ProviderError } from '../../src/errors/providerError.js';
import type { Target } from '../../src/providers/adapter.js';
import type { ChatRequest, StreamEvent } from '../../src/request/types.js';
import { fault, startFaultServer, type Fault, type FaultServer } from '../../src/testing/index.js';
import { createFakeClock } from '../support/fakeClock.js';

const OPENAI_KEY = 'sk-proj-AISDK-SECRET-0123456789abcdef';
const ANTHROPIC_KEY = 'sk-ant-api03-AISDK-SECRET-9876543210';
const GOOGLE_KEY = 'AIzaSyAISDK-SECRET-0123456789abcdefghij';

let server: FaultServer;
beforeAll(async () => {
  server = await startFaultServer({ seed: 31 });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

type Kind = 'openai' | 'anthropic' | 'google';
const routes: Record<Kind, string> = { openai: 'oai', anthropic: 'ant', google: 'gem' };

function target(kind: Kind, options: { tier?: 'full' | 'reduced' } = {}): Target {
  switch (kind) {
    case 'openai':
      return aiSdkTarget({ model: createOpenAI({ apiKey: OPENAI_KEY, baseURL: server.baseURL('openai', routes.openai) }).chat('gpt-4o'), ...options });
    case 'anthropic':
      return aiSdkTarget({
        model: createAnthropic({ apiKey: ANTHROPIC_KEY, baseURL: `${server.baseURL('anthropic', routes.anthropic)}/v1` })('claude-sonnet-4-6'),
        ...options,
      });
    case 'google':
      return aiSdkTarget({ model: createGoogleGenerativeAI({ apiKey: GOOGLE_KEY, baseURL: server.baseURL('gemini', routes.google) })('gemini-2.5-flash'), ...options });
  }
}

const ask: ChatRequest = { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Summarise today' }] };
const weatherTool = { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };

async function collect(stream: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const e of stream) events.push(e);
  return events;
}
const textOf = (events: StreamEvent[]) => events.map((e) => (e.type === 'text' ? e.delta : '')).join('');

async function attemptError(t: Target, stream = false): Promise<ProviderError> {
  const signal = new AbortController().signal;
  const error = await (stream ? collect(t.adapter.stream(ask, { signal })) : t.adapter.chat(ask, { signal })).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe('aiSdkTarget', () => {
  it('names gen_ai.provider.name from the model provider id (GenAI semconv well-known values)', () => {
    expect(genAiProviderName('openai.chat')).toBe('openai');
    expect(genAiProviderName('openai.responses')).toBe('openai');
    expect(genAiProviderName('anthropic.messages')).toBe('anthropic');
    expect(genAiProviderName('google.generative-ai')).toBe('gcp.gemini');
    expect(genAiProviderName('google.vertex.chat')).toBe('gcp.vertex_ai');
    expect(genAiProviderName('amazon-bedrock')).toBe('aws.bedrock');
    expect(genAiProviderName('mistral.chat')).toBe('mistral_ai');
    expect(genAiProviderName('xai.chat')).toBe('x_ai');
    expect(genAiProviderName('fireworks.chat')).toBe('fireworks');
    expect(target('google').adapter).toMatchObject({ provider: 'gcp.gemini', model: 'gemini-2.5-flash', serverAddress: '127.0.0.1' });
  });

  it('refuses what is not an AI SDK v4 language model, naming the field', () => {
    expect(() => aiSdkTarget({ model: 'gpt-4o' as never })).toThrow(/aiSdkTarget\.model/);
    expect(() => aiSdkTarget({ model: { specificationVersion: 'v2', provider: 'x', modelId: 'y', doGenerate() {}, doStream() {} } as never })).toThrow(
      /specification v4/,
    );
    expect(() => aiSdkTarget({ model: createOpenAI({ apiKey: 'k' }).chat('gpt-4o'), contextWindw: 5 } as never)).toThrow(/contextWindw/);
  });

  describe.each(['openai', 'anthropic', 'google'] as const)('%s model', (kind) => {
    it('answers, with usage and the model the provider reports', async () => {
      server.script({ route: routes[kind] }, { then: fault.ok({ text: 'All quiet today.', usage: { inputTokens: 21, outputTokens: 5, cacheReadTokens: 8 } }) });
      const res = await target(kind).adapter.chat(ask, { signal: new AbortController().signal });
      expect(res).toMatchObject({ text: 'All quiet today.', finishReason: 'stop', usage: { inputTokens: 21, outputTokens: 5 }, toolCalls: [] });
      expect(res.usage?.cacheReadTokens).toBe(8);
      expect(server.requests).toHaveLength(1);
    });

    it('streams text and tool calls', async () => {
      server.script(
        { route: routes[kind] },
        { then: fault.ok({ text: 'Let me check.', toolCalls: [{ id: 'call_x1', name: 'get_weather', arguments: { city: 'Paris' } }], usage: { inputTokens: 30, outputTokens: 12 } }) },
      );
      const events = await collect(target(kind).adapter.stream({ ...ask, tools: [weatherTool] }, { signal: new AbortController().signal }));
      expect(textOf(events)).toBe('Let me check.');
      const calls = events.filter((e) => e.type === 'tool_call');
      expect(calls[0]).toMatchObject({ index: 0, name: 'get_weather' });
      expect(JSON.parse(calls.map((e) => (e.type === 'tool_call' ? e.argumentsDelta : '')).join(''))).toEqual({ city: 'Paris' });
      expect(events.at(-1)).toMatchObject({ type: 'finish', finishReason: 'tool_calls' });
      expect(events.find((e) => e.type === 'usage')).toMatchObject({ type: 'usage', usage: { inputTokens: 30, outputTokens: 12 } });
    });

    it.each<[string, Fault, Partial<ProviderError>]>([
      ['rate limit with a delay', fault.rateLimit({ retryAfterMs: 2_000 }), { errorType: 'rate_limited', status: 429, retryAfterMs: 2_000 }],
      ['server error', fault.serverError(500), { errorType: 'server_error', status: 500 }],
      ['overloaded', fault.overloaded(), { errorType: 'overloaded' }],
      ['bad API key', fault.authentication(), { errorType: 'authentication' }],
      ['model not found', fault.modelNotFound(), { errorType: 'not_found', status: 404 }],
      ['context length', fault.contextLength({ maxTokens: 10 }), { errorType: 'context_length_exceeded' }],
      ['bad request', fault.badRequest(), { errorType: 'bad_request', status: 400 }],
    ])('classifies %s from the APICallError', async (_name, f, expected) => {
      server.script({ route: routes[kind] }, { then: f });
      const error = await attemptError(target(kind));
      expect(error).toMatchObject({ ...expected, provider: target(kind).adapter.provider });
      expect(error.message).not.toMatch(/SECRET/);
      // The model's own retries are off: one HTTP request per Bulwark attempt.
      expect(server.hits()).toBe(1);
    });

    it('classifies an error event in the middle of a stream', async () => {
      server.script({ route: routes[kind] }, { then: fault.streamError({ afterChunks: 2, reply: { text: 'one two three four five six' } }) });
      const error = await attemptError(target(kind), true);
      expect(['overloaded', 'server_error']).toContain(error.errorType);
    });

    it('a consumer that stops reading closes the upstream request', async () => {
      server.script({ route: routes[kind] }, { then: fault.ok({ text: 'one two three four five six seven eight', chunkDelayMs: 20 }) });
      let seen = 0;
      for await (const e of target(kind).adapter.stream(ask, { signal: new AbortController().signal })) {
        if (e.type === 'text' && ++seen === 2) break;
      }
      await server.idle();
      expect(server.requests[0]!.clientClosed).toBe(true);
    });
  });

  it.each(['openai', 'anthropic', 'google'] as const)('%s: a key the provider echoes in an error never reaches the ProviderError', async (kind) => {
    const key = { openai: OPENAI_KEY, anthropic: ANTHROPIC_KEY, google: GOOGLE_KEY }[kind];
    const message = `Incorrect API key provided: ${key}.`;
    const body = {
      openai: { error: { message, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } },
      anthropic: { type: 'error', error: { type: 'authentication_error', message } },
      google: { error: { code: 401, message, status: 'UNAUTHENTICATED' } },
    }[kind];
    server.script({ route: routes[kind] }, { then: fault.httpError(401, body) });
    const error = await attemptError(target(kind));
    expect(error.errorType).toBe('authentication');
    expect(error.message).toContain('Incorrect API key provided');
    expect(JSON.stringify({ message: error.message, cause: error.cause })).not.toContain(key);
  });

  it('reasoning through @ai-sdk/anthropic: effort turns thinking on; the signed block is returned and carried back next turn', async () => {
    const llm = createResilientLLM({ name: 'thinker', targets: [target('anthropic')], telemetry: false, clock: createFakeClock(Date.now()) });
    const thought = 'I should look up the weather first.';
    server.script(
      { route: routes.anthropic },
      { sequence: [fault.ok({ reasoning: thought, toolCalls: [{ id: 'toolu_k1', name: 'get_weather', arguments: { city: 'Nice' } }] })], then: fault.ok({ text: 'Sunny in Nice.', reasoning: thought }) },
    );
    const turn1 = await llm.chat({ ...ask, tools: [weatherTool], reasoning: { effort: 'high' }, maxTokens: 16_000 });
    expect(turn1.reasoning).toBe(thought);
    expect(turn1.reasoningBlocks).toEqual([{ provider: 'anthropic', text: thought, signature: expect.any(String) }]);
    expect((server.requests[0]!.body as { thinking?: { type: string } }).thinking?.type).toMatch(/enabled|adaptive/);
    const s = llm.stream({
      ...ask,
      tools: [weatherTool],
      reasoning: { effort: 'high' },
      maxTokens: 16_000,
      messages: [...ask.messages, { role: 'assistant', content: null, toolCalls: turn1.toolCalls, reasoning: turn1.reasoningBlocks! }, { role: 'tool', toolCallId: 'toolu_k1', content: 'sunny' }],
    });
    const events = await collect(s);
    expect(events.filter((e) => e.type === 'reasoning').map((e) => (e as { delta: string }).delta).join('')).toBe(thought);
    expect((await s.result).reasoningBlocks).toEqual([{ provider: 'anthropic', text: thought, signature: expect.any(String) }]);
    // The block went back with its signature (the fault server verifies it and would answer 400 otherwise).
    const sent = server.requests[1]!.body as { messages: Array<{ role: string; content: Array<{ type: string; signature?: string }> }> };
    expect(sent.messages[1]!.content[0]).toEqual({ type: 'thinking', thinking: thought, signature: turn1.reasoningBlocks![0]!.signature });
  });

  it('Gemini reports a content-policy block as a 200 SAFETY finish: content_filtered', async () => {
    server.script({ route: routes.google }, { then: fault.contentFilter() });
    expect(await attemptError(target('google'))).toMatchObject({ errorType: 'content_filtered' });
  });
});

describe('a chain OpenAI → Gemini through AI SDK models', () => {
  function chain(options: { midStream?: 'error' | 'restart' } = {}) {
    return createResilientLLM({
      name: 'ai-sdk-chain',
      targets: [target('openai'), target('google')],
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
      clock: createFakeClock(Date.now()),
      telemetry: false,
      ...options,
    });
  }

  it('fails over from OpenAI to Gemini on a rate limit above the cap, mid tool loop', async () => {
    const llm = chain();
    server.script({ route: routes.openai }, { sequence: [fault.ok({ toolCalls: [{ id: 'call_w1', name: 'get_weather', arguments: { city: 'Paris' } }] })], then: fault.rateLimit({ retryAfterMs: 600_000 }) });
    server.script({ route: routes.google }, { then: fault.ok({ text: 'Sunny in Paris.' }) });
    const turn1 = await llm.chat({ ...ask, tools: [weatherTool] });
    expect(turn1).toMatchObject({ finishReason: 'tool_calls', target: { provider: 'openai' }, toolCalls: [{ id: 'call_w1', name: 'get_weather' }] });
    const turn2 = await llm.chat({
      ...ask,
      tools: [weatherTool],
      messages: [...ask.messages, { role: 'assistant', content: null, toolCalls: turn1.toolCalls }, { role: 'tool', toolCallId: 'call_w1', content: '18°C and sunny' }],
    });
    expect(turn2).toMatchObject({ text: 'Sunny in Paris.', target: { provider: 'gcp.gemini', model: 'gemini-2.5-flash' }, fallbackUsed: true });
    expect(turn2.attempts.map((a) => `${a.provider}:${a.errorType ?? 'ok'}`)).toEqual(['openai:rate_limited', 'gcp.gemini:ok']);
    const toGemini = server.requests.find((r) => r.route === routes.google)!;
    expect(toGemini.path).toBe('/gem/v1beta/models/gemini-2.5-flash:generateContent');
    expect(toGemini.headers['x-goog-api-key']).not.toContain('SECRET');
    expect(toGemini.body).toMatchObject({
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      contents: [
        { role: 'user', parts: [{ text: 'Summarise today' }] },
        { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { name: 'get_weather', content: '18°C and sunny' } } }] },
      ],
    });
  });

  it('streams: OpenAI fails before the first chunk, Gemini streams the answer (alt=sse)', async () => {
    const llm = chain();
    server.script({ route: routes.openai }, { then: fault.serverError(503) });
    server.script({ route: routes.google }, { then: fault.ok({ text: 'streamed by gemini', usage: { inputTokens: 7, outputTokens: 3 } }) });
    const s = llm.stream(ask);
    expect(textOf(await collect(s))).toBe('streamed by gemini');
    expect(await s.result).toMatchObject({ target: { provider: 'gcp.gemini' }, usage: { inputTokens: 7, outputTokens: 3 } });
    expect(server.requests.map((r) => `${r.route}:${r.stream}`)).toEqual(['oai:true', 'oai:true', 'gem:true']);
    expect(server.requests.at(-1)!.path).toBe('/gem/v1beta/models/gemini-2.5-flash:streamGenerateContent');
  });

  it('structured output: an off-schema OpenAI answer fails over to Gemini in its JSON mode, validated by the chain', async () => {
    const llm = chain();
    server.script({ route: routes.openai }, { then: fault.ok({ text: '{"city":42}' }) });
    server.script({ route: routes.google }, { then: fault.ok({ text: '{"city":"Paris"}' }) });
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const res = await llm.chat({ ...ask, responseFormat: { type: 'json', schema, name: 'place' } });
    expect(res).toMatchObject({ object: { city: 'Paris' }, target: { provider: 'gcp.gemini' } });
    expect(res.attempts.map((a) => a.errorType ?? 'ok')).toEqual(['invalid_output', 'invalid_output', 'ok']);
    expect(server.requests[0]!.body).toMatchObject({ response_format: { type: 'json_schema', json_schema: { name: 'place', schema: { required: ['city'] } } } });
    expect(server.requests.at(-1)!.body).toMatchObject({ generationConfig: { responseMimeType: 'application/json' } });
  });

  it('a Gemini 429 with RetryInfo is honoured as the retry delay', async () => {
    const llm = createResilientLLM({
      name: 'gemini-only',
      targets: [target('google')],
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 60_000 },
      telemetry: false,
      clock: createFakeClock(Date.now()),
    });
    server.script({ route: routes.google }, { sequence: [fault.rateLimit({ retryAfterMs: 1_500 })], then: fault.ok({ text: 'after the wait' }) });
    const res = await llm.chat(ask);
    expect(res.text).toBe('after the wait');
    expect(res.attempts[0]).toMatchObject({ errorType: 'rate_limited', delayMs: 1_500 });
  });
});

describe('content parts through AI SDK models (issue 12 part A)', () => {
  const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
  const PDF = Buffer.from('%PDF-1.4\n%%EOF\n');
  const withParts: ChatRequest = {
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Compare these' },
          { type: 'image', image: new Uint8Array(PNG) },
          { type: 'file', data: new Uint8Array(PDF), mediaType: 'application/pdf', filename: 'r.pdf' },
        ],
      },
    ],
  };

  it.each(['openai', 'anthropic', 'google'] as const)('%s: the image and the PDF reach the wire as the provider package converts them, bytes intact', async (kind) => {
    const llm = createResilientLLM({ name: `parts-${kind}`, targets: [target(kind)], clock: createFakeClock(Date.now()), telemetry: false });
    server.script({ route: routes[kind] }, { sequence: [fault.ok({ echo: true })] });
    const res = await llm.chat(withParts);
    const summary = JSON.parse(res.text) as { attachments: Array<{ kind: string; mediaType?: string; bytes?: number }> };
    expect(summary.attachments.map((a) => [a.kind, a.mediaType, a.bytes])).toEqual([
      ['image', 'image/png', PNG.length],
      ['file', 'application/pdf', PDF.length],
    ]);
  });

  it('an AI SDK target that declares images: false is skipped before any call', async () => {
    const llm = createResilientLLM({
      name: 'parts-declared',
      targets: [aiSdkTarget({ model: createOpenAI({ apiKey: OPENAI_KEY, baseURL: server.baseURL('openai', routes.openai) }).chat('gpt-4o'), capabilities: { images: false } }), target('google')],
      clock: createFakeClock(Date.now()),
      telemetry: false,
    });
    server.script({ route: routes.google }, { sequence: [fault.ok({ text: 'seen' })] });
    const res = await llm.chat(withParts);
    expect(res.target.index).toBe(1);
    expect(server.hits({ route: routes.openai })).toBe(0);
  });
});
