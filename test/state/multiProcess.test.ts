/**
 * Shared state across processes, end to end: three worker processes run the same chain
 * (official OpenAI clients → the fault server in this process; state in a real redis-server
 * on 127.0.0.1). The fault server's hit counts prove what the workers did and did not send.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BreakerTransition } from '../../src/events/breakerTransition.js';
import type { ChainHealth } from '../../src/health/types.js';
import { fault, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { needRedis, startTestRedis, type TestRedis } from '../support/redis.js';
import { eventually, spawnWorker, type Worker } from './fleet.js';
import type { ChatOutcome, InitCommand } from './worker.js';

const API_KEY = 'sk-bulwark-test-SECRET-4242424242';
const { skip } = needRedis();

describe.skipIf(skip)('shared state across worker processes (real redis-server)', () => {
  let redis: TestRedis;
  let server: FaultServer;
  let workers: Worker[] = [];

  beforeAll(async () => {
    [redis, server] = await Promise.all([startTestRedis(), startFaultServer({ seed: 7 })]);
    workers = await Promise.all([spawnWorker(), spawnWorker(), spawnWorker()]);
  });

  afterAll(async () => {
    await Promise.allSettled(workers.map((w) => w.close()));
    await server?.close();
    await redis?.stop();
  });

  const init = (chain: string, route: string, extra: Partial<InitCommand> = {}, on: Worker[] = workers) =>
    Promise.all(
      on.map((w) =>
        w.call({
          cmd: 'init',
          chain,
          redisUrl: redis.url,
          primaryURL: server.baseURL('openai', route),
          backupURL: server.baseURL('openai', `${route}-backup`),
          apiKey: API_KEY,
          ...extra,
        }),
      ),
    );
  const health = (w: Worker, chain: string) => w.call<ChainHealth>({ cmd: 'health', chain });
  const chat = (w: Worker, chain: string, count: number, extra: { partition?: string; concurrent?: boolean } = {}) =>
    w.call<ChatOutcome[]>({ cmd: 'chat', chain, count, ...extra });
  const transitions = async (w: Worker, chain: string) => (await w.call<{ transitions: BreakerTransition[] }>({ cmd: 'events', chain })).transitions;

  it('failures seen by one process open the breaker for all: the others send the primary nothing', async () => {
    const chain = 'fleet-open';
    server.script({ route: 'p1' }, { then: fault.serverError(500) });
    await init(chain, 'p1');
    const [w0, w1, w2] = workers as [Worker, Worker, Worker];

    // Worker 0 alone sees the primary fail three times in a row: its breaker trips.
    const first = await chat(w0, chain, 3);
    expect(first.every((r) => r.ok && r.model === 'gpt-4o-mini')).toBe(true);
    expect(server.hits({ route: 'p1' })).toBe(3);

    // The others learn it from Redis, without one failure of their own.
    for (const w of [w1, w2]) await eventually('breaker open in the other workers', async () => (await health(w, chain)).targets[0]?.state === 'open');

    const rest = await Promise.all([chat(w1, chain, 5, { concurrent: true }), chat(w2, chain, 5, { concurrent: true })]);
    expect(rest.flat().every((r) => r.ok && r.model === 'gpt-4o-mini')).toBe(true);
    expect(server.hits({ route: 'p1' }), 'the primary got nothing more').toBe(3);
    expect(server.hits({ route: 'p1-backup' })).toBe(13);

    // One transition fleet-wide: performed (counted) by worker 0, observed by the others.
    const opened = (ts: BreakerTransition[]) => ts.filter((t) => t.breaker === 'openai/gpt-4o' && t.to === 'open');
    const t0 = opened(await transitions(w0, chain));
    const t1 = opened(await transitions(w1, chain));
    const t2 = opened(await transitions(w2, chain));
    expect(t0).toHaveLength(1);
    expect(t0[0]).toMatchObject({ from: 'closed', to: 'open', reason: 'consecutive_failures' });
    expect(t0[0]!.observed).toBeUndefined();
    expect(t1.map((t) => t.observed)).toEqual([true]);
    expect(t2.map((t) => t.observed)).toEqual([true]);
    const counted = [...t0, ...t1, ...t2].filter((t) => t.observed !== true);
    expect(counted).toHaveLength(1);
  });

  it('half-open admits at most halfOpenProbes probes across all processes, not per process', async () => {
    const chain = 'fleet-probe';
    // The first call fails (trips the breaker); later ones answer, slowly, so probes overlap the burst.
    server.script({ route: 'p2' }, { sequence: [fault.serverError(500)], then: fault.ok(), latency: { kind: 'fixed', ms: 300 } });
    await init(chain, 'p2', { breaker: { consecutiveFailures: 1, openMs: 300, halfOpenProbes: 2, successThreshold: 10 } });
    const [w0] = workers as [Worker];
    await chat(w0, chain, 1);
    expect(server.hits({ route: 'p2' })).toBe(1);
    for (const w of workers) {
      await eventually('open, then due for probes, everywhere', async () => (await health(w, chain)).targets[0]?.state === 'half_open');
    }

    // 3 workers × 6 concurrent requests at once: per-process limits would let 6 probes out.
    const burst = await Promise.all(workers.map((w) => chat(w, chain, 6, { concurrent: true })));
    expect(burst.flat().every((r) => r.ok)).toBe(true);
    const probes = server.hits({ route: 'p2' }) - 1;
    expect(probes).toBeGreaterThanOrEqual(1);
    expect(probes).toBeLessThanOrEqual(2);
    expect(burst.flat().filter((r) => r.model === 'gpt-4o').length).toBe(probes);
  });

  it('a tier forced in one process applies in the others; cached answers are shared per partition, never across', async () => {
    const chain = 'fleet-cache';
    server.script({ route: 'p3' }, { then: fault.ok() });
    await init(chain, 'p3', { cache: { mode: 'read-through' } });
    const [w0, w1, w2] = workers as [Worker, Worker, Worker];

    const a0 = await chat(w0, chain, 1, { partition: 'tenant-a' });
    expect(a0[0]).toMatchObject({ ok: true, tier: 'full' });
    expect(server.hits({ route: 'p3' })).toBe(1);
    // Another process, same tenant: served from the shared cache once w0's write-back reached Redis
    // (asking w1 before that would be a miss that calls upstream, which is right but not this test).
    const admin = await redis.admin();
    await eventually('answer cached in Redis', async () => (await admin.keys(`bulwark:cache:${chain}:tenant-a:*`)).length > 0);
    expect((await chat(w1, chain, 1, { partition: 'tenant-a' }))[0]).toMatchObject({ ok: true, tier: 'cached' });
    expect(server.hits({ route: 'p3' })).toBe(1);
    // Another tenant never sees it.
    expect((await chat(w1, chain, 1, { partition: 'tenant-b' }))[0]).toMatchObject({ ok: true, tier: 'full' });
    expect(server.hits({ route: 'p3' })).toBe(2);

    // An operator forces 'cached' in worker 2: workers 0 and 1 follow.
    expect(await w2.call({ cmd: 'forceTier', chain, tier: 'cached' })).toEqual({ shared: true });
    for (const w of [w0, w1]) await eventually('forced tier everywhere', async () => (await health(w, chain)).forcedTier === 'cached');
    expect((await chat(w0, chain, 1, { partition: 'tenant-a' }))[0]).toMatchObject({ ok: true, tier: 'cached' });
    // A tenant with nothing cached gets the static reply, never another tenant's answer.
    expect((await chat(w0, chain, 1, { partition: 'tenant-c' }))[0]).toMatchObject({ ok: true, tier: 'static' });
    expect(server.hits({ route: 'p3' }), 'cached-only: no upstream call').toBe(2);

    // What Redis holds: namespaced by chain and partition, and no credentials anywhere.
    const keys = (await admin.keys('bulwark:cache:fleet-cache:*')).sort();
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^bulwark:cache:fleet-cache:tenant-a:[0-9a-f]{64}$/);
    expect(keys[1]).toMatch(/^bulwark:cache:fleet-cache:tenant-b:[0-9a-f]{64}$/);
    for (const key of await admin.keys('*')) {
      const type = await admin.type(key);
      const dump = type === 'string' ? await admin.get(key) : type === 'hash' ? JSON.stringify(await admin.hGetAll(key)) : '';
      expect(dump ?? '').not.toContain(API_KEY);
      expect(dump ?? '').not.toMatch(/authorization|bearer/i);
    }
    const ttl = await admin.pTTL(keys[0]!);
    expect(ttl).toBeGreaterThan(0);

    await w2.call({ cmd: 'forceTier', chain, tier: 'auto' });
  });

  it('Redis stopped mid-run: requests are answered within their deadlines on local state; shared state resumes after the restart', async () => {
    const chain = 'fleet-outage';
    server.script({ route: 'p4' }, { then: fault.ok() });
    const pair = workers.slice(0, 2) as [Worker, Worker];
    await init(chain, 'p4', { totalMs: 3_000, timeoutMs: 100 }, pair);
    const [w0, w1] = pair;
    await Promise.all(pair.map((w) => w.call({ cmd: 'loop', chain, intervalMs: 10 })));
    await eventually('traffic flowing', async () => server.hits({ route: 'p4' }) >= 10);

    await redis.kill();
    for (const w of pair) await eventually('workers notice the outage', async () => (await health(w, chain)).sharedState?.available === false);
    const during = server.hits({ route: 'p4' });
    await eventually('traffic keeps flowing without Redis', async () => server.hits({ route: 'p4' }) >= during + 10);

    await redis.restart();
    for (const w of pair) await eventually('workers find Redis again', async () => (await health(w, chain)).sharedState?.available === true);

    const outcomes = (await Promise.all(pair.map((w) => w.call<ChatOutcome[]>({ cmd: 'stopLoop', chain })))).flat();
    expect(outcomes.length).toBeGreaterThan(20);
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    // Never slowed beyond the store timeout (100 ms) on top of a fast local answer.
    expect(Math.max(...outcomes.map((o) => o.durationMs))).toBeLessThan(1_000);
    const { storeErrors } = await w0.call<{ storeErrors: Array<{ operation: string; errorType: string }> }>({ cmd: 'events', chain });
    expect(storeErrors.some((e) => e.operation === 'sync' && e.errorType === 'unavailable')).toBe(true);

    // Shared again: a tier forced in one process reaches the other through the restarted Redis.
    await eventually('the store takes the override', async () => ((await w0.call<{ shared: boolean }>({ cmd: 'forceTier', chain, tier: 'static' })).shared ? true : false));
    await eventually('forced tier reaches the other worker', async () => (await health(w1, chain)).forcedTier === 'static');
    expect((await chat(w1, chain, 1))[0]).toMatchObject({ ok: true, tier: 'static' });
    await w0.call({ cmd: 'forceTier', chain, tier: 'auto' });
  });
});
