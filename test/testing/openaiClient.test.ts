import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fault, startFaultServer } from '../../src/testing/index.js';
import type { Fault, FaultServer } from '../../src/testing/index.js';

const SECRET = 'sk-test-SECRET-openai-key';
let server: FaultServer;
let client: OpenAI;

beforeAll(async () => {
  server = await startFaultServer({ seed: 42, models: { 'gpt-small': { contextWindow: 20 } } });
  client = new OpenAI({ apiKey: SECRET, baseURL: server.baseURL('openai', 'primary'), maxRetries: 0 });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const ask = (model = 'gpt-4o') => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Say hi' }] });

async function failureOf(f: Fault, call: () => Promise<unknown> = () => ask()): Promise<any> {
  server.script({ sequence: [f] });
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error(`expected ${f.kind} to make the client throw`);
}

describe('OpenAI client against the fault server: error classes', () => {
  it('answers a plain completion in the chat.completion shape with usage', async () => {
    const res = await ask();
    expect(res.object).toBe('chat.completion');
    expect(res.id).toMatch(/^chatcmpl-/);
    expect(res.model).toBe('gpt-4o');
    expect(res.choices[0]?.message.content).toBe('Mock reply from primary (gpt-4o).');
    expect(res.choices[0]?.finish_reason).toBe('stop');
    expect(res.usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 9, total_tokens: 12 });
  });

  it('raises RateLimitError with the default reset headers visible on err.headers', async () => {
    const err = await failureOf(fault.rateLimit());
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.code).toBe('rate_limit_exceeded');
    expect(err.headers.get('retry-after')).toBe('1');
    expect(err.headers.get('x-ratelimit-reset-requests')).toBe('1s');
    expect(err.headers.get('x-ratelimit-reset-tokens')).toBe('1s');
    expect(err.headers.get('x-request-id')).toMatch(/^req_/);
    expect(err.requestID).toBe(err.headers.get('x-request-id'));
  });

  it('sends each reset header on its own when asked', async () => {
    const ms = await failureOf(fault.rateLimit({ retryAfterMs: 1500 }));
    expect(ms.headers.get('retry-after-ms')).toBe('1500');
    expect(ms.headers.get('retry-after')).toBeNull();

    const resets = await failureOf(fault.rateLimit({ resetRequestsMs: 360_000, resetTokensMs: 250, limit: 'tokens' }));
    expect(resets.headers.get('x-ratelimit-reset-requests')).toBe('6m0s');
    expect(resets.headers.get('x-ratelimit-reset-tokens')).toBe('250ms');
    expect(resets.type).toBe('tokens');

    const date = await failureOf(fault.rateLimit({ retryAfterDateMs: 30_000 }));
    const waitMs = Date.parse(date.headers.get('retry-after')) - Date.now();
    expect(waitMs).toBeGreaterThan(25_000);
    expect(waitMs).toBeLessThanOrEqual(31_000);

    const quota = await failureOf(fault.rateLimit({ limit: 'quota', retryAfterSeconds: 2 }));
    expect(quota).toBeInstanceOf(OpenAI.RateLimitError);
    expect(quota.code).toBe('insufficient_quota');
    expect(quota.headers.get('retry-after')).toBe('2');
  });

  it.each([500, 502, 503, 504] as const)('raises InternalServerError for %i', async (status) => {
    const err = await failureOf(fault.serverError(status));
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect(err.status).toBe(status);
    expect(err.type).toBe('server_error');
  });

  it('raises InternalServerError 503 with an overload body', async () => {
    const err = await failureOf(fault.overloaded());
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect(err.status).toBe(503);
    expect(err.message).toMatch(/overloaded/);
  });

  it.each([
    ['authentication', fault.authentication(), OpenAI.AuthenticationError, 401, 'invalid_api_key'],
    ['permissionDenied', fault.permissionDenied(), OpenAI.PermissionDeniedError, 403, null],
    ['modelNotFound', fault.modelNotFound(), OpenAI.NotFoundError, 404, 'model_not_found'],
    ['badRequest', fault.badRequest({ param: 'temperature' }), OpenAI.BadRequestError, 400, null],
    ['unprocessable', fault.unprocessable(), OpenAI.UnprocessableEntityError, 422, null],
  ] as const)('%s raises its error class', async (_name, f, errorClass, status, code) => {
    const err = await failureOf(f);
    expect(err).toBeInstanceOf(errorClass);
    expect(err.status).toBe(status);
    expect(err.code).toBe(code);
    expect(err.error).toHaveProperty('message');
    expect(err.error).toHaveProperty('type');
  });

  it('answers requests beyond a model context window with context_length_exceeded', async () => {
    const long = 'x'.repeat(200);
    const err = await client.chat.completions
      .create({ model: 'gpt-small', messages: [{ role: 'user', content: long }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('context_length_exceeded');
    expect((err as Error).message).toMatch(/maximum context length is 20 tokens\. However, your messages resulted in 51 tokens/);
    expect(server.requests[0]).toMatchObject({ faultSource: 'contextWindow', estimatedInputTokens: 51 });
    await expect(ask('gpt-small')).resolves.toBeDefined(); // short prompts still fit
  });

  it('refuses on content policy as a 400 (both codes) or as finish_reason content_filter', async () => {
    const violation = await failureOf(fault.contentFilter());
    expect(violation).toBeInstanceOf(OpenAI.BadRequestError);
    expect(violation.code).toBe('content_policy_violation');
    const azure = await failureOf(fault.contentFilter({ code: 'content_filter' }));
    expect(azure.code).toBe('content_filter');
    expect(azure.error.innererror.code).toBe('ResponsibleAIPolicyViolation');

    server.script({ sequence: [fault.contentFilter({ as: 'finish' })] });
    const res = await ask();
    expect(res.choices[0]?.finish_reason).toBe('content_filter');
  });

  it('raises APIConnectionError (not a timeout) when the socket is reset', async () => {
    const err = await failureOf(fault.reset());
    expect(err).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(err).not.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(server.requests[0]).toMatchObject({ serverClosed: true, clientClosed: false, status: undefined });
  });

  it('raises APIConnectionTimeoutError on a hang and records that the client closed the socket', async () => {
    const err = await failureOf(fault.hang(), () =>
      client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, { timeout: 200 }),
    );
    expect(err).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    await server.idle();
    expect(server.requests[0]).toMatchObject({ clientClosed: true, finished: false });
  });

  it('makes the client throw SyntaxError on a malformed JSON body', async () => {
    const err = await failureOf(fault.malformedJson());
    expect(err).toBeInstanceOf(SyntaxError);
    expect(err).not.toBeInstanceOf(OpenAI.APIError);
  });
});

describe('OpenAI client against the fault server: streaming', () => {
  const streamReq = (model = 'gpt-4o') =>
    client.chat.completions.create({
      model,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'What is the weather?' }],
    });

  it('streams text and tool-call deltas and a final usage chunk', async () => {
    server.script({
      then: fault.ok({ text: 'Let me check that.', toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] }),
    });
    let text = '';
    let args = '';
    let name = '';
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of await streamReq()) {
      expect(chunk.object).toBe('chat.completion.chunk');
      const choice = chunk.choices[0];
      text += choice?.delta.content ?? '';
      for (const call of choice?.delta.tool_calls ?? []) {
        name += call.function?.name ?? '';
        args += call.function?.arguments ?? '';
      }
      finish = choice?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('Let me check that.');
    expect(name).toBe('get_weather');
    expect(JSON.parse(args)).toEqual({ city: 'Paris' });
    expect(finish).toBe('tool_calls');
    expect(usage).toMatchObject({ prompt_tokens: 6, completion_tokens: expect.any(Number) });
  });

  it('ends the wire stream with a usage chunk and data: [DONE]', async () => {
    const res = await fetch(`${server.baseURL('openai')}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', stream: true, stream_options: { include_usage: true }, messages: [] }),
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await res.text()).split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const usageChunk = JSON.parse(events.at(-2)!.slice('data: '.length));
    expect(usageChunk).toMatchObject({ choices: [], usage: { prompt_tokens: 1 } });
  });

  it('makes the iteration throw when the stream is cut (socket destroyed): undici TypeError "terminated"', async () => {
    server.script({ sequence: [fault.streamCut({ afterChunks: 3 })] });
    const seen: unknown[] = [];
    const err = await (async () => {
      for await (const chunk of await streamReq()) seen.push(chunk);
    })().catch((e: unknown) => e);
    expect(seen).toHaveLength(3);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).toBe('terminated');
  });

  it('stalls forever on a stalled stream until the consumer gives up', async () => {
    server.script({ sequence: [fault.streamCut({ afterChunks: 2, mode: 'stall' })] });
    const stream = await streamReq();
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    await iterator.next();
    const third = await Promise.race([iterator.next(), new Promise((r) => setTimeout(() => r('idle'), 150))]);
    expect(third).toBe('idle');
    stream.controller.abort();
    await server.idle();
    expect(server.requests[0]).toMatchObject({ clientClosed: true, status: 200 });
  });

  it('surfaces a mid-stream error payload as APIError', async () => {
    server.script({ sequence: [fault.streamError({ afterChunks: 2 })] });
    const err = await (async () => {
      for await (const _ of await streamReq()) {
        // drain
      }
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as Error).message).toMatch(/server had an error/);
  });

  it('records clientClosed when the consumer breaks out after two chunks', async () => {
    server.script({ then: fault.ok({ text: 'one two three four five six seven eight nine ten', chunkDelayMs: 15 }) });
    let count = 0;
    for await (const _ of await streamReq()) {
      if (++count === 2) break;
    }
    await server.idle();
    expect(server.requests[0]).toMatchObject({ stream: true, clientClosed: true, finished: false });
  });

  it('never records the API key', async () => {
    await ask();
    const recorded = JSON.stringify(server.requests);
    expect(recorded).not.toContain(SECRET);
    expect(server.requests[0]?.headers['authorization']).toBe('[redacted]');
  });
});
