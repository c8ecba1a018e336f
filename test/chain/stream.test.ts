import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { StreamInterruptedError } from '../../src/errors/bulwarkError.js';
import type { StreamEvent } from '../../src/request/types.js';
import { memoryStore } from '../../src/state/memoryStore.js';
import { ask, harness } from './helpers.js';

async function collect(stream: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const e of stream) out.push(e);
  return out;
}
const texts = (events: StreamEvent[]) => events.flatMap((e) => (e.type === 'text' ? [e.delta] : e.type === 'reset' ? ['<reset>'] : []));

describe('llm.stream()', () => {
  it('streams the primary’s chunks and settles result with the same metadata as chat()', async () => {
    const h = harness();
    h.primary.streamScript({ chunks: ['Hel', 'lo'], usage: { inputTokens: 100, outputTokens: 2 } });
    const s = h.llm.stream(ask);
    expect(texts(await collect(s))).toEqual(['Hel', 'lo']);
    const res = await s.result;
    expect(res).toMatchObject({ text: 'Hello', tier: 'full', finishReason: 'stop', usage: { inputTokens: 100, outputTokens: 2 } });
    expect(res.costUsd).toBeCloseTo((100 * 2.5 + 2 * 10) / 1e6, 12);
    expect(h.primary.streams).toEqual([{ closed: false, finished: true }]);
  });

  it('fails over before the first chunk: the consumer only sees the stream that succeeds', async () => {
    const h = harness({ retry: { maxAttempts: 1 } });
    h.primary.streamScript({ chunks: [], failBefore: 'server_error' });
    const s = h.llm.stream(ask);
    expect(texts(await collect(s))).toEqual(['streamed from anthropic/claude-sonnet-4-5']);
    expect(await s.result).toMatchObject({ tier: 'reduced', target: { index: 1 }, fallbackUsed: true });
  });

  it('fails over quickly when the first chunk never comes (firstChunkMs)', async () => {
    const h = harness({ timeouts: { firstChunkMs: 2_000, attemptMs: 60_000 } });
    h.primary.streamScript({ chunks: [], stall: true });
    const s = h.llm.stream(ask);
    const done = collect(s);
    await h.clock.advanceAsync(2_000);
    expect(texts(await done)).toEqual(['streamed from anthropic/claude-sonnet-4-5']);
    const res = await s.result;
    expect(res.attempts[0]).toMatchObject({ provider: 'openai', errorType: 'timeout', durationMs: 2_000 });
    expect(h.primary.streams[0]!.closed).toBe(true);
  });

  it("midStream 'error': a stream cut halfway throws a typed error carrying what was received", async () => {
    const h = harness();
    h.primary.streamScript({ chunks: ['one ', 'two '], failWith: 'connection' });
    const s = h.llm.stream(ask);
    const seen: string[] = [];
    const err = await (async () => {
      for await (const e of s) if (e.type === 'text') seen.push(e.delta);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamInterruptedError);
    expect(err).toMatchObject({ errorType: 'connection', received: { text: 'one two ' } });
    expect(seen).toEqual(['one ', 'two ']);
    await expect(s.result).rejects.toBeInstanceOf(StreamInterruptedError);
    expect(h.secondary.calls).toHaveLength(0);
  });

  it("midStream 'restart': exactly one reset, then the next target's whole answer — never spliced", async () => {
    const h = harness({ midStream: 'restart' });
    h.primary.streamScript({ chunks: ['one ', 'two '], failWith: 'connection' });
    h.secondary.streamScript({ chunks: ['Une ', 'réponse ', 'complète'] });
    const s = h.llm.stream(ask);
    expect(texts(await collect(s))).toEqual(['one ', 'two ', '<reset>', 'Une ', 'réponse ', 'complète']);
    const res = await s.result;
    expect(res).toMatchObject({ text: 'Une réponse complète', tier: 'reduced', target: { index: 1 } });
    expect(res.attempts.map((a) => `${a.provider}:${a.kind}:${a.errorType ?? 'ok'}`)).toEqual(['openai:initial:connection', 'anthropic:fallback:ok']);
  });

  it('cuts a stream that goes idle mid-answer (idleChunkMs)', async () => {
    const h = harness({ timeouts: { idleChunkMs: 5_000 } });
    h.primary.streamScript({ chunks: ['partial'], stall: true });
    const s = h.llm.stream(ask);
    const it = s[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ done: false, value: { type: 'text', delta: 'partial' } });
    const failed = expect(it.next()).rejects.toMatchObject({ name: 'StreamInterruptedError', errorType: 'timeout' });
    await h.clock.advanceAsync(5_000);
    await failed;
    expect(h.primary.streams[0]!.closed).toBe(true);
  });

  it('closes the upstream stream when the consumer breaks out, and attempts nothing more', async () => {
    const h = harness();
    h.primary.streamScript({ chunks: ['a', 'b', 'c', 'd'] });
    const s = h.llm.stream(ask);
    const seen: string[] = [];
    for await (const e of s) {
      if (e.type === 'text') seen.push(e.delta);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual(['a', 'b']);
    const res = await s.result;
    expect(h.primary.streams).toEqual([{ closed: true, finished: false }]);
    expect(res).toMatchObject({ text: 'ab', finishReason: 'other' });
    expect(h.secondary.calls).toHaveLength(0);
    expect(h.llm.health().targets[0]).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
  });

  it('replays a cached answer as a stream, and successful streams fill the cache', async () => {
    const h = harness({ cache: { store: memoryStore(), mode: 'read-through' } });
    h.primary.streamScript({ chunks: ['cached ', 'answer'] });
    await collect(h.llm.stream(ask));
    await h.llm.close();
    const again = h.llm.stream(ask);
    expect(texts(await collect(again))).toEqual(['cached answer']);
    expect(await again.result).toMatchObject({ tier: 'cached' });
    expect(h.primary.calls).toHaveLength(1);
  });

  it('stops at once when the caller aborts mid-stream', async () => {
    const h = harness();
    h.primary.streamScript({ chunks: ['x'], stall: true });
    const controller = new AbortController();
    const s = h.llm.stream({ ...ask, signal: controller.signal });
    const it = s[Symbol.asyncIterator]();
    await it.next();
    const pending = it.next();
    controller.abort();
    await expect(pending).rejects.toMatchObject({ errorType: 'cancelled' });
    expect(h.primary.streams[0]!.closed).toBe(true);
    expect(h.secondary.calls).toHaveLength(0);
  });
});

describe('llm.stream(): every way a consumer can stop', () => {
  it('settles result when the consumer calls return() before the first next(), and sends nothing', async () => {
    const h = harness();
    const s = h.llm.stream(ask);
    const it = s[Symbol.asyncIterator]();
    expect(await it.return!()).toEqual({ done: true, value: undefined });
    await expect(s.result).rejects.toMatchObject({ name: 'BulwarkError', errorType: 'cancelled' });
    expect(await it.next()).toEqual({ done: true, value: undefined });
    expect(h.primary.calls).toHaveLength(0);
  });

  it('settles result when the consumer calls throw() before the first next()', async () => {
    const h = harness();
    const s = h.llm.stream(ask);
    const mine = new Error('consumer gave up');
    await expect(s[Symbol.asyncIterator]().throw!(mine)).rejects.toBe(mine);
    await expect(s.result).rejects.toMatchObject({ errorType: 'cancelled' });
    expect(h.primary.calls).toHaveLength(0);
  });

  it('treats throw() mid-stream as walking away: no breaker failure, no restart, upstream closed', async () => {
    const h = harness({ midStream: 'restart', breaker: { consecutiveFailures: 1 } });
    h.primary.streamScript({ chunks: ['a', 'b', 'c'] });
    const s = h.llm.stream(ask);
    const it = s[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ done: false, value: { type: 'text', delta: 'a' } });
    const mine = new Error('render failed');
    await expect(it.throw!(mine)).rejects.toBe(mine);
    expect(await it.next()).toEqual({ done: true, value: undefined });
    expect(await s.result).toMatchObject({ text: 'a', finishReason: 'other', target: { index: 0 } });
    expect(h.primary.streams).toEqual([{ closed: true, finished: false }]);
    expect(h.secondary.calls).toHaveLength(0);
    expect(h.llm.health().targets[0]).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
  });

  it('settles result when the consumer stops at the reset event', async () => {
    const h = harness({ midStream: 'restart' });
    h.primary.streamScript({ chunks: ['one '], failWith: 'connection' });
    const s = h.llm.stream(ask);
    for await (const e of s) if (e.type === 'reset') break;
    await expect(s.result).rejects.toMatchObject({ errorType: 'cancelled' });
    expect(h.secondary.calls).toHaveLength(0);
  });

  it('return() while a next() is waiting on the provider closes the upstream at once', async () => {
    const h = harness({ breaker: { consecutiveFailures: 1 } });
    h.primary.streamScript({ chunks: ['partial'], stall: true });
    const s = h.llm.stream(ask);
    const it = s[Symbol.asyncIterator]();
    await it.next();
    const waiting = it.next();
    await new Promise((r) => setImmediate(r));
    const closed = it.return!();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(await closed).toEqual({ done: true, value: undefined });
    expect(h.primary.streams).toEqual([{ closed: true, finished: false }]);
    expect(await s.result).toMatchObject({ text: 'partial', finishReason: 'other' });
    expect(h.llm.health().targets[0]).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
    expect(h.clock.pendingTimers()).toBe(0);
  });

  it('costs the usage reported before the consumer walked away', async () => {
    const h = harness();
    h.primary.streamScript({ chunks: ['a'], usage: { inputTokens: 100, outputTokens: 1 } });
    const s = h.llm.stream(ask);
    for await (const e of s) if (e.type === 'usage') break;
    const res = await s.result;
    expect(res.usage).toEqual({ inputTokens: 100, outputTokens: 1 });
    expect(res.costUsd).toBeCloseTo((100 * 2.5 + 1 * 10) / 1e6, 12);
    expect(res.attempts[0]!.costUsd).toBeCloseTo(res.costUsd, 12);
  });

  it('leaves no timer behind after a stream that ends without content', async () => {
    const h = harness();
    h.primary.streamScript({ chunks: [] });
    const s = h.llm.stream(ask);
    await collect(s);
    expect(await s.result).toMatchObject({ text: '', target: { index: 0 } });
    expect(h.clock.pendingTimers()).toBe(0);
  });

  it('reports the total deadline mid-stream as a timeout, whether the consumer was waiting or busy', async () => {
    for (const busy of [false, true]) {
      const h = harness({ timeouts: { totalMs: 10_000, idleChunkMs: 60_000 } });
      h.primary.streamScript({ chunks: ['partial'], stall: true });
      const it = h.llm.stream(ask)[Symbol.asyncIterator]();
      await it.next();
      const waiting = busy ? undefined : it.next().catch((e: unknown) => e);
      await h.clock.advanceAsync(10_000);
      const err = await (waiting ?? it.next().catch((e: unknown) => e));
      expect(err).toMatchObject({ name: 'StreamInterruptedError', errorType: 'timeout', received: { text: 'partial' } });
      expect(h.primary.streams[0]!.closed).toBe(true);
    }
  });

  it('settles an abandoned stream when the deadline passes: upstream closed, probe slot free, caller’s signal let go', async () => {
    const h = harness({ timeouts: { totalMs: 10_000 }, breaker: { openMs: 1_000 } });
    h.primary.script({ fail: 'authentication' });
    await h.llm.chat(ask);
    h.clock.advance(1_000);
    expect(h.llm.health().targets[0]!.state).toBe('half_open');
    h.primary.streamScript({ chunks: ['a', 'b'] });
    const controller = new AbortController();
    const it = h.llm.stream({ ...ask, signal: controller.signal })[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ done: false, value: { type: 'text', delta: 'a' } });
    // The consumer drops the iterator without return(); only the deadline can end it.
    await h.clock.advanceAsync(10_000);
    expect(h.primary.streams.at(-1)).toEqual({ closed: true, finished: false });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(h.clock.pendingTimers()).toBe(0);
    expect((await h.llm.chat(ask)).attempts[0]).toMatchObject({ kind: 'probe', provider: 'openai' });
  });

  it('closes the upstream and settles the attempt when the caller aborts as the first chunk arrives', async () => {
    const controller = new AbortController();
    const attempts: string[] = [];
    const h = harness({
      observers: [
        {
          onRequestStart: () => ({
            onAttemptStart: () => {
              attempts.push('start');
              return { onFirstChunk: () => controller.abort(), onEnd: () => attempts.push('end') };
            },
          }),
        },
      ],
    });
    h.primary.streamScript({ chunks: ['a', 'b'] });
    const s = h.llm.stream({ ...ask, signal: controller.signal });
    await expect(collect(s)).rejects.toMatchObject({ errorType: 'cancelled' });
    await expect(s.result).rejects.toMatchObject({ errorType: 'cancelled' });
    expect(attempts).toEqual(['start', 'end']);
    expect(h.primary.streams).toEqual([{ closed: true, finished: false }]);
    expect(h.clock.pendingTimers()).toBe(0);
  });
});
