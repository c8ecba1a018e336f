import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fault, startFaultServer } from '../../src/testing/index.js';
import type { Fault, FaultServer } from '../../src/testing/index.js';

const SECRET = 'sk-ant-test-SECRET-anthropic-key';
let server: FaultServer;
let client: Anthropic;

beforeAll(async () => {
  server = await startFaultServer({ seed: 7, models: { 'claude-small': { contextWindow: 50 } } });
  client = new Anthropic({ apiKey: SECRET, baseURL: server.baseURL('anthropic', 'backup'), maxRetries: 0 });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const params = (model = 'claude-mock', content = 'Say hi') => ({
  model,
  max_tokens: 256,
  messages: [{ role: 'user' as const, content }],
});
const ask = (model?: string, content?: string) => client.messages.create(params(model, content));

async function failureOf(f: Fault, call: () => Promise<unknown> = () => ask()): Promise<any> {
  server.script({ sequence: [f] });
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error(`expected ${f.kind} to make the client throw`);
}

describe('Anthropic client against the fault server: error classes', () => {
  it('answers a message in the Messages shape with usage', async () => {
    const res = await ask();
    expect(res).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-mock',
      stop_reason: 'end_turn',
      content: [{ type: 'text', text: 'Mock reply from backup (claude-mock).' }],
      usage: { input_tokens: 3, output_tokens: 10 },
    });
    expect(res.id).toMatch(/^msg_/);
  });

  it('raises RateLimitError with retry-after in whole seconds and RFC 3339 reset headers', async () => {
    const err = await failureOf(
      fault.rateLimit({ retryAfterSeconds: 1.2, resetRequestsMs: 6000, resetTokensMs: 2000, resetInputTokensMs: 3000, resetOutputTokensMs: 4000 }),
    );
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect(err.type).toBe('rate_limit_error');
    expect(err.headers.get('retry-after')).toBe('2');
    for (const family of ['requests', 'tokens', 'input-tokens', 'output-tokens']) {
      const reset = err.headers.get(`anthropic-ratelimit-${family}-reset`);
      expect(reset).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/);
      expect(Date.parse(reset) - Date.now()).toBeGreaterThan(1000);
    }
  });

  it('carries request-id / x-request-id headers matching the body request_id', async () => {
    const err = await failureOf(fault.badRequest({ message: 'messages: field required' }));
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err.error).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'messages: field required' },
      request_id: err.requestID,
    });
    expect(err.headers.get('x-request-id')).toBe(err.requestID);
  });

  it('raises OverloadedError for 529 and ServiceUnavailableError for a 503 overload body', async () => {
    const overloaded = await failureOf(fault.overloaded());
    expect(overloaded).toBeInstanceOf(Anthropic.OverloadedError);
    expect(overloaded.status).toBe(529);
    expect(overloaded.type).toBe('overloaded_error');

    const unavailable = await failureOf(fault.overloaded({ status: 503 }));
    expect(unavailable).toBeInstanceOf(Anthropic.InternalServerError);
    expect(unavailable.status).toBe(503);
    expect(unavailable.type).toBe('overloaded_error');
  });

  it.each([
    [500, 'api_error'],
    [502, 'api_error'],
    [503, 'api_error'],
    [504, 'timeout_error'],
  ] as const)('raises InternalServerError (or its subclass) for %i', async (status, type) => {
    const err = await failureOf(fault.serverError(status));
    expect(err).toBeInstanceOf(Anthropic.InternalServerError);
    expect(err.status).toBe(status);
    expect(err.type).toBe(type);
  });

  it.each([
    ['authentication', fault.authentication(), Anthropic.AuthenticationError, 401, 'authentication_error'],
    ['permissionDenied', fault.permissionDenied(), Anthropic.PermissionDeniedError, 403, 'permission_error'],
    ['modelNotFound', fault.modelNotFound(), Anthropic.NotFoundError, 404, 'not_found_error'],
    ['unprocessable', fault.unprocessable(), Anthropic.UnprocessableEntityError, 422, 'invalid_request_error'],
  ] as const)('%s raises its error class', async (_name, f, errorClass, status, type) => {
    const err = await failureOf(f);
    expect(err).toBeInstanceOf(errorClass);
    expect(err.status).toBe(status);
    expect(err.type).toBe(type);
  });

  it('answers a prompt beyond the context window with "prompt is too long"', async () => {
    const err = await ask('claude-small', 'y'.repeat(400)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as InstanceType<typeof Anthropic.BadRequestError>).apiMessage).toBe('prompt is too long: 101 tokens > 50 maximum');
  });

  it('refuses on content policy with a 200 and stop_reason refusal', async () => {
    server.script({ sequence: [fault.contentFilter()] });
    const res = await ask();
    expect(res.stop_reason).toBe('refusal');
  });

  it('raises APIConnectionError on a reset and APIConnectionTimeoutError on a hang', async () => {
    const reset = await failureOf(fault.reset());
    expect(reset).toBeInstanceOf(Anthropic.APIConnectionError);
    expect(reset).not.toBeInstanceOf(Anthropic.APIConnectionTimeoutError);

    const hang = await failureOf(fault.hang(), () => client.messages.create(params(), { timeout: 200 }));
    expect(hang).toBeInstanceOf(Anthropic.APIConnectionTimeoutError);
    await server.idle();
    expect(server.requests[1]).toMatchObject({ clientClosed: true });
  });

  it('makes the client throw SyntaxError on a malformed JSON body', async () => {
    const err = await failureOf(fault.malformedJson());
    expect(err).toBeInstanceOf(SyntaxError);
  });
});

describe('Anthropic client against the fault server: streaming', () => {
  it('streams the full event sequence with text and input_json_delta tool input', async () => {
    server.script({
      then: fault.ok({ text: 'Checking the weather.', toolCalls: [{ name: 'get_weather', arguments: { city: 'Oslo', days: 3 } }] }),
    });
    const types: string[] = [];
    const deltas: string[] = [];
    for await (const event of await client.messages.create({ ...params(), stream: true })) {
      types.push(event.type);
      if (event.type === 'content_block_delta') deltas.push(event.delta.type);
    }
    expect(types[0]).toBe('message_start');
    expect(types.slice(-2)).toEqual(['message_delta', 'message_stop']);
    expect(types.filter((t) => t === 'content_block_start')).toHaveLength(2);
    expect(deltas).toContain('text_delta');
    expect(deltas).toContain('input_json_delta');

    server.script({
      then: fault.ok({ text: 'Checking the weather.', toolCalls: [{ name: 'get_weather', arguments: { city: 'Oslo', days: 3 } }] }),
    });
    const final = await client.messages.stream(params()).finalMessage();
    expect(final.content).toMatchObject([
      { type: 'text', text: 'Checking the weather.' },
      { type: 'tool_use', name: 'get_weather', input: { city: 'Oslo', days: 3 } },
    ]);
    expect(final.stop_reason).toBe('tool_use');
    expect(final.usage.input_tokens).toBe(3);
    expect(final.usage.output_tokens).toBeGreaterThan(1);
  });

  it('raises APIError with type overloaded_error on a mid-stream event: error', async () => {
    server.script({ sequence: [fault.streamError({ afterChunks: 3 })] });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const event of await client.messages.create({ ...params(), stream: true })) seen.push(event.type);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['message_start', 'content_block_start']); // the ping is not yielded
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as InstanceType<typeof Anthropic.APIError>).type).toBe('overloaded_error');
    expect((err as InstanceType<typeof Anthropic.APIError>).status).toBeUndefined();
  });

  it('makes the iteration throw when the stream is cut', async () => {
    server.script({ sequence: [fault.streamCut({ afterChunks: 4 }), fault.streamCut({ afterChunks: 4 })] });
    // Raw iteration surfaces undici's TypeError("terminated") as is…
    const raw = await (async () => {
      for await (const _ of await client.messages.create({ ...params(), stream: true })) {
        // drain
      }
    })().catch((e: unknown) => e);
    expect(raw).toBeInstanceOf(TypeError);
    expect((raw as Error).message).toBe('terminated');
    // …while the MessageStream helper wraps it in an AnthropicError.
    const helper = await client.messages.stream(params()).finalMessage().catch((e: unknown) => e);
    expect(helper).toBeInstanceOf(Anthropic.AnthropicError);
    expect((helper as Error).message).toBe('terminated');
    expect(server.requests[0]).toMatchObject({ serverClosed: true, finished: false });
  });

  it('records clientClosed when the consumer breaks out after two events', async () => {
    server.script({ then: fault.ok({ text: 'a b c d e f g h i j k l', chunkDelayMs: 15 }) });
    let count = 0;
    for await (const _ of await client.messages.create({ ...params(), stream: true })) {
      if (++count === 2) break;
    }
    await server.idle();
    expect(server.requests[0]).toMatchObject({ clientClosed: true, finished: false });
  });

  it('never records the API key', async () => {
    await ask();
    expect(JSON.stringify(server.requests)).not.toContain(SECRET);
  });
});
