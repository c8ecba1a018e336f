/**
 * The OpenAI Chat Completions front under the official `openai` client: `new OpenAI({ fetch:
 * bulwarkFetch(llm) })` against a chain of real clients over real HTTP (the fault server), whose
 * primary fails. Chat, streaming, tool calls, structured output, errors as the client's own classes.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { bulwarkFetch } from '../../src/fronts/index.js';
import { fault, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { threeTargetChain } from '../integration/setup.js';

let server: FaultServer;
beforeAll(async () => {
  server = await startFaultServer({ seed: 131 });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const hits = (route: string) => server.hits({ route });
const weatherTool = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

/** The client as an application builds it: only `fetch` changes. The SDK's own retries stay at their default. */
function client(options: Parameters<typeof threeTargetChain>[1] = {}) {
  const { llm } = threeTargetChain(server, { retry: { maxAttempts: 1 }, ...options });
  return { llm, openai: new OpenAI({ apiKey: 'unused', fetch: bulwarkFetch(llm) }) };
}

describe('OpenAI front: chat', () => {
  it('answers a chat.completion from the backup when the primary fails, with Bulwark facts as headers', async () => {
    const { openai } = client();
    server.script({ route: 'primary' }, { then: fault.serverError(503) });
    server.script({ route: 'backup' }, { then: fault.ok({ text: 'Hello from the backup', usage: { inputTokens: 12, outputTokens: 4, cacheReadTokens: 5 } }) });
    const { data, response } = await openai.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'developer', content: 'Be brief' }, { role: 'user', content: 'Hi' }], temperature: 0.2, max_completion_tokens: 50, stop: 'END' })
      .withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.choices[0]!.message).toMatchObject({ role: 'assistant', content: 'Hello from the backup' });
    expect(data.choices[0]!.finish_reason).toBe('stop');
    expect(data.model).toBe('claude-sonnet-4-6');
    expect(data.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 4, total_tokens: 16, prompt_tokens_details: { cached_tokens: 5 } });
    expect(response.status).toBe(200);
    expect(Object.fromEntries([...response.headers].filter(([k]) => k.startsWith('x-bulwark-') && k !== 'x-bulwark-cost-usd'))).toEqual({
      'x-bulwark-tier': 'reduced',
      'x-bulwark-attempts': '2',
      'x-bulwark-target': 'anthropic/claude-sonnet-4-6',
      'x-bulwark-fallback': 'true',
    });
    expect(Number(response.headers.get('x-bulwark-cost-usd'))).toBeGreaterThan(0);
    // What reached each target: the sampling fields; the developer message as Anthropic's system prompt.
    expect(server.requests.find((r) => r.route === 'primary')!.body).toMatchObject({ temperature: 0.2, stop: ['END'], messages: [{ role: 'system', content: 'Be brief' }, { role: 'user', content: 'Hi' }] });
    expect(server.requests.find((r) => r.route === 'backup')!.body).toMatchObject({ system: 'Be brief', max_tokens: 50, stop_sequences: ['END'] });
  });

  it('a tool loop: tool calls out, tool results back in, across the fallback', async () => {
    const { openai } = client();
    server.script({ route: 'primary' }, { then: fault.serverError(500) });
    server.script({ route: 'backup' }, { sequence: [fault.ok({ toolCalls: [{ id: 'toolu_1', name: 'get_weather', arguments: { city: 'Paris' } }] }), fault.ok({ text: 'Sunny in Paris.' })] });
    const first = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [weatherTool], tool_choice: 'auto' });
    const message = first.choices[0]!.message;
    expect(first.choices[0]!.finish_reason).toBe('tool_calls');
    expect(message.content).toBeNull();
    expect(message.tool_calls).toEqual([{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }]);
    const second = await openai.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Weather in Paris?' }, message, { role: 'tool', tool_call_id: 'toolu_1', content: [{ type: 'text', text: 'Sunny' }] }],
      tools: [weatherTool],
    });
    expect(second.choices[0]!.message.content).toBe('Sunny in Paris.');
    const sent = server.requests.filter((r) => r.route === 'backup')[1]!.body as { messages: unknown[] };
    expect(sent.messages.slice(1)).toEqual([
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'Sunny' }] },
    ]);
  });

  it('structured output: response_format json_schema reaches the target as its native structured output', async () => {
    const { openai } = client();
    server.script({ route: 'primary' }, { then: fault.ok({ text: '{"city":"Paris"}' }) });
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
    const res = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'City?' }], response_format: { type: 'json_schema', json_schema: { name: 'city', schema, strict: true } } });
    expect(JSON.parse(res.choices[0]!.message.content!)).toEqual({ city: 'Paris' });
    expect((server.requests[0]!.body as Record<string, unknown>)['response_format']).toEqual({ type: 'json_schema', json_schema: { name: 'city', schema, strict: true } });
  });
});

describe('OpenAI front: streaming', () => {
  it('streams chat.completion.chunk deltas with a usage chunk, failing over before the first chunk', async () => {
    const { openai } = client();
    server.script({ route: 'primary' }, { then: fault.serverError(502) });
    server.script({ route: 'backup' }, { then: fault.ok({ text: 'Streamed from the backup', usage: { inputTokens: 9, outputTokens: 5 } }) });
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }], stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Streamed from the backup');
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 9, completion_tokens: 5, total_tokens: 14 } });
    expect(hits('primary')).toBe(1);
  });

  it('tool-call deltas assemble in the SDK’s own stream helper', async () => {
    const { openai } = client();
    server.script({ route: 'primary' }, { then: fault.ok({ text: 'Let me check.', toolCalls: [{ id: 'call_a', name: 'get_weather', arguments: { city: 'Paris' } }, { id: 'call_b', name: 'get_weather', arguments: { city: 'Oslo' } }] }) });
    const runner = openai.chat.completions.stream({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Weather?' }], tools: [weatherTool] });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
    expect(final.choices[0]!.message.content).toBe('Let me check.');
    expect(final.choices[0]!.message.tool_calls!.map((c) => c.type === 'function' && [c.id, c.function.name, JSON.parse(c.function.arguments)])).toEqual([
      ['call_a', 'get_weather', { city: 'Paris' }],
      ['call_b', 'get_weather', { city: 'Oslo' }],
    ]);
  });

  it('a consumer that stops reading closes the upstream connection', async () => {
    const { openai } = client();
    server.script({ route: 'primary' }, { then: fault.ok({ text: 'one two three four five six seven eight nine ten', chunkDelayMs: 20 }) });
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Count' }], stream: true });
    for await (const chunk of stream) if (chunk.choices[0]?.delta.content) break;
    await server.idle();
    expect(server.requests[0]!.clientClosed).toBe(true);
  });

  it('aborting a stream mid-answer ends it and closes the upstream', async () => {
    const { openai } = client();
    server.script({ route: 'primary' }, { then: fault.ok({ text: 'one two three four five six seven eight nine ten', chunkDelayMs: 20 }) });
    const controller = new AbortController();
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Count' }], stream: true }, { signal: controller.signal });
    let text = '';
    const ended = await (async () => {
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        if (text !== '') controller.abort();
      }
    })().then(
      () => 'ended',
      (e: unknown) => e,
    );
    expect(ended === 'ended' || ended instanceof OpenAI.APIUserAbortError).toBe(true);
    expect(text.length).toBeLessThan('one two three four five six seven eight nine ten'.length);
    await server.idle();
    expect(server.requests[0]!.clientClosed).toBe(true);
  });

  it("midStream 'restart' cannot splice two answers over SSE: the stream ends with an error event, the backup is never asked", async () => {
    const { openai } = client({ midStream: 'restart' });
    server.script({ route: 'primary' }, { then: fault.streamCut({ afterChunks: 2, reply: { text: 'The weather is lovely today in Paris' } }) });
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Weather?' }], stream: true });
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as Error).message).toMatch(/cannot retract/);
    expect('The weather is lovely today in Paris'.startsWith(text)).toBe(true);
    expect(hits('backup')).toBe(0);
  });
});

describe('OpenAI front: errors in the client’s own classes', () => {
  it('an exhausted chain is an InternalServerError with status 502, and the SDK does not retry it', async () => {
    const { openai } = client();
    for (const route of ['primary', 'backup', 'local']) server.script({ route }, { then: fault.serverError(500) });
    const error = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(error).toMatchObject({ status: 502, type: 'server_error', code: 'server_error' });
    expect([hits('primary'), hits('backup'), hits('local')]).toEqual([1, 1, 1]);
  });

  it('every target rate-limited is a RateLimitError (429)', async () => {
    const { openai } = client({ retry: { maxAttempts: 1, maxRetryAfterMs: 10 } });
    for (const route of ['primary', 'backup', 'local']) server.script({ route }, { then: fault.rateLimit({ retryAfterMs: 60_000 }) });
    const error = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error).toMatchObject({ status: 429 });
    expect([hits('primary'), hits('backup'), hits('local')]).toEqual([1, 1, 1]);
  });

  it('a request the provider refuses is a BadRequestError (400), no fallback', async () => {
    const { openai } = client();
    server.script({ route: 'primary' }, { then: fault.badRequest({ message: "Invalid value for 'temperature'" }) });
    const error = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect([hits('primary'), hits('backup')]).toEqual([1, 0]);
  });

  it.each([
    ['n: 2', { n: 2 }, 'n'],
    ['logit_bias', { logit_bias: { '50256': -100 } }, 'logit_bias'],
    ['a message name', { messages: [{ role: 'user', content: 'Hi', name: 'ann' }] }, 'messages[0].name'],
    ['json_object', { response_format: { type: 'json_object' } }, 'response_format.type'],
  ])('%s is refused with a 400 naming the field, before any upstream call', async (_, fields, param) => {
    const { openai } = client();
    const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }], ...fields } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming;
    const error = await openai.chat.completions.create(body).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, param, type: 'invalid_request_error' });
    expect(server.requests).toHaveLength(0);
  });

  it('a path the front does not serve is a NotFoundError (404)', async () => {
    const { openai } = client();
    const error = await openai.models.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("the caller's abort signal passes through: an APIUserAbortError, and the upstream closes", async () => {
    const { openai } = client();
    server.script({ route: 'primary' }, { then: fault.hang() });
    const controller = new AbortController();
    const pending = openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] }, { signal: controller.signal }).catch((e: unknown) => e);
    await vi.waitFor(() => expect(hits('primary')).toBe(1));
    controller.abort();
    expect(await pending).toBeInstanceOf(OpenAI.APIUserAbortError);
    await server.idle();
    expect(server.requests[0]!.clientClosed).toBe(true);
  });
});
