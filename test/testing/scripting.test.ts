import { afterEach, describe, expect, it } from 'vitest';
import { fault, startFaultServer } from '../../src/testing/index.js';
import type { FaultServer, FaultServerOptions, Provider } from '../../src/testing/index.js';
import { sampleLatency } from '../../src/testing/latency.js';
import { createRandom } from '../../src/testing/random.js';

const servers: FaultServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function start(options?: FaultServerOptions): Promise<FaultServer> {
  const server = await startFaultServer(options);
  servers.push(server);
  return server;
}

/** A bare request over fetch: faster than the SDKs when a test fires many of them. */
async function call(
  server: FaultServer,
  { provider = 'openai', route, model = 'gpt-4o', content = 'hi', headers = {} }: {
    provider?: Provider;
    route?: string;
    model?: string;
    content?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<Response> {
  const url = provider === 'openai' ? `${server.baseURL('openai', route)}/chat/completions` : `${server.baseURL('anthropic', route)}/v1/messages`;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model, max_tokens: 16, messages: [{ role: 'user', content }] }),
  });
  await res.arrayBuffer();
  return res;
}

describe('routes', () => {
  it('builds base URLs the official clients expect', async () => {
    const server = await start();
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.baseURL('openai', 'primary')).toBe(`${server.url}/primary/v1`);
    expect(server.baseURL('anthropic', 'backup')).toBe(`${server.url}/backup`);
    expect(server.baseURL('openai')).toBe(`${server.url}/v1`);
    expect(server.baseURL('anthropic', 'default')).toBe(server.url);
    expect(() => server.baseURL('openai', 'a b')).toThrow(TypeError);
  });

  it('keeps routes independent and counts hits per matcher', async () => {
    const server = await start();
    server.script({ route: 'primary' }, { then: fault.serverError(503) });
    expect((await call(server, { route: 'primary' })).status).toBe(503);
    expect((await call(server, { route: 'backup' })).status).toBe(200);
    expect((await call(server, { provider: 'anthropic', model: 'claude-mock' })).status).toBe(200);
    expect(server.hits()).toBe(3);
    expect(server.hits({ route: 'primary' })).toBe(1);
    expect(server.hits({ route: 'default', provider: 'anthropic' })).toBe(1);
    expect(server.hits({ model: /^claude/ })).toBe(1);
  });

  it('answers an unknown path with 404 and records it', async () => {
    const server = await start();
    const res = await fetch(`${server.url}/v2/nothing`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
    expect(server.requests[0]).toMatchObject({ provider: undefined, faultSource: 'invalidRequest', status: 404 });
  });
});

describe('scripts', () => {
  it('consumes a sequence one fault per request, then plays the default', async () => {
    const server = await start();
    const handle = server.script(
      { route: 'primary' },
      { sequence: [fault.rateLimit(), fault.serverError(502), fault.overloaded()], then: fault.ok({ text: 'back' }) },
    );
    expect(handle.remaining).toBe(3);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await call(server, { route: 'primary' })).status);
    expect(statuses).toEqual([429, 502, 503, 200, 200]);
    expect(handle.remaining).toBe(0);
    expect(handle.hits).toBe(5);
    expect(server.requests.map((r) => r.faultSource)).toEqual(['sequence', 'sequence', 'sequence', 'default', 'default']);
    handle.remove();
    server.script({ route: 'primary' }, { then: fault.authentication() });
    expect((await call(server, { route: 'primary' })).status).toBe(401);
  });

  it('lets the most specific matching script decide, the latest among equals', async () => {
    const server = await start();
    server.script({ then: fault.serverError(500) });
    server.script({ provider: 'openai' }, { then: fault.serverError(502) });
    server.script({ provider: 'openai', model: 'gpt-4o' }, { then: fault.serverError(504) });
    server.script({ provider: 'openai' }, { then: fault.serverError(503) });
    expect((await call(server)).status).toBe(504);
    expect((await call(server, { model: 'gpt-4o-mini' })).status).toBe(503);
    expect((await call(server, { provider: 'anthropic' })).status).toBe(500);
  });

  it('draws probabilistic faults from the seeded source, reproducibly', async () => {
    const run = async () => {
      const server = await start({ seed: 1234 });
      server.script({ random: [{ probability: 0.3, fault: fault.serverError(500) }, { probability: 0.1, fault: fault.rateLimit() }] });
      const statuses: number[] = [];
      for (let i = 0; i < 100; i++) statuses.push((await call(server)).status);
      return statuses;
    };
    const first = await run();
    expect(await run()).toEqual(first);
    const share = (status: number) => first.filter((s) => s === status).length / first.length;
    expect(share(500)).toBeGreaterThan(0.15);
    expect(share(500)).toBeLessThan(0.45);
    expect(share(429)).toBeGreaterThan(0.02);
    expect(share(429)).toBeLessThan(0.2);
    expect(share(200)).toBeGreaterThan(0.4);
  });

  it('rejects probabilities that cannot be honoured', async () => {
    const server = await start();
    expect(() => server.script({ random: [{ probability: 0.7, fault: fault.hang() }, { probability: 0.5, fault: fault.reset() }] })).toThrow(
      /add up to 1\.2/,
    );
    expect(() => server.script({ random: [{ probability: -1, fault: fault.hang() }] })).toThrow(/random\[0\]\.probability/);
  });

  it('plays outage windows on the injected clock, relative to when the script was installed', async () => {
    let now = 1_000_000;
    const server = await start({ now: () => now });
    server.script(
      { route: 'primary' },
      { outages: [{ fromMs: 1000, toMs: 2000 }, { fromMs: 5000, fault: fault.overloaded({ status: 529 }) }], sequence: [fault.rateLimit()] },
    );
    now += 500;
    expect((await call(server, { route: 'primary' })).status).toBe(429); // sequence entry consumed
    now += 1000; // t = 1500: first window
    expect((await call(server, { route: 'primary' })).status).toBe(503);
    now += 1000; // t = 2500: between windows
    expect((await call(server, { route: 'primary' })).status).toBe(200);
    now += 10_000; // t = 12500: open-ended window
    expect((await call(server, { route: 'primary' })).status).toBe(529);
    expect(server.requests.map((r) => [r.faultSource, r.startedAt - 1_000_000])).toEqual([
      ['sequence', 500],
      ['outage', 1500],
      ['default', 2500],
      ['outage', 12500],
    ]);
  });

  it('computes absolute rate-limit timestamps from the injected clock', async () => {
    const now = Date.UTC(2025, 0, 1, 0, 0, 0);
    const server = await start({ now: () => now });
    server.script({ then: fault.rateLimit({ retryAfterDateMs: 30_000, resetRequestsMs: 6000, resetTokensMs: 1500 }) });
    const openai = await call(server);
    expect(openai.headers.get('retry-after')).toBe('Wed, 01 Jan 2025 00:00:30 GMT');
    expect(openai.headers.get('x-ratelimit-reset-requests')).toBe('6s');
    expect(openai.headers.get('x-ratelimit-reset-tokens')).toBe('1.5s');
    const anthropic = await call(server, { provider: 'anthropic' });
    expect(anthropic.headers.get('anthropic-ratelimit-requests-reset')).toBe('2025-01-01T00:00:06Z');
    expect(anthropic.headers.get('anthropic-ratelimit-tokens-reset')).toBe('2025-01-01T00:00:01.500Z');
  });

  it('applies latency before answering, and a slow first byte after the headers', async () => {
    const server = await start();
    server.script({ route: 'slow' }, { latency: 60 });
    let t0 = performance.now();
    await call(server, { route: 'slow' });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55);

    server.script({ route: 'first-byte' }, { then: fault.slowFirstByte(100) });
    t0 = performance.now();
    const res = await fetch(`${server.baseURL('openai', 'first-byte')}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'gpt-4o', stream: true, messages: [] }),
    });
    const headersAfter = performance.now() - t0;
    const reader = res.body!.getReader();
    await reader.read();
    const firstChunkAfter = performance.now() - t0;
    await reader.cancel();
    expect(firstChunkAfter).toBeGreaterThanOrEqual(95);
    expect(firstChunkAfter - headersAfter).toBeGreaterThanOrEqual(40); // headers came well before the body
  });

  it('samples latency distributions deterministically from a seed', () => {
    const draw = (seed: number) => {
      const random = createRandom(seed);
      return Array.from({ length: 5 }, () => sampleLatency({ kind: 'uniform', minMs: 10, maxMs: 20 }, random));
    };
    expect(draw(9)).toEqual(draw(9));
    expect(draw(9).every((ms) => ms >= 10 && ms <= 20)).toBe(true);
    const random = createRandom(3);
    const normal = Array.from({ length: 2000 }, () => sampleLatency({ kind: 'normal', meanMs: 100, stdDevMs: 10 }, random));
    const mean = normal.reduce((a, b) => a + b, 0) / normal.length;
    expect(mean).toBeGreaterThan(98);
    expect(mean).toBeLessThan(102);
    expect(sampleLatency({ kind: 'normal', meanMs: 0, stdDevMs: 50, minMs: 5 }, random)).toBeGreaterThanOrEqual(5);
  });

  it('turns would-be successes into context-length errors past a model window, not scripted errors', async () => {
    const server = await start({ models: { tiny: { contextWindow: 10 } } });
    server.script({ sequence: [fault.serverError(500)] });
    expect((await call(server, { model: 'tiny', content: 'z'.repeat(100) })).status).toBe(500);
    expect((await call(server, { model: 'tiny', content: 'z'.repeat(100) })).status).toBe(400);
    expect((await call(server, { model: 'tiny', content: 'short' })).status).toBe(200);
    server.setModel('tiny', { contextWindow: 1000 });
    expect((await call(server, { model: 'tiny', content: 'z'.repeat(100) })).status).toBe(200);
  });
});

describe('request log', () => {
  it('records route, provider, model, body and headers without credentials', async () => {
    const server = await start({ now: () => 42 });
    await call(server, {
      provider: 'anthropic',
      route: 'team/a',
      model: 'claude-mock',
      content: 'hello',
      headers: { 'x-api-key': 'sk-ant-SECRET', authorization: 'Bearer SECRET', cookie: 'session=SECRET', 'api-key': 'SECRET', 'x-trace': 'keep' },
    });
    await server.idle();
    const [request] = server.requests;
    expect(request).toMatchObject({
      seq: 1,
      route: 'team/a',
      provider: 'anthropic',
      model: 'claude-mock',
      method: 'POST',
      path: '/team/a/v1/messages',
      stream: false,
      body: { model: 'claude-mock', messages: [{ role: 'user', content: 'hello' }] },
      estimatedInputTokens: 3,
      startedAt: 42,
      endedAt: 42,
      fault: { kind: 'ok' },
      faultSource: 'default',
      status: 200,
      finished: true,
      clientClosed: false,
      serverClosed: false,
    });
    expect(request?.headers['x-trace']).toBe('keep');
    expect(request?.headers['x-api-key']).toBe('[redacted]');
    expect(JSON.stringify(server.requests)).not.toContain('SECRET');
  });

  it('reset() clears scripts and the log', async () => {
    const server = await start();
    server.script({ then: fault.serverError(500) });
    await call(server);
    server.reset();
    expect(server.requests).toEqual([]);
    expect((await call(server)).status).toBe(200);
    expect(server.requests).toHaveLength(1);
  });

  it('maxRecordedRequests keeps the newest requests in the log; hits() still counts every one', async () => {
    const server = await start({ maxRecordedRequests: 3 });
    for (let i = 0; i < 7; i++) await call(server, { route: i % 2 === 0 ? 'primary' : 'backup', model: i < 4 ? 'gpt-4o' : 'gpt-4o-mini' });
    await call(server, { provider: 'anthropic', model: 'claude-mock' });
    expect(server.requests.map((r) => r.seq)).toEqual([6, 7, 8]);
    expect(server.hits()).toBe(8);
    expect(server.hits({ route: 'primary' })).toBe(4);
    expect(server.hits({ route: 'backup', model: 'gpt-4o' })).toBe(2);
    expect(server.hits({ model: /mini$/ })).toBe(3);
    expect(server.hits({ provider: 'anthropic' })).toBe(1);
    // A long run: the log stays bounded.
    for (let i = 0; i < 20; i++) await call(server);
    expect(server.requests).toHaveLength(3);
    expect(server.hits()).toBe(28);
    server.reset();
    expect(server.hits()).toBe(0);
    expect(server.requests).toEqual([]);
    await call(server);
    expect([server.hits(), server.requests.length]).toEqual([1, 1]);
  });

  it('maxRecordedRequests: 0 keeps no log but counts; a bad value is refused', async () => {
    const server = await start({ maxRecordedRequests: 0 });
    await call(server);
    expect(server.requests).toEqual([]);
    expect(server.hits({ route: 'default' })).toBe(1);
    await expect(startFaultServer({ maxRecordedRequests: -1 })).rejects.toThrow(/maxRecordedRequests/);
    await expect(startFaultServer({ maxRecordedRequests: 1.5 })).rejects.toThrow(/maxRecordedRequests/);
  });

  it('close() ends hung and stalled requests at once and marks them server-closed', async () => {
    const server = await start();
    server.script({ route: 'hang' }, { then: fault.hang() });
    server.script({ route: 'stall' }, { then: fault.streamCut({ mode: 'stall', afterChunks: 1 }) });
    const hung = fetch(`${server.baseURL('openai', 'hang')}/chat/completions`, { method: 'POST', body: '{"model":"m"}' }).catch((e: unknown) => e);
    const stalled = await fetch(`${server.baseURL('openai', 'stall')}/chat/completions`, {
      method: 'POST',
      body: '{"model":"m","stream":true}',
    });
    const body = stalled.text().catch((e: unknown) => e);
    while (server.requests.length < 2) await new Promise((r) => setTimeout(r, 5));
    const t0 = performance.now();
    await server.close();
    await server.close(); // idempotent
    expect(performance.now() - t0).toBeLessThan(500);
    expect(await hung).toBeInstanceOf(Error);
    expect(await body).toBeInstanceOf(Error);
    expect(server.requests.every((r) => r.serverClosed && !r.clientClosed)).toBe(true);
  });
});
