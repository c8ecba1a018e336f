/**
 * What limits and hedging share fleet-wide through a real redis-server, in one test process: each
 * "process" is its own Redis connection and chain link (as in test/state/sharedState.test.ts), on
 * one fake clock; a store the test cuts off stands for Redis unreachable.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hedging } from '../../src/chain/hedge.js';
import { createResilientLLM, type ResilientLLM } from '../../src/createResilientLLM.js';
import type { StoreErrorEvent } from '../../src/events/storeError.js';
import { openaiTarget } from '../../src/providers/openai.js';
import { fault, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import type { WalkState } from '../../src/chain/walkState.js';
import { redisStore } from '../../src/state/redisStore.js';
import { SharedChainState } from '../../src/state/sharedChainState.js';
import type { SharedStateStore } from '../../src/state/sharedState.js';
import { createFakeClock, type FakeClock } from '../support/fakeClock.js';
import { needRedis, redisForSuite } from '../support/redis.js';

const { skip } = needRedis();
const BUDGET = { ratio: 0.1, minRetriesPerSecond: 1, windowMs: 10_000 };

/** A store the test can cut off: unreachable, as a disconnected client is. */
function cuttable(store: SharedStateStore): SharedStateStore & { cut(): void } {
  let down = false;
  return { ...store, available: () => !down && store.available(), status: () => store.status(), cut: () => void (down = true) };
}

describe.skipIf(skip)('shared through Redis: hedge budgets and concurrency leases', () => {
  const suite = redisForSuite();
  const { closers } = suite;

  /** One "process" of `chain`: its own connection and link. */
  async function node(chain: string, clock: FakeClock) {
    const store = cuttable(redisStore(await suite.connect(), { syncIntervalMs: 60_000, timeoutMs: 2_000 }));
    const link = new SharedChainState({ store, chain, clock, budget: BUDGET, probeLeaseMs: 120_000, report: () => undefined });
    await link.firstSync;
    closers.push(() => link.close());
    return { link, store };
  }

  /** `n` requests recorded by a hedging policy (each request is its walk state). */
  const requests = (hedging: Hedging, n: number) => {
    for (let i = 0; i < n; i++) hedging.forRequest({} as WalkState);
  };

  describe('the hedge budget is fleet-wide, like the retry budgets', () => {
    const HEDGE = { after: 200, maxHedges: 1, budgetRatio: 0.5 };
    /** Two processes of `chain`, each with the chain's hedging policy on its link. */
    async function hedgingPair(chain: string) {
      const clock = createFakeClock(1_000_000);
      const [a, b] = await Promise.all([node(chain, clock), node(chain, clock)]);
      return { clock, a, b, hedgeA: new Hedging(HEDGE, clock, { link: a.link, scope: 'chain' }), hedgeB: new Hedging(HEDGE, clock, { link: b.link, scope: 'chain' }) };
    }
    it("hedges are paid for by the fleet's requests: one process spends what another's requests allow, and no more than the fleet's share", async () => {
      const { a, b, hedgeA, hedgeB, clock } = await hedgingPair('hedge-budget');
      // A serves 4 requests: the fleet may hedge 2 of them.
      requests(hedgeA, 4);
      expect(await hedgeA.tryTake()).toBe(true);
      // B has served none: on its own it could not hedge at all; the fleet's budget has one left.
      expect(await hedgeB.tryTake()).toBe(true);
      // Now the fleet's 2 are spent: A, which alone would still have one, gets none.
      expect(await hedgeA.tryTake()).toBe(false);
      expect(await hedgeB.tryTake()).toBe(false);
      // B's own requests, flushed by its sync, pay for more.
      requests(hedgeB, 2);
      await b.link.syncNow();
      expect(await hedgeA.tryTake()).toBe(true);
      // A pool's own hedging has its own budget: the chain's spending does not touch it.
      const poolHedging = new Hedging(HEDGE, clock, { link: a.link, scope: 'pool:gpt-4o' });
      expect(await poolHedging.tryTake()).toBe(false);
      requests(poolHedging, 2);
      expect(await poolHedging.tryTake()).toBe(true);
    });

    it('Redis unreachable: each process decides on its own requests, and a hedge never fails for it', async () => {
      const { a, b, hedgeA, hedgeB } = await hedgingPair('hedge-budget-down');
      requests(hedgeA, 4);
      expect(await hedgeA.tryTake()).toBe(true);
      expect(await hedgeB.tryTake()).toBe(true);
      a.store.cut();
      b.store.cut();
      // A's own count: 4 requests, 1 hedge taken (its local history keeps the shared grant) → one more.
      expect(await hedgeA.tryTake()).toBe(true);
      expect(await hedgeA.tryTake()).toBe(false);
      // B's own count: no requests → none.
      expect(await hedgeB.tryTake()).toBe(false);
    });
  });

  describe('maxConcurrent is fleet-wide: leases in Redis', () => {
    let server: FaultServer;
    const serverClock = createFakeClock(0, { sleep: 'wait' });
    beforeAll(async () => {
      server = await startFaultServer({ seed: 17, sleep: serverClock.sleep });
    });
    afterAll(() => server?.close());

    /** One "process" of the chain: primary (maxConcurrent 1) → backup, official clients, its own Redis connection and clock. */
    async function process(chain: string) {
      const clock = createFakeClock(5_000_000);
      const store = cuttable(redisStore(await suite.connect(), { syncIntervalMs: 60_000, timeoutMs: 2_000 }));
      const storeErrors: StoreErrorEvent[] = [];
      const openai = (route: string) => new OpenAI({ apiKey: 'sk-test-0123456789', baseURL: server.baseURL('openai', `${chain}-${route}`), maxRetries: 0 });
      const llm: ResilientLLM = createResilientLLM({
        name: chain,
        targets: [
          openaiTarget({ client: openai('primary'), model: 'gpt-4o', limits: { maxConcurrent: 1 } }),
          openaiTarget({ client: openai('backup'), model: 'gpt-4o-mini' }),
        ],
        retry: { maxAttempts: 1 },
        timeouts: { totalMs: 10_000, attemptMs: 10_000 },
        clock,
        telemetry: false,
        cache: false,
        sharedState: store,
        observers: [{ onStoreError: (e) => storeErrors.push(e) }],
      });
      closers.push(() => llm.close());
      return { llm, clock, store, storeErrors };
    }
    const ask = (content: string) => ({ messages: [{ role: 'user' as const, content }] });
    const waitFor = async (check: () => boolean) => {
      while (!check()) await new Promise((r) => setImmediate(r));
    };

    it("while one process holds the primary's only slot, another process's request goes to the backup; the slot is the fleet's again once the call ends", async () => {
      const [a, b] = await Promise.all([process('lease'), process('lease')]);
      const held = server.script({ route: 'lease-primary' }, { latency: 1_000 });
      const slow = a.llm.chat(ask('slow'));
      await waitFor(() => serverClock.pendingTimers() > 0);
      expect(a.llm.health().targets[0]!.limits!.remaining).toContainEqual({ kind: 'concurrent', source: 'local', remaining: 0, limit: 1 });

      // B has nothing in flight itself: only the fleet's lease turns it away.
      expect((await b.llm.chat(ask('meanwhile'))).target.index).toBe(1);
      expect(server.hits({ route: 'lease-primary' })).toBe(1);

      await serverClock.advanceAsync(1_000);
      expect((await slow).target.index).toBe(0);
      held.remove();
      // The release is sent in the background when the call ends: once Redis has it, B gets the slot.
      await waitFor(() => a.llm.health().targets[0]!.limits!.remaining.some((r) => r.kind === 'concurrent' && r.remaining === 1));
      expect((await b.llm.chat(ask('after'))).target.index).toBe(0);
      expect(a.storeErrors.concat(b.storeErrors)).toEqual([]);
    });

    it('a process that dies mid-call leaks no slot: its lease expires after the total deadline', async () => {
      const [a, b] = await Promise.all([process('lease-crash'), process('lease-crash')]);
      server.script({ route: 'lease-crash-primary' }, { then: fault.hang() });
      // A's call hangs and A never ends it (as a killed process would not): its lease stays in Redis.
      const stuck = a.llm.chat(ask('stuck'));
      await waitFor(() => server.hits({ route: 'lease-crash-primary' }) === 1);
      expect((await b.llm.chat(ask('during'))).target.index).toBe(1);
      server.script({ route: 'lease-crash-primary' }, { then: fault.ok() });
      // On B's clock the lease's 10 s (the total deadline) pass: the slot is free for B.
      b.clock.advance(10_001);
      expect((await b.llm.chat(ask('later'))).target.index).toBe(0);
      // (A's own deadline ends its request.)
      a.clock.advance(10_001);
      await stuck.catch(() => undefined);
    });

    it('Redis unreachable: each process counts its own calls, and every request is answered', async () => {
      const [a, b] = await Promise.all([process('lease-down'), process('lease-down')]);
      a.store.cut();
      b.store.cut();
      const held = server.script({ route: 'lease-down-primary' }, { latency: 1_000 });
      const slow = a.llm.chat(ask('slow'));
      await waitFor(() => serverClock.pendingTimers() > 0);
      // Without the store B cannot see A's call: its own count (0) lets it through — overshoot, never a failure.
      const pending = b.llm.chat(ask('meanwhile'));
      await waitFor(() => server.hits({ route: 'lease-down-primary' }) === 2);
      // A's own count still holds A's second request back.
      expect((await a.llm.chat(ask('a again'))).target.index).toBe(1);
      await serverClock.advanceAsync(1_000);
      expect((await slow).target.index).toBe(0);
      expect((await pending).target.index).toBe(0);
      held.remove();
      expect(b.storeErrors.some((e) => e.operation === 'limit.take')).toBe(true);
    });
  });
});

