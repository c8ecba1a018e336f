/**
 * What limits and hedging share fleet-wide through a real redis-server, in one test process: each
 * "process" is its own Redis connection and chain link (as in test/state/sharedState.test.ts), on
 * one fake clock; a store the test cuts off stands for Redis unreachable.
 */
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Hedging } from '../../src/chain/hedge.js';
import type { WalkState } from '../../src/chain/walkState.js';
import { redisStore } from '../../src/state/redisStore.js';
import { SharedChainState } from '../../src/state/sharedChainState.js';
import type { SharedStateStore } from '../../src/state/sharedState.js';
import { createFakeClock, type FakeClock } from '../support/fakeClock.js';
import { needRedis, startTestRedis, type TestRedis } from '../support/redis.js';

const { skip } = needRedis();
const BUDGET = { ratio: 0.1, minRetriesPerSecond: 1, windowMs: 10_000 };

/** A store the test can cut off: unreachable, as a disconnected client is. */
function cuttable(store: SharedStateStore): SharedStateStore & { cut(): void } {
  let down = false;
  return { ...store, available: () => !down && store.available(), status: () => store.status(), cut: () => void (down = true) };
}

describe.skipIf(skip)('shared through Redis: hedge budgets and concurrency leases', () => {
  let redis: TestRedis;
  const clients: Array<{ destroy(): void }> = [];
  const closers: Array<() => Promise<unknown>> = [];
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterEach(async () => {
    await Promise.allSettled(closers.splice(0).map((c) => c()));
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await redis?.stop();
  });

  /** One "process" of `chain`: its own connection and link. */
  async function node(chain: string, clock: FakeClock) {
    const client = createClient({ url: redis.url, socket: { reconnectStrategy: 20 } });
    client.on('error', () => undefined);
    await client.connect();
    clients.push(client);
    const store = cuttable(redisStore(client, { syncIntervalMs: 60_000, timeoutMs: 2_000 }));
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
    it("hedges are paid for by the fleet's requests: one process spends what another's requests allow, and no more than the fleet's share", async () => {
      const clock = createFakeClock(1_000_000);
      const [a, b] = await Promise.all([node('hedge-budget', clock), node('hedge-budget', clock)]);
      const config = { after: 200, maxHedges: 1, budgetRatio: 0.5 };
      const hedgeA = new Hedging(config, clock, { link: a.link, scope: 'chain' });
      const hedgeB = new Hedging(config, clock, { link: b.link, scope: 'chain' });
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
      const poolHedging = new Hedging(config, clock, { link: a.link, scope: 'pool:gpt-4o' });
      expect(await poolHedging.tryTake()).toBe(false);
      requests(poolHedging, 2);
      expect(await poolHedging.tryTake()).toBe(true);
    });

    it('Redis unreachable: each process decides on its own requests, and a hedge never fails for it', async () => {
      const clock = createFakeClock(2_000_000);
      const [a, b] = await Promise.all([node('hedge-budget-down', clock), node('hedge-budget-down', clock)]);
      const config = { after: 200, maxHedges: 1, budgetRatio: 0.5 };
      const hedgeA = new Hedging(config, clock, { link: a.link, scope: 'chain' });
      const hedgeB = new Hedging(config, clock, { link: b.link, scope: 'chain' });
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
});
