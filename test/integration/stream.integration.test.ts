/**
 * llm.stream() over real SSE from the fault server through the official clients' streaming:
 * failover before the first chunk, the first-chunk and idle timeouts, both mid-stream policies,
 * cancellation closing the upstream socket, and tool-call deltas from each provider.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StreamInterruptedError } from '../../src/errors/bulwarkError.js';
import type { StreamEvent } from '../../src/request/types.js';
import { systemClock } from '../../src/time/clock.js';
import { fault, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { ask, threeTargetChain } from './setup.js';

let server: FaultServer;
beforeAll(async () => {
  server = await startFaultServer({ seed: 2 });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

async function collect(stream: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const e of stream) events.push(e);
  return events;
}
const textOf = (events: StreamEvent[]) => events.map((e) => (e.type === 'text' ? e.delta : e.type === 'reset' ? '<reset>' : '')).join('');
const long = 'one two three four five six seven eight nine ten';

describe('streaming with failover', () => {
  it('streams a whole answer with usage and cost from both providers', async () => {
    for (const order of [['primary', 'backup'], ['backup', 'primary']] as const) {
      server.reset();
      const { llm } = threeTargetChain(server, { order: [...order] });
      server.script({}, { then: fault.ok({ text: long, usage: { inputTokens: 120, outputTokens: 10 } }) });
      const s = llm.stream(ask);
      const events = await collect(s);
      expect(textOf(events)).toBe(long);
      const res = await s.result;
      expect(res).toMatchObject({ text: long, tier: 'full', usage: { inputTokens: 120, outputTokens: 10 } });
      expect(res.costUsd).toBeGreaterThan(0);
      expect((server.requests[0]!.body as { stream: boolean }).stream).toBe(true);
    }
  });

  it('fails over before the first chunk: the consumer only sees the stream that succeeds', async () => {
    const { llm } = threeTargetChain(server, { retry: { maxAttempts: 1 } });
    server.script({ route: 'primary' }, { then: fault.serverError(503) });
    server.script({ route: 'backup' }, { then: fault.ok({ text: 'from anthropic' }) });
    const s = llm.stream(ask);
    expect(textOf(await collect(s))).toBe('from anthropic');
    expect(await s.result).toMatchObject({ target: { provider: 'anthropic' }, tier: 'reduced' });
  });

  it('a provider that accepts the connection and never sends a token fails over after firstChunkMs', async () => {
    const { llm } = threeTargetChain(server, { clock: systemClock, timeouts: { firstChunkMs: 150, attemptMs: 60_000 } });
    server.script({ route: 'primary' }, { then: fault.slowFirstByte(60_000) });
    server.script({ route: 'backup' }, { then: fault.ok({ text: 'quick' }) });
    const started = Date.now();
    const s = llm.stream(ask);
    expect(textOf(await collect(s))).toBe('quick');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await s.result).attempts[0]).toMatchObject({ errorType: 'timeout' });
    await server.idle();
    expect(server.requests.find((r) => r.route === 'primary')!.clientClosed).toBe(true);
  });

  it("midStream 'error': a stream cut halfway throws StreamInterruptedError carrying what was received", async () => {
    const { llm } = threeTargetChain(server);
    server.script({ route: 'primary' }, { then: fault.streamCut({ afterChunks: 3, reply: { text: long } }) });
    const s = llm.stream(ask);
    const seen: string[] = [];
    const err = await (async () => {
      for await (const e of s) if (e.type === 'text') seen.push(e.delta);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamInterruptedError);
    expect((err as StreamInterruptedError).received.text).toBe(seen.join(''));
    expect(seen.length).toBeGreaterThan(0);
    expect(server.hits({ route: 'backup' })).toBe(0);
  });

  it("midStream 'restart': exactly one reset, then the next target's whole answer", async () => {
    const { llm } = threeTargetChain(server, { midStream: 'restart' });
    server.script({ route: 'primary' }, { then: fault.streamCut({ afterChunks: 3, reply: { text: long } }) });
    server.script({ route: 'backup' }, { then: fault.ok({ text: 'a complete second answer' }) });
    const s = llm.stream(ask);
    const events = await collect(s);
    expect(events.filter((e) => e.type === 'reset')).toHaveLength(1);
    const afterReset = textOf(events.slice(events.findIndex((e) => e.type === 'reset') + 1));
    expect(afterReset).toBe('a complete second answer');
    expect(await s.result).toMatchObject({ text: 'a complete second answer', target: { provider: 'anthropic' } });
  });

  it('an Anthropic error event mid-stream is classified (overloaded) and restarts on the next target', async () => {
    const { llm } = threeTargetChain(server, { order: ['backup', 'primary'], midStream: 'restart' });
    server.script({ route: 'backup' }, { then: fault.streamError({ afterChunks: 6, reply: { text: long } }) });
    const s = llm.stream(ask);
    const events = await collect(s);
    expect(events.filter((e) => e.type === 'reset')).toEqual([{ type: 'reset', reason: 'overloaded' }]);
    const res = await s.result;
    expect(res.attempts.map((a) => `${a.provider}:${a.errorType ?? 'ok'}`)).toEqual(['anthropic:overloaded', 'openai:ok']);
  });

  it('a stream that goes silent mid-answer is cut after idleChunkMs', async () => {
    const { llm } = threeTargetChain(server, { clock: systemClock, timeouts: { idleChunkMs: 150 } });
    server.script({ route: 'primary' }, { then: fault.streamCut({ afterChunks: 2, mode: 'stall', reply: { text: long } }) });
    const s = llm.stream(ask);
    const err = await collect(s).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'StreamInterruptedError', errorType: 'timeout' });
    await server.idle();
    expect(server.requests[0]!.clientClosed).toBe(true);
  });

  it('a consumer breaking out after two chunks closes the upstream socket and nothing more is attempted', async () => {
    const { llm } = threeTargetChain(server);
    server.script({ route: 'primary' }, { then: fault.ok({ text: long, chunkDelayMs: 20 }) });
    const s = llm.stream(ask);
    let chunks = 0;
    for await (const e of s) {
      if (e.type === 'text') chunks += 1;
      if (chunks === 2) break;
    }
    const res = await s.result;
    expect(res.finishReason).toBe('other');
    await server.idle();
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.clientClosed).toBe(true);
    expect(llm.health().targets[0]!.consecutiveFailures).toBe(0);
  });

  it('streams tool-call deltas from each provider and keeps them across a hop', async () => {
    const toolCalls = [{ id: 'call_t1', name: 'get_weather', arguments: '{"city":"Paris","unit":"c"}' }];
    for (const route of ['primary', 'backup'] as const) {
      server.reset();
      const { llm } = threeTargetChain(server, { order: route === 'primary' ? ['primary', 'backup'] : ['backup', 'primary'] });
      server.script({ route }, { then: fault.ok({ toolCalls }) });
      const s = llm.stream({ ...ask, tools: [{ name: 'get_weather', parameters: { type: 'object' } }] });
      const events = await collect(s);
      expect(events.filter((e) => e.type === 'tool_call').length).toBeGreaterThan(1);
      const res = await s.result;
      expect(res.toolCalls).toHaveLength(1);
      expect(res.toolCalls[0]!.name).toBe('get_weather');
      expect(JSON.parse(res.toolCalls[0]!.arguments)).toEqual({ city: 'Paris', unit: 'c' });
    }
    server.reset();
    const { llm } = threeTargetChain(server, { retry: { maxAttempts: 1 } });
    server.script({ route: 'primary' }, { then: fault.serverError(500) });
    server.script({ route: 'backup' }, { then: fault.ok({ toolCalls }) });
    const s = llm.stream({ ...ask, tools: [{ name: 'get_weather', parameters: { type: 'object' } }] });
    await collect(s);
    expect((await s.result).toolCalls[0]).toMatchObject({ name: 'get_weather' });
  });
});
