/**
 * Both adapters against real HTTP: the official clients pointed at the fault-injecting mock server
 * (src/testing), every error row of DESIGN §3 for JSON and streamed calls, cancellation, and the
 * guarantee that the SDKs' own retries and timeouts never act.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ErrorType } from '../../src/errors/errorTypes.js';
import { ProviderError } from '../../src/errors/providerError.js';
import type { ProviderAdapter } from '../../src/providers/adapter.js';
import { anthropicTarget, openaiTarget } from '../../src/providers/index.js';
import type { ChatRequest, StreamEvent } from '../../src/request/types.js';
import { type Fault, type FaultServer, fault, startFaultServer } from '../../src/testing/index.js';
import { weatherTool } from './fixtures.js';

type Provider = 'openai' | 'anthropic';
const PROVIDERS: Provider[] = ['openai', 'anthropic'];

let server: FaultServer;
const adapters = {} as Record<Provider, ProviderAdapter>;

beforeAll(async () => {
  server = await startFaultServer({ seed: 42 });
  // The users' clients keep SDK defaults (or worse): retries and short timeouts the adapters must override.
  adapters.openai = openaiTarget({
    client: new OpenAI({ apiKey: 'sk-test-key-000', baseURL: server.baseURL('openai', 'oa'), maxRetries: 5 }),
    model: 'gpt-4o',
  }).adapter;
  adapters.anthropic = anthropicTarget({
    client: new Anthropic({ apiKey: 'sk-ant-test-key-000', baseURL: server.baseURL('anthropic', 'an'), maxRetries: 5 }),
    model: 'claude-sonnet-4-6',
  }).adapter;
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.reset();
});

const hello: ChatRequest = { messages: [{ role: 'user', content: 'Hello there' }] };
const live = () => new AbortController().signal;

async function chatError(adapter: ProviderAdapter, request: ChatRequest = hello, signal = live()): Promise<ProviderError> {
  try {
    await adapter.chat(request, { signal });
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    return err as ProviderError;
  }
  throw new Error('expected chat() to fail');
}

async function collect(adapter: ProviderAdapter, request: ChatRequest = hello, signal = live()): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const event of adapter.stream(request, { signal })) events.push(event);
  return events;
}

async function streamError(adapter: ProviderAdapter, request: ChatRequest = hello): Promise<{ error: ProviderError; events: StreamEvent[] }> {
  const events: StreamEvent[] = [];
  try {
    for await (const event of adapter.stream(request, { signal: live() })) events.push(event);
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    return { error: err as ProviderError, events };
  }
  throw new Error('expected stream() to fail');
}

/** Waits (without timers) until the server has seen `n` requests. */
async function untilHits(n: number): Promise<void> {
  for (let i = 0; i < 10_000 && server.hits() < n; i++) await new Promise((resolve) => setImmediate(resolve));
  expect(server.hits()).toBeGreaterThanOrEqual(n);
}

function script(f: Fault) {
  server.script({ sequence: [f] });
}

describe.each(PROVIDERS)('%s adapter over HTTP', (provider) => {
  const adapter = () => adapters[provider];

  describe('successful answers', () => {
    it('chat: text, usage, model, response id', async () => {
      script(fault.ok({ text: 'Hi!', usage: { inputTokens: 11, outputTokens: 2 } }));
      const res = await adapter().chat(hello, { signal: live() });
      expect(res).toMatchObject({ text: 'Hi!', toolCalls: [], finishReason: 'stop', usage: { inputTokens: 11, outputTokens: 2 } });
      expect(res.model).toBe(provider === 'openai' ? 'gpt-4o' : 'claude-sonnet-4-6');
      expect(res.responseId).toMatch(provider === 'openai' ? /^chatcmpl-/ : /^msg_/);
    });

    it('chat: tool calls with JSON arguments', async () => {
      script(fault.ok({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] }));
      const res = await adapter().chat({ ...hello, tools: [weatherTool] }, { signal: live() });
      expect(res.finishReason).toBe('tool_calls');
      expect(res.toolCalls).toHaveLength(1);
      expect(res.toolCalls[0]).toMatchObject({ name: 'get_weather' });
      expect(JSON.parse(res.toolCalls[0]!.arguments)).toEqual({ city: 'Paris' });
      expect(res.toolCalls[0]!.id).toMatch(provider === 'openai' ? /^call_/ : /^toolu_/);
    });

    it('stream: text deltas, then usage, then finish (last)', async () => {
      script(fault.ok({ text: 'One two three', usage: { inputTokens: 7, outputTokens: 3 } }));
      const events = await collect(adapter());
      const text = events.filter((e) => e.type === 'text').map((e) => (e.type === 'text' ? e.delta : '')).join('');
      expect(text).toBe('One two three');
      expect(events.at(-2)).toEqual({ type: 'usage', usage: { inputTokens: 7, outputTokens: 3 } });
      expect(events.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop', model: adapter().model });
    });

    it('stream: tool call deltas assemble into the call', async () => {
      script(fault.ok({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Rome', unit: 'c' } }, { name: 'now', arguments: {} }] }));
      const events = await collect(adapter(), { ...hello, tools: [weatherTool] });
      const calls: Array<{ id?: string; name?: string; args: string }> = [];
      for (const e of events) {
        if (e.type !== 'tool_call') continue;
        const call = (calls[e.index] ??= { args: '' });
        if (e.id) call.id = e.id;
        if (e.name) call.name = e.name;
        call.args += e.argumentsDelta;
      }
      expect(calls.map((c) => [c.name, JSON.parse(c.args)])).toEqual([
        ['get_weather', { city: 'Rome', unit: 'c' }],
        ['now', {}],
      ]);
      expect(calls.every((c) => typeof c.id === 'string')).toBe(true);
      expect(events.at(-1)).toMatchObject({ type: 'finish', finishReason: 'tool_calls' });
    });

    it('sends the request the provider expects', async () => {
      script(fault.ok());
      await adapter().chat({ ...hello, maxTokens: 77, stop: ['END'] }, { signal: live() });
      const body = server.requests[0]?.body as Record<string, unknown>;
      if (provider === 'openai') {
        expect(body).toMatchObject({ model: 'gpt-4o', max_tokens: 77, stop: ['END'] });
      } else {
        expect(body).toMatchObject({ model: 'claude-sonnet-4-6', max_tokens: 77, stop_sequences: ['END'] });
      }
    });

    it('asks for usage in streams (OpenAI stream_options.include_usage)', async () => {
      script(fault.ok());
      await collect(adapter());
      const body = server.requests[0]?.body as Record<string, unknown>;
      expect(body['stream']).toBe(true);
      if (provider === 'openai') expect(body['stream_options']).toEqual({ include_usage: true });
    });
  });

  describe('error rows (DESIGN §3), JSON and streamed', () => {
    const rows: Array<[string, Fault, ErrorType, number | undefined]> = [
      ['429', fault.rateLimit({ retryAfterMs: 1500 }), 'rate_limited', 429],
      ['500', fault.serverError(500), 'server_error', 500],
      ['502', fault.serverError(502), 'server_error', 502],
      ['503', fault.serverError(503), 'server_error', 503],
      ['504', fault.serverError(504), 'server_error', 504],
      ['overloaded', fault.overloaded(), 'overloaded', provider === 'openai' ? 503 : 529],
      ['503 with an overload body', fault.overloaded({ status: 503 }), 'overloaded', 503],
      ['401', fault.authentication(), 'authentication', 401],
      ['403', fault.permissionDenied(), 'permission', 403],
      ['404 model', fault.modelNotFound(), 'not_found', 404],
      ['400', fault.badRequest(), 'bad_request', 400],
      ['422', fault.unprocessable(), 'bad_request', 422],
      ['context length', fault.contextLength(), 'context_length_exceeded', 400],
      ['413', fault.httpError(413, { error: { message: 'Request too large', type: 'request_too_large' } }), 'context_length_exceeded', 413],
      ['content filter', fault.contentFilter(), 'content_filtered', provider === 'openai' ? 400 : undefined],
      ['connection reset', fault.reset(), 'connection', undefined],
    ];

    it.each(rows)('%s → %s (chat)', async (_name, f, expected, status) => {
      script(f);
      const err = await chatError(adapter());
      expect(err.errorType).toBe(expected);
      expect(err.status).toBe(status);
      expect(err.provider).toBe(provider);
      if (status !== undefined) expect(err.requestId).toBeTruthy();
      expect(server.hits()).toBe(1); // the SDK did not retry, whatever the client's maxRetries
    });

    it.each(rows)('%s → %s (stream)', async (_name, f, expected, status) => {
      script(f);
      const { error } = await streamError(adapter());
      expect(error.errorType).toBe(expected);
      expect(error.status).toBe(status);
      expect(server.hits()).toBe(1);
    });

    it('429: Retry-After comes with the error, in ms', async () => {
      script(fault.rateLimit({ retryAfterMs: 1500 }));
      expect((await chatError(adapter())).retryAfterMs).toBe(1500);
      script(fault.rateLimit({ retryAfterSeconds: 2 }));
      expect((await chatError(adapter())).retryAfterMs).toBe(2000);
      script(fault.rateLimit({ resetRequestsMs: 4000 }));
      const fromReset = (await chatError(adapter())).retryAfterMs;
      expect(fromReset).toBeGreaterThan(2000);
      expect(fromReset).toBeLessThanOrEqual(4000);
    });

    it('a 200 with a broken JSON body → malformed_response', async () => {
      script(fault.malformedJson());
      expect((await chatError(adapter())).errorType).toBe('malformed_response');
      script(fault.malformedJson());
      expect((await streamError(adapter())).error.errorType).toBe('malformed_response');
    });

    it('a 200 that is not JSON at all → malformed_response', async () => {
      script(fault.httpError(200, '<html>proxy login page</html>', { 'content-type': 'text/html' }));
      expect((await chatError(adapter())).errorType).toBe('malformed_response');
    });

    it('a connection cut mid-answer → connection', async () => {
      script(fault.streamCut());
      expect((await chatError(adapter())).errorType).toBe('connection');
      script(fault.streamCut({ afterChunks: 3 }));
      const { error, events } = await streamError(adapter());
      expect(error.errorType).toBe('connection');
      expect(events.some((e) => e.type === 'finish')).toBe(false);
    });

    it('an error event in the middle of a stream', async () => {
      script(fault.streamError({ afterChunks: 2 }));
      const { error } = await streamError(adapter());
      expect(error.errorType).toBe(provider === 'anthropic' ? 'overloaded' : 'server_error');
      expect(error.status).toBeUndefined();
    });

    it('a refusal in a 200 stream → content_filtered', async () => {
      script(fault.contentFilter({ as: 'finish', text: 'I' }));
      const { error } = await streamError(adapter());
      expect(error.errorType).toBe('content_filtered');
    });
  });

  describe('cancellation and the SDK staying out of the way', () => {
    it("the client's own timeout never fires: Bulwark owns timeouts", async () => {
      const shortTimeout =
        provider === 'openai'
          ? openaiTarget({ client: new OpenAI({ apiKey: 'k-123456', baseURL: server.baseURL('openai', 'slow'), timeout: 5 }), model: 'gpt-4o' })
          : anthropicTarget({ client: new Anthropic({ apiKey: 'k-123456', baseURL: server.baseURL('anthropic', 'slow'), timeout: 5 }), model: 'c' });
      server.script({ route: 'slow' }, { then: fault.ok({ text: 'late but fine' }), latency: 60 });
      await expect(shortTimeout.adapter.chat(hello, { signal: live() })).resolves.toMatchObject({ text: 'late but fine' });
    });

    it('aborting the signal cancels a hung call and closes the HTTP request', async () => {
      script(fault.hang());
      const controller = new AbortController();
      const pending = chatError(adapter(), hello, controller.signal);
      await untilHits(1);
      controller.abort(new Error('attempt timeout'));
      const err = await pending;
      expect(err.errorType).toBe('cancelled');
      await server.idle();
      expect(server.requests[0]).toMatchObject({ clientClosed: true, finished: false });
    });

    it('an already aborted signal → cancelled without a request', async () => {
      const controller = new AbortController();
      controller.abort();
      expect((await chatError(adapter(), hello, controller.signal)).errorType).toBe('cancelled');
      await expect(collect(adapter(), hello, controller.signal)).rejects.toMatchObject({ errorType: 'cancelled' });
      expect(server.hits()).toBe(0);
    });

    it('breaking out of the stream loop closes the HTTP request promptly', async () => {
      script(fault.ok({ text: 'a b c d e f g h i j k l m n o p q r s t u v w x y z', chunkDelayMs: 20 }));
      for await (const event of adapter().stream(hello, { signal: live() })) {
        if (event.type === 'text') break;
      }
      await server.idle();
      expect(server.requests[0]).toMatchObject({ clientClosed: true, finished: false });
    });

    it('aborting mid-stream ends the loop with cancelled (not a silent, truncated success)', async () => {
      script(fault.ok({ text: 'a b c d e f g h i j k l m n o p', chunkDelayMs: 20 }));
      const controller = new AbortController();
      const seen: StreamEvent[] = [];
      await expect(
        (async () => {
          for await (const event of adapter().stream(hello, { signal: controller.signal })) {
            seen.push(event);
            if (seen.length === 1) controller.abort();
          }
        })(),
      ).rejects.toMatchObject({ errorType: 'cancelled' });
      expect(seen.some((e) => e.type === 'finish')).toBe(false);
      await server.idle();
      expect(server.requests[0]).toMatchObject({ clientClosed: true });
    });

    it('a stalled stream is released when the signal aborts', async () => {
      script(fault.streamCut({ afterChunks: 2, mode: 'stall' }));
      const controller = new AbortController();
      const run = (async () => {
        for await (const _ of adapter().stream(hello, { signal: controller.signal })) {
          // the stream stalls after two events; nothing else comes
        }
      })();
      await untilHits(1);
      // Let the two events through, then give up on the stalled stream.
      for (let i = 0; i < 10_000 && server.requests[0]?.status !== 200; i++) await new Promise((resolve) => setImmediate(resolve));
      controller.abort(new Error('idle-chunk timeout'));
      await expect(run).rejects.toMatchObject({ errorType: 'cancelled' });
      await server.idle();
      expect(server.requests[0]).toMatchObject({ clientClosed: true });
    });
  });
});

describe('OpenAI-specific rows', () => {
  it.each([
    ['insufficient_quota 429 (retrying is pointless)', fault.rateLimit({ limit: 'quota' }), 'permission'],
    ['Azure content_filter 400', fault.contentFilter({ code: 'content_filter' }), 'content_filtered'],
    ['finish_reason content_filter in a 200', fault.contentFilter({ as: 'finish' }), 'content_filtered'],
  ] as const)('%s → %s', async (_name, f, expected) => {
    script(f);
    expect((await chatError(adapters.openai)).errorType).toBe(expected);
  });

  it('ignores the rate-limit reset headers that ride on a 500', async () => {
    script(fault.serverError(500, { headers: { 'x-ratelimit-reset-tokens': '6m0s' } }));
    expect((await chatError(adapters.openai)).retryAfterMs).toBeUndefined();
  });
});

describe('a tool loop that hops providers over HTTP', () => {
  it('an OpenAI tool call is continued on Anthropic, and an Anthropic one on OpenAI', async () => {
    script(fault.ok({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] }));
    const first = await adapters.openai.chat({ ...hello, tools: [weatherTool] }, { signal: live() });
    const call = first.toolCalls[0]!;
    const history: ChatRequest = {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: first.text, toolCalls: first.toolCalls },
        { role: 'tool', toolCallId: call.id, content: '18°C' },
      ],
      tools: [weatherTool],
    };

    script(fault.ok({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Lyon' } }] }));
    const second = await adapters.anthropic.chat(history, { signal: live() });
    const sent = server.requests.at(-1)?.body as { system: string; messages: Array<{ role: string; content: unknown[] }> };
    expect(sent.system).toBe('Be brief.');
    expect(sent.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(sent.messages[1]?.content).toEqual([{ type: 'tool_use', id: call.id, name: 'get_weather', input: { city: 'Paris' } }]);
    expect(sent.messages[2]?.content).toEqual([{ type: 'tool_result', tool_use_id: call.id, content: '18°C' }]);

    const third: ChatRequest = {
      ...history,
      messages: [
        ...history.messages,
        { role: 'assistant', content: second.text, toolCalls: second.toolCalls },
        { role: 'tool', toolCallId: second.toolCalls[0]!.id, content: '16°C' },
      ],
    };
    script(fault.ok({ text: 'Paris 18°C, Lyon 16°C.' }));
    await expect(adapters.openai.chat(third, { signal: live() })).resolves.toMatchObject({ text: 'Paris 18°C, Lyon 16°C.' });
    const sentToOpenAI = server.requests.at(-1)?.body as { messages: Array<Record<string, unknown>> };
    expect(sentToOpenAI.messages.at(-2)).toMatchObject({
      role: 'assistant',
      tool_calls: [{ id: second.toolCalls[0]!.id, type: 'function', function: { name: 'get_weather' } }],
    });
    expect(sentToOpenAI.messages.at(-1)).toEqual({ role: 'tool', tool_call_id: second.toolCalls[0]!.id, content: '16°C' });
  });
});
