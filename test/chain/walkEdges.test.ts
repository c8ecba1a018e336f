import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { getEventListeners } from 'node:events';
import { createResilientLLM } from '../../src/createResilientLLM.js';
import { BulwarkError } from '../../src/errors/bulwarkError.js';
import type { ProviderAdapter } from '../../src/providers/adapter.js';
import type { ChatResult } from '../../src/request/types.js';
import { memoryStore } from '../../src/state/memoryStore.js';
import { scriptedTarget } from '../support/scriptedAdapter.js';
import { ask, harness } from './helpers.js';

beforeEach(() => {
  vi.spyOn(Math, 'random').mockReturnValue(0.5);
});
afterEach(() => vi.restoreAllMocks());

/** Lets pending promise callbacks and a few macrotask turns run; virtual time does not move. */
async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

/** What a promise did within a few turns of the event loop: resolved, rejected, or nothing yet. */
async function settledWithin<T>(promise: Promise<T>): Promise<{ value: T } | { error: unknown } | 'pending'> {
  let out: { value: T } | { error: unknown } | 'pending' = 'pending';
  promise.then(
    (value) => (out = { value }),
    (error: unknown) => (out = { error }),
  );
  await turns();
  return out;
}

/** A custom adapter whose calls never settle and that ignores its abort signal. */
function deafAdapter(): ProviderAdapter & { calls: number } {
  const adapter = {
    provider: 'custom',
    model: 'deaf',
    calls: 0,
    chat: () => {
      adapter.calls++;
      return new Promise<never>(() => undefined);
    },
    stream: () => ({ [Symbol.asyncIterator]: () => ({ next: () => new Promise<never>(() => undefined) }) }),
  };
  return adapter;
}

describe('breaker permits are settled on every path', () => {
  it('frees a half-open probe slot when the walk is cancelled between acquiring it and the first attempt', async () => {
    let abortOnHop: AbortController | undefined;
    const h = harness();
    const aborter = { onRequestStart: () => ({ onFallback: () => abortOnHop?.abort() }) };
    const llm = createResilientLLM({
      name: 'permits',
      clock: h.clock,
      telemetry: false,
      retry: { maxAttempts: 1 },
      breaker: { openMs: 1_000, halfOpenProbes: 1 },
      targets: [scriptedTarget(h.primary), scriptedTarget(h.secondary), scriptedTarget(h.local)],
      observers: [aborter],
    });
    // Both primary and secondary open at once (bad key), the local model answers.
    h.primary.script({ fail: 'authentication' });
    h.secondary.script({ fail: 'authentication' });
    expect((await llm.chat(ask)).target.index).toBe(2);
    h.clock.advance(1_000);
    expect(llm.health().targets.map((t) => t.state)).toEqual(['half_open', 'half_open', 'closed']);

    // The primary's probe fails; as the walk hops to the secondary, the caller cancels.
    h.primary.script({ fail: 'server_error' });
    abortOnHop = new AbortController();
    await expect(llm.chat({ ...ask, signal: abortOnHop.signal })).rejects.toMatchObject({ errorType: 'cancelled' });
    abortOnHop = undefined;
    const secondaryCalls = h.secondary.calls.length;

    // The secondary's probe slot is free again: the next request probes it.
    const res = await llm.chat(ask);
    expect(h.secondary.calls.length).toBe(secondaryCalls + 1);
    expect(res.target.index).toBe(1);
  });
});

describe('timeouts and cancellation do not depend on the adapter honouring its signal', () => {
  it('moves on after the attempt timeout even when the adapter never settles', async () => {
    const h = harness({ timeouts: { attemptMs: 5_000 } });
    const deaf = deafAdapter();
    const llm = createResilientLLM({ name: 'deaf', clock: h.clock, telemetry: false, timeouts: { attemptMs: 5_000 }, targets: [{ adapter: deaf, tier: 'full' }, scriptedTarget(h.secondary)] });
    const pending = llm.chat(ask);
    await h.clock.advanceAsync(5_000);
    const out = await settledWithin(pending);
    expect(out).toMatchObject({ value: { target: { index: 1 } } });
    expect((out as { value: ChatResult }).value.attempts.map((a) => `${a.provider}:${a.errorType ?? 'ok'}`)).toEqual(['custom:timeout', 'anthropic:ok']);
    expect(h.clock.pendingTimers()).toBe(0);
  });

  it('rejects at once when the caller aborts, even when the adapter never settles', async () => {
    const h = harness();
    const llm = createResilientLLM({ name: 'deaf', clock: h.clock, telemetry: false, targets: [{ adapter: deafAdapter(), tier: 'full' }] });
    const controller = new AbortController();
    const pending = llm.chat({ ...ask, signal: controller.signal });
    await turns();
    controller.abort();
    expect(await settledWithin(pending)).toMatchObject({ error: { errorType: 'cancelled' } });
    expect(h.clock.pendingTimers()).toBe(0);
  });
});

describe('observers cannot break requests', () => {
  it('answers when a request observer’s run() throws', async () => {
    const h = harness({ observers: [{ onRequestStart: () => ({ run: () => { throw new Error('run bug'); } }) }] });
    await expect(h.llm.chat(ask)).resolves.toMatchObject({ tier: 'full' });
  });

  it('does not charge the target’s breaker when an attempt observer’s run() throws', async () => {
    const h = harness({
      breaker: { consecutiveFailures: 1 },
      observers: [{ onRequestStart: () => ({ onAttemptStart: () => ({ run: () => { throw new Error('run bug'); } }) }) }],
    });
    const res = await h.llm.chat(ask);
    expect(res).toMatchObject({ tier: 'full', attempts: [expect.objectContaining({ provider: 'openai' })] });
    expect(res.attempts[0]!.errorType).toBeUndefined();
    expect(h.llm.health().targets[0]).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
  });

  it('keeps the answer when a run() hook throws after running the call', async () => {
    const h = harness({
      observers: [{ onRequestStart: () => ({ onAttemptStart: () => ({ run: <T>(fn: () => T): T => { fn(); throw new Error('late run bug'); } }) }) }],
    });
    const res = await h.llm.chat(ask);
    expect(res).toMatchObject({ tier: 'full', text: 'answer from openai/gpt-4o' });
    expect(h.primary.calls).toHaveLength(1);
  });
});

describe('retry budget and cost cap', () => {
  it('does not spend the retry budget on a retry it then decides not to send', async () => {
    const h = harness({ retry: { budget: { ratio: 0, minRetriesPerSecond: 0.1, windowMs: 10_000 } } });
    expect(h.llm.health().targets[0]!.retryBudgetRemaining).toBe(1);
    // The Retry-After would end past the deadline: no retry, the request moves on.
    h.primary.script({ fail: 'rate_limited', retryAfterMs: 5_000 });
    await h.llm.chat({ ...ask, totalTimeoutMs: 1_000 });
    expect(h.primary.calls).toHaveLength(1);
    expect(h.llm.health().targets[0]!.retryBudgetRemaining).toBe(1);
  });

  it('stops retrying on the same target once maxCostUsd is spent', async () => {
    const h = harness({ degrade: { enabled: false } });
    h.primary.then({ fail: 'server_error', usage: { inputTokens: 1_000_000, outputTokens: 0 } });
    const err = await h.llm.chat({ ...ask, maxCostUsd: 1 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ errorType: 'budget_exhausted' });
    expect(h.primary.calls).toHaveLength(1);
    expect(h.clock.sleeps).toEqual([]);
    expect(h.secondary.calls).toHaveLength(0);
  });
});

describe('degradation rules', () => {
  it('refuses a forced cached or static tier to a critical request', async () => {
    const h = harness({ cache: { store: memoryStore(), mode: 'on-failure' }, degrade: { staticReply: 'maintenance' } });
    await h.llm.chat(ask);
    await h.llm.close();
    for (const tier of ['cached', 'static'] as const) {
      await h.llm.forceTier(tier);
      const err = await h.llm.chat({ ...ask, critical: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BulwarkError);
      expect(err).toMatchObject({ errorType: 'circuit_open', message: expect.stringMatching(/critical/) });
      expect(await h.llm.chat(ask)).toMatchObject({ tier });
    }
    expect(h.primary.calls).toHaveLength(1);
  });
});

describe('what gets cached', () => {
  function cachingHarness() {
    const h = harness({ cache: { store: memoryStore(), mode: 'on-failure' }, retry: { maxAttempts: 1 }, degrade: { staticReply: 'static' } });
    const answerOnce = (response: Partial<ChatResult>) => {
      const chat = h.primary.chat.bind(h.primary);
      h.primary.chat = async (req, opts) => {
        h.primary.chat = chat;
        return { ...(await chat(req, opts)), ...response };
      };
    };
    const outage = () => {
      for (const a of [h.primary, h.secondary, h.local]) a.then({ fail: 'server_error' });
    };
    return { h, answerOnce, outage };
  }

  it.each([
    ['a complete answer', { finishReason: 'stop' as const }, 'cached'],
    ['a tool call', { text: '', toolCalls: [{ id: 'call_1', name: 'search', arguments: '{}' }], finishReason: 'tool_calls' as const }, 'cached'],
    ['an answer cut at maxTokens', { finishReason: 'length' as const }, 'static'],
    ['an answer of unknown completeness', { finishReason: 'other' as const }, 'static'],
    ['a refusal returned as an answer', { finishReason: 'content_filter' as const }, 'static'],
    ['an empty answer', { text: '', toolCalls: [], finishReason: 'stop' as const }, 'static'],
  ])('%s → served as %s during an outage', async (_, response, tier) => {
    const { h, answerOnce, outage } = cachingHarness();
    answerOnce(response);
    await h.llm.chat(ask);
    await h.llm.close();
    outage();
    expect(await h.llm.chat(ask)).toMatchObject({ tier });
  });

  it('never caches a degraded answer', async () => {
    const { h, outage } = cachingHarness();
    outage();
    expect(await h.llm.chat(ask)).toMatchObject({ tier: 'static' });
    await h.llm.close();
    for (const a of [h.primary, h.secondary, h.local]) a.then({ ok: 'back' });
    expect(await h.llm.chat(ask)).toMatchObject({ tier: 'full', text: 'back' });
  });
});

describe('no leaks across many requests', () => {
  it('leaves no listener on a reused caller signal and no timer, whatever each request did', async () => {
    const h = harness({ degrade: { staticReply: 'static' }, timeouts: { attemptMs: 1_000 } });
    const controller = new AbortController();
    const req = { ...ask, signal: controller.signal };
    for (let i = 0; i < 20; i++) {
      h.primary.script({ fail: 'server_error' }, { fail: 'rate_limited', retryAfterMs: 100 });
      await h.llm.chat(req);
      for (const a of [h.primary, h.secondary, h.local]) a.script({ fail: 'connection' }, { fail: 'connection' }, { fail: 'connection' });
      await h.llm.chat(req);
      h.primary.streamScript({ chunks: ['a', 'b'] });
      for await (const e of h.llm.stream(req)) if (e.type === 'text') break;
      h.primary.streamScript({ chunks: ['a'] });
      for await (const e of h.llm.stream(req)) void e;
    }
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(h.clock.pendingTimers()).toBe(0);
  });
});
