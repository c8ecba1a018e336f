/**
 * Shared state in one test process against a real redis-server: several "processes" are
 * several Bulwark instances with their own Redis connections. Breaker scripts run on a fake
 * clock (the time they are given is the callers'), syncs are triggered by hand.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanStatusCode } from '@opentelemetry/api';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SharedCircuitBreaker } from '../../src/breaker/sharedCircuitBreaker.js';
import type { BreakerTransition } from '../../src/events/breakerTransition.js';
import type { BreakerConfig } from '../../src/config/types.js';
import { createResilientLLM, type ResilientLLM } from '../../src/createResilientLLM.js';
import { ConfigError } from '../../src/errors/bulwarkError.js';
import { createOperatorHandler } from '../../src/operator/index.js';
import { memoryStore } from '../../src/state/memoryStore.js';
import { redisStore, type RedisClientLike } from '../../src/state/redisStore.js';
import { SharedChainState } from '../../src/state/sharedChainState.js';
import { StoreError, type SharedStateStore } from '../../src/state/sharedState.js';
import type { StoreErrorEvent } from '../../src/events/storeError.js';
import { createOtelObserver } from '../../src/telemetry/otelObserver.js';
import { createFakeClock, type FakeClock } from '../support/fakeClock.js';
import { needRedis, redisForSuite, startTestRedis } from '../support/redis.js';
import { scriptedAdapter, scriptedTarget, type ScriptedAdapter } from '../support/scriptedAdapter.js';
import { createSdk, sumOf } from '../telemetry/harness.js';
import { eventually } from './fleet.js';

const { skip } = needRedis();

/**
 * A store a test can cut off (`down`: unreachable, as a disconnected client is) or whose sync
 * reads it can hold (`holdReads()`: the read ran in Redis, its reply is delivered on `release`),
 * to replay orderings that real traffic produces now and then.
 */
function controllable(store: SharedStateStore) {
  let down = false;
  let held: Array<() => void> | undefined;
  const wrapped: SharedStateStore & { cut(): void; restore(): void; holdReads(): () => void } = {
    ...store,
    available: () => !down && store.available(),
    status: () => store.status(),
    async runScript(script, keys, args, options) {
      if (down) throw new StoreError('unavailable', 'redis', 'cut off by the test');
      const reply = await store.runScript(script, keys, args, options);
      if (script.name === 'read' && held) await new Promise<void>((resolve) => held!.push(resolve));
      return reply;
    },
    cut: () => {
      down = true;
    },
    restore: () => {
      down = false;
    },
    holdReads: () => {
      const mine: Array<() => void> = [];
      held = mine;
      return () => {
        held = undefined;
        for (const release of mine) release();
      };
    },
  };
  return wrapped;
}

const BREAKER: BreakerConfig = { consecutiveFailures: 2, failureRate: 1, windowMs: 60_000, minCalls: 100, openMs: 1_000, halfOpenProbes: 2, successThreshold: 2 };
const BUDGET = { ratio: 0.1, minRetriesPerSecond: 1, windowMs: 10_000 };

describe.skipIf(skip)('shared state on Redis (in-process)', () => {
  const suite = redisForSuite();
  const { closers } = suite;
  const connect = (url?: string) => suite.connect(url);

  /** One "process": its own connection, chain link and breaker for `key`; `store` lets a test cut it off or hold replies. */
  async function node(chain: string, clock: FakeClock, config: Partial<BreakerConfig> = {}, options: { probeLeaseMs?: number } = {}) {
    // The store's call timeout is wall-clock time. At 200 ms a loaded machine turned single syncs
    // into silent no-ops (the next background sync is a minute of virtual time away), and a test then
    // went on with a process that had not seen the fleet's state. Timeouts are tested on their own stores.
    const store = controllable(redisStore(await connect(), { syncIntervalMs: 60_000, timeoutMs: 2_000 }));
    const errors: StoreErrorEvent[] = [];
    const link = new SharedChainState({ store, chain, clock, budget: BUDGET, probeLeaseMs: options.probeLeaseMs ?? 5_000, report: (e) => errors.push(e) });
    const transitions: BreakerTransition[] = [];
    const breaker = new SharedCircuitBreaker('openai/gpt-4o', { ...BREAKER, ...config }, clock, (t) => transitions.push(t), link);
    link.register('openai/gpt-4o', breaker, undefined);
    await link.firstSync;
    closers.push(() => link.close());
    return { link, breaker, transitions, errors, store };
  }

  async function fail(n: { breaker: SharedCircuitBreaker }, times: number): Promise<void> {
    for (let i = 0; i < times; i++) (await n.breaker.tryAcquire())!.failure();
  }

  describe('breaker transitions are atomic across processes', () => {
    it('one process trips the breaker; the others observe it; the transition is counted once', async () => {
      const clock = createFakeClock(1_000_000);
      const [a, b, c] = await Promise.all([node('trip', clock), node('trip', clock), node('trip', clock)]);
      await fail(a, 2);
      expect(a.breaker.state).toBe('open'); // at once, before Redis answers
      await eventually('the trip reached Redis', async () => a.breaker.record.exists);
      await Promise.all([b.link.syncNow(), c.link.syncNow()]);
      expect(b.breaker.state).toBe('open');
      expect(c.breaker.state).toBe('open');
      expect(await b.breaker.tryAcquire()).toBeUndefined();

      expect(a.transitions).toEqual([expect.objectContaining({ from: 'closed', to: 'open', reason: 'consecutive_failures' })]);
      expect(a.transitions[0]!.observed).toBeUndefined();
      for (const n of [b, c]) expect(n.transitions).toEqual([expect.objectContaining({ from: 'closed', to: 'open', observed: true })]);
      expect([a, b, c].flatMap((n) => n.transitions).filter((t) => !t.observed)).toHaveLength(1);
    });

    it('two processes tripping at the same moment: one performs it, the other observes it', async () => {
      const clock = createFakeClock(1_000_000);
      const [a, b] = await Promise.all([node('race', clock), node('race', clock)]);
      await Promise.all([fail(a, 2), fail(b, 2)]);
      await eventually('both settled', async () => a.breaker.record.exists && b.breaker.record.exists && a.transitions.length > 0 && b.transitions.length > 0);
      const all = [...a.transitions, ...b.transitions];
      expect(all.every((t) => t.from === 'closed' && t.to === 'open')).toBe(true);
      expect(all.filter((t) => !t.observed)).toHaveLength(1);
      expect(all.filter((t) => t.observed)).toHaveLength(1);
    });

    it('half-open: at most halfOpenProbes probe slots fleet-wide; closing after successThreshold is counted once', async () => {
      const clock = createFakeClock(1_000_000);
      const [a, b] = await Promise.all([node('probe', clock), node('probe', clock)]);
      await fail(a, 2);
      await eventually('tripped in Redis', async () => a.breaker.record.exists);
      await b.link.syncNow();
      clock.advance(BREAKER.openMs);
      expect(a.breaker.state).toBe('half_open');

      const permits = await Promise.all([...Array.from({ length: 4 }, () => a.breaker.tryAcquire()), ...Array.from({ length: 4 }, () => b.breaker.tryAcquire())]);
      const probes = permits.filter((p) => p !== undefined);
      expect(probes).toHaveLength(2);
      expect(probes.every((p) => p!.isProbe)).toBe(true);
      // open → half_open happened once, in whichever process asked first.
      const toHalf = [...a.transitions, ...b.transitions].filter((t) => t.to === 'half_open');
      expect(toHalf.filter((t) => !t.observed)).toHaveLength(1);

      for (const p of probes) p!.success();
      await eventually('closed in Redis', async () => {
        await a.link.syncNow();
        await b.link.syncNow();
        return a.breaker.state === 'closed' && b.breaker.state === 'closed';
      });
      const closes = [...a.transitions, ...b.transitions].filter((t) => t.from === 'half_open' && t.to === 'closed');
      expect(closes.filter((t) => !t.observed)).toHaveLength(1);
      expect(closes.filter((t) => t.observed)).toHaveLength(1);
      expect(closes[0]!.reason).toBe('probes_succeeded');
    });

    it('a probe slot held by a process that died is freed when its lease runs out', async () => {
      // Leases expire on Redis's clock: a short one, and real time passing.
      const clock = createFakeClock(1_000_000);
      const options = { probeLeaseMs: 1_000 };
      const [a, b] = await Promise.all([node('lease', clock, { halfOpenProbes: 1 }, options), node('lease', clock, { halfOpenProbes: 1 }, options)]);
      await fail(a, 2);
      await eventually('tripped', async () => a.breaker.record.exists);
      await b.link.syncNow();
      clock.advance(BREAKER.openMs);
      const held = await a.breaker.tryAcquire(); // never settled: this process "died"
      expect(held?.isProbe).toBe(true);
      const heldAt = performance.now();
      expect(await b.breaker.tryAcquire()).toBeUndefined();
      const probe = await eventually('the lease ran out', async () => b.breaker.tryAcquire(), 5_000);
      expect(probe.isProbe).toBe(true);
      expect(performance.now() - heldAt).toBeGreaterThanOrEqual(options.probeLeaseMs - 50);
    });

    it('with the store unreachable, a local probe nobody settles frees its slot when its lease runs out', async () => {
      const clock = createFakeClock(1_000_000);
      const a = await node('local-lease', clock, { halfOpenProbes: 1 });
      await fail(a, 2);
      await eventually('tripped in Redis', async () => a.breaker.record.exists);
      a.store.cut();
      clock.advance(BREAKER.openMs);
      const lost = await a.breaker.tryAcquire(); // decided locally; never settled
      expect(lost?.isProbe).toBe(true);
      expect(await a.breaker.tryAcquire()).toBeUndefined();
      clock.advance(5_000); // probeLeaseMs
      expect((await a.breaker.tryAcquire())?.isProbe).toBe(true);
    });

    it('a failed probe reopens the breaker for everyone, with a fresh openMs', async () => {
      const clock = createFakeClock(1_000_000);
      const [a, b] = await Promise.all([node('reopen', clock), node('reopen', clock)]);
      await fail(a, 2);
      await eventually('tripped', async () => a.breaker.record.exists);
      await b.link.syncNow();
      clock.advance(BREAKER.openMs);
      const probe = await b.breaker.tryAcquire();
      expect(probe?.isProbe).toBe(true);
      probe!.failure();
      expect(b.breaker.state).toBe('open');
      await eventually('reopened in Redis', async () => b.transitions.some((t) => t.reason === 'probe_failed'));
      await a.link.syncNow();
      expect(a.breaker.state).toBe('open');
      expect(a.breaker.record.openedAt).toBe(clock.now());
      expect(b.transitions.filter((t) => t.to === 'open' && !t.observed).map((t) => t.reason)).toEqual(['probe_failed']);
    });

    it('operator overrides are shared: forced open in one process rejects in all; auto resumes from closed', async () => {
      const clock = createFakeClock(1_000_000);
      const [a, b] = await Promise.all([node('force', clock), node('force', clock)]);
      expect(await a.breaker.setOverride('open')).toBe(true);
      await b.link.syncNow();
      expect(b.breaker.override).toBe('open');
      expect(await b.breaker.tryAcquire()).toBeUndefined();
      expect(a.transitions).toEqual([expect.objectContaining({ from: 'closed', to: 'open', reason: 'forced' })]);
      expect(b.transitions).toEqual([expect.objectContaining({ from: 'closed', to: 'open', reason: 'forced', observed: true })]);
      expect(await b.breaker.setOverride('auto')).toBe(true);
      await a.link.syncNow();
      expect(a.breaker.state).toBe('closed');
      expect((await a.breaker.tryAcquire())?.isProbe).toBe(false);
    });
  });

  describe('consistency: one clock, newest record wins, every key expires', () => {
    const KEY = (chain: string, kind: 'breaker' | 'probes' | 'budget') => `bulwark:{${chain}}:${kind}:openai%2Fgpt-4o`;

    it('every key Bulwark writes expires: breaker record, probe leases, budget, forced tier', async () => {
      const clock = createFakeClock(1_000_000);
      const a = await node('ttl', clock);
      await fail(a, 2);
      await eventually('tripped in Redis', async () => a.breaker.record.exists);
      clock.advance(BREAKER.openMs);
      expect((await a.breaker.tryAcquire())?.isProbe).toBe(true);
      expect(await a.link.budget('openai/gpt-4o', clock.now(), 3, true)).toMatchObject({ granted: true });
      expect(await a.link.setForcedTier('cached')).toBe(true);
      const admin = await suite.redis.admin();
      const keys = (await admin.keys('bulwark:{ttl}:*')).sort();
      expect(keys).toEqual([KEY('ttl', 'breaker'), KEY('ttl', 'budget'), KEY('ttl', 'probes'), 'bulwark:{ttl}:tier']);
      for (const key of keys) expect(await admin.pTTL(key), key).toBeGreaterThan(0);
    });

    it('the fleet-wide retry budget holds when the processes\' clocks disagree by seconds', async () => {
      // Reserve: 1 retry/s over 10 s = 10 retries for the fleet, whatever each process's clock says.
      const a = await node('skew-budget', createFakeClock(1_003_000)); // 3 s ahead
      const b = await node('skew-budget', createFakeClock(1_000_000));
      for (let i = 0; i < 10; i++) expect(await a.link.budget('openai/gpt-4o', 1_003_000, 0, true), `retry ${i + 1}`).toMatchObject({ granted: true });
      expect(await b.link.budget('openai/gpt-4o', 1_000_000, 0, true), 'the fleet spent its budget').toMatchObject({ granted: false });
    });

    it("probe leases run on Redis's clock: a process whose clock is ahead cannot take a slot another still holds", async () => {
      const clockA = createFakeClock(1_000_000);
      const clockB = createFakeClock(1_010_000); // 10 s ahead, more than the 5 s lease
      const a = await node('skew-lease', clockA, { halfOpenProbes: 1 });
      const b = await node('skew-lease', clockB, { halfOpenProbes: 1 });
      await fail(a, 2);
      await eventually('tripped in Redis', async () => a.breaker.record.exists);
      await b.link.syncNow();
      clockA.advance(BREAKER.openMs);
      expect((await a.breaker.tryAcquire())?.isProbe).toBe(true); // held, not settled
      expect(await b.breaker.tryAcquire(), 'the only probe slot is taken').toBeUndefined();
    });

    it('a sync read that Redis answered before a trip, delivered after it, does not roll the breaker back', async () => {
      const clock = createFakeClock(1_000_000);
      const a = await node('stale-read', clock);
      // A record exists (an override given and withdrawn), closed.
      await a.breaker.setOverride('closed');
      await a.breaker.setOverride('auto');
      const release = a.store.holdReads();
      const syncing = a.link.syncNow(); // runs in Redis now: closed; its reply is held back
      await fail(a, 2); // the trip runs after it, and its reply arrives first
      await eventually('the trip was answered', async () => a.transitions.length > 0 && a.breaker.record.gen > 2);
      release();
      await syncing;
      expect(a.breaker.state).toBe('open');
      expect(a.transitions.map((t) => `${t.from}->${t.to}${t.observed ? ' (observed)' : ''}`)).toEqual(['closed->open']);
    });

    it('a sync read delivered after a tier change does not roll the tier back', async () => {
      const a = await node('stale-tier', createFakeClock(1_000_000));
      expect(await a.link.setForcedTier('cached')).toBe(true);
      const heard: string[] = [];
      a.link.onForcedTier((t) => heard.push(t));
      const release = a.store.holdReads();
      const syncing = a.link.syncNow(); // reads 'cached'
      expect(await a.link.setForcedTier('static')).toBe(true);
      release();
      await syncing;
      expect(a.link.forcedTier).toBe('static');
      expect(heard).toEqual([]);
    });

    it("an override given while the store was unreachable is written back, though the fleet's automatic state moved meanwhile", async () => {
      const clock = createFakeClock(1_000_000);
      const [a, b] = await Promise.all([node('override-outage', clock), node('override-outage', clock)]);
      a.store.cut();
      expect(await a.breaker.setOverride('open'), 'this process only, for now').toBe(false);
      await fail(b, 2); // meanwhile another process trips it: a newer generation in Redis
      await eventually('tripped in Redis', async () => b.breaker.record.exists);
      a.store.restore();
      const admin = await suite.redis.admin();
      // The sync writes the override back; one sync can time out on a loaded machine and the next
      // background sync is a minute of virtual time away, so every poll syncs again.
      await eventually('the override reached Redis', async () => {
        await a.link.syncNow();
        return (await admin.hGetAll(KEY('override-outage', 'breaker'))).override === 'open';
      });
      await a.link.syncNow();
      expect(a.breaker.override).toBe('open');
      await b.link.syncNow();
      expect(b.breaker.override).toBe('open');
    });

    it('an override given and withdrawn during the outage writes nothing over the fleet', async () => {
      const clock = createFakeClock(1_000_000);
      const [a, b] = await Promise.all([node('override-undone', clock), node('override-undone', clock)]);
      a.store.cut();
      await a.breaker.setOverride('open');
      await a.breaker.setOverride('auto');
      await fail(b, 2);
      await eventually('tripped in Redis', async () => b.breaker.record.exists);
      a.store.restore();
      await eventually('the fleet record is taken', async () => {
        await a.link.syncNow();
        return a.breaker.state === 'open';
      });
      const admin = await suite.redis.admin();
      expect(await admin.hGetAll(KEY('override-undone', 'breaker'))).toMatchObject({ state: 'open', override: 'auto', reason: 'consecutive_failures' });
    });

    it('…but not over an override another operator gave meanwhile: the fleet has the newer decision', async () => {
      const clock = createFakeClock(1_000_000);
      const [a, b] = await Promise.all([node('override-race', clock), node('override-race', clock)]);
      a.store.cut();
      expect(await a.breaker.setOverride('open')).toBe(false);
      expect(await b.breaker.setOverride('closed')).toBe(true);
      a.store.restore();
      await a.link.syncNow();
      await eventually('the fleet override is taken', async () => {
        await a.link.syncNow();
        return a.breaker.override === 'closed';
      });
      const admin = await suite.redis.admin();
      expect((await admin.hGetAll(KEY('override-race', 'breaker'))).override).toBe('closed');
    });
  });

  // ------------------------------------------------------------------------------ engine level

  function llmOn(client: RedisClientLike, chain: string, primary: ScriptedAdapter, extra: { errors?: StoreErrorEvent[]; cache?: boolean; timeoutMs?: number } = {}) {
    const llm = createResilientLLM({
      name: chain,
      targets: [scriptedTarget(primary), scriptedTarget(scriptedAdapter('anthropic', 'claude-backup'))],
      retry: { maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0, budget: { ratio: 0, minRetriesPerSecond: 0.2, windowMs: 10_000 } },
      breaker: { consecutiveFailures: 100 },
      cache: extra.cache ? { mode: 'read-through' } : false,
      sharedState: redisStore(client, { syncIntervalMs: 50, timeoutMs: extra.timeoutMs ?? 1_000 }),
      telemetry: false,
      observers: [{ onStoreError: (e) => extra.errors?.push(e) }],
    });
    closers.push(() => llm.close());
    return llm;
  }

  it('the retry budget is shared: two processes together spend what one budget allows', async () => {
    // ratio 0, floor 0.2/s over 10 s: two retries in the window, fleet-wide.
    const [pa, pb] = [scriptedAdapter('openai', 'gpt-4o').then({ fail: 'server_error' }), scriptedAdapter('openai', 'gpt-4o').then({ fail: 'server_error' })];
    const a = llmOn(await connect(), 'budget', pa);
    const b = llmOn(await connect(), 'budget', pb);
    expect((await a.chat({ messages: [{ role: 'user', content: 'hi' }] })).tier).toBe('reduced');
    expect(pa.calls).toHaveLength(3); // first attempt + the two retries the fleet had
    expect((await b.chat({ messages: [{ role: 'user', content: 'hi' }] })).tier).toBe('reduced');
    expect(pb.calls, 'the budget was spent by the other process').toHaveLength(1);
    await eventually('health shows the fleet-wide budget', async () => b.health().targets[0]?.retryBudgetRemaining === 0);
  });

  describe('operator handler', () => {
    let server: Server;
    let base: string;
    let a: ResilientLLM;
    let b: ResilientLLM;
    const TOKEN = 'op-token-0123456789abcdef';

    beforeAll(async () => {
      a = llmOn(await connect(), 'operated', scriptedAdapter('openai', 'gpt-4o'));
      b = llmOn(await connect(), 'operated', scriptedAdapter('openai', 'gpt-4o'));
      closers.splice(0); // these two live for the whole describe
      const handler = createOperatorHandler({ llms: a, token: TOKEN });
      server = createServer((req, res) => handler(req, res));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bulwark`;
    });
    afterAll(async () => {
      await new Promise((r) => server.close(r));
      await Promise.all([a.close(), b.close()]);
    });

    const post = (path: string, body: unknown, token?: string) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token !== undefined && { authorization: `Bearer ${token}` }) },
        body: JSON.stringify(body),
      });

    it('serves health JSON of every target', async () => {
      const res = await fetch(`${base}/health`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const body = (await res.json()) as { chains: Array<{ chain: string; targets: Array<{ breaker: string; state: string }>; sharedState: { kind: string } }> };
      expect(body.chains[0]).toMatchObject({ chain: 'operated', sharedState: { kind: 'redis' } });
      expect(body.chains[0]!.targets.map((t) => [t.breaker, t.state])).toEqual([
        ['openai/gpt-4o', 'closed'],
        ['anthropic/claude-backup', 'closed'],
      ]);
    });

    it('without a valid token: 401 and nothing changes, here or elsewhere', async () => {
      for (const token of [undefined, 'wrong-token-0123456789', `${TOKEN}x`, '']) {
        const res = await post('/breaker', { breaker: 'openai/gpt-4o', override: 'open' }, token);
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect((await post('/tier', { tier: 'static' }, token)).status).toBe(401);
      }
      expect(a.health().targets[0]!.override).toBe('auto');
      expect(a.health().forcedTier).toBe('auto');
      // Nothing reached the shared store either, so no other process can learn anything.
      const admin = await suite.redis.admin();
      expect((await admin.hGetAll('bulwark:{operated}:breaker:openai%2Fgpt-4o')).override ?? 'auto').toBe('auto');
      expect(await admin.get('bulwark:{operated}:tier')).toBeNull();
      expect(b.health().targets[0]!.override).toBe('auto');
    });

    it('with the token: forces a breaker and a tier fleet-wide', async () => {
      const res = await post('/breaker', { breaker: 'openai/gpt-4o', override: 'open' }, TOKEN);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ ok: true, chain: 'operated', shared: true });
      await eventually('override reaches the other process', async () => b.health().targets[0]?.override === 'open');
      expect((await b.chat({ messages: [{ role: 'user', content: 'x' }] })).target.model).toBe('claude-backup');

      expect((await post('/tier', { tier: 'static' }, TOKEN)).status).toBe(200);
      await eventually('tier reaches the other process', async () => b.health().forcedTier === 'static');

      expect((await post('/breaker', { breaker: 'openai/gpt-4o', override: 'auto' }, TOKEN)).status).toBe(200);
      expect((await post('/tier', { tier: 'auto' }, TOKEN)).status).toBe(200);
      await eventually('back to automatic', async () => b.health().targets[0]?.override === 'auto' && b.health().forcedTier === 'auto');
    });

    it('rejects bad requests with clear errors', async () => {
      expect((await post('/breaker', { breaker: 'nope/none', override: 'open' }, TOKEN)).status).toBe(404);
      expect((await post('/breaker', { breaker: 'openai/gpt-4o', override: 'half' }, TOKEN)).status).toBe(400);
      expect((await post('/tier', { tier: 'gold' }, TOKEN)).status).toBe(400);
      expect((await post('/tier', { chain: 'other', tier: 'auto' }, TOKEN)).status).toBe(404);
      const notJson = await fetch(`${base}/tier`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain' }, body: 'tier=static' });
      expect(notJson.status).toBe(415);
      expect((await fetch(`${base}/tier`)).status).toBe(405);
      expect((await fetch(`${base}/nothing`)).status).toBe(404);
      expect(() => createOperatorHandler({ llms: a, token: 'short' })).toThrow(ConfigError);
    });
  });

  // ------------------------------------------------------------------------------ bad input

  describe('a Redis that cannot be used: a clear error or a clean fallback, never a crash', () => {
    const ask = (llm: ResilientLLM) => llm.chat({ messages: [{ role: 'user', content: 'still there?' }] });

    it('a URL that does not resolve: connect() rejects clearly; requests run on local state', async () => {
      const strict = createClient({ url: 'redis://does-not-exist.invalid:6379', socket: { reconnectStrategy: false } });
      await expect(strict.connect()).rejects.toThrow(/ENOTFOUND|EAI_AGAIN/);
      // A client left reconnecting forever, with no error listener of its own: redisStore's keeps it from crashing the process.
      const retrying = createClient({ url: 'redis://does-not-exist.invalid:6379', socket: { reconnectStrategy: 20 } });
      const errors: StoreErrorEvent[] = [];
      const llm = llmOn(retrying, 'unresolvable', scriptedAdapter('openai', 'gpt-4o'), { errors, cache: true });
      retrying.connect().catch(() => undefined);
      closers.push(async () => retrying.destroy());
      const started = performance.now();
      expect((await ask(llm)).tier).toBe('full');
      expect(performance.now() - started).toBeLessThan(200);
      const health = llm.health();
      expect(health.sharedState?.available).toBe(false);
      await eventually('the client error is recorded', async () => /ENOTFOUND|EAI_AGAIN/.test(llm.health().sharedState?.lastError?.message ?? ''));
      expect(errors.some((e) => e.errorType === 'unavailable')).toBe(true);
    });

    it('a wrong password: connect() rejects with WRONGPASS; requests run on local state', async () => {
      const guarded = await startTestRedis({ password: 'right-password' });
      closers.push(() => guarded.stop());
      const wrong = createClient({ url: `redis://:wrong-password@127.0.0.1:${guarded.port}`, socket: { reconnectStrategy: false } });
      const errors: StoreErrorEvent[] = [];
      const llm = llmOn(wrong, 'wrongpass', scriptedAdapter('openai', 'gpt-4o'), { errors, cache: true });
      await expect(wrong.connect()).rejects.toThrow(/WRONGPASS/);
      expect((await ask(llm)).tier).toBe('full');
      const health = llm.health().sharedState;
      expect(health?.available).toBe(false);
      expect(health?.lastError?.message).toMatch(/WRONGPASS/);
      expect(errors.some((e) => e.errorType === 'authentication' && /WRONGPASS/.test(e.message))).toBe(true);
    });

    it('a Redis out of memory: refused writes are reported as out_of_memory, requests are answered, reads still sync', async () => {
      const admin = await suite.redis.admin();
      const errors: StoreErrorEvent[] = [];
      const primary = scriptedAdapter('openai', 'gpt-4o').then({ fail: 'authentication' }); // opens the breaker at once
      const llm = llmOn(await connect(), 'oom', primary, { errors, cache: true });
      await admin.configSet('maxmemory', '1');
      try {
        const r = await ask(llm);
        expect(r.target.model).toBe('claude-backup');
        expect(llm.health().targets[0]!.state).toBe('open');
        await eventually('OOM reported', async () => errors.some((e) => e.errorType === 'out_of_memory' && e.operation === 'cache.set'));
        const synced = llm.health().sharedState?.lastSyncAt ?? 0;
        await eventually('reads still sync', async () => (llm.health().sharedState?.lastSyncAt ?? 0) > synced);
        expect(errors.some((e) => e.operation === 'sync')).toBe(false);
      } finally {
        await admin.configSet('maxmemory', '0');
      }
      // (Redis lets a script that already wrote finish its writes, so small breaker records may
      // get through; either way the fleet has it once Redis has room.)
      await eventually('the breaker is shared', async () => (await admin.hGetAll('bulwark:{oom}:breaker:openai%2Fgpt-4o')).state === 'open');
    });

    it('a slow Redis: every call gives up after the store timeout; the request is not slowed beyond it', async () => {
      const admin = await suite.redis.admin();
      const errors: StoreErrorEvent[] = [];
      const llm = llmOn(await connect(), 'slow', scriptedAdapter('openai', 'gpt-4o'), { errors, cache: true, timeoutMs: 50 });
      expect((await ask(llm)).tier).toBe('full');
      const sleeping = admin.sendCommand(['DEBUG', 'SLEEP', '0.5']);
      await new Promise((r) => setTimeout(r, 20));
      // Ordering, not a stopwatch: the answer must arrive while Redis is still asleep (0.5 s).
      let redisAwake = false;
      void sleeping.then(() => { redisAwake = true; }, () => { redisAwake = true; });
      const r = await llm.chat({ messages: [{ role: 'user', content: 'while redis sleeps' }] });
      expect(redisAwake).toBe(false);
      expect(r.tier).toBe('full');
      expect(errors.some((e) => e.errorType === 'timeout' && e.operation === 'cache.get')).toBe(true);
      await sleeping;
    });

    it('config: sharedState must be a shared store; redisStore checks its client and options', async () => {
      const target = scriptedTarget(scriptedAdapter('openai', 'gpt-4o'));
      expect(() => createResilientLLM({ name: 'x', targets: [target], sharedState: memoryStore() as never })).toThrow(/sharedState .*process-local/);
      expect(() => createResilientLLM({ name: 'x', targets: [target], sharedState: {} as never })).toThrow(ConfigError);
      expect(() => redisStore({} as never)).toThrow(/node-redis client/);
      const client = await connect();
      expect(() => redisStore(client, { timeoutMs: 0 })).toThrow(/timeoutMs/);
      expect(() => redisStore(client, { namespace: 'a b' })).toThrow(/namespace/);
    });
  });

  it('telemetry: bulwark.store.errors and a span event on the request; observed transitions are not counted', async () => {
    const sdk = createSdk();
    const offline = createClient({ url: `redis://127.0.0.1:1`, socket: { reconnectStrategy: false } }); // never connected
    offline.on('error', () => undefined);
    let llm: ResilientLLM | undefined;
    const observer = createOtelObserver({
      chain: 'telemetry',
      targets: [{ index: 0, provider: 'openai', model: 'gpt-4o', breaker: 'openai/gpt-4o' }],
      snapshot: () => llm!.health(),
      captureContent: false,
      tracer: sdk.tracerProvider.getTracer('bulwark'),
      meter: sdk.meterProvider.getMeter('bulwark'),
      storeOperations: ['cache.get', 'cache.set', 'sync'],
    });
    llm = createResilientLLM({
      name: 'telemetry',
      targets: [scriptedTarget(scriptedAdapter('openai', 'gpt-4o'))],
      cache: { mode: 'read-through' },
      sharedState: redisStore(offline),
      telemetry: false,
      observers: [observer],
    });
    closers.push(() => llm!.close());
    await llm.chat({ messages: [{ role: 'user', content: 'hi' }] });
    observer.onBreakerTransition?.({ breaker: 'openai/gpt-4o', from: 'closed', to: 'open', reason: 'shared', at: 0, observed: true });
    const metrics = await sdk.collect();
    expect(sumOf(metrics, 'bulwark.store.errors', { 'bulwark.store.operation': 'cache.get', 'error.type': 'unavailable' })).toBeGreaterThanOrEqual(1);
    expect(sumOf(metrics, 'bulwark.circuit.transitions')).toBe(0);
    const span = sdk.spans().find((s) => s.name === 'bulwark chat telemetry');
    expect(span?.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(span?.events.filter((e) => e.name === 'bulwark.store.error').map((e) => e.attributes)).toContainEqual({ 'bulwark.store.operation': 'cache.get', 'error.type': 'unavailable' });
    await sdk.shutdown();
  });

  it('a Redis restart that lost everything: the open breaker and the forced tier are rebuilt from the processes', async () => {
    const clock = createFakeClock(1_000_000);
    const a = await node('rebuild', clock);
    await fail(a, 2);
    expect(await a.link.setForcedTier('cached')).toBe(true);
    await eventually('tripped', async () => a.breaker.record.exists);
    await suite.redis.restart();
    await eventually('reconnected', async () => a.link.available());
    const admin = await suite.redis.admin();
    // A sync sees the records gone and writes its own back. The first sync right after the
    // reconnect can still fail (the connection is not ready to serve yet), and the next background
    // sync is a minute of virtual time away, so every poll syncs again until Redis holds both.
    await eventually('records rebuilt in Redis', async () => {
      await a.link.syncNow();
      return (await admin.hGetAll('bulwark:{rebuild}:breaker:openai%2Fgpt-4o')).state === 'open';
    });
    await eventually('tier rebuilt in Redis', async () => {
      await a.link.syncNow();
      return (await admin.get('bulwark:{rebuild}:tier')) === 'cached';
    });
    const b = await node('rebuild', clock);
    expect(b.breaker.state).toBe('open');
    expect(b.link.forcedTier).toBe('cached');
    expect(a.transitions.filter((t) => !t.observed)).toHaveLength(1); // rebuilding is not a new transition
  });
});
