/**
 * The gateway over real HTTP on 127.0.0.1: the official `openai` and `@anthropic-ai/sdk` clients,
 * pointed at it with `baseURL`, against a chain of real clients over the fault server.
 */
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import Anthropic, { APIError as AnthropicError } from '@anthropic-ai/sdk';
import OpenAI, { APIError as OpenAIError } from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { memoryStore } from '../../src/state/memoryStore.js';
import { fault, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { ADMIN_TOKEN, ANTHROPIC_KEY, KEY_A, KEY_B, OPENAI_KEY, startTestGateway, type TestGateway } from './setup.js';

let server: FaultServer;
let gw: TestGateway;
beforeAll(async () => {
  server = await startFaultServer({ seed: 1414 });
});
afterAll(() => server.close());
beforeEach(async () => {
  server.reset();
  gw = await startTestGateway(server);
});
afterEach(() => gw.gateway.close({ drainMs: 0 }));

const ask = { model: 'support-agent', messages: [{ role: 'user' as const, content: 'PROMPT-CONTENT-do-not-log' }] };
const weatherTool = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

describe('gateway: OpenAI chat completions', () => {
  it('answers through the chain, failing over from the primary to the backup, with Bulwark facts as headers and one access-log line', async () => {
    server.script({ route: 'primary' }, { then: fault.serverError(503) });
    server.script({ route: 'backup' }, { then: fault.ok({ text: 'ANSWER-CONTENT from the backup' }) });
    const { data, response } = await gw.openai().chat.completions.create(ask).withResponse();
    expect(data.choices[0]!.message.content).toBe('ANSWER-CONTENT from the backup');
    expect(response.headers.get('x-bulwark-tier')).toBe('reduced');
    expect(response.headers.get('x-bulwark-target')).toBe('anthropic/claude-sonnet-4-6');
    expect(server.hits({ route: 'primary' })).toBe(1);
    expect(server.hits({ route: 'backup' })).toBe(1);
    const entry = await gw.entry(0);
    expect(entry).toMatchObject({ method: 'POST', route: '/v1/chat/completions', status: 200, client: 'team-a', model: 'support-agent', chain: 'support', tier: 'reduced', attempts: 2 });
    expect(entry.costUsd).toBeGreaterThan(0);
    expect(typeof entry.durationMs).toBe('number');
    const line = JSON.stringify(entry);
    for (const secret of [KEY_A, OPENAI_KEY, ANTHROPIC_KEY, 'PROMPT-CONTENT', 'ANSWER-CONTENT']) expect(line).not.toContain(secret);
  });

  it('streams SSE chunks to the official client', async () => {
    server.script({ route: 'primary' }, { then: fault.ok({ text: 'one two three four' }) });
    const stream = await gw.openai().chat.completions.create({ ...ask, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage ??= chunk.usage;
    }
    expect(text).toBe('one two three four');
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    expect(await gw.entry(0)).toMatchObject({ status: 200, tier: 'full', attempts: 1, client: 'team-a' });
  });

  it('carries tool calls out and tool results back in', async () => {
    server.script({ route: 'primary' }, { sequence: [fault.ok({ toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }] }), fault.ok({ text: 'Sunny in Paris.' })] });
    const openai = gw.openai();
    const first = await openai.chat.completions.create({ ...ask, tools: [weatherTool] });
    const call = first.choices[0]!.message.tool_calls![0]!;
    expect(first.choices[0]!.finish_reason).toBe('tool_calls');
    expect(call.type === 'function' && [call.function.name, JSON.parse(call.function.arguments)]).toEqual(['get_weather', { city: 'Paris' }]);
    const second = await openai.chat.completions.create({
      ...ask,
      tools: [weatherTool],
      messages: [...ask.messages, first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: '22°C, sunny' }],
    });
    expect(second.choices[0]!.message.content).toBe('Sunny in Paris.');
    expect(server.requests[1]!.body).toMatchObject({ messages: [{}, { role: 'assistant' }, { role: 'tool', tool_call_id: 'call_1', content: '22°C, sunny' }] });
  });

  it('an exhausted chain is an APIError with the front status, no client retry, and the error type in the log', async () => {
    server.script({ route: 'primary' }, { then: fault.serverError(500) });
    server.script({ route: 'backup' }, { then: fault.serverError(502) });
    const error = await gw.openai(KEY_A, { maxRetries: 2 }).chat.completions.create(ask).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as OpenAIError).status).toBe(502);
    expect(server.hits()).toBe(2); // x-should-retry: false — the SDK's own retries did not multiply the walk
    expect(await gw.entry(0)).toMatchObject({ status: 502, errorType: 'server_error', attempts: 2, client: 'team-a' });
  });

  it('an unknown model alias is a 404 naming the known ones, before any upstream call', async () => {
    const error = await gw.openai().chat.completions.create({ ...ask, model: 'gpt-4o' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as OpenAIError).error).toMatchObject({ type: 'invalid_request_error', code: 'model_not_found', param: 'model' });
    expect((error as OpenAIError).message).toContain('support-agent');
    expect(server.hits()).toBe(0);
    expect(await gw.entry(0)).toMatchObject({ status: 404, errorType: 'unknown_model', model: 'gpt-4o' });
  });

  it('lists the aliases on /v1/models', async () => {
    const models = [];
    for await (const m of gw.openai().models.list()) models.push(m.id);
    expect(models).toEqual(['support-agent']);
  });
});

describe('gateway: Anthropic messages', () => {
  it('answers and streams through the same chain', async () => {
    server.script({ route: 'primary' }, { then: fault.ok({ text: 'Hello from OpenAI' }) });
    const anthropic = gw.anthropic();
    const message = await anthropic.messages.create({ ...ask, max_tokens: 100 });
    expect(message.content).toEqual([{ type: 'text', text: 'Hello from OpenAI', citations: null }].map(({ citations, ...b }) => expect.objectContaining(b)));
    const stream = anthropic.messages.stream({ ...ask, max_tokens: 100 });
    let text = '';
    stream.on('text', (t) => (text += t));
    const final = await stream.finalMessage();
    expect(text).toBe('Hello from OpenAI');
    expect(final.stop_reason).toBe('end_turn');
    expect(server.hits({ route: 'primary' })).toBe(2);
  });

  it('tool use across the failover', async () => {
    server.script({ route: 'primary' }, { then: fault.serverError(503) });
    server.script({ route: 'backup' }, { then: fault.ok({ toolCalls: [{ id: 'toolu_1', name: 'get_weather', arguments: { city: 'Oslo' } }] }) });
    const message = await gw.anthropic().messages.create({
      ...ask,
      max_tokens: 100,
      tools: [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
    });
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content.find((b) => b.type === 'tool_use')).toMatchObject({ name: 'get_weather', input: { city: 'Oslo' } });
  });
});

describe('gateway: keys', () => {
  it.each([
    ['no key', undefined],
    ['a wrong key', 'bwk-not-a-key'],
  ])('%s: 401 in each front’s own error shape, no upstream call, nothing of the key logged', async (_, key) => {
    const openaiError = await gw.openai(key ?? 'placeholder', key ? {} : { defaultHeaders: { authorization: null } }).chat.completions.create(ask).catch((e: unknown) => e);
    expect(openaiError).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((openaiError as OpenAIError).error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_api_key' });
    const anthropicError = await gw.anthropic(key ?? 'placeholder', key ? {} : { defaultHeaders: { 'x-api-key': null } }).messages.create({ ...ask, max_tokens: 10 }).catch((e: unknown) => e);
    expect(anthropicError).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((anthropicError as AnthropicError).error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    expect(server.hits()).toBe(0);
    const entries = [await gw.entry(0), await gw.entry(1)];
    expect(entries.map((e) => [e.route, e.status, e.errorType, e.client])).toEqual([
      ['/v1/chat/completions', 401, 'unauthorized', undefined],
      ['/v1/messages', 401, 'unauthorized', undefined],
    ]);
    if (key) expect(JSON.stringify(entries)).not.toContain(key);
  });

  it('a client key cannot open /v1/models of another gateway path without a key', async () => {
    const response = await fetch(`${gw.address.url}/v1/models`);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: 'invalid_api_key' } });
  });

  it('each client reads only its own cache partition', async () => {
    await gw.gateway.close({ drainMs: 0 });
    gw = await startTestGateway(server, {}, { cache: { store: memoryStore(), mode: 'read-through', ttlMs: 60_000 } });
    server.script({ route: 'primary' }, { then: fault.ok({ text: 'cached answer' }) });
    const a = await gw.openai(KEY_A).chat.completions.create(ask).withResponse();
    const again = await gw.openai(KEY_A).chat.completions.create(ask).withResponse();
    expect(again.response.headers.get('x-bulwark-tier')).toBe('cached');
    expect(server.hits()).toBe(1);
    const b = await gw.openai(KEY_B).chat.completions.create(ask).withResponse();
    expect(b.response.headers.get('x-bulwark-tier')).toBe('full');
    expect(server.hits()).toBe(2);
    expect(a.data.choices[0]!.message.content).toBe('cached answer');
  });
});

describe('gateway: limits', () => {
  it('per-key requests per minute: the next request is a 429 in the front’s shape with retry-after, until the minute passes', async () => {
    await gw.gateway.close({ drainMs: 0 });
    gw = await startTestGateway(server, {
      clients: [
        { name: 'team-a', keyHash: (await import('./setup.js')).sha256(KEY_A), limits: { rpm: 2 } },
        { name: 'team-b', keyHash: (await import('./setup.js')).sha256(KEY_B) },
      ],
    });
    server.script({ route: 'primary' }, { then: fault.ok({ text: 'ok' }) });
    const openai = gw.openai(KEY_A);
    await openai.chat.completions.create(ask);
    gw.clock.advance(30_000);
    await openai.chat.completions.create(ask);
    const refused = await openai.chat.completions.create(ask).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    expect((refused as OpenAIError).headers?.get('retry-after')).toBe('30');
    const anthropicRefused = await gw.anthropic(KEY_A).messages.create({ ...ask, max_tokens: 10 }).catch((e: unknown) => e);
    expect((anthropicRefused as AnthropicError).error).toMatchObject({ error: { type: 'rate_limit_error' } });
    await gw.openai(KEY_B).chat.completions.create(ask); // another key has its own budget
    expect(server.hits()).toBe(3);
    gw.clock.advance(30_000);
    await openai.chat.completions.create(ask);
    expect(server.hits()).toBe(4);
    expect(gw.log.filter((e) => e.status === 429).map((e) => e.errorType)).toEqual(['rate_limited', 'rate_limited']);
  });

  it('per-key spend per day: once the answers cost the limit, requests are refused', async () => {
    const { sha256 } = await import('./setup.js');
    await gw.gateway.close({ drainMs: 0 });
    gw = await startTestGateway(server, { clients: [{ name: 'team-a', keyHash: sha256(KEY_A), limits: { spendUsdPerDay: 0.05 } }] });
    server.script({ route: 'primary' }, { then: fault.ok({ text: 'ok', usage: { inputTokens: 40_000, outputTokens: 10 } }) });
    const openai = gw.openai(KEY_A);
    const first = await openai.chat.completions.create(ask).withResponse();
    expect(Number(first.response.headers.get('x-bulwark-cost-usd'))).toBeGreaterThan(0.05);
    const refused = await openai.chat.completions.create(ask).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    expect((refused as OpenAIError).message).toContain('has reached its limit of $0.05');
    expect(server.hits()).toBe(1);
    gw.clock.advance(86_400_000);
    await openai.chat.completions.create(ask);
    expect(server.hits()).toBe(2);
  });
});

describe('gateway: request limits and probes', () => {
  it('a body over the limit is a 413 in each front’s shape, before any upstream call', async () => {
    await gw.gateway.close({ drainMs: 0 });
    gw = await startTestGateway(server, { server: { bodyLimitBytes: 4096 } });
    const big = { ...ask, messages: [{ role: 'user' as const, content: 'x'.repeat(10_000) }] };
    const openaiError = await gw.openai().chat.completions.create(big).catch((e: unknown) => e);
    expect((openaiError as OpenAIError).status).toBe(413);
    expect((openaiError as OpenAIError).error).toMatchObject({ type: 'invalid_request_error' });
    const anthropicError = await gw.anthropic().messages.create({ ...big, max_tokens: 10 }).catch((e: unknown) => e);
    expect((anthropicError as AnthropicError).status).toBe(413);
    expect((anthropicError as AnthropicError).error).toMatchObject({ error: { type: 'request_too_large' } });
    // A body under the limit still passes on the same gateway.
    server.script({ route: 'primary' }, { then: fault.ok({ text: 'fits' }) });
    expect((await gw.openai().chat.completions.create(ask)).choices[0]!.message.content).toBe('fits');
    expect(server.hits()).toBe(1);
  });

  it('a body streamed without a content-length is cut at the limit too', async () => {
    await gw.gateway.close({ drainMs: 0 });
    gw = await startTestGateway(server, { server: { bodyLimitBytes: 4096 } });
    const chunks = [JSON.stringify(ask).slice(0, -1), `, "pad": "${'y'.repeat(8000)}"}`];
    const body = new ReadableStream({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
      },
    });
    const response = await fetch(`${gw.address.url}/v1/chat/completions`, { method: 'POST', body, duplex: 'half', headers: { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/json' } } as RequestInit);
    expect(response.status).toBe(413);
    expect(server.hits()).toBe(0);
  });

  it('/healthz and /readyz answer without a key', async () => {
    expect(await (await fetch(`${gw.address.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${gw.address.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', chains: ['support'] });
  });

  it('an unknown path is a 404, a wrong method a 405', async () => {
    expect((await fetch(`${gw.address.url}/v1/embeddings`, { method: 'POST' })).status).toBe(404);
    const wrong = await fetch(`${gw.address.url}/v1/chat/completions`, { headers: { authorization: `Bearer ${KEY_A}` } });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
  });

  it.each([
    ['headers that never end (slowloris)', 'POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nx-slow: '],
    ['a body that stops short of its content-length', `POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer ${KEY_A}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model":`],
  ])('%s: the server answers 408 and closes the connection, no upstream call', async (_, sent) => {
    await gw.gateway.close({ drainMs: 0 });
    gw = await startTestGateway(server, { server: { headersTimeoutMs: 300, requestTimeoutMs: 600 } });
    const socket = net.connect(gw.address.port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.write(sent);
    await once(socket, 'close');
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(server.hits()).toBe(0);
  });

  it('passes its timeouts to the HTTP server', async () => {
    await gw.gateway.close({ drainMs: 0 });
    gw = await startTestGateway(server, { server: { headersTimeoutMs: 7_000, requestTimeoutMs: 90_000, keepAliveTimeoutMs: 3_000 } });
    expect([gw.gateway.server.headersTimeout, gw.gateway.server.requestTimeout, gw.gateway.server.keepAliveTimeout]).toEqual([7_000, 90_000, 3_000]);
  });
});

describe('gateway: /admin', () => {
  const admin = (path: string, init: RequestInit = {}) => fetch(`${gw.address.url}/admin${path}`, init);

  it('needs the admin token: none, a client key or a wrong token are 401', async () => {
    for (const authorization of [undefined, `Bearer ${KEY_A}`, 'Bearer bwk-admin-wrong-000000000000']) {
      const response = await admin('/health', authorization ? { headers: { authorization } } : {});
      expect(response.status).toBe(401);
    }
  });

  it('with the token: health, and forcing a breaker open moves traffic to the backup', async () => {
    const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const health = await admin('/health', { headers });
    expect(health.status).toBe(200);
    expect(((await health.json()) as { chains: Array<{ chain: string }> }).chains.map((c) => c.chain)).toEqual(['support']);
    const forced = await admin('/breaker', { method: 'POST', headers, body: JSON.stringify({ chain: 'support', breaker: 'openai/gpt-4o', override: 'open' }) });
    expect(forced.status).toBe(200);
    server.script({ route: 'backup' }, { then: fault.ok({ text: 'from the backup' }) });
    expect((await gw.openai().chat.completions.create(ask)).choices[0]!.message.content).toBe('from the backup');
    expect(server.hits({ route: 'primary' })).toBe(0);
    expect(JSON.stringify(gw.log)).not.toContain(ADMIN_TOKEN);
  });
});

describe('gateway: client disconnects and drain', () => {
  it('a client that stops reading mid-stream closes the upstream connection at once', async () => {
    server.script({ route: 'primary' }, { then: fault.ok({ text: 'one two three four five six seven eight nine ten', chunkDelayMs: 20 }) });
    const stream = await gw.openai().chat.completions.create({ ...ask, stream: true });
    for await (const chunk of stream) if (chunk.choices[0]?.delta.content) break;
    await server.idle();
    expect(server.requests[0]!.clientClosed).toBe(true);
    // The log says the client left mid-answer (the chain reports what it had streamed by then).
    expect(await gw.entry(0)).toMatchObject({ status: 200, clientClosed: true, client: 'team-a', tier: 'full' });
  });

  it('a client that aborts a JSON request while the upstream is still answering closes that upstream connection', async () => {
    // The fault server's waits go through this hook: its first call says the upstream request arrived and is waiting.
    let arrived!: () => void;
    const upstreamWaiting = new Promise<void>((resolve) => (arrived = resolve));
    const slow = await startFaultServer({
      seed: 1417,
      sleep: (_ms, signal) => {
        arrived();
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
      },
    });
    const g = await startTestGateway(slow);
    try {
      slow.script({ route: 'primary' }, { latency: { kind: 'fixed', ms: 60_000 }, then: fault.ok({ text: 'too late' }) });
      const controller = new AbortController();
      const call = g.openai().chat.completions.create(ask, { signal: controller.signal }).catch((e: unknown) => e);
      await upstreamWaiting;
      controller.abort();
      expect(await call).toBeInstanceOf(OpenAI.APIUserAbortError);
      await slow.idle();
      expect(slow.requests[0]!.clientClosed).toBe(true);
      expect(slow.hits()).toBe(1); // the chain did not go on to the backup either
      expect(await g.entry(0)).toMatchObject({ status: 499, clientClosed: true, errorType: 'cancelled', client: 'team-a' });
    } finally {
      await g.gateway.close({ drainMs: 0 });
      await slow.close();
    }
  });

  it('keeps a client connection alive across requests', async () => {
    const sockets = new Set<unknown>();
    gw.gateway.server.on('request', (req) => sockets.add(req.socket));
    server.script({ route: 'primary' }, { then: fault.ok({ text: 'ok' }) });
    // One keep-alive socket at most: a new connection would show as a second socket on the server.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const post = () =>
      new Promise<number>((resolve, reject) => {
        const body = JSON.stringify(ask);
        const req = http.request(`${gw.address.url}/v1/chat/completions`, { method: 'POST', agent, headers: { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(body);
      });
    expect([await post(), await post(), await post()]).toEqual([200, 200, 200]);
    expect(sockets.size).toBe(1);
    agent.destroy();
  });

  it('close() lets open streams finish, refuses new connections, then resolves', async () => {
    const words = 'alpha beta gamma delta epsilon zeta eta theta';
    server.script({ route: 'primary' }, { then: fault.ok({ text: words, chunkDelayMs: 5 }) });
    const openai = gw.openai();
    const streams = await Promise.all(Array.from({ length: 5 }, () => openai.chat.completions.create({ ...ask, stream: true })));
    const iterators = streams.map((s) => s[Symbol.asyncIterator]());
    // Every stream has begun (its first chunk is here) before the gateway is told to close.
    const firsts = await Promise.all(iterators.map((it) => it.next()));
    const closed = gw.gateway.close({ drainMs: 600_000 });
    const readyz = await fetch(`${gw.address.url}/readyz`).then((r) => r.status, () => 'refused');
    expect(readyz).toBe('refused');
    const texts = await Promise.all(
      iterators.map(async (it, i) => {
        let text = firsts[i]!.value?.choices[0]?.delta.content ?? '';
        for (let next = await it.next(); !next.done; next = await it.next()) text += next.value.choices[0]?.delta.content ?? '';
        return text;
      }),
    );
    expect(texts).toEqual(Array.from({ length: 5 }, () => words));
    await closed;
    expect(gw.gateway.server.listening).toBe(false);
    expect(gw.log.filter((e) => e.status === 200 && !e.clientClosed)).toHaveLength(5);
  });

  it('close() cuts what is still open when the drain time is up, and the upstream connections close', async () => {
    server.script({ route: 'primary' }, { then: fault.endless(10) });
    const stream = await gw.openai().chat.completions.create({ ...ask, stream: true });
    const it = stream[Symbol.asyncIterator]();
    await it.next();
    const closed = gw.gateway.close({ drainMs: 5_000 });
    gw.clock.advance(5_000);
    await closed;
    await expect((async () => {
      for (let next = await it.next(); !next.done; next = await it.next());
    })()).rejects.toThrow();
    await server.idle();
    expect(server.requests[0]!.clientClosed).toBe(true);
  });
});
