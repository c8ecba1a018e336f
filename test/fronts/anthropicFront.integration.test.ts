/**
 * The Anthropic Messages front under the official `@anthropic-ai/sdk` client: `new Anthropic({
 * fetch: bulwarkFetch(llm, { front: 'anthropic' }) })` against a chain of real clients over real
 * HTTP (the fault server) whose primary fails. Messages, the SDK's stream helper, tool use, errors.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bulwarkFetch } from '../../src/fronts/index.js';
import { fault, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { threeTargetChain } from '../integration/setup.js';

let server: FaultServer;
beforeAll(async () => {
  server = await startFaultServer({ seed: 132 });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const hits = (route: string) => server.hits({ route });
const weatherTool = { name: 'get_weather', description: 'Weather in a city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] } };

function client(options: Parameters<typeof threeTargetChain>[1] = {}) {
  const { llm } = threeTargetChain(server, { retry: { maxAttempts: 1 }, ...options });
  return { llm, anthropic: new Anthropic({ apiKey: 'unused', fetch: bulwarkFetch(llm, { front: 'anthropic' }) }) };
}

describe('Anthropic front: messages', () => {
  it('answers a message from the Anthropic backup when the OpenAI primary fails, with facts as headers', async () => {
    const { anthropic } = client();
    server.script({ route: 'primary' }, { then: fault.serverError(500) });
    server.script({ route: 'backup' }, { then: fault.ok({ text: 'Bonjour', usage: { inputTokens: 20, outputTokens: 3, cacheReadTokens: 8, cacheWriteTokens: 2 } }) });
    const { data, response } = await anthropic.messages
      .create({ model: 'claude-sonnet-4-6', max_tokens: 100, system: [{ type: 'text', text: 'Answer in French' }], messages: [{ role: 'user', content: 'Hello' }], stop_sequences: ['END'] })
      .withResponse();
    expect(data).toMatchObject({ type: 'message', role: 'assistant', model: 'claude-sonnet-4-6', content: [{ type: 'text', text: 'Bonjour' }], stop_reason: 'end_turn' });
    expect(data.usage).toMatchObject({ input_tokens: 10, output_tokens: 3, cache_read_input_tokens: 8, cache_creation_input_tokens: 2 });
    expect(response.headers.get('x-bulwark-target')).toBe('anthropic/claude-sonnet-4-6');
    expect(response.headers.get('x-bulwark-fallback')).toBe('true');
    expect(server.requests.find((r) => r.route === 'primary')!.body).toMatchObject({ messages: [{ role: 'system', content: 'Answer in French' }, { role: 'user', content: 'Hello' }], max_tokens: 100, stop: ['END'] });
  });

  it('tool use round trip: tool_use blocks out, tool_result blocks back in', async () => {
    const { anthropic } = client();
    server.script({ route: 'primary' }, { sequence: [fault.ok({ toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: { city: 'Oslo' } }] }), fault.ok({ text: 'Snow in Oslo.' })] });
    const first = await anthropic.messages.create({ model: 'm', max_tokens: 100, messages: [{ role: 'user', content: 'Weather in Oslo?' }], tools: [weatherTool], tool_choice: { type: 'any' } });
    expect(first.stop_reason).toBe('tool_use');
    expect(first.content).toEqual([{ type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Oslo' } }]);
    expect((server.requests[0]!.body as Record<string, unknown>)['tool_choice']).toBe('required');
    const second = await anthropic.messages.create({
      model: 'm',
      max_tokens: 100,
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in Oslo?' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: 'Snow' }] },
      ],
    });
    expect(second.content).toEqual([{ type: 'text', text: 'Snow in Oslo.' }]);
    expect((server.requests[1]!.body as { messages: unknown[] }).messages.slice(1)).toEqual([
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: 'Snow' },
    ]);
  });
});

describe('Anthropic front: streaming', () => {
  it('the SDK’s stream helper assembles text and tool_use blocks, failing over before the first event', async () => {
    const { anthropic } = client();
    server.script({ route: 'primary' }, { then: fault.serverError(503) });
    server.script({ route: 'backup' }, { then: fault.ok({ text: 'Checking.', toolCalls: [{ id: 'toolu_9', name: 'get_weather', arguments: { city: 'Rome' } }], usage: { inputTokens: 30, outputTokens: 12 } }) });
    const stream = anthropic.messages.stream({ model: 'claude-sonnet-4-6', max_tokens: 100, messages: [{ role: 'user', content: 'Weather in Rome?' }], tools: [weatherTool] });
    const texts: string[] = [];
    stream.on('text', (t) => texts.push(t));
    const final = await stream.finalMessage();
    expect(texts.join('')).toBe('Checking.');
    expect(final.content).toEqual([
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'toolu_9', name: 'get_weather', input: { city: 'Rome' } },
    ]);
    expect(final.stop_reason).toBe('tool_use');
    expect(final.usage).toMatchObject({ input_tokens: 30, output_tokens: 12 });
    expect(hits('primary')).toBe(1);
  });

  it("midStream 'restart' ends the stream with an Anthropic error event instead of splicing a second answer", async () => {
    const { anthropic } = client({ midStream: 'restart' });
    server.script({ route: 'primary' }, { then: fault.streamCut({ afterChunks: 2, reply: { text: 'The weather is lovely today in Paris' } }) });
    const stream = anthropic.messages.stream({ model: 'm', max_tokens: 100, messages: [{ role: 'user', content: 'Weather?' }] });
    const error = await stream.finalMessage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as Error).message).toMatch(/api_error.*cannot retract/);
    expect(hits('backup')).toBe(0);
  });
});

describe('Anthropic front: errors in the client’s own classes', () => {
  it('an exhausted chain is an InternalServerError (502) the SDK does not retry', async () => {
    const { anthropic } = client();
    for (const route of ['primary', 'backup', 'local']) server.script({ route }, { then: fault.serverError(500) });
    const error = await anthropic.messages.create({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.InternalServerError);
    expect(error).toMatchObject({ status: 502, error: { type: 'error', error: { type: 'api_error' } } });
    expect([hits('primary'), hits('backup'), hits('local')]).toEqual([1, 1, 1]);
  });

  it.each([
    ['top_k', { top_k: 5 }, 'top_k'],
    ['metadata', { metadata: { user_id: 'u1' } }, 'metadata'],
    ['a server tool', { tools: [{ type: 'web_search_20250305', name: 'web_search' }] }, 'tools[0].type'],
    ['is_error on a tool result', { messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: 'x', is_error: true }] }] }, 'messages[0].content[0].is_error'],
  ])('%s is refused with a 400 invalid_request_error naming the field, before any upstream call', async (_, fields, param) => {
    const { anthropic } = client();
    const body = { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }], ...fields } as unknown as Anthropic.MessageCreateParamsNonStreaming;
    const error = await anthropic.messages.create(body).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(error).toMatchObject({ status: 400, error: { type: 'error', error: { type: 'invalid_request_error' } } });
    expect((error as Error).message).toContain(param);
    expect(server.requests).toHaveLength(0);
  });

  it('a path the front does not serve is a NotFoundError (404)', async () => {
    const { anthropic } = client();
    const error = await anthropic.models.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
  });
});
