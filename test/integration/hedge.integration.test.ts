/**
 * Hedged requests through the official clients against the fault server, on virtual time: the
 * hedge delay is a timer of the injected clock, so "the primary has not answered after 200 ms" is
 * exact. A primary that must answer at a chosen moment gets a gated fetch: the fault server
 * answers at once, the client sees the response only when the test opens the gate.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it, vi } from 'vitest';
import { BulwarkError } from '../../src/errors/bulwarkError.js';
import { createResilientLLM, type ResilientLLM } from '../../src/createResilientLLM.js';
import type { ResilientLLMOptions } from '../../src/config/types.js';
import { anthropicTarget, openaiTarget } from '../../src/providers/index.js';
import { pool } from '../../src/pool/pool.js';
import type { StreamEvent } from '../../src/request/types.js';
import { EVENT, METRIC } from '../../src/telemetry/names.js';
import { fault, type FaultServer } from '../../src/testing/index.js';
import { createFakeClock, type FakeClock } from '../support/fakeClock.js';
import { only, sumOf } from '../telemetry/harness.js';
import { ANTHROPIC_KEY, ask, faultServerWithTelemetry, OPENAI_KEY } from './setup.js';

const env = faultServerWithTelemetry(15);

/** A fetch whose responses reach the client only when the test opens their gate, in order. */
function gatedFetch(): { fetch: typeof fetch; open(): void; waiting(): number } {
  const gates: Array<() => void> = [];
  let opened = 0;
  return {
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      await new Promise<void>((resolve, reject) => {
        const signal = init?.signal;
        if (opened > 0) {
          opened -= 1;
          return resolve();
        }
        gates.push(resolve);
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
      return response;
    },
    open() {
      const next = gates.shift();
      if (next) next();
      else opened += 1;
    },
    waiting: () => gates.length,
  };
}

interface Chain {
  llm: ResilientLLM;
  clock: FakeClock;
  /** The chain's name, one per test: metrics accumulate over the file. */
  chain: string;
}

let chains = 0;

/** openai/gpt-4o on route 'primary' → anthropic on route 'backup', hedged after 200 ms. */
function hedgedChain(server: FaultServer, options: Partial<ResilientLLMOptions> & { primaryFetch?: typeof fetch; anthropicFirst?: boolean } = {}): Chain {
  const clock = createFakeClock(Date.now());
  const { primaryFetch, anthropicFirst, ...rest } = options;
  const openai = openaiTarget({
    client: new OpenAI({ apiKey: OPENAI_KEY, baseURL: server.baseURL('openai', 'primary'), ...(primaryFetch && { fetch: primaryFetch }) }),
    model: 'gpt-4o',
  });
  const anthropic = anthropicTarget({ client: new Anthropic({ apiKey: ANTHROPIC_KEY, baseURL: server.baseURL('anthropic', 'backup') }), model: 'claude-sonnet-4-6' });
  const chain = `hedged-agent-${++chains}`;
  const llm = createResilientLLM({
    name: chain,
    targets: anthropicFirst ? [anthropic, openai] : [openai, anthropic],
    clock,
    hedge: { after: 200, budgetRatio: 1 },
    ...rest,
  });
  return { llm, clock, chain };
}

const hits = (route: string) => env.server.hits({ route });
/** Waits (on real I/O, no time threshold) until the fault server has seen `n` requests on `route`. */
const arrived = (route: string, n = 1) => vi.waitFor(() => expect(hits(route)).toBe(n), { timeout: 5_000, interval: 2 });
const closedByClient = (route: string) => env.server.requests.filter((r) => r.route === route).map((r) => r.clientClosed);

async function collect(stream: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const e of stream) events.push(e);
  return events;
}

describe('hedged requests', () => {
  it('a hedge that wins: the primary is silent past `after`, the next target answers, the primary connection is closed and its breaker not charged', async () => {
    const { server, sdk } = env;
    const { llm, clock, chain } = hedgedChain(server);
    server.script({ route: 'primary' }, { then: fault.hang() });
    server.script({ route: 'backup' }, { then: fault.ok({ text: 'from the hedge' }) });
    const pending = llm.chat(ask);
    await arrived('primary');
    expect(hits('backup')).toBe(0);
    clock.advance(200);
    const res = await pending;
    expect(res.text).toBe('from the hedge');
    expect(res.target).toMatchObject({ provider: 'anthropic', index: 1 });
    expect(res.attempts.map((a) => [a.kind, a.errorType ?? 'ok'])).toEqual([
      ['initial', 'cancelled'],
      ['hedge', 'ok'],
    ]);
    await server.idle();
    expect(closedByClient('primary')).toEqual([true]);
    // The loser was cancelled, not failed: nothing counts against its breaker.
    expect(llm.health().targets[0]).toMatchObject({ state: 'closed', consecutiveFailures: 0, windowCalls: 0 });

    const m = await sdk.collect();
    expect(sumOf(m, METRIC.HEDGES, { 'bulwark.chain': chain, 'bulwark.hedge.outcome': 'won' })).toBe(1);
    expect(sumOf(m, METRIC.HEDGES, { 'bulwark.chain': chain, 'bulwark.hedge.outcome': 'lost' })).toBe(0);
    expect(sumOf(m, METRIC.ATTEMPTS, { 'bulwark.chain': chain, 'bulwark.attempt.kind': 'hedge', 'bulwark.attempt.outcome': 'success', 'gen_ai.provider.name': 'anthropic' })).toBe(1);
    const spans = sdk.spans();
    const hedgeSpan = spans.find((s) => s.attributes['bulwark.attempt.kind'] === 'hedge');
    expect(hedgeSpan?.attributes).toMatchObject({ 'gen_ai.provider.name': 'anthropic', 'bulwark.target.index': 1 });
    const requestSpan = only(spans, `bulwark chat ${chain}`);
    expect(hedgeSpan?.parentSpanContext?.spanId).toBe(requestSpan.spanContext().spanId);
    expect(requestSpan.events.filter((e) => e.name === EVENT.HEDGE).map((e) => e.attributes)).toEqual([
      { 'bulwark.hedge.outcome': 'won', 'bulwark.target.index': 1, 'gen_ai.provider.name': 'anthropic', 'gen_ai.request.model': 'claude-sonnet-4-6' },
    ]);
    await llm.close();
  });

  it('a hedge that loses: the primary answers while the hedge waits, the hedge connection is closed', async () => {
    const { server, sdk } = env;
    const gate = gatedFetch();
    const { llm, clock, chain } = hedgedChain(server, { primaryFetch: gate.fetch });
    server.script({ route: 'primary' }, { then: fault.ok({ text: 'from the primary' }) });
    server.script({ route: 'backup' }, { then: fault.hang() });
    const pending = llm.chat(ask);
    await arrived('primary');
    clock.advance(200);
    await arrived('backup');
    gate.open();
    const res = await pending;
    expect(res).toMatchObject({ text: 'from the primary', tier: 'full', fallbackUsed: false, target: { index: 0 } });
    expect(res.attempts.map((a) => [a.kind, a.errorType ?? 'ok'])).toEqual([
      ['initial', 'ok'],
      ['hedge', 'cancelled'],
    ]);
    await server.idle();
    expect(closedByClient('backup')).toEqual([true]);
    expect(llm.health().targets[1]).toMatchObject({ state: 'closed', consecutiveFailures: 0, windowCalls: 0 });
    const m = await sdk.collect();
    expect(sumOf(m, METRIC.HEDGES, { 'bulwark.chain': chain, 'bulwark.hedge.outcome': 'lost' })).toBe(1);
    expect(sumOf(m, METRIC.HEDGES, { 'bulwark.chain': chain, 'bulwark.hedge.outcome': 'won' })).toBe(0);
    // A hedge that lost is no retry: the primary answered its first call.
    expect(sumOf(m, METRIC.REQUESTS, { 'bulwark.chain': chain, 'bulwark.outcome': 'success', 'bulwark.tier': 'full' })).toBe(1);
    await llm.close();
  });

  it('streams are hedged on the first chunk: a primary that sends headers and no chunk loses to the hedge', async () => {
    const { server } = env;
    const { llm, clock, chain } = hedgedChain(server);
    server.script({ route: 'primary' }, { then: fault.slowFirstByte(60_000) });
    server.script({ route: 'backup' }, { then: fault.ok({ text: 'streamed by the hedge' }) });
    const s = llm.stream(ask);
    const events = collect(s);
    await arrived('primary');
    clock.advance(200);
    const text = (await events).map((e) => (e.type === 'text' ? e.delta : '')).join('');
    expect(text).toBe('streamed by the hedge');
    const res = await s.result;
    expect(res.attempts.map((a) => [a.kind, a.errorType ?? 'ok'])).toEqual([
      ['initial', 'cancelled'],
      ['hedge', 'ok'],
    ]);
    await server.idle();
    expect(closedByClient('primary')).toEqual([true]);
    expect((server.requests.find((r) => r.route === 'backup')!.body as { stream: boolean }).stream).toBe(true);
    await llm.close();
  });

  it('a stream whose first chunk comes before `after` is never hedged', async () => {
    const { server } = env;
    const { llm, clock, chain } = hedgedChain(server);
    server.script({}, { then: fault.ok({ text: 'quick' }) });
    const res = await (async () => {
      const s = llm.stream(ask);
      await collect(s);
      return s.result;
    })();
    clock.advance(1_000);
    expect(res.attempts.map((a) => a.kind)).toEqual(['initial']);
    expect(hits('backup')).toBe(0);
    await llm.close();
  });

  it('hedge budget: budgetRatio 0.5 allows one hedge per two requests, none while it is spent', async () => {
    const { server, sdk } = env;
    const gate = gatedFetch();
    const { llm, clock, chain } = hedgedChain(server, { primaryFetch: gate.fetch, hedge: { after: 200, budgetRatio: 0.5 } });
    server.script({ route: 'primary' }, { then: fault.ok({ text: 'from the primary' }) });
    server.script({ route: 'backup' }, { then: fault.hang() });
    const kinds: string[][] = [];
    for (let i = 1; i <= 4; i++) {
      const pending = llm.chat(ask);
      await arrived('primary', i);
      clock.advance(200);
      // Requests 2 and 4 have the budget for a hedge: it goes out before the primary is let through.
      if (i % 2 === 0) await arrived('backup', i / 2);
      gate.open();
      kinds.push((await pending).attempts.map((a) => a.kind));
    }
    expect(kinds).toEqual([['initial'], ['initial', 'hedge'], ['initial'], ['initial', 'hedge']]);
    expect(hits('backup')).toBe(2);
    const m = await sdk.collect();
    expect(sumOf(m, METRIC.HEDGES, { 'bulwark.chain': chain, 'bulwark.hedge.outcome': 'lost' })).toBe(2);
    await llm.close();
  });

  it("after: 'p95' waits the primary's tracked p95 (no samples yet: no hedge)", async () => {
    const { server } = env;
    const gate = gatedFetch();
    const { llm, clock, chain } = hedgedChain(server, { primaryFetch: gate.fetch, hedge: { after: 'p95', budgetRatio: 1 } });
    server.script({ route: 'primary' }, { then: fault.ok({ text: 'from the primary' }) });
    server.script({ route: 'backup' }, { then: fault.ok({ text: 'from the hedge' }) });
    // No latency known: the first request is not hedged however long it takes (300 ms here).
    const first = llm.chat(ask);
    await arrived('primary');
    expect(clock.nextTimerAt()).not.toBe(clock.now() + 0);
    clock.advance(300);
    gate.open();
    expect((await first).attempts.map((a) => a.kind)).toEqual(['initial']);
    expect(llm.health().targets[0]!.latencyMs).toEqual({ p50: 300, p95: 300 });
    // Now the primary's p95 is 300 ms: the next request's hedge timer is due 300 ms after the call.
    const second = llm.chat(ask);
    await arrived('primary', 2);
    const sentAt = clock.now();
    expect(clock.nextTimerAt()).toBe(sentAt + 300);
    clock.advance(300);
    const res = await second;
    expect(res.text).toBe('from the hedge');
    expect(res.attempts.map((a) => a.kind)).toEqual(['initial', 'hedge']);
    await llm.close();
  });

  it('the caller aborting a hedged request closes both connections; the hedge counts as cancelled, no breaker charged', async () => {
    const { server, sdk } = env;
    const { llm, clock, chain } = hedgedChain(server);
    server.script({}, { then: fault.hang() });
    const controller = new AbortController();
    const pending = llm.chat({ ...ask, signal: controller.signal });
    await arrived('primary');
    clock.advance(200);
    await arrived('backup');
    controller.abort();
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BulwarkError);
    expect(err).toMatchObject({ errorType: 'cancelled' });
    await server.idle();
    expect([...closedByClient('primary'), ...closedByClient('backup')]).toEqual([true, true]);
    for (const t of llm.health().targets) expect(t).toMatchObject({ state: 'closed', consecutiveFailures: 0, windowCalls: 0 });
    const m = await sdk.collect();
    expect(sumOf(m, METRIC.HEDGES, { 'bulwark.chain': chain, 'bulwark.hedge.outcome': 'cancelled' })).toBe(1);
    await llm.close();
  });

  it('the total deadline ends the primary and its hedge, closes both connections and degrades', async () => {
    const { server, sdk } = env;
    const { llm, clock, chain } = hedgedChain(server, { timeouts: { totalMs: 1_000 }, degrade: { staticReply: 'try later' } });
    server.script({}, { then: fault.hang() });
    const pending = llm.chat(ask);
    await arrived('primary');
    clock.advance(200);
    await arrived('backup');
    clock.advance(800);
    const res = await pending;
    expect(res).toMatchObject({ tier: 'static', text: 'try later' });
    expect(res.attempts.map((a) => [a.kind, a.errorType])).toEqual([
      ['initial', 'timeout'],
      ['hedge', 'timeout'],
    ]);
    await server.idle();
    expect([...closedByClient('primary'), ...closedByClient('backup')]).toEqual([true, true]);
    for (const t of llm.health().targets) expect(t).toMatchObject({ consecutiveFailures: 0, windowCalls: 0 });
    const m = await sdk.collect();
    expect(sumOf(m, METRIC.HEDGES, { 'bulwark.chain': chain, 'bulwark.hedge.outcome': 'cancelled' })).toBe(1);
    await llm.close();
  });

  it('cost: a primary cancelled before its answer reached the client reported no usage and costs nothing; the request cost is the hedge’s', async () => {
    const { server } = env;
    const gate = gatedFetch();
    const { llm, clock, chain } = hedgedChain(server, { primaryFetch: gate.fetch, pricing: { 'gpt-4o': { inputPerMTok: 2.5, outputPerMTok: 10 } } });
    server.script({ route: 'primary' }, { then: fault.ok({ text: 'from the primary', usage: { inputTokens: 1_000, outputTokens: 100 } }) });
    server.script({ route: 'backup' }, { then: fault.ok({ text: 'from the hedge', usage: { inputTokens: 2_000, outputTokens: 200 } }) });
    const pending = llm.chat(ask);
    await arrived('primary');
    // The hedge answers and wins while the primary's answer is held at its gate...
    clock.advance(200);
    const res = await pending;
    expect(res.text).toBe('from the hedge');
    // ...the primary was cancelled before its answer reached the client: it reported no usage, costs nothing.
    expect(res.attempts[0]).toMatchObject({ kind: 'initial', errorType: 'cancelled', costUsd: 0 });
    const hedgeCost = res.attempts[1]!.costUsd!;
    expect(hedgeCost).toBeGreaterThan(0);
    expect(res.costUsd).toBe(hedgeCost);
    await llm.close();
  });

  it('a pool hedges across its own members: a slow member races another member (no hop), the loser closed', async () => {
    const { server, sdk } = env;
    const clock = createFakeClock(Date.now());
    const member = (route: string) =>
      openaiTarget({ client: new OpenAI({ apiKey: OPENAI_KEY, baseURL: server.baseURL('openai', route) }), model: 'gpt-4o', breakerKey: `gpt-4o@${route}` });
    const chain = `hedged-pool-${++chains}`;
    // random 0: the weighted pick is the first member still available (east, then west).
    const llm = createResilientLLM({ name: chain, targets: [pool({ name: 'gpt-4o', members: [member('east'), member('west')], random: () => 0 })], clock, hedge: { after: 200, budgetRatio: 1 } });
    server.script({ route: 'east' }, { then: fault.hang() });
    server.script({ route: 'west' }, { then: fault.ok({ text: 'from west' }) });
    const pending = llm.chat(ask);
    await arrived('east');
    expect(hits('west')).toBe(0);
    clock.advance(200);
    const res = await pending;
    expect(res.text).toBe('from west');
    expect(res.tier).toBe('full');
    expect(res.attempts.map((a) => [a.kind, a.errorType ?? 'ok'])).toEqual([
      ['initial', 'cancelled'],
      ['hedge', 'ok'],
    ]);
    await server.idle();
    expect(closedByClient('east')).toEqual([true]);
    for (const t of llm.health().targets) expect(t).toMatchObject({ consecutiveFailures: 0 });
    const m = await sdk.collect();
    expect(sumOf(m, METRIC.HEDGES, { 'bulwark.chain': chain, 'bulwark.hedge.outcome': 'won' })).toBe(1);
    await llm.close();
  });

  it("after: 'p95' in a pool waits the quickest member's p95 (at least twice its p50): a member whose own p95 is its slow time is still hedged", async () => {
    const { server } = env;
    const clock = createFakeClock(Date.now());
    const gates = { east: gatedFetch(), west: gatedFetch() };
    const member = (route: 'east' | 'west') =>
      openaiTarget({
        client: new OpenAI({ apiKey: OPENAI_KEY, baseURL: server.baseURL('openai', route), fetch: gates[route].fetch }),
        model: 'gpt-4o',
        breakerKey: `gpt-4o@${route}`,
      });
    // The weighted pick: under 0.5 east, from 0.5 west.
    let draw = 0;
    const llm = createResilientLLM({
      name: `hedged-pool-${++chains}`,
      targets: [pool({ name: 'gpt-4o', members: [member('east'), member('west')], random: () => draw })],
      clock,
      telemetry: false,
      hedge: { after: 'p95', budgetRatio: 1 },
    });
    server.script({ route: 'east' }, { then: fault.ok({ text: 'from east' }) });
    server.script({ route: 'west' }, { then: fault.ok({ text: 'from west' }) });
    // East answers after 3 s (no samples anywhere yet: no hedge); its p95 is now 3 s.
    const slow = llm.chat(ask);
    await arrived('east');
    clock.advance(3_000);
    gates.east.open();
    expect((await slow).attempts.map((a) => a.kind)).toEqual(['initial']);
    // West answers after 100 ms (waiting on west, the quickest p95 was east's 3 s: no hedge).
    draw = 0.9;
    const quick = llm.chat(ask);
    await arrived('west');
    clock.advance(100);
    gates.west.open();
    expect((await quick).text).toBe('from west');
    expect(llm.health().targets.map((t) => t.latencyMs?.p95)).toEqual([3_000, 100]);
    // On east again: the hedge is due after west's p95 and at least twice its p50 (both 100 ms here: 200 ms), not east's own 3 s.
    draw = 0;
    const pending = llm.chat(ask);
    await arrived('east', 2);
    const sentAt = clock.now();
    expect(clock.nextTimerAt()).toBe(sentAt + 200);
    clock.advance(200);
    await arrived('west', 2);
    gates.west.open();
    const res = await pending;
    expect(res.text).toBe('from west');
    expect(res.attempts.map((a) => [a.kind, a.errorType ?? 'ok'])).toEqual([
      ['initial', 'cancelled'],
      ['hedge', 'ok'],
    ]);
    await llm.close();
  });

  it("a pool's own hedge: it hedges among its members with its own delay while the chain does not hedge", async () => {
    const { server } = env;
    const clock = createFakeClock(Date.now());
    const member = (route: string) =>
      openaiTarget({ client: new OpenAI({ apiKey: OPENAI_KEY, baseURL: server.baseURL('openai', route) }), model: 'gpt-4o', breakerKey: `gpt-4o@${route}` });
    const backup = anthropicTarget({ client: new Anthropic({ apiKey: ANTHROPIC_KEY, baseURL: server.baseURL('anthropic', 'backup') }), model: 'claude-sonnet-4-6' });
    const llm = createResilientLLM({
      name: `hedged-pool-${++chains}`,
      targets: [pool({ name: 'gpt-4o', members: [member('east'), member('west')], random: () => 0, hedge: { after: 300, budgetRatio: 1 } }), backup],
      clock,
      telemetry: false,
    });
    server.script({ route: 'east' }, { then: fault.hang() });
    server.script({ route: 'west' }, { then: fault.ok({ text: 'from west' }) });
    const pending = llm.chat(ask);
    await arrived('east');
    const sentAt = clock.now();
    // The pool's delay (300 ms) is the first timer due: the hedge timer.
    expect(clock.nextTimerAt()).toBe(sentAt + 300);
    clock.advance(300);
    const res = await pending;
    expect(res.text).toBe('from west');
    expect(res.attempts.map((a) => [a.kind, a.errorType ?? 'ok'])).toEqual([
      ['initial', 'cancelled'],
      ['hedge', 'ok'],
    ]);
    expect(hits('backup')).toBe(0);
    await server.idle();
    expect(closedByClient('east')).toEqual([true]);
    await llm.close();
  });

  describe('a hedge from a plain target into the pool after it', () => {
    /** openai primary → pool(east, west), the chain hedged after 200 ms; random 0: the pool picks east first. */
    function primaryThenPool(primaryFetch?: typeof fetch) {
      const { server } = env;
      const clock = createFakeClock(Date.now());
      const member = (route: string) =>
        openaiTarget({ client: new OpenAI({ apiKey: OPENAI_KEY, baseURL: server.baseURL('openai', route) }), model: 'gpt-4o', breakerKey: `gpt-4o@${route}` });
      const primary = anthropicTarget({
        client: new Anthropic({ apiKey: ANTHROPIC_KEY, baseURL: server.baseURL('anthropic', 'primary'), ...(primaryFetch && { fetch: primaryFetch }) }),
        model: 'claude-sonnet-4-6',
      });
      const chain = `hedged-into-pool-${++chains}`;
      const llm = createResilientLLM({
        name: chain,
        targets: [primary, pool({ name: 'gpt-4o', members: [member('east'), member('west')], random: () => 0 })],
        clock,
        retry: { maxAttempts: 1 },
        hedge: { after: 200, budgetRatio: 1 },
      });
      return { llm, clock, chain };
    }

    it('a slow primary is hedged on a member of the pool, which wins; the primary is closed', async () => {
      const { server, sdk } = env;
      const { llm, clock, chain } = primaryThenPool();
      server.script({ route: 'primary' }, { then: fault.hang() });
      server.script({ route: 'east' }, { then: fault.ok({ text: 'from east' }) });
      const pending = llm.chat(ask);
      await arrived('primary');
      expect(hits('east')).toBe(0);
      clock.advance(200);
      const res = await pending;
      expect(res.text).toBe('from east');
      expect(res.target).toMatchObject({ index: 1, pool: 'gpt-4o', member: 0 });
      expect(res.attempts.map((a) => [a.kind, a.model, a.errorType ?? 'ok'])).toEqual([
        ['initial', 'claude-sonnet-4-6', 'cancelled'],
        ['hedge', 'gpt-4o', 'ok'],
      ]);
      expect(hits('west')).toBe(0);
      await server.idle();
      expect(closedByClient('primary')).toEqual([true]);
      const m = await sdk.collect();
      expect(sumOf(m, METRIC.HEDGES, { 'bulwark.chain': chain, 'bulwark.hedge.outcome': 'won' })).toBe(1);
      await llm.close();
    });

    it('a member the hedge took and lost is not tried again: when the primary fails too, the walk goes to the pool’s other member', async () => {
      const { server } = env;
      const gate = gatedFetch();
      const { llm, clock } = primaryThenPool(gate.fetch);
      server.script({ route: 'primary' }, { then: fault.serverError(500) });
      server.script({ route: 'east' }, { then: fault.serverError(500) });
      server.script({ route: 'west' }, { then: fault.ok({ text: 'from west' }) });
      const pending = llm.chat(ask);
      // The primary's 500 is held at the gate: no answer yet when the hedge delay passes.
      await vi.waitFor(() => expect(gate.waiting()).toBe(1), { timeout: 5_000, interval: 2 });
      clock.advance(200);
      await arrived('east');
      gate.open();
      const res = await pending;
      expect(res.text).toBe('from west');
      expect(res.attempts.map((a) => [a.kind, a.errorType ?? 'ok'])).toEqual([
        ['initial', 'server_error'],
        ['hedge', 'server_error'],
        ['fallback', 'ok'],
      ]);
      expect([hits('primary'), hits('east'), hits('west')]).toEqual([1, 1, 1]);
      expect(res.target).toMatchObject({ index: 1, pool: 'gpt-4o', member: 1 });
      await llm.close();
    });
  });
});
