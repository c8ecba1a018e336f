import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BulwarkError } from '../../src/errors/bulwarkError.js';
import { memoryStore } from '../../src/state/memoryStore.js';
import { createResilientLLM } from '../../src/createResilientLLM.js';
import type { AttemptOptions, ProviderAdapter } from '../../src/providers/adapter.js';
import { ProviderError } from '../../src/errors/providerError.js';
import { createFakeClock } from '../support/fakeClock.js';
import { ask, harness } from './helpers.js';

beforeEach(() => {
  // Full jitter draws rand(0, min(cap, base·2^n)); 0.5 makes every delay exactly half the ceiling.
  vi.spyOn(Math, 'random').mockReturnValue(0.5);
});
afterEach(() => vi.restoreAllMocks());

describe('the chain walk', () => {
  it('answers from the primary at tier full with one attempt', async () => {
    const h = harness();
    const res = await h.llm.chat(ask);
    expect(res).toMatchObject({ text: 'answer from openai/gpt-4o', tier: 'full', fallbackUsed: false, target: { provider: 'openai', model: 'gpt-4o', index: 0 } });
    expect(res.attempts).toEqual([expect.objectContaining({ kind: 'initial', provider: 'openai', model: 'gpt-4o', targetIndex: 0 })]);
    expect(res.costUsd).toBeCloseTo((100 * 2.5 + 20 * 10) / 1e6, 12);
    expect(h.rec.events.at(-1)).toEqual({ type: 'end', outcome: 'success', retries: 0, hops: 0 });
  });

  it('retries a server error on the same target with full-jitter backoff, then succeeds', async () => {
    const h = harness();
    h.primary.script({ fail: 'server_error', status: 503 }, { fail: 'server_error', status: 502 });
    const res = await h.llm.chat(ask);
    expect(res.tier).toBe('full');
    expect(res.attempts.map((a) => [a.kind, a.errorType, a.delayMs])).toEqual([
      ['initial', 'server_error', 250],
      ['retry', 'server_error', 500],
      ['retry', undefined, undefined],
    ]);
    expect(h.clock.sleeps).toEqual([250, 500]);
    expect(h.primary.calls).toHaveLength(3);
    expect(h.secondary.calls).toHaveLength(0);
    expect(h.rec.events.at(-1)).toEqual({ type: 'end', outcome: 'success_after_retry', retries: 2, hops: 0 });
  });

  it('waits for Retry-After when the provider asks for longer than the backoff', async () => {
    const h = harness();
    h.primary.script({ fail: 'rate_limited', status: 429, retryAfterMs: 7_000 });
    const res = await h.llm.chat(ask);
    expect(h.clock.sleeps).toEqual([7_000]);
    expect(res.attempts[0]).toMatchObject({ errorType: 'rate_limited', delayMs: 7_000 });
    expect(h.rec.events).toContainEqual({ type: 'retry', delayMs: 7_000, reason: 'rate_limited', retryAfterMs: 7_000 });
  });

  it('falls back to the next target at once when Retry-After exceeds the cap', async () => {
    const h = harness({ retry: { maxRetryAfterMs: 20_000 } });
    h.primary.script({ fail: 'rate_limited', status: 429, retryAfterMs: 60_000 });
    const res = await h.llm.chat(ask);
    expect(h.clock.sleeps).toEqual([]);
    expect(h.primary.calls).toHaveLength(1);
    expect(res).toMatchObject({ tier: 'reduced', fallbackUsed: true, target: { provider: 'anthropic', index: 1 } });
    expect(res.attempts.map((a) => a.kind)).toEqual(['initial', 'fallback']);
    expect(h.rec.events).toContainEqual({ type: 'fallback', from: 'openai/gpt-4o', to: 'anthropic/claude-sonnet-4-5', reason: 'rate_limited' });
    expect(h.rec.events.at(-1)).toEqual({ type: 'end', outcome: 'success_via_fallback', retries: 0, hops: 1 });
  });

  it('hops after the retries on a target are exhausted', async () => {
    const h = harness({ retry: { maxAttempts: 2 } });
    h.primary.then({ fail: 'overloaded', status: 529 });
    const res = await h.llm.chat(ask);
    expect(h.primary.calls).toHaveLength(2);
    expect(res.target.index).toBe(1);
    expect(res.attempts.map((a) => `${a.kind}:${a.errorType ?? 'ok'}`)).toEqual(['initial:overloaded', 'retry:overloaded', 'fallback:ok']);
  });

  it('fails a bad request at once: no retry, no fallback, no degradation', async () => {
    const h = harness({ degrade: { staticReply: 'sorry' } });
    h.primary.script({ fail: 'bad_request', status: 400 });
    const err = await h.llm.chat(ask).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BulwarkError);
    expect(err).toMatchObject({ errorType: 'bad_request', attempts: [expect.objectContaining({ errorType: 'bad_request' })] });
    expect(h.secondary.calls).toHaveLength(0);
    expect(h.clock.sleeps).toEqual([]);
  });

  it('rejects an invalid request before any upstream call', async () => {
    const h = harness();
    for (const bad of [{ messages: [] }, { messages: [{ role: 'robot', content: 'x' }] }, { messages: [{ role: 'user', content: 'x' }], maxTokens: -1 }]) {
      const err = await h.llm.chat(bad as never).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'BulwarkError', errorType: 'bad_request' });
    }
    expect(h.primary.calls).toHaveLength(0);
  });

  it('does not retry a timeout on the same target: it moves on', async () => {
    const h = harness({ timeouts: { attemptMs: 5_000 } });
    h.primary.script('hang');
    const pending = h.llm.chat(ask);
    await h.clock.advanceAsync(5_000);
    const res = await pending;
    expect(res.attempts.map((a) => `${a.provider}:${a.errorType ?? 'ok'}`)).toEqual(['openai:timeout', 'anthropic:ok']);
    expect(res.attempts[0]!.durationMs).toBe(5_000);
  });

  it('retries a malformed response once, then moves on', async () => {
    const h = harness();
    h.primary.then({ fail: 'malformed_response' });
    const res = await h.llm.chat(ask);
    expect(h.primary.calls).toHaveLength(2);
    expect(res.target.index).toBe(1);
  });

  it('sends a context-length failure to the next target whose window fits', async () => {
    const h = harness();
    const big = { messages: [{ role: 'user' as const, content: 'x'.repeat(40_000) }] };
    const { primary, secondary, local, rec, clock } = h;
    void rec;
    void clock;
    primary.script({ fail: 'context_length_exceeded', status: 400 });
    const { createResilientLLM } = await import('../../src/createResilientLLM.js');
    const { scriptedTarget } = await import('../support/scriptedAdapter.js');
    const llm = createResilientLLM({
      name: 'ctx',
      telemetry: false,
      clock: h.clock,
      targets: [scriptedTarget(primary, { contextWindow: 8_000 }), scriptedTarget(secondary, { contextWindow: 9_000 }), scriptedTarget(local, { contextWindow: 128_000 })],
    });
    const res = await llm.chat(big);
    expect(primary.calls).toHaveLength(1);
    expect(secondary.calls).toHaveLength(0);
    expect(res.target.index).toBe(2);
  });

  it('sends a content-filter refusal to a target of another provider', async () => {
    const h = harness();
    h.primary.script({ fail: 'content_filtered', status: 400 });
    const { createResilientLLM } = await import('../../src/createResilientLLM.js');
    const { scriptedTarget, scriptedAdapter } = await import('../support/scriptedAdapter.js');
    const otherOpenAI = scriptedAdapter('openai', 'gpt-4o-mini');
    const llm = createResilientLLM({ name: 'cf', telemetry: false, clock: h.clock, targets: [scriptedTarget(h.primary), scriptedTarget(otherOpenAI), scriptedTarget(h.secondary)] });
    const res = await llm.chat(ask);
    expect(otherOpenAI.calls).toHaveLength(0);
    expect(res.target).toMatchObject({ provider: 'anthropic', index: 2 });
  });

  it('stops hopping at maxHops', async () => {
    const h = harness({ maxHops: 1, degrade: { enabled: false } });
    h.primary.then({ fail: 'authentication', status: 401 });
    h.secondary.then({ fail: 'authentication', status: 401 });
    const err = await h.llm.chat(ask).catch((e: unknown) => e);
    expect(err).toMatchObject({ errorType: 'authentication' });
    expect(h.local.calls).toHaveLength(0);
  });

  it('stops trying further targets once maxCostUsd is spent', async () => {
    const h = harness({ degrade: { enabled: false }, retry: { maxAttempts: 1 } });
    h.primary.script({ fail: 'server_error', usage: { inputTokens: 1_000_000, outputTokens: 0 } });
    const err = await h.llm.chat({ ...ask, maxCostUsd: 1 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ errorType: 'budget_exhausted' });
    expect(h.secondary.calls).toHaveLength(0);
  });

  it('lets a classify hook change the disposition of an error', async () => {
    const h = harness({ classify: (e) => (e.status === 418 ? { errorType: 'server_error', disposition: 'next_target' } : undefined) });
    h.primary.script({ fail: 'bad_request', status: 418 });
    const res = await h.llm.chat(ask);
    expect(res.target.index).toBe(1);
    expect(res.attempts[0]!.errorType).toBe('server_error');
  });

  it('keeps answering when an observer throws', async () => {
    const h = harness({ observers: [{ onRequestStart: () => ({ onAttemptStart: () => { throw new Error('observer bug'); }, onEnd: () => { throw new Error('observer bug'); } }) }] });
    await expect(h.llm.chat(ask)).resolves.toMatchObject({ tier: 'full' });
  });
});

describe('deadlines and cancellation', () => {
  it('aborts a backoff wait at once when the caller aborts, and tries nothing more', async () => {
    const { createFakeClock } = await import('../support/fakeClock.js');
    const clock = createFakeClock(0, { sleep: 'wait' });
    const h = harness({ clock });
    h.primary.script({ fail: 'server_error' });
    const controller = new AbortController();
    const pending = h.llm.chat({ ...ask, signal: controller.signal });
    await new Promise((r) => setImmediate(r));
    expect(clock.pendingTimers()).toBeGreaterThan(0);
    controller.abort();
    const err = await pending.catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'BulwarkError', errorType: 'cancelled' });
    expect(h.primary.calls).toHaveLength(1);
    expect(h.secondary.calls).toHaveLength(0);
  });

  it('aborts an in-flight attempt when the caller aborts', async () => {
    const h = harness();
    h.primary.script('hang');
    const controller = new AbortController();
    const pending = h.llm.chat({ ...ask, signal: controller.signal });
    await new Promise((r) => setImmediate(r));
    controller.abort();
    await expect(pending).rejects.toMatchObject({ errorType: 'cancelled' });
    expect(h.secondary.calls).toHaveLength(0);
  });

  it("the adapter's options carry a signal that aborts with the attempt, also through a spread of the options", async () => {
    const seen: AbortSignal[] = [];
    const clock = createFakeClock(0);
    const hanging: ProviderAdapter = {
      provider: 'openai',
      model: 'gpt-4o',
      chat: (_request, options) => {
        const copy = { ...options };
        seen.push(copy.signal);
        return new Promise(() => {});
      },
      // eslint-disable-next-line require-yield
      async *stream() {
        throw new Error('not used');
      },
    };
    const llm = createResilientLLM({ name: 'c', targets: [{ adapter: hanging, tier: 'full' }], clock, telemetry: false, retry: { maxAttempts: 1 }, timeouts: { attemptMs: 1_000, totalMs: 5_000 } });
    const pending = llm.chat(ask).catch((e: unknown) => e);
    await clock.advanceAsync(0);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(AbortSignal);
    expect(seen[0]!.aborted).toBe(false);
    await clock.advanceAsync(1_000);
    expect(seen[0]!.aborted).toBe(true);
    expect(seen[0]!.reason).toMatchObject({ errorType: 'timeout', providerCode: 'attempt_timeout' });
    expect(await pending).toMatchObject({ name: 'BulwarkError', errorType: 'timeout' });
  });

  it("every attempt's options carry its own signal as a plain data property (no accessor, no closure per attempt for V8 to keep)", async () => {
    const options: AttemptOptions[] = [];
    const clock = createFakeClock(0);
    const recording: ProviderAdapter = {
      provider: 'openai',
      model: 'gpt-4o',
      chat: async (_request, o) => {
        options.push(o);
        if (options.length === 1) throw new ProviderError({ errorType: 'server_error', provider: 'openai', model: 'gpt-4o', status: 503, message: 'once' });
        return { text: 'ok', toolCalls: [], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1 }, model: 'gpt-4o' };
      },
      // eslint-disable-next-line require-yield
      async *stream() {
        throw new Error('not used');
      },
    };
    const llm = createResilientLLM({ name: 'c', targets: [{ adapter: recording, tier: 'full' }], clock, telemetry: false, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
    const pending = llm.chat(ask);
    await clock.advanceAsync(10);
    await pending;
    expect(options).toHaveLength(2);
    for (const o of options) {
      const signal = Object.getOwnPropertyDescriptor(o, 'signal');
      expect(signal?.enumerable).toBe(true);
      expect(signal?.get).toBeUndefined();
      expect(signal?.value).toBeInstanceOf(AbortSignal);
    }
    expect(Object.keys(options[0]!)).toEqual(['signal', 'rateLimits']);
    expect(options[0]!.signal).not.toBe(options[1]!.signal);
    expect(options[0]!.signal.aborted).toBe(false);
  });

  it('bounds the whole walk by the total deadline, then degrades', async () => {
    const h = harness({ timeouts: { attemptMs: 60_000, totalMs: 90_000 }, degrade: { staticReply: 'static answer' } });
    h.primary.script('hang');
    h.secondary.script('hang');
    const pending = h.llm.chat(ask);
    await h.clock.advanceAsync(90_000);
    const res = await pending;
    expect(res).toMatchObject({ tier: 'static', text: 'static answer' });
    expect(res.attempts.map((a) => `${a.provider}:${a.errorType}:${a.durationMs}`)).toEqual(['openai:timeout:60000', 'anthropic:timeout:30000']);
    expect(h.local.calls).toHaveLength(0);
  });

  it('does not start a backoff wait that would end past the deadline', async () => {
    const h = harness({ timeouts: { totalMs: 1_000 }, degrade: { enabled: false } });
    h.primary.then({ fail: 'rate_limited', retryAfterMs: 5_000 });
    h.secondary.then({ fail: 'rate_limited', retryAfterMs: 5_000 });
    h.local.then({ fail: 'rate_limited', retryAfterMs: 5_000 });
    await expect(h.llm.chat(ask)).rejects.toMatchObject({ errorType: 'rate_limited' });
    expect(h.clock.sleeps).toEqual([]);
  });
});

describe('circuit breakers', () => {
  it('opens on consecutive failures, skips the target without a call, probes after openMs and closes', async () => {
    const h = harness({ retry: { maxAttempts: 1 }, breaker: { consecutiveFailures: 3, openMs: 30_000, successThreshold: 2, halfOpenProbes: 1 } });
    h.primary.script({ fail: 'server_error' }, { fail: 'server_error' }, { fail: 'server_error' });
    for (let i = 0; i < 3; i++) await h.llm.chat(ask);
    expect(h.llm.health().targets[0]!.state).toBe('open');
    expect(h.rec.events).toContainEqual({ type: 'attemptTransition', from: 'closed', to: 'open' });

    const callsBefore = h.primary.calls.length;
    const skipped = await h.llm.chat(ask);
    expect(h.primary.calls.length).toBe(callsBefore);
    expect(skipped).toMatchObject({ tier: 'reduced', target: { index: 1 } });
    expect(h.rec.events).toContainEqual({ type: 'rejected', breaker: 'openai/gpt-4o' });
    expect(h.rec.events).toContainEqual({ type: 'fallback', from: 'openai/gpt-4o', to: 'anthropic/claude-sonnet-4-5', reason: 'circuit_open' });

    h.clock.advance(30_000);
    expect(h.llm.health().targets[0]!.state).toBe('half_open');
    const probe = await h.llm.chat(ask);
    expect(probe.attempts[0]).toMatchObject({ kind: 'probe', provider: 'openai' });
    expect(h.llm.health().targets[0]!.state).toBe('half_open');
    await h.llm.chat(ask);
    expect(h.llm.health().targets[0]!.state).toBe('closed');
    const transitions = h.rec.events.filter((e) => e.type === 'transition').map((e) => `${e.from}->${e.to}`);
    expect(transitions).toEqual(['closed->open', 'open->half_open', 'half_open->closed']);
  });

  it('opens at once on an authentication failure', async () => {
    const h = harness();
    h.primary.script({ fail: 'authentication', status: 401 });
    const res = await h.llm.chat(ask);
    expect(res.target.index).toBe(1);
    expect(h.primary.calls).toHaveLength(1);
    expect(h.llm.health().targets[0]).toMatchObject({ state: 'open', lastError: { type: 'authentication' } });
  });

  it('never counts the request’s own faults toward opening a breaker', async () => {
    const h = harness({ breaker: { consecutiveFailures: 1 } });
    h.primary.script({ fail: 'context_length_exceeded' }, { fail: 'bad_request' });
    await h.llm.chat(ask);
    await h.llm.chat(ask).catch(() => undefined);
    expect(h.llm.health().targets[0]!.state).toBe('closed');
  });

  it('lets operators force a breaker open or closed and back to automatic', async () => {
    const h = harness();
    h.llm.forceBreaker('openai/gpt-4o', 'open');
    expect((await h.llm.chat(ask)).target.index).toBe(1);
    expect(h.primary.calls).toHaveLength(0);
    h.llm.forceBreaker(0, 'auto');
    expect((await h.llm.chat(ask)).target.index).toBe(0);
    expect(() => h.llm.forceBreaker('nope/none', 'open')).toThrow(/names no breaker/);
  });

  it('stops retrying when the retry budget is spent', async () => {
    const h = harness({ retry: { maxAttempts: 5, budget: { ratio: 0, minRetriesPerSecond: 0.1, windowMs: 10_000 } } });
    h.primary.then({ fail: 'server_error' });
    const res = await h.llm.chat(ask);
    // The floor allows one retry in the 10 s window; the second is refused and the request hops.
    expect(h.primary.calls).toHaveLength(2);
    expect(res.target.index).toBe(1);
    expect(h.rec.events).toContainEqual({ type: 'fallback', from: 'openai/gpt-4o', to: 'anthropic/claude-sonnet-4-5', reason: 'budget_exhausted' });
  });
});

describe('cache and degradation', () => {
  it('serves a stale answer per partition when every target fails (on-failure mode)', async () => {
    const h = harness({ cache: { store: memoryStore(), mode: 'on-failure', ttlMs: 1_000 } });
    const first = await h.llm.chat({ ...ask, partition: 'tenant-a' });
    await h.llm.close();
    for (const a of [h.primary, h.secondary, h.local]) a.then({ fail: 'server_error' });
    h.clock.advance(60_000);
    const stale = await h.llm.chat({ ...ask, partition: 'tenant-a' });
    expect(stale).toMatchObject({ tier: 'cached', text: first.text, fallbackUsed: true });
    expect(h.rec.events).toContainEqual({ type: 'cache', result: 'stale_served' });
    expect(h.rec.events).toContainEqual({ type: 'degraded', tier: 'cached', reason: 'server_error' });
    // Tenant B never asked before: it gets no answer of tenant A's, so nothing can be served.
    const other = await h.llm.chat({ ...ask, partition: 'tenant-b' }).catch((e: unknown) => e);
    expect(other).toBeInstanceOf(BulwarkError);
    expect(h.rec.events.filter((e) => e.type === 'cache').at(-1)).toEqual({ type: 'cache', result: 'miss' });
  });

  it('serves fresh hits before any call in read-through mode', async () => {
    const h = harness({ cache: { store: memoryStore(), mode: 'read-through' } });
    await h.llm.chat(ask);
    await h.llm.close();
    const hit = await h.llm.chat(ask);
    expect(hit).toMatchObject({ tier: 'cached', costUsd: 0, attempts: [] });
    expect(h.primary.calls).toHaveLength(1);
    expect(h.rec.events).toContainEqual({ type: 'cache', result: 'hit' });
  });

  it('lets timers run while a caller loops over answers that need no upstream call', async () => {
    const h = harness({ cache: { store: memoryStore(), mode: 'read-through' } });
    await h.llm.chat(ask);
    await h.llm.close();
    let timerRan = false;
    setTimeout(() => (timerRan = true), 0);
    // Without a macrotask turn per cache hit this loop would starve the timer for all 20 000 hits.
    for (let i = 0; i < 20_000 && !timerRan; i++) await h.llm.chat(ask);
    expect(timerRan).toBe(true);
    expect(h.primary.calls).toHaveLength(1);
  });

  it('serves the static reply when nothing else can answer', async () => {
    const h = harness({ degrade: { staticReply: (r) => `static for ${r.messages.length} message(s)` } });
    for (const a of [h.primary, h.secondary, h.local]) a.then({ fail: 'connection' });
    const res = await h.llm.chat(ask);
    expect(res).toMatchObject({ tier: 'static', text: 'static for 1 message(s)', target: { index: -1 } });
    expect(res.warning).toMatch(/static reply/);
    expect(h.rec.events.at(-1)).toMatchObject({ type: 'end', outcome: 'static' });
  });

  it('throws the chain’s error, never the template’s, when a staticReply function fails', async () => {
    const h = harness({
      retry: { maxAttempts: 1 },
      degrade: {
        staticReply: (r) => {
          throw new Error(`template broke on ${r.messages[0]!.content}`);
        },
      },
    });
    for (const a of [h.primary, h.secondary, h.local]) a.then({ fail: 'server_error' });
    const err = await h.llm.chat({ messages: [{ role: 'user', content: 'my secret prompt' }] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'BulwarkError', errorType: 'server_error' });
    expect((err as Error).message).not.toContain('secret prompt');
  });

  it('throws instead of degrading for a critical request', async () => {
    const h = harness({ degrade: { staticReply: 'static' } });
    for (const a of [h.primary, h.secondary, h.local]) a.then({ fail: 'server_error' });
    const err = await h.llm.chat({ ...ask, critical: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BulwarkError);
    expect(err).toMatchObject({ errorType: 'server_error', message: expect.stringMatching(/^Critical request/) });
    expect((err as BulwarkError).attempts.length).toBe(9);
  });

  it('serves the forced tier without any upstream call', async () => {
    const h = harness({ degrade: { staticReply: 'maintenance' } });
    h.llm.forceTier('static');
    expect(await h.llm.chat(ask)).toMatchObject({ tier: 'static', text: 'maintenance' });
    h.llm.forceTier('reduced');
    expect(await h.llm.chat(ask)).toMatchObject({ tier: 'reduced', target: { index: 2 } });
    h.llm.forceTier('auto');
    expect(await h.llm.chat(ask)).toMatchObject({ tier: 'full' });
    expect(h.primary.calls).toHaveLength(1);
    expect(h.secondary.calls).toHaveLength(0);
  });
});
