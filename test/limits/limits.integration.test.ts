/**
 * Limits and the providers' rate-limit headers, through the official clients against the fault
 * server, on one virtual clock shared by the engine and the server's windows: no sleeps, no
 * timing thresholds.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { createResilientLLM, type ResilientLLM } from '../../src/createResilientLLM.js';
import type { ResilientLLMOptions } from '../../src/config/types.js';
import { ConfigError } from '../../src/errors/bulwarkError.js';
import type { FallbackHop, LimitHeaderError } from '../../src/events/engineObserver.js';
import type { TargetLimits } from '../../src/providers/adapter.js';
import { anthropicTarget, openaiTarget } from '../../src/providers/index.js';
import { pool } from '../../src/pool/pool.js';
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText } from 'ai';
import { aiSdkTarget, bulwarkModel } from '../../src/ai-sdk/index.js';
import { fault, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { createFakeClock, type FakeClock } from '../support/fakeClock.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const ask = { messages: [{ role: 'user' as const, content: 'Summarise today' }] };

let server: FaultServer | undefined;
const llms: ResilientLLM[] = [];
afterEach(async () => {
  await Promise.all(llms.splice(0).map((l) => l.close()));
  await server?.close();
  server = undefined;
});

interface Setup {
  server: FaultServer;
  clock: FakeClock;
  llm: ResilientLLM;
  hops: FallbackHop[];
  headerErrors: LimitHeaderError[];
}

/** primary (OpenAI) → backup (Anthropic), the server's windows on the engine's clock. */
async function setup(options: { primary?: TargetLimits; backup?: TargetLimits; serverSleep?: FakeClock; backupFirst?: boolean } & Partial<ResilientLLMOptions> = {}): Promise<Setup> {
  const clock = createFakeClock(T0);
  const { primary, backup, serverSleep, backupFirst, ...rest } = options;
  server = await startFaultServer({ seed: 5, now: clock.now, ...(serverSleep && { sleep: serverSleep.sleep }) });
  const hops: FallbackHop[] = [];
  const headerErrors: LimitHeaderError[] = [];
  const targets = [
    openaiTarget({ client: new OpenAI({ apiKey: 'sk-test', baseURL: server.baseURL('openai', 'primary') }), model: 'gpt-4o', ...(primary && { limits: primary }) }),
    anthropicTarget({ client: new Anthropic({ apiKey: 'sk-ant-test', baseURL: server.baseURL('anthropic', 'backup') }), model: 'claude-sonnet-4-6', ...(backup && { limits: backup }) }),
  ];
  const llm = createResilientLLM({
    name: 'limits',
    targets: backupFirst ? targets.reverse() : targets,
    clock,
    telemetry: false,
    retry: { maxAttempts: 1 },
    degrade: { staticReply: 'Busy, try again shortly.' },
    observers: [{ onRequestStart: () => ({ onFallback: (hop) => hops.push(hop) }), onLimitHeaderError: (e) => headerErrors.push(e) }],
    ...rest,
  });
  llms.push(llm);
  return { server, clock, llm, hops, headerErrors };
}

const statuses = (s: FaultServer, route: string) => s.requests.filter((r) => r.route === route).map((r) => r.status);

describe('limits: a target at its limit is skipped, not failed', () => {
  it('rpm: past the limit the request goes to the next target at once, and the provider never answers 429', async () => {
    const { server, clock, llm, hops } = await setup({ primary: { rpm: 3 } });
    // The provider enforces the same limit: a call Bulwark let through past it would be a 429.
    const provider = server.limit({ route: 'primary' }, { rpm: 3 });

    const answered = [];
    for (let i = 0; i < 5; i++) answered.push((await llm.chat(ask)).target.index);
    expect(answered).toEqual([0, 0, 0, 1, 1]);
    expect(provider.refused).toBe(0);
    expect(statuses(server, 'primary')).toEqual([200, 200, 200]);
    expect(hops.map((h) => h.reason)).toEqual(['limited', 'limited']);
    const limited = llm.health().targets[0]!.limits!;
    expect(limited.availability).toBe('limited');
    expect(limited.remaining).toContainEqual({ kind: 'requests', source: 'local', remaining: 0, limit: 3 });

    // The window slides: 60 s after the first call, the primary takes traffic again.
    clock.advance(60_000);
    expect((await llm.chat(ask)).target.index).toBe(0);
    expect(provider.refused).toBe(0);
  });

  it('tpm: a call is charged its estimate, then corrected to the usage it reported', async () => {
    const { server, llm } = await setup({ primary: { tpm: 100 } });
    // 'Summarise today' is estimated at ceil((16 + 15) / 4) = 8 tokens; the answer reports 90 output tokens.
    server.script({ route: 'primary' }, { then: fault.ok({ usage: { inputTokens: 5, outputTokens: 90 } }) });
    const first = await llm.chat(ask);
    expect(first.target.index).toBe(0);
    expect(llm.health().targets[0]!.limits!.remaining).toContainEqual({ kind: 'tokens', source: 'local', remaining: 5, limit: 100 });
    // Charged the estimate alone (8) the second call would fit; corrected (95), it does not.
    const second = await llm.chat(ask);
    expect(second.target.index).toBe(1);
    expect(server.hits({ route: 'primary' })).toBe(1);
  });

  it('maxConcurrent: while the primary holds its only slot, a second request goes to the backup', async () => {
    const serverClock = createFakeClock(T0, { sleep: 'wait' });
    const { server, llm } = await setup({ primary: { maxConcurrent: 1 }, serverSleep: serverClock });
    const held = server.script({ route: 'primary' }, { latency: 1_000 });
    const slow = llm.chat(ask);
    while (serverClock.pendingTimers() === 0) await new Promise((r) => setImmediate(r));
    expect(llm.health().targets[0]!.limits!.remaining).toContainEqual({ kind: 'concurrent', source: 'local', remaining: 0, limit: 1 });

    const second = await llm.chat(ask);
    expect(second.target.index).toBe(1);
    await serverClock.advanceAsync(1_000);
    expect((await slow).target.index).toBe(0);
    expect(server.hits({ route: 'primary' })).toBe(1);
    // The slot is free again.
    held.remove();
    expect((await llm.chat(ask)).target.index).toBe(0);
  });

  it('queueMs: a request that finds every target limited waits for capacity, then is answered', async () => {
    const { server, clock, llm } = await setup({ primary: { rpm: 1, queueMs: 90_000 }, backup: { rpm: 1 } });
    await llm.chat(ask);
    clock.advance(10_000);
    await llm.chat(ask);
    const before = clock.now();
    const third = await llm.chat(ask);
    // The primary's call leaves its window 60 s after it was made: 50 s from here.
    expect(clock.now() - before).toBe(50_000);
    expect(third.target.index).toBe(0);
    expect(third.tier).toBe('full');
    expect(server.hits()).toBe(3);
  });

  it('queueMs: when no capacity comes in time, the request degrades like an exhausted chain, with no upstream call', async () => {
    const { server, clock, llm } = await setup({ primary: { rpm: 1, queueMs: 5_000 }, backup: { rpm: 1 }, cache: false });
    await llm.chat(ask);
    await llm.chat(ask);
    const before = clock.now();
    const third = await llm.chat(ask);
    expect(clock.now() - before).toBe(5_000);
    expect(third.tier).toBe('static');
    expect(third.text).toBe('Busy, try again shortly.');
    expect(server.hits()).toBe(2);
  });

  it('without queueMs and without degradation, a fully limited chain fails as rate_limited at once', async () => {
    const { llm, clock } = await setup({ primary: { rpm: 1 }, backup: { rpm: 1 }, degrade: { enabled: false } });
    await llm.chat(ask);
    await llm.chat(ask);
    const before = clock.now();
    await expect(llm.chat(ask)).rejects.toMatchObject({ errorType: 'rate_limited' });
    expect(clock.now()).toBe(before);
  });
});

describe("rate-limit headers: traffic moves before the provider's 429", () => {
  it('OpenAI x-ratelimit-*: a primary whose remaining falls under lowRemaining is tried after the backup; none of its calls gets a 429', async () => {
    const { server, clock, llm, hops } = await setup({ rateLimitHeaders: { lowRemaining: 0.25 } });
    // Bulwark is not told the limit: only the provider's headers say it.
    const provider = server.limit({ route: 'primary' }, { rpm: 20 });
    const answered = [];
    for (let i = 0; i < 30; i++) answered.push((await llm.chat(ask)).target.index);
    // After the 16th call 4 of 20 are left (< 25 %): the rest go to the backup first.
    expect(answered.filter((i) => i === 0)).toHaveLength(16);
    expect(answered.slice(16).every((i) => i === 1)).toBe(true);
    expect(provider.refused).toBe(0);
    expect(hops).toEqual([]); // deferred, not failed: the backup was simply tried first
    expect(llm.health().targets[0]!.limits!.remaining).toContainEqual({ kind: 'requests', source: 'provider', remaining: 4, limit: 20 });

    // After the reset the headers no longer hold it back.
    clock.advance(60_000);
    expect((await llm.chat(ask)).target.index).toBe(0);
  });

  it('Anthropic anthropic-ratelimit-*: at 0 remaining the target is skipped as limited until the reset (default lowRemaining)', async () => {
    const { server, clock, llm, hops } = await setup({ backupFirst: true });
    const provider = server.limit({ route: 'backup' }, { rpm: 5 });
    const answered = [];
    for (let i = 0; i < 8; i++) answered.push((await llm.chat(ask)).target.index);
    expect(answered).toEqual([0, 0, 0, 0, 0, 1, 1, 1]);
    expect(provider.refused).toBe(0);
    expect(hops.map((h) => h.reason)).toEqual(['limited', 'limited', 'limited']);
    clock.advance(60_000);
    expect((await llm.chat(ask)).target.index).toBe(0);
    expect(provider.refused).toBe(0);
  });

  it('streams read the headers too', async () => {
    const { server, llm } = await setup();
    const provider = server.limit({ route: 'primary' }, { rpm: 3 });
    const answered = [];
    for (let i = 0; i < 5; i++) {
      let text = '';
      for await (const event of llm.stream(ask)) if (event.type === 'text') text += event.delta;
      expect(text).toMatch(/^Mock reply from (primary|backup)/);
      answered.push(text.includes('primary') ? 0 : 1);
    }
    expect(answered).toEqual([0, 0, 0, 1, 1]);
    expect(provider.refused).toBe(0);
  });

  it('garbage header values are ignored and counted, never trusted', async () => {
    const { server, llm, headerErrors } = await setup();
    server.script(
      { route: 'primary' },
      {
        then: fault.ok({
          headers: {
            'x-ratelimit-limit-requests': '100',
            'x-ratelimit-remaining-requests': 'banana',
            'x-ratelimit-reset-requests': '1s',
            'x-ratelimit-limit-tokens': '1000',
            'x-ratelimit-remaining-tokens': '0',
            'x-ratelimit-reset-tokens': '-3s',
          },
        }),
      },
    );
    const answered = [];
    for (let i = 0; i < 3; i++) answered.push((await llm.chat(ask)).target.index);
    // Remaining tokens 0 would hold the primary back, but its reset is garbage: the report is not trusted.
    expect(answered).toEqual([0, 0, 0]);
    expect(headerErrors).toEqual(
      Array.from({ length: 3 }, () => [
        { breaker: 'openai/gpt-4o', header: 'x-ratelimit-remaining-requests' },
        { breaker: 'openai/gpt-4o', header: 'x-ratelimit-reset-tokens' },
      ]).flat(),
    );
    expect(llm.health().targets[0]!.limits).toBeUndefined();
  });

  it('remaining above its limit is garbage too', async () => {
    const { server, llm, headerErrors } = await setup();
    server.script(
      { route: 'primary' },
      { then: fault.ok({ headers: { 'x-ratelimit-limit-requests': '10', 'x-ratelimit-remaining-requests': '11', 'x-ratelimit-reset-requests': '6m0s' } }) },
    );
    await llm.chat(ask);
    expect(headerErrors).toEqual([{ breaker: 'openai/gpt-4o', header: 'x-ratelimit-remaining-requests' }]);
  });

  it('rateLimitHeaders: false ignores the headers (still counting garbage)', async () => {
    const { server, llm } = await setup({ rateLimitHeaders: false });
    const provider = server.limit({ route: 'primary' }, { rpm: 2 });
    const first = await llm.chat(ask);
    const second = await llm.chat(ask);
    const third = await llm.chat(ask);
    expect([first, second, third].map((r) => r.target.index)).toEqual([0, 0, 1]);
    // Without the headers the third call reached the provider and got its 429.
    expect(provider.refused).toBe(1);
  });
});

describe('limits: bad configuration', () => {
  const target = (limits: unknown) => () =>
    openaiTarget({ client: new OpenAI({ apiKey: 'sk-test' }), model: 'gpt-4o', limits: limits as TargetLimits });
  it.each([
    [{ rpm: 0 }, 'openaiTarget.limits.rpm'],
    [{ tpm: -5 }, 'openaiTarget.limits.tpm'],
    [{ rpm: Number.POSITIVE_INFINITY }, 'openaiTarget.limits.rpm'],
    [{ maxConcurrent: 1.5 }, 'openaiTarget.limits.maxConcurrent'],
    [{ maxConcurrent: 0 }, 'openaiTarget.limits.maxConcurrent'],
    [{ queueMs: -1 }, 'openaiTarget.limits.queueMs'],
    [{ rpn: 10 }, 'openaiTarget.limits.rpn'],
  ])('%o → ConfigError naming %s', (limits, field) => {
    expect(target(limits)).toThrow(ConfigError);
    expect(target(limits)).toThrow(field);
  });

  it.each([
    ['anthropicTarget', () => anthropicTarget({ client: new Anthropic({ apiKey: 'sk-ant-test' }), model: 'claude-sonnet-4-6', limits: { tpm: 0 } }), 'anthropicTarget.limits.tpm'],
    ['anthropicTarget', () => anthropicTarget({ client: new Anthropic({ apiKey: 'sk-ant-test' }), model: 'claude-sonnet-4-6', limits: { rpm: Number.NaN } }), 'anthropicTarget.limits.rpm'],
    ['aiSdkTarget', () => aiSdkTarget({ model: createOpenAI({ apiKey: 'sk-test' }).chat('gpt-4o'), limits: { maxConcurrent: -2 } }), 'aiSdkTarget.limits.maxConcurrent'],
    ['aiSdkTarget', () => aiSdkTarget({ model: createOpenAI({ apiKey: 'sk-test' }).chat('gpt-4o'), limits: { rpm: '60' as never } }), 'aiSdkTarget.limits.rpm'],
  ])('%s limits ≤ 0, non-finite or not a number → ConfigError naming %s', (_, build, field) => {
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(field);
  });

  it('rateLimitHeaders.lowRemaining outside [0, 1] → ConfigError naming it', () => {
    expect(() =>
      createResilientLLM({ name: 'x', targets: [target({})()], rateLimitHeaders: { lowRemaining: 1.5 } }),
    ).toThrow(/rateLimitHeaders\.lowRemaining/);
  });
});

describe('limits and hedging', () => {
  /**
   * primary → backup, hedged after 200 ms: the first request fails on the primary and is answered by
   * the backup (using its rpm when it has one); the second is held by the primary (the server's
   * virtual latency) past the hedge delay.
   */
  async function hedged(backup: TargetLimits | undefined): Promise<{ server: FaultServer; index: number }> {
    const serverClock = createFakeClock(T0, { sleep: 'wait' });
    const { server, clock, llm } = await setup({ ...(backup && { backup }), serverSleep: serverClock, hedge: { after: 200, budgetRatio: 1 } });
    server.script({ route: 'primary' }, { sequence: [fault.serverError(500)] });
    expect((await llm.chat(ask)).target.index).toBe(1);
    server.script({ route: 'primary' }, { latency: 1_000 });
    const pending = llm.chat(ask);
    while (serverClock.pendingTimers() === 0) await new Promise((r) => setImmediate(r));
    await clock.advanceAsync(200);
    await serverClock.advanceAsync(1_000);
    return { server, index: (await pending).target.index };
  }

  it('without limits, the slow primary is hedged on the backup, which wins', async () => {
    const { server, index } = await hedged(undefined);
    expect(index).toBe(1);
    expect(server.hits({ route: 'backup' })).toBe(2);
  });

  it('a hedge is one more call: a backup at its limits gets none, and the primary answers', async () => {
    const { server, index } = await hedged({ rpm: 1 });
    expect(index).toBe(0);
    expect(server.hits({ route: 'backup' })).toBe(1);
  });
});

describe('limits in a pool', () => {
  it('a member at its rpm is skipped (limited) and its peer serves, before any 429', async () => {
    const clock = createFakeClock(T0);
    server = await startFaultServer({ seed: 9, now: clock.now });
    const member = (route: string, limits?: TargetLimits) =>
      openaiTarget({ client: new OpenAI({ apiKey: 'sk-test', baseURL: server!.baseURL('openai', route) }), model: 'gpt-4o', breakerKey: route, ...(limits && { limits }) });
    const llm = createResilientLLM({
      name: 'limits-pool',
      // random 0: the weighted strategy would always pick the first member.
      targets: [pool({ name: 'gpt-4o', members: [member('east', { rpm: 2 }), member('west')], random: () => 0 })],
      clock,
      telemetry: false,
      retry: { maxAttempts: 1 },
    });
    llms.push(llm);
    const east = server.limit({ route: 'east' }, { rpm: 2 });
    const west = server.limit({ route: 'west' }, { rpm: 4 });
    for (let i = 0; i < 5; i++) await llm.chat(ask);
    // east takes its 2, then is limited: west answers the rest.
    expect([server.hits({ route: 'east' }), server.hits({ route: 'west' })]).toEqual([2, 3]);
    expect(east.refused + west.refused).toBe(0);

    // A minute later both windows are free: east (first, with headroom) serves again.
    clock.advance(60_000);
    await llm.chat(ask);
    expect(server.hits({ route: 'east' })).toBe(3);
  });
});

describe('a pool whose every member is limited', () => {
  /** pool(east, west) [→ backup], each member at rpm 1, the server enforcing the same windows on the engine's clock. */
  async function limitedPool(options: { queueMs: number; backup?: boolean }) {
    const clock = createFakeClock(T0);
    server = await startFaultServer({ seed: 11, now: clock.now });
    const hops: FallbackHop[] = [];
    const member = (route: string) =>
      openaiTarget({ client: new OpenAI({ apiKey: 'sk-test', baseURL: server!.baseURL('openai', route) }), model: 'gpt-4o', breakerKey: route, limits: { rpm: 1, queueMs: options.queueMs } });
    const targets = [
      // random 0: the weighted strategy picks the first member it may.
      pool({ name: 'gpt-4o', members: [member('east'), member('west')], random: () => 0 }),
      ...(options.backup
        ? [anthropicTarget({ client: new Anthropic({ apiKey: 'sk-ant-test', baseURL: server.baseURL('anthropic', 'backup') }), model: 'claude-sonnet-4-6', limits: { rpm: 1 } })]
        : []),
    ];
    const llm = createResilientLLM({
      name: 'limited-pool',
      targets,
      clock,
      telemetry: false,
      cache: false,
      retry: { maxAttempts: 1 },
      degrade: { staticReply: 'Busy, try again shortly.' },
      observers: [{ onRequestStart: () => ({ onFallback: (hop) => hops.push(hop) }) }],
    });
    llms.push(llm);
    const provider = [server.limit({ route: 'east' }, { rpm: 1 }), server.limit({ route: 'west' }, { rpm: 1 }), server.limit({ route: 'backup' }, { rpm: 1 })];
    return { clock, llm, hops, refused: () => provider.reduce((n, p) => n + p.refused, 0) };
  }

  it('waits up to queueMs for capacity and is answered by the member whose window frees first', async () => {
    const { clock, llm, hops, refused } = await limitedPool({ queueMs: 90_000 });
    expect((await llm.chat(ask)).target.member).toBe(0);
    clock.advance(10_000);
    // east is limited now: west serves (a move inside the pool, not a hop).
    expect((await llm.chat(ask)).target.member).toBe(1);
    const before = clock.now();
    const third = await llm.chat(ask);
    // east's call leaves its window 60 s after it was made: 50 s from here; then east answers.
    expect(clock.now() - before).toBe(50_000);
    expect(third.target.member).toBe(0);
    expect(third.tier).toBe('full');
    expect([server!.hits({ route: 'east' }), server!.hits({ route: 'west' })]).toEqual([2, 1]);
    expect(refused()).toBe(0);
    expect(hops).toEqual([]);
  });

  it('without capacity in time, degrades like an exhausted chain with no upstream call; the hop off the pool is a `limited` skip', async () => {
    const { clock, llm, hops, refused } = await limitedPool({ queueMs: 5_000, backup: true });
    const served = [];
    for (let i = 0; i < 3; i++) served.push((await llm.chat(ask)).target);
    expect(served.map((t) => [t.index, t.member])).toEqual([
      [0, 0],
      [0, 1],
      [1, undefined],
    ]);
    // The third request found both members limited: off the pool to the backup, reason `limited`.
    expect(hops.map((h) => [h.from.pool, h.to.index, h.reason])).toEqual([['gpt-4o', 1, 'limited']]);
    hops.length = 0;

    const before = clock.now();
    const fourth = await llm.chat(ask);
    expect(clock.now() - before).toBe(5_000);
    expect(fourth.tier).toBe('static');
    expect(fourth.text).toBe('Busy, try again shortly.');
    expect(server!.hits()).toBe(3);
    expect(refused()).toBe(0);
    // Skipped in both passes (before and after the wait): one fallback, not one per pass.
    expect(hops.map((h) => [h.from.pool, h.to.index, h.reason])).toEqual([['gpt-4o', 1, 'limited']]);
  });
});

describe('rate-limit headers through AI SDK targets', () => {
  /** primary and backup as AI SDK models (@ai-sdk/openai, @ai-sdk/anthropic) over the fault server, the chain driven by `ai` through bulwarkModel. */
  async function aiSdkChain(options: { anthropicFirst?: boolean } = {}) {
    const clock = createFakeClock(T0);
    server = await startFaultServer({ seed: 21, now: clock.now });
    const hops: FallbackHop[] = [];
    const openai = aiSdkTarget({ model: createOpenAI({ apiKey: 'sk-test', baseURL: server.baseURL('openai', 'oai') }).chat('gpt-4o') });
    const anthropic = aiSdkTarget({ model: createAnthropic({ apiKey: 'sk-ant-test', baseURL: `${server.baseURL('anthropic', 'ant')}/v1` })('claude-sonnet-4-6') });
    const llm = createResilientLLM({
      name: 'limits-ai-sdk',
      targets: options.anthropicFirst ? [anthropic, openai] : [openai, anthropic],
      clock,
      telemetry: false,
      retry: { maxAttempts: 1 },
      rateLimitHeaders: { lowRemaining: 0.25 },
      observers: [{ onRequestStart: () => ({ onFallback: (hop) => hops.push(hop) }) }],
    });
    llms.push(llm);
    return { server, clock, llm, hops };
  }

  it("@ai-sdk/openai under generateText: x-ratelimit-* under lowRemaining moves traffic to the backup before the provider's 429", async () => {
    const { server, clock, llm, hops } = await aiSdkChain();
    const provider = server.limit({ route: 'oai' }, { rpm: 20 });
    const model = bulwarkModel(llm);
    const answered = [];
    for (let i = 0; i < 30; i++) {
      const { text } = await generateText({ model, prompt: 'Summarise today', maxRetries: 0 });
      answered.push(/from ant/.test(text) ? 1 : 0);
    }
    // After the 16th call 4 of 20 are left (< 25 %): the rest go to the backup first.
    expect(answered.filter((i) => i === 0)).toHaveLength(16);
    expect(answered.slice(16).every((i) => i === 1)).toBe(true);
    expect(provider.refused).toBe(0);
    expect(hops).toEqual([]);
    expect(llm.health().targets[0]!.limits!.remaining).toContainEqual({ kind: 'requests', source: 'provider', remaining: 4, limit: 20 });
    clock.advance(60_000);
    const { text } = await generateText({ model, prompt: 'Summarise today', maxRetries: 0 });
    expect(text).toMatch(/from oai/);
  });

  it('@ai-sdk/anthropic under streamText: anthropic-ratelimit-* at 0 remaining skips the target (limited) until the reset', async () => {
    const { server, clock, llm, hops } = await aiSdkChain({ anthropicFirst: true });
    const provider = server.limit({ route: 'ant' }, { rpm: 3 });
    const model = bulwarkModel(llm);
    const answered = [];
    for (let i = 0; i < 5; i++) {
      const result = streamText({ model, prompt: 'Summarise today', maxRetries: 0 });
      answered.push(/from ant/.test(await result.text) ? 0 : 1);
    }
    expect(answered).toEqual([0, 0, 0, 1, 1]);
    expect(provider.refused).toBe(0);
    expect(hops.map((h) => h.reason)).toEqual(['limited', 'limited']);
    clock.advance(60_000);
    expect(await streamText({ model, prompt: 'Summarise today', maxRetries: 0 }).text).toMatch(/from ant/);
  });
});
