/**
 * Hedging in the engine, on virtual time with in-process adapters: the cases the fault server
 * cannot stage exactly (a loser that reported usage before it was cancelled, three-way races,
 * a hedge failing on its own). The official-client tests are in test/integration/hedge.integration.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { createResilientLLM } from '../../src/createResilientLLM.js';
import { BulwarkError } from '../../src/errors/bulwarkError.js';
import type { HedgeEnd } from '../../src/events/engineObserver.js';
import type { AttemptOptions, ProviderAdapter } from '../../src/providers/adapter.js';
import type { StreamEvent } from '../../src/request/types.js';
import { createFakeClock } from '../support/fakeClock.js';
import { scriptedAdapter, scriptedTarget } from '../support/scriptedAdapter.js';
import { ask } from './helpers.js';

/** A provider that reports its input tokens at once (as Anthropic's message_start does) and then stays silent. */
function usageThenSilence(provider: string, model: string): ProviderAdapter & { closed: number } {
  const adapter = {
    provider,
    model,
    closed: 0,
    chat: () => Promise.reject(new Error('not used')),
    async *stream(_request: unknown, options: AttemptOptions): AsyncIterable<StreamEvent> {
      try {
        yield { type: 'usage', usage: { inputTokens: 4_000, outputTokens: 0 } };
        await new Promise<never>((_, reject) => options.signal.addEventListener('abort', () => reject(options.signal.reason), { once: true }));
      } finally {
        adapter.closed += 1;
      }
    },
  };
  return adapter;
}

function chain(targets: ProviderAdapter[], hedge: Record<string, unknown> = {}) {
  const clock = createFakeClock(1_000_000);
  const hedges: HedgeEnd[] = [];
  const llm = createResilientLLM({
    name: 'hedged',
    targets: targets.map((a) => scriptedTarget(a)),
    clock,
    telemetry: false,
    retry: { maxAttempts: 1 },
    pricing: { 'model-a': { inputPerMTok: 2, outputPerMTok: 8 }, 'model-b': { inputPerMTok: 3, outputPerMTok: 15 }, 'model-c': { inputPerMTok: 1, outputPerMTok: 1 } },
    hedge: { after: 100, budgetRatio: 1, ...hedge },
    observers: [{ onRequestStart: () => ({ onHedge: (e) => hedges.push(e) }) }],
  });
  return { llm, clock, hedges };
}

/** Lets pending promise callbacks run (the engine's steps between two timers are microtasks). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('hedging (engine)', () => {
  it('a stream loser that reported usage before it was cancelled is paid for: the request cost is every call’s', async () => {
    const slow = usageThenSilence('anthropic', 'model-a');
    const fast = scriptedAdapter('openai', 'model-b').streamScript({ chunks: ['hello'], usage: { inputTokens: 1_000, outputTokens: 10 } });
    const { llm, clock, hedges } = chain([slow, fast]);
    const s = llm.stream(ask);
    const reading = (async () => {
      let text = '';
      for await (const e of s) if (e.type === 'text') text += e.delta;
      return text;
    })();
    await settle();
    clock.advance(100);
    expect(await reading).toBe('hello');
    const res = await s.result;
    expect(res.attempts.map((a) => [a.kind, a.errorType ?? 'ok'])).toEqual([
      ['initial', 'cancelled'],
      ['hedge', 'ok'],
    ]);
    expect(slow.closed).toBe(1);
    // 4,000 input tokens at $2/MTok: the loser's reported usage.
    expect(res.attempts[0]!.costUsd).toBeCloseTo(0.008, 12);
    expect(res.costUsd).toBeCloseTo(0.008 + res.attempts[1]!.costUsd!, 12);
    expect(hedges).toEqual([{ target: { provider: 'openai', model: 'model-b', index: 1 }, outcome: 'won' }]);
  });

  it('maxHedges 2: a second hedge goes out `after` the first, to the target after it; both losers are cancelled', async () => {
    const a = scriptedAdapter('openai', 'model-a').script({ ok: 'quick' }).then('hang');
    const b = scriptedAdapter('anthropic', 'model-b').then('hang');
    const c = scriptedAdapter('openai', 'model-c');
    const { llm, clock, hedges } = chain([a, b, c], { maxHedges: 2 });
    // budgetRatio 1 allows as many hedges as requests: a first, unhedged request pays for the second hedge.
    expect((await llm.chat(ask)).attempts.map((x) => x.kind)).toEqual(['initial']);
    const pending = llm.chat(ask);
    await settle();
    clock.advance(100);
    await settle();
    expect([a.calls.length, b.calls.length, c.calls.length]).toEqual([2, 1, 0]);
    clock.advance(100);
    const res = await pending;
    expect(res.target.index).toBe(2);
    expect(res.attempts.map((x) => [x.kind, x.errorType ?? 'ok'])).toEqual([
      ['initial', 'cancelled'],
      ['hedge', 'cancelled'],
      ['hedge', 'ok'],
    ]);
    expect(hedges.map((h) => [h.target.index, h.outcome])).toEqual([
      [1, 'lost'],
      [2, 'won'],
    ]);
    for (const t of llm.health().targets) expect(t.consecutiveFailures).toBe(0);
  });

  it('a hedge that fails on its own is left, counted for its breaker, and the primary still answers', async () => {
    let release!: () => void;
    const primary: ProviderAdapter = {
      ...scriptedAdapter('openai', 'model-a'),
      chat: () => new Promise((resolve) => (release = () => resolve({ text: 'primary', toolCalls: [], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1 }, model: 'model-a' }))),
    };
    const hedge = scriptedAdapter('anthropic', 'model-b').then({ fail: 'server_error', status: 503 });
    const { llm, clock, hedges } = chain([primary, hedge]);
    const pending = llm.chat(ask);
    await settle();
    clock.advance(100);
    await settle();
    release();
    const res = await pending;
    expect(res).toMatchObject({ text: 'primary', tier: 'full' });
    expect(res.attempts.map((x) => [x.kind, x.errorType ?? 'ok'])).toEqual([
      ['initial', 'ok'],
      ['hedge', 'server_error'],
    ]);
    expect(hedges.map((h) => h.outcome)).toEqual(['lost']);
    expect(llm.health().targets[1]!.consecutiveFailures).toBe(1);
  });

  it('a primary that fails before the delay falls back as without hedging (no hedge, no timer left)', async () => {
    const a = scriptedAdapter('openai', 'model-a').then({ fail: 'server_error', status: 503 });
    const b = scriptedAdapter('anthropic', 'model-b');
    const { llm, clock, hedges } = chain([a, b]);
    const res = await llm.chat(ask);
    expect(res.attempts.map((x) => x.kind)).toEqual(['initial', 'fallback']);
    expect(hedges).toEqual([]);
    // The only timers left are none of the walk's: the hedge timer was cancelled with the race.
    expect(clock.pendingTimers()).toBe(0);
  });

  it('a bad request answered by the hedge ends the request at once and cancels the primary', async () => {
    const a = scriptedAdapter('openai', 'model-a').then('hang');
    const b = scriptedAdapter('anthropic', 'model-b').then({ fail: 'bad_request', status: 400 });
    const { llm, clock, hedges } = chain([a, b]);
    const pending = llm.chat(ask);
    await settle();
    clock.advance(100);
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BulwarkError);
    expect(err).toMatchObject({ errorType: 'bad_request' });
    expect((err as BulwarkError).attempts.map((x) => [x.kind, x.errorType])).toEqual([
      ['initial', 'cancelled'],
      ['hedge', 'bad_request'],
    ]);
    expect(hedges.map((h) => h.outcome)).toEqual(['cancelled']);
  });
});
