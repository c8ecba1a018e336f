/**
 * A pool member that turns slow on a share of its calls, through the official client against the
 * fault server's latency distributions: the latency strategy's score must see a 10 % stall (the
 * median does not), move traffic off that member, bring it back once it has recovered, and not
 * herd between two healthy members. The server and the engine share one fake clock (the server's
 * `sleep` waits on it), so every latency is exact virtual time and the run replays from its seed;
 * the driver moves the clock from one pending timer to the next, each time waiting for what the
 * timer sets off over real HTTP (an answer reaching the caller, or a hedge reaching the server).
 */
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { createResilientLLM, type ResilientLLM } from '../../src/createResilientLLM.js';
import type { ResilientLLMOptions } from '../../src/config/types.js';
import { pool, type PoolOptions } from '../../src/pool/pool.js';
import { openaiTarget } from '../../src/providers/index.js';
import { fault, startFaultServer, type FaultServer, type Latency } from '../../src/testing/index.js';
import { createFakeClock, type FakeClock } from '../support/fakeClock.js';
import { ask, OPENAI_KEY } from './setup.js';
import { createRandom } from '../../src/testing/random.js';

const STALL_MS = 3_000;
/** 90 % of calls after 100 ms, 10 % after 3 s. */
const STALLING: Latency = { kind: 'mixture', parts: [{ probability: 0.9, latency: 100 }, { probability: 0.1, latency: STALL_MS }] };
const MEMBERS = ['slowing', 'steady'] as const;

interface Rig {
  server: FaultServer;
  clock: FakeClock;
  llm: ResilientLLM;
}

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.llm.close();
  await rig?.server.close();
  rig = undefined;
});

/** A pool of two OpenAI deployments, member 0 on route 'slowing', member 1 on route 'steady'. */
async function poolRig(latency: Record<(typeof MEMBERS)[number], Latency>, poolOptions: Partial<PoolOptions> = {}, options: Partial<ResilientLLMOptions> = {}): Promise<Rig> {
  const clock = createFakeClock(Date.now(), { sleep: 'wait' });
  const server = await startFaultServer({ seed: 15, now: clock.now, sleep: clock.sleep });
  for (const route of MEMBERS) server.script({ route }, { latency: latency[route], then: fault.ok() });
  const source = createRandom(7);
  const llm = createResilientLLM({
    name: 'pool-tail',
    telemetry: false,
    clock,
    retry: { maxAttempts: 1 },
    targets: [
      pool({
        name: 'gpt-4o',
        strategy: 'latency',
        random: () => source.next(),
        members: MEMBERS.map((route) => openaiTarget({ client: new OpenAI({ apiKey: OPENAI_KEY, baseURL: server.baseURL('openai', route) }), model: 'gpt-4o', breakerKey: route })),
        ...poolOptions,
      }),
    ],
    ...options,
  });
  rig = { server, clock, llm };
  return rig;
}

interface Answered {
  member: number;
  ms: number;
}

/** `n` sequential requests on virtual time: the member that answered each and how long it took. */
async function run({ server, clock, llm }: Rig, n: number): Promise<Answered[]> {
  const out: Answered[] = [];
  const seen = () => server.requests.length;
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  for (let i = 0; i < n; i++) {
    const startedAt = clock.now();
    let settled = false;
    const pending = llm.chat(ask).finally(() => (settled = true));
    // Nothing happens on virtual time until the request has reached the server.
    let calls = seen() + 1;
    while (seen() < calls) await tick();
    while (!settled) {
      const next = clock.nextTimerAt();
      if (next === undefined) throw new Error('a request is pending with no timer to move the clock to');
      clock.advanceTo(next);
      // Waits for what the timer set off: the answer reaching the caller, or a hedge reaching the server.
      calls = seen() + 1;
      while (!settled && seen() < calls) await tick();
    }
    const res = await pending;
    out.push({ member: res.target.member!, ms: clock.now() - startedAt });
    // A cancelled call's connection is closed (and its server-side wait with it) before the next request.
    await server.idle();
  }
  return out;
}

const calls = (server: FaultServer, route: string) => server.hits({ route });
const scores = (llm: ResilientLLM) => llm.health().pools![0]!.members.map((m) => m.latencyScoreMs);

describe('latency strategy against a member that stalls on 10 % of its calls (fault server, virtual time)', () => {
  it('the weighted split keeps sending it half the traffic and its stalls; the latency strategy moves off it, and back once it recovers', async () => {
    // The same member, the same seed, split 50/50: the stalls the latency strategy has to avoid.
    const weighted = await poolRig({ slowing: STALLING, steady: 100 }, { strategy: 'weighted' });
    const even = await run(weighted, 200);
    const stalledEven = even.filter((a) => a.ms === STALL_MS).length;
    expect(stalledEven).toBeGreaterThan(4);
    expect(even.filter((a) => a.member === 0).length).toBeGreaterThan(60);
    // Its median is the healthy members': a p50 score would keep it in the band.
    expect(weighted.llm.health().pools![0]!.members.map((m) => m.recentP50Ms)).toEqual([100, 100]);
    await weighted.llm.close();
    await weighted.server.close();

    const r = await poolRig({ slowing: STALLING, steady: 100 });
    const answered = await run(r, 200);
    // Every stall is a request on member 0; after the last one it gets no more traffic in the window.
    const lastStall = answered.map((a) => a.ms).lastIndexOf(STALL_MS);
    expect(lastStall).toBeGreaterThanOrEqual(0);
    expect(answered[lastStall]!.member).toBe(0);
    const after = answered.slice(lastStall + 1);
    expect(after.length).toBeGreaterThan(150);
    expect(after.every((a) => a.member === 1 && a.ms === 100)).toBe(true);
    expect(answered.filter((a) => a.ms === STALL_MS).length).toBeLessThan(stalledEven);
    // Its score is its p95 — the stall — and the steady member's is 100 ms.
    expect(scores(r.llm)).toEqual([STALL_MS, 100]);

    // It recovers. Once its samples have aged out of the window (60 s), it is measured again and shares the traffic.
    r.server.script({ route: 'slowing' }, { latency: 100, then: fault.ok() });
    r.clock.advance(60_000);
    const before = calls(r.server, 'slowing');
    const back = await run(r, 60);
    expect(calls(r.server, 'slowing') - before).toBeGreaterThan(15);
    expect(back.every((a) => a.ms === 100)).toBe(true);
    expect(scores(r.llm)).toEqual([100, 100]);
  });

  it('with hedging, its stalled calls are cancelled when the hedge answers: their wait still counts, and routing moves off it', async () => {
    const r = await poolRig({ slowing: STALLING, steady: 100 }, { hedge: { after: 250, budgetRatio: 1 } });
    const answered = await run(r, 200);
    // A stalled call is hedged after 250 ms on the steady member, which answers 100 ms later.
    expect(answered.every((a) => a.ms === 100 || a.ms === 350)).toBe(true);
    const hedged = answered.map((a) => a.ms).lastIndexOf(350);
    expect(hedged).toBeGreaterThanOrEqual(0);
    const after = answered.slice(hedged + 1);
    expect(after.length).toBeGreaterThan(150);
    // No call reaches the stalling member any more: every request after it is answered by the steady one, unhedged.
    expect(after.every((a) => a.member === 1 && a.ms === 100)).toBe(true);
    expect(calls(r.server, 'slowing') + calls(r.server, 'steady')).toBe(200 + answered.filter((a) => a.ms === 350).length);
    const [slowing, steady] = r.llm.health().pools![0]!.members;
    // Its successful calls all took 100 ms; the cancelled ones had waited 350 ms: the score sees them.
    expect(slowing!.recentP50Ms).toBe(100);
    expect(slowing!.latencyScoreMs).toBe(350);
    expect(steady!.latencyScoreMs).toBe(100);
  });

  it("with after: 'p95', once routing has moved off it, hedges stop: the steady member's calls past its p95 are not hedged (the delay is at least twice its p50)", async () => {
    const spread: Latency = { kind: 'normal', meanMs: 100, stdDevMs: 10, minMs: 60 };
    const r = await poolRig({ slowing: STALLING, steady: spread }, {}, { hedge: { after: 'p95', budgetRatio: 1 } });
    const answered = await run(r, 200);
    const lastOnSlowing = calls(r.server, 'slowing');
    const after = await run(r, 100);
    // The staller is out of the band: every request goes to the steady member, and none is hedged.
    expect(calls(r.server, 'slowing')).toBe(lastOnSlowing);
    expect(after.every((a) => a.member === 1)).toBe(true);
    expect(calls(r.server, 'steady') + lastOnSlowing).toBe(r.server.requests.length);
    // A hedge at the steady member's p95 would have gone out for about 5 of these 100: it has that spread.
    const steady = r.llm.health().targets[1]!.latencyMs!;
    expect(after.filter((a) => a.ms > steady.p95).length).toBeGreaterThan(0);
    expect(steady.p95).toBeLessThan(2 * steady.p50);
    // No request took a stall's 3 s once the staller had been measured; those before were hedged.
    expect(answered.concat(after).filter((a) => a.ms >= STALL_MS)).toEqual([]);
  });

  it('two healthy members with the same latency spread share the traffic: no herding onto one', async () => {
    const spread: Latency = { kind: 'normal', meanMs: 100, stdDevMs: 10, minMs: 60 };
    const r = await poolRig({ slowing: spread, steady: spread });
    const answered = await run(r, 200);
    // In every block of 50 requests both members answer (a 50/50 split is 25 ± 3.5).
    for (let i = 0; i < 200; i += 50) {
      const block = answered.slice(i, i + 50);
      expect(block.filter((a) => a.member === 0).length).toBeGreaterThan(12);
      expect(block.filter((a) => a.member === 1).length).toBeGreaterThan(12);
    }
    const [a, b] = scores(r.llm);
    expect(Math.max(a!, b!)).toBeLessThanOrEqual(Math.min(a!, b!) * 1.25);
  });
});
