/**
 * The engine over real HTTP: the official clients against the fault-injecting server, every row
 * of the error taxonomy (DESIGN §3) and the behaviours of DESIGN §1. Backoff waits run on an
 * injected virtual clock; timeouts that race a real hung socket use short real timers.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { BulwarkError } from '../../src/errors/bulwarkError.js';
import type { ErrorType } from '../../src/errors/errorTypes.js';
import { memoryStore } from '../../src/state/memoryStore.js';
import { systemClock } from '../../src/time/clock.js';
import { fault, startFaultServer, type Fault, type FaultServer } from '../../src/testing/index.js';
import { ask, threeTargetChain } from './setup.js';

let server: FaultServer;
beforeAll(async () => {
  server = await startFaultServer({ seed: 1 });
});
afterAll(() => server.close());
beforeEach(() => {
  server.reset();
  vi.restoreAllMocks();
});

const hits = (route: string) => server.hits({ route });

describe('every row of the error taxonomy through the official clients', () => {
  // [fault on the first target, its route, expected errorType, upstream calls on it, index that answers]
  const rows: Array<[string, Fault, 'primary' | 'backup', ErrorType, number, number]> = [
    ['429 with retry-after-ms, then ok', fault.rateLimit({ retryAfterMs: 1_500 }), 'primary', 'rate_limited', 2, 0],
    ['429 with an Anthropic reset timestamp, then ok', fault.rateLimit({ resetRequestsMs: 3_000 }), 'backup', 'rate_limited', 2, 0],
    ['Anthropic 529 overloaded, then ok', fault.overloaded({ status: 529 }), 'backup', 'overloaded', 2, 0],
    ['503 with an overload body, then ok', fault.overloaded({ status: 503 }), 'primary', 'overloaded', 2, 0],
    ['500, then ok', fault.serverError(500), 'primary', 'server_error', 2, 0],
    ['502, then ok', fault.serverError(502), 'backup', 'server_error', 2, 0],
    ['connection reset, then ok', fault.reset(), 'primary', 'connection', 2, 0],
    ['malformed JSON, then ok', fault.malformedJson(), 'primary', 'malformed_response', 2, 0],
    ['context length exceeded', fault.contextLength(), 'primary', 'context_length_exceeded', 1, 1],
    ['content-policy refusal', fault.contentFilter({ code: 'content_policy_violation' }), 'primary', 'content_filtered', 1, 1],
    ['Anthropic refusal stop_reason', fault.contentFilter(), 'backup', 'content_filtered', 1, 1],
    ['401', fault.authentication(), 'primary', 'authentication', 1, 1],
    ['403', fault.permissionDenied(), 'backup', 'permission', 1, 1],
    ['404 model not found', fault.modelNotFound(), 'primary', 'not_found', 1, 1],
  ];

  it.each(rows)('%s', async (_, f, route, errorType, callsOnFirst, answeredBy) => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const order = route === 'primary' ? (['primary', 'backup', 'local'] as const) : (['backup', 'primary', 'local'] as const);
    const { llm } = threeTargetChain(server, { order: [...order] });
    server.script({ route }, { sequence: [f] });
    const res = await llm.chat(ask);
    expect(res.attempts[0]).toMatchObject({ errorType, targetIndex: 0 });
    expect(hits(route)).toBe(callsOnFirst);
    expect(res.target.index).toBe(answeredBy);
    if (answeredBy === 0) expect(res.attempts[0]!.delayMs).toBeGreaterThan(0);
  });

  it('a bad request fails at once: one upstream call, no retry, no fallback', async () => {
    const { llm } = threeTargetChain(server, { degrade: { staticReply: 'static' } });
    server.script({ route: 'primary' }, { then: fault.badRequest({ message: "Invalid value for 'temperature'" }) });
    const err = await llm.chat(ask).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BulwarkError);
    expect(err).toMatchObject({ errorType: 'bad_request' });
    expect([hits('primary'), hits('backup'), hits('local')]).toEqual([1, 0, 0]);
  });

  it('a hung provider times out (attempt timeout) and the request moves on without a same-target retry', async () => {
    const { llm } = threeTargetChain(server, { clock: systemClock, timeouts: { attemptMs: 150 } });
    server.script({ route: 'primary' }, { then: fault.hang() });
    const res = await llm.chat(ask);
    expect(res.attempts.map((a) => a.errorType ?? 'ok')).toEqual(['timeout', 'ok']);
    expect(hits('primary')).toBe(1);
    await server.idle();
    expect(server.requests.find((r) => r.route === 'primary')?.clientClosed).toBe(true);
  });

  it('the SDKs’ own retries never act: a user client with maxRetries 2 still makes one call per attempt', async () => {
    const { llm } = threeTargetChain(server, { retry: { maxAttempts: 1 } });
    server.script({ route: 'primary' }, { then: fault.serverError(500) });
    await llm.chat(ask);
    expect(hits('primary')).toBe(1);
  });
});

describe('the chain', () => {
  it('falls OpenAI → Anthropic → an OpenAI-compatible endpoint, tier reduced at the end', async () => {
    const { llm } = threeTargetChain(server);
    server.script({ route: 'primary' }, { then: fault.serverError(503) });
    server.script({ route: 'backup' }, { then: fault.rateLimit({ retryAfterMs: 60_000 }) });
    const res = await llm.chat(ask);
    expect(res).toMatchObject({ tier: 'reduced', fallbackUsed: true, target: { provider: 'openai', model: 'llama3.1', index: 2 } });
    expect(res.attempts.map((a) => `${a.provider}/${a.model}:${a.kind}:${a.errorType ?? 'ok'}`)).toEqual([
      'openai/gpt-4o:initial:server_error',
      'openai/gpt-4o:retry:server_error',
      'openai/gpt-4o:retry:server_error',
      'anthropic/claude-sonnet-4-6:fallback:rate_limited',
      'openai/llama3.1:fallback:ok',
    ]);
    expect(res.warning).toMatch(/fallback target openai\/llama3\.1/);
    // The failed calls reported no usage and a local llama has no price: nothing was spent.
    expect(res.costUsd).toBe(0);
  });

  it('keeps an agent’s tool loop going when it hops from OpenAI to Anthropic mid-loop', async () => {
    const { llm } = threeTargetChain(server, { retry: { maxAttempts: 1 } });
    const tools = [{ name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }];
    server.script({ route: 'primary' }, { sequence: [fault.ok({ toolCalls: [{ id: 'call_w1', name: 'get_weather', arguments: '{"city":"Paris"}' }] })], then: fault.serverError(500) });
    server.script({ route: 'backup' }, { then: fault.ok({ text: 'It is 18°C in Paris.' }) });

    const turn1 = await llm.chat({ messages: [{ role: 'user', content: 'Weather in Paris?' }], tools });
    expect(turn1).toMatchObject({ finishReason: 'tool_calls', target: { provider: 'openai' } });
    const call = turn1.toolCalls[0]!;
    expect(call).toMatchObject({ id: 'call_w1', name: 'get_weather' });
    expect(JSON.parse(call.arguments)).toEqual({ city: 'Paris' });

    const turn2 = await llm.chat({
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, toolCalls: turn1.toolCalls },
        { role: 'tool', toolCallId: call.id, content: '18°C' },
      ],
      tools,
    });
    expect(turn2).toMatchObject({ text: 'It is 18°C in Paris.', target: { provider: 'anthropic' } });
    const sent = server.requests.find((r) => r.route === 'backup')!.body as { messages: Array<{ role: string; content: unknown }>; tools: unknown[] };
    expect(sent.messages).toHaveLength(3);
    expect(sent.messages[1]).toEqual({ role: 'assistant', content: [{ type: 'tool_use', id: 'call_w1', name: 'get_weather', input: { city: 'Paris' } }] });
    expect(sent.messages[2]).toEqual({ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_w1', content: '18°C' }] });
    expect(sent.tools).toHaveLength(1);
  });

  it('runs a full breaker cycle: open sends nothing upstream, a probe after openMs, closed again', async () => {
    const { llm, clock } = threeTargetChain(server, { retry: { maxAttempts: 1 }, breaker: { consecutiveFailures: 3, openMs: 30_000, successThreshold: 1 } });
    const outage = server.script({ route: 'primary' }, { then: fault.serverError(503) });
    for (let i = 0; i < 3; i++) await llm.chat(ask);
    expect(llm.health().targets[0]!.state).toBe('open');
    expect(hits('primary')).toBe(3);
    for (let i = 0; i < 5; i++) expect((await llm.chat(ask)).target.index).toBe(1);
    expect(hits('primary')).toBe(3); // the open breaker sent nothing

    outage.remove();
    clock.advance(30_000);
    expect(llm.health().targets[0]!.state).toBe('half_open');
    const probe = await llm.chat(ask);
    expect(probe.attempts[0]).toMatchObject({ kind: 'probe', provider: 'openai' });
    expect(probe.target.index).toBe(0);
    expect(llm.health().targets[0]!.state).toBe('closed');
    expect(hits('primary')).toBe(4);
  });

  it('honours Retry-After and caps it: above maxRetryAfterMs the request hops at once', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const { llm, clock } = threeTargetChain(server, { retry: { maxRetryAfterMs: 10_000 } });
    server.script({ route: 'primary' }, { sequence: [fault.rateLimit({ retryAfterSeconds: 4 })] });
    await llm.chat(ask);
    expect(clock.sleeps).toEqual([4_000]);

    server.reset();
    server.script({ route: 'primary' }, { sequence: [fault.rateLimit({ retryAfterSeconds: 45 })] });
    const res = await llm.chat(ask);
    expect(clock.sleeps).toEqual([4_000]);
    expect(hits('primary')).toBe(1);
    expect(res.target.index).toBe(1);
  });

  it('an abort during a backoff wait stops everything at once', async () => {
    const { llm } = threeTargetChain(server, { clock: systemClock });
    server.script({ route: 'primary' }, { then: fault.rateLimit({ retryAfterMs: 15_000 }) });
    const controller = new AbortController();
    const started = Date.now();
    const pending = llm.chat({ ...ask, signal: controller.signal });
    while (hits('primary') === 0) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'BulwarkError', errorType: 'cancelled' });
    expect(Date.now() - started).toBeLessThan(10_000); // not the 15 s wait: the abort cut it
    expect([hits('primary'), hits('backup'), hits('local')]).toEqual([1, 0, 0]);
  });

  it('bounds the walk by the total deadline and degrades to the static reply', async () => {
    const { llm } = threeTargetChain(server, { clock: systemClock, timeouts: { attemptMs: 10_000, totalMs: 300 }, degrade: { staticReply: 'Please try again shortly.' } });
    server.script({ route: 'primary' }, { then: fault.hang() });
    const res = await llm.chat(ask);
    expect(res).toMatchObject({ tier: 'static', text: 'Please try again shortly.' });
    expect(res.attempts).toEqual([expect.objectContaining({ errorType: 'timeout', provider: 'openai' })]);
    expect(hits('backup')).toBe(0);
  });
});

describe('cache, degradation and operator controls', () => {
  it('serves a stale answer per partition, never across partitions', async () => {
    const { llm, clock } = threeTargetChain(server, { cache: { store: memoryStore(), mode: 'on-failure', ttlMs: 1_000 } });
    server.script({}, { sequence: [fault.ok({ text: 'answer for tenant A' })] });
    await llm.chat({ ...ask, partition: 'tenant-a' });
    await llm.close();
    server.reset();
    server.script({}, { then: fault.serverError(500) });
    clock.advance(5_000);
    expect(await llm.chat({ ...ask, partition: 'tenant-a' })).toMatchObject({ tier: 'cached', text: 'answer for tenant A' });
    await expect(llm.chat({ ...ask, partition: 'tenant-b' })).rejects.toBeInstanceOf(BulwarkError);
  });

  it('serves the static tier, and refuses it to a critical request', async () => {
    const { llm } = threeTargetChain(server, { retry: { maxAttempts: 1 }, degrade: { staticReply: 'The assistant is temporarily unavailable.' } });
    server.script({}, { then: fault.serverError(502) });
    expect(await llm.chat(ask)).toMatchObject({ tier: 'static', text: 'The assistant is temporarily unavailable.' });
    const err = await llm.chat({ ...ask, critical: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'BulwarkError', errorType: 'server_error' });
    expect((err as BulwarkError).attempts).toHaveLength(3);
  });

  it('forced tiers and breakers take effect without upstream calls', async () => {
    const { llm } = threeTargetChain(server, { cache: { store: memoryStore(), mode: 'on-failure' }, degrade: { staticReply: 'maintenance' } });
    await llm.chat(ask);
    await llm.close();
    const before = server.requests.length;
    llm.forceTier('cached');
    expect(await llm.chat(ask)).toMatchObject({ tier: 'cached' });
    expect(await llm.chat({ messages: [{ role: 'user', content: 'never asked' }] })).toMatchObject({ tier: 'static', text: 'maintenance' });
    expect(server.requests.length).toBe(before);
    llm.forceTier('auto');
    llm.forceBreaker('openai/gpt-4o', 'open');
    expect((await llm.chat(ask)).target.index).toBe(1);
    expect(hits('primary')).toBe(1);
    llm.forceBreaker('openai/gpt-4o', 'auto');
    expect((await llm.chat(ask)).target.index).toBe(0);
  });
});
