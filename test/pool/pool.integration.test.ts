/**
 * Pools over real HTTP: the official OpenAI and Anthropic clients against the fault server, one
 * route per deployment. Time is the fake clock (a "slow" member is one whose fetch advances it);
 * randomness is a seeded source handed to the pool; concurrency is held by gates the test opens.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createResilientLLM, type ResilientLLM } from '../../src/createResilientLLM.js';
import type { ResilientLLMOptions } from '../../src/config/types.js';
import { pool, type PoolOptions } from '../../src/pool/pool.js';
import { anthropicTarget, openaiTarget } from '../../src/providers/index.js';
import { fault, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { createRandom } from '../../src/testing/random.js';
import { createFakeClock, type FakeClock } from '../support/fakeClock.js';
import { recorder } from '../chain/helpers.js';
import { createClient } from 'redis';
import { redisStore } from '../../src/state/redisStore.js';
import { needRedis, startTestRedis, type TestRedis } from '../support/redis.js';

let server: FaultServer;
beforeAll(async () => {
  server = await startFaultServer({ seed: 15 });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const ask = { messages: [{ role: 'user' as const, content: 'Summarise today' }] };
const ROUTES = ['east', 'west', 'north'] as const;
type Route = (typeof ROUTES)[number];
const hits = (route: string) => server.hits({ route });
/** A seeded uniform source for the pool's choices: the same picks on every run. */
const seeded = (seed: number) => {
  const source = createRandom(seed);
  return () => source.next();
};

/** A fetch for one member: optional per-call clock advance (its latency) and a gate holding calls. */
interface MemberWire {
  latencyMs: number;
  gate: Promise<void> | undefined;
  calls: number;
}

function wire(clock: FakeClock, onCall?: () => void): { state: MemberWire; fetch: typeof fetch } {
  const state: MemberWire = { latencyMs: 0, gate: undefined, calls: 0 };
  return {
    state,
    fetch: async (input, init) => {
      state.calls += 1;
      onCall?.();
      if (state.gate) await state.gate;
      // The member "takes" latencyMs: virtual time passes while its call is in flight.
      if (state.latencyMs > 0) clock.advance(state.latencyMs);
      return fetch(input, init);
    },
  };
}

function member(route: Route, clock: FakeClock, onCall?: () => void) {
  const w = wire(clock, onCall);
  const target = openaiTarget({
    client: new OpenAI({ apiKey: 'sk-test-pool-0123456789', baseURL: server.baseURL('openai', route), fetch: w.fetch }),
    model: 'gpt-4o',
    breakerKey: `gpt-4o@${route}`,
  });
  return { target, wire: w.state };
}

function backup() {
  return anthropicTarget({ client: new Anthropic({ apiKey: 'sk-ant-test-0123456789', baseURL: server.baseURL('anthropic', 'backup') }), model: 'claude-sonnet-4-6' });
}

interface PoolChain {
  llm: ResilientLLM;
  clock: FakeClock;
  wires: Record<Route, MemberWire>;
  rec: ReturnType<typeof recorder>;
}

/** A chain whose first position is a pool of `routes` (then, with `withBackup`, an Anthropic target). */
function poolChain(
  routes: readonly Route[],
  poolOptions: Partial<PoolOptions> & { weights?: number[] } = {},
  options: Partial<ResilientLLMOptions> & { withBackup?: boolean; onCall?: () => void } = {},
): PoolChain {
  const clock = createFakeClock(1_000_000);
  const { withBackup, onCall, ...rest } = options;
  const { weights, ...poolRest } = poolOptions;
  const made = routes.map((r) => member(r, clock, onCall));
  const rec = recorder();
  const llm = createResilientLLM({
    name: 'pooled',
    targets: [
      pool({ name: 'gpt-4o', members: made.map((m, i) => ({ target: m.target, weight: weights?.[i] ?? 1 })), random: seeded(7), ...poolRest }),
      ...(withBackup ? [backup()] : []),
    ],
    clock,
    telemetry: false,
    observers: [rec.observer],
    ...rest,
  });
  const wires = Object.fromEntries(routes.map((r, i) => [r, made[i]!.wire])) as Record<Route, MemberWire>;
  return { llm, clock, wires, rec };
}

/** A promise and the function that settles it. */
function deferred(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('weighted', () => {
  it('splits traffic by weight, within three standard deviations of the binomial', async () => {
    const { llm } = poolChain(['east', 'west'], { strategy: 'weighted', weights: [3, 1] });
    const n = 300;
    for (let i = 0; i < n; i++) await llm.chat(ask);
    const east = hits('east');
    expect(east + hits('west')).toBe(n);
    // p = 0.75: sd = sqrt(n p (1-p)) = 7.5 requests.
    expect(Math.abs(east - 0.75 * n)).toBeLessThanOrEqual(3 * Math.sqrt(n * 0.75 * 0.25));
    // Not a degenerate pick: the light member got its share too.
    expect(hits('west')).toBeGreaterThan(0.25 * n - 3 * Math.sqrt(n * 0.75 * 0.25));
  });

  it('every answer comes from the pool at the primary position: tier full, no fallback, member reported', async () => {
    const { llm } = poolChain(['east', 'west'], { strategy: 'weighted', random: () => 0.9 });
    const res = await llm.chat(ask);
    expect(res.tier).toBe('full');
    expect(res.fallbackUsed).toBe(false);
    expect(res.target).toEqual({ provider: 'openai', model: 'gpt-4o', index: 0, pool: 'gpt-4o', member: 1 });
    expect(res.attempts).toEqual([expect.objectContaining({ targetIndex: 0, pool: 'gpt-4o', member: 1, kind: 'initial' })]);
    expect(hits('west')).toBe(1);
  });
});

describe('least-busy', () => {
  it('spreads concurrent requests over the members by calls in flight, and avoids a member that holds calls', async () => {
    let called = 0;
    let reached: { n: number; open: () => void } | undefined;
    const onCall = () => {
      called += 1;
      if (reached && called >= reached.n) reached.open();
    };
    const { llm, wires } = poolChain(['east', 'west', 'north'], { strategy: 'least-busy', random: () => 0 }, { onCall });
    const gate = deferred();
    for (const r of ROUTES) wires[r].gate = gate.promise;
    const all = deferred();
    reached = { n: 6, open: all.open };
    const pending = Array.from({ length: 6 }, () => llm.chat(ask));
    await all.promise;
    // Six requests in flight at once, all picked before any was sent: two per member. (Ties go to the
    // first member: only counting each pick at once keeps all six from choosing east.)
    expect(ROUTES.map((r) => wires[r].calls)).toEqual([2, 2, 2]);
    expect(llm.health().pools?.[0]?.members.map((m) => m.inFlight)).toEqual([2, 2, 2]);
    gate.open();
    await Promise.all(pending);
    expect(llm.health().pools?.[0]?.members.map((m) => m.inFlight)).toEqual([0, 0, 0]);

    // East holds a call (ties go to the first member); the others answer at once: the next
    // requests, one after the other, all go elsewhere.
    const hold = deferred();
    for (const r of ROUTES) wires[r].gate = undefined;
    wires.east.gate = hold.promise;
    const held = deferred();
    reached = { n: called + 1, open: held.open };
    const slow = [llm.chat(ask)];
    await held.promise;
    expect(wires.east.calls).toBe(3);
    expect(llm.health().pools?.[0]?.members.map((m) => m.inFlight)).toEqual([1, 0, 0]);
    for (let i = 0; i < 8; i++) await llm.chat(ask);
    expect(wires.east.calls).toBe(3);
    expect(wires.west.calls + wires.north.calls).toBe(2 + 2 + 8);
    hold.open();
    await Promise.all(slow);
  });
});

describe.skipIf(needRedis().skip)('least-busy with shared state (Redis)', () => {
  let redis: TestRedis;
  const closers: Array<() => Promise<unknown>> = [];
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    for (const close of closers) await close();
    await redis.stop();
  });

  it('requests picked while the shared breakers still await their first sync spread: each is counted from its pick', async () => {
    const client = createClient({ url: redis.url });
    client.on('error', () => undefined);
    await client.connect();
    closers.push(() => client.quit());
    let called = 0;
    const all = deferred();
    const { llm, wires } = poolChain(['east', 'west', 'north'], { strategy: 'least-busy', random: () => 0 }, {
      onCall: () => {
        called += 1;
        if (called === 6) all.open();
      },
      sharedState: redisStore(client, { syncIntervalMs: 60_000 }),
      cache: false,
    });
    closers.push(() => llm.close());
    const gate = deferred();
    for (const r of ROUTES) wires[r].gate = gate.promise;
    // Sent before the chain has heard from Redis: every breaker answers only after a round trip.
    const pending = Array.from({ length: 6 }, () => llm.chat(ask));
    await all.promise;
    expect(ROUTES.map((r) => wires[r].calls)).toEqual([2, 2, 2]);
    gate.open();
    await Promise.all(pending);
    expect(llm.health().pools?.[0]?.members.map((m) => m.inFlight)).toEqual([0, 0, 0]);
  });
});

describe('retries and fall-through', () => {
  it('a retryable failure retries on another member at once (no backoff), not on the same one', async () => {
    const { llm, clock, rec } = poolChain(['east', 'west'], { strategy: 'weighted', random: () => 0 });
    server.script({ route: 'east' }, { sequence: [fault.serverError(500)] });
    const res = await llm.chat(ask);
    expect(res.attempts.map((a) => [a.member, a.kind, a.errorType])).toEqual([
      [0, 'initial', 'server_error'],
      [1, 'retry', undefined],
    ]);
    expect(clock.sleeps).toEqual([]);
    expect([hits('east'), hits('west')]).toEqual([1, 1]);
    expect(res.tier).toBe('full');
    // Told as a retry with no wait, the resend counted.
    expect(rec.events.filter((e) => e.type === 'retry')).toEqual([{ type: 'retry', delayMs: 0, reason: 'server_error', retryAfterMs: undefined }]);
    expect(rec.events.filter((e) => e.type === 'attempt').map((e) => e.resendCount)).toEqual([0, 1]);
    expect(rec.events.find((e) => e.type === 'end')).toMatchObject({ retries: 1, hops: 0 });
  });

  it('when every member has failed once, the last one backs off and retries', async () => {
    const { llm, clock } = poolChain(['east', 'west'], { strategy: 'weighted', random: () => 0 }, { retry: { maxAttempts: 2, baseDelayMs: 400 } });
    server.script({ route: 'east' }, { sequence: [fault.serverError(500)] });
    server.script({ route: 'west' }, { sequence: [fault.serverError(503)] });
    const res = await llm.chat(ask);
    expect(res.attempts.map((a) => [a.member, a.kind, a.errorType])).toEqual([
      [0, 'initial', 'server_error'],
      [1, 'retry', 'server_error'],
      [1, 'retry', undefined],
    ]);
    expect(clock.sleeps).toHaveLength(1);
    expect(res.attempts[1]!.delayMs).toBe(clock.sleeps[0]);
  });

  it('falls through to the next position only when every member has failed, then skips open members without a call', async () => {
    const { llm, rec } = poolChain(['east', 'west'], { strategy: 'least-busy' }, { withBackup: true, retry: { maxAttempts: 1 }, breaker: { consecutiveFailures: 1 } });
    server.script({ route: 'east' }, { then: fault.serverError(500) });
    server.script({ route: 'west' }, { then: fault.serverError(502) });
    const first = await llm.chat(ask);
    expect(first.attempts.map((a) => [a.targetIndex, a.member, a.kind])).toEqual([
      [0, expect.any(Number), 'initial'],
      [0, expect.any(Number), 'retry'],
      [1, undefined, 'fallback'],
    ]);
    expect(new Set(first.attempts.slice(0, 2).map((a) => a.member))).toEqual(new Set([0, 1]));
    expect(first.fallbackUsed).toBe(true);
    expect(llm.health().pools?.[0]?.members.map((m) => m.state)).toEqual(['open', 'open']);

    rec.events.length = 0;
    const second = await llm.chat(ask);
    expect(second.attempts.map((a) => [a.targetIndex, a.kind])).toEqual([[1, 'fallback']]);
    expect([hits('east'), hits('west'), hits('backup')]).toEqual([1, 1, 2]);
    expect(rec.events.filter((e) => e.type === 'rejected').map((e) => e.breaker).sort()).toEqual(['gpt-4o@east', 'gpt-4o@west']);
    expect(rec.events.filter((e) => e.type === 'fallback')).toEqual([{ type: 'fallback', from: 'openai/gpt-4o', to: 'anthropic/claude-sonnet-4-6', reason: 'circuit_open' }]);
  });

  it('a member with an open breaker is not picked while another is closed', async () => {
    const { llm } = poolChain(['east', 'west'], { strategy: 'weighted', random: () => 0 }, { retry: { maxAttempts: 1 }, breaker: { consecutiveFailures: 1 } });
    server.script({ route: 'east' }, { sequence: [fault.serverError(500)] });
    await llm.chat(ask); // east fails (opens), west answers
    for (let i = 0; i < 5; i++) expect((await llm.chat(ask)).target.member).toBe(1);
    expect(hits('east')).toBe(1);
  });

  it('a bad request fails at once: no other member is tried', async () => {
    const { llm } = poolChain(['east', 'west'], { strategy: 'weighted', random: () => 0 });
    server.script({ route: 'east' }, { then: fault.badRequest() });
    await expect(llm.chat(ask)).rejects.toMatchObject({ errorType: 'bad_request' });
    expect([hits('east'), hits('west')]).toEqual([1, 0]);
  });
});

describe('streams through pools', () => {
  it('a stream whose member fails before the first chunk is retried on another member and streams its answer', async () => {
    const { llm } = poolChain(['east', 'west'], { strategy: 'weighted', random: () => 0 });
    server.script({ route: 'east' }, { sequence: [fault.serverError(503)] });
    server.script({ route: 'west' }, { then: fault.ok({ text: 'streamed by west' }) });
    const s = llm.stream(ask);
    let text = '';
    for await (const ev of s) if (ev.type === 'text') text += ev.delta;
    const res = await s.result;
    expect(text).toBe('streamed by west');
    expect(res.attempts.map((a) => [a.member, a.kind, a.errorType])).toEqual([
      [0, 'initial', 'server_error'],
      [1, 'retry', undefined],
    ]);
    expect(server.requests.filter((r) => r.route === 'west').every((r) => r.stream)).toBe(true);
  });
});

describe('latency', () => {
  it('moves off a member that turned slow, and back once it is fast again', async () => {
    const { llm, clock, wires } = poolChain(['east', 'west'], { strategy: 'latency', latency: { tolerance: 0.25, windowMs: 10_000 } });
    wires.east.latencyMs = 100;
    wires.west.latencyMs = 100;
    const run = async (n: number) => {
      const by: number[] = [];
      for (let i = 0; i < n; i++) by.push((await llm.chat(ask)).target.member!);
      return by;
    };
    // Both equally fast: both in the band, both answer.
    const even = await run(20);
    expect(even.filter((m) => m === 1).length).toBeGreaterThan(3);
    expect(even.filter((m) => m === 0).length).toBeGreaterThan(3);

    // West turns slow (10×). Once both have `minSamples` (5) samples in the window, west is out of the band.
    clock.advance(20_000);
    wires.west.latencyMs = 1_000;
    const slow = await run(40);
    const measured = Math.max(slow.indexOf(0), slow.lastIndexOf(1)) + 1;
    expect(slow.filter((m) => m === 1)).toHaveLength(5);
    expect(slow.slice(measured)).not.toContain(1);
    expect(slow.slice(measured).length).toBeGreaterThan(15);
    const members = llm.health().pools![0]!.members;
    expect(members.map((m) => m.recentP50Ms)).toEqual([100, 1_000]);
    expect(members.map((m) => m.latencyScoreMs)).toEqual([100, 1_000]);

    // West is fast again; its slow sample ages out of the window, it is measured again and shares.
    wires.west.latencyMs = 100;
    clock.advance(20_000);
    const back = await run(20);
    expect(back.filter((m) => m === 1).length).toBeGreaterThan(3);
    expect(llm.health().pools![0]!.members.map((m) => m.recentP50Ms)).toEqual([100, 100]);
  });
});

describe('cost', () => {
  it('sends every request to the cheapest healthy member, the next cheapest once it opens', async () => {
    const clock = createFakeClock(1_000_000);
    const priced = (route: Route, inputPerMTok: number) =>
      openaiTarget({
        client: new OpenAI({ apiKey: 'sk-test-pool-0123456789', baseURL: server.baseURL('openai', route) }),
        model: 'gpt-4o',
        breakerKey: `gpt-4o@${route}`,
        pricing: { inputPerMTok, outputPerMTok: inputPerMTok * 4 },
      });
    const llm = createResilientLLM({
      name: 'cheap',
      targets: [pool({ name: 'gpt-4o', strategy: 'cost', members: [priced('east', 5), priced('west', 1), priced('north', 2)], random: seeded(3) })],
      clock,
      telemetry: false,
      retry: { maxAttempts: 1 },
      breaker: { consecutiveFailures: 1 },
    });
    for (let i = 0; i < 5; i++) expect((await llm.chat(ask)).target.member).toBe(1);
    server.script({ route: 'west' }, { then: fault.serverError(500) });
    // West fails (its breaker opens): the retry goes to the next cheapest, north.
    expect((await llm.chat(ask)).target.member).toBe(2);
    for (let i = 0; i < 5; i++) expect((await llm.chat(ask)).target.member).toBe(2);
    expect([hits('east'), hits('west'), hits('north')]).toEqual([0, 6, 6]);
  });
});
