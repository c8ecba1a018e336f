/**
 * Per-key limits shared by two gateways on one real Redis: what one gateway admits counts at the
 * other. When Redis is gone each gateway counts alone, and the requests still go through.
 */
import OpenAI from 'openai';
import { createClient, type RedisClientType } from 'redis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ResilientLLMOptions } from '../../src/config/types.js';
import { openaiTarget } from '../../src/providers/index.js';
import { redisStore } from '../../src/state/redisStore.js';
import { fault, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { createFakeClock } from '../support/fakeClock.js';
import { needRedis, startTestRedis, type TestRedis } from '../support/redis.js';
import { gatedFetch } from './limitsHarness.js';
import { KEY_A, OPENAI_KEY, sha256, startTestGateway, type TestGateway } from './setup.js';

const { skip } = needRedis();
const ask = { model: 'support-agent', messages: [{ role: 'user' as const, content: 'Hi' }] };

describe.skipIf(skip)('gateway limits shared through Redis', () => {
  let redis: TestRedis;
  let server: FaultServer;
  const clients: RedisClientType[] = [];
  let gateways: TestGateway[] = [];

  beforeAll(async () => {
    redis = await startTestRedis();
    server = await startFaultServer({ seed: 1416 });
  });
  afterAll(async () => {
    await server?.close();
    await redis?.stop();
  });
  beforeEach(async () => {
    server.reset();
    server.script({ route: 'primary' }, { then: fault.ok({ text: 'ok', usage: { inputTokens: 40_000, outputTokens: 10 } }) });
    await (await redis.admin()).flushAll();
  });
  afterEach(async () => {
    await Promise.all(gateways.map((g) => g.gateway.close({ drainMs: 0 })));
    gateways = [];
    await Promise.all(clients.splice(0).map((c) => (c.isOpen ? c.quit() : undefined)));
  });

  /** Two gateways, each with its own Redis connection, on one clock. */
  async function pair(limits: { rpm?: number; spendUsdPerDay?: number }, chain: (i: number) => Partial<ResilientLLMOptions> = () => ({})) {
    const clock = createFakeClock(Date.now());
    for (let i = 0; i < 2; i++) {
      const client = createClient({ url: redis.url, socket: { reconnectStrategy: false } }) as RedisClientType;
      client.on('error', () => undefined);
      await client.connect();
      clients.push(client);
      gateways.push(
        await startTestGateway(server, {
          clock,
          clients: [{ name: 'team-a', keyHash: sha256(KEY_A), limits }],
          sharedState: redisStore(client, { timeoutMs: 1_000, syncIntervalMs: 60_000 }),
        }, chain(i)),
      );
    }
    return { clock, a: gateways[0]!.openai(), b: gateways[1]!.openai() };
  }

  it('requests per minute count across both gateways', async () => {
    const { clock, a, b } = await pair({ rpm: 2 });
    await a.chat.completions.create(ask);
    clock.advance(10_000);
    await b.chat.completions.create(ask);
    const refused = await a.chat.completions.create(ask).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    expect((refused as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after')).toBe('50');
    expect(await b.chat.completions.create(ask).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.RateLimitError);
    expect(server.hits()).toBe(2);
    clock.advance(50_000);
    await b.chat.completions.create(ask);
    expect(server.hits()).toBe(3);
  });

  it('spend counts across both gateways', async () => {
    const { clock, a, b } = await pair({ spendUsdPerDay: 0.05 });
    await a.chat.completions.create(ask);
    // The access-log line is written once the spend is in the store.
    await gateways[0]!.entry(0);
    const admin = await redis.admin();
    const [spendKey] = await admin.keys('*spend');
    expect(Number(Object.values(await admin.hGetAll(spendKey!))[0])).toBeGreaterThan(0.05);
    expect(await b.chat.completions.create(ask).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.RateLimitError);
    clock.advance(25 * 3_600_000);
    await b.chat.completions.create(ask);
    expect(server.hits()).toBe(2);
  });

  it('spend under concurrency: requests in flight at both gateways hold their estimates in Redis, so together they stay within the limit; actual costs then free the rest', async () => {
    const gates = [gatedFetch(), gatedFetch()];
    // $1 per 1,000 output tokens: max_tokens 10 is estimated at $0.01; an answer of 4 tokens costs $0.004.
    const { a, b } = await pair({ spendUsdPerDay: 0.055 }, (i) => ({
      targets: [openaiTarget({ client: new OpenAI({ apiKey: OPENAI_KEY, baseURL: server.baseURL('openai', 'primary'), fetch: gates[i]!.fetch }), model: 'gpt-4o' })],
      pricing: { 'gpt-4o': { inputPerMTok: 0, outputPerMTok: 1_000 } },
    }));
    server.reset();
    server.script({ route: 'primary' }, { then: fault.ok({ text: 'ok', usage: { inputTokens: 5, outputTokens: 4 } }) });
    const capped = { ...ask, max_tokens: 10 };
    const burst = (n: number) => Array.from({ length: n }, (_, i) => (i % 2 === 0 ? a : b).chat.completions.create(capped).then(() => 'ok', (e: unknown) => e));
    const held = () => gates[0]!.waiting() + gates[1]!.waiting();
    const refused = () => gateways.flatMap((g) => g.log).filter((e) => e.status === 429).length;

    const first = burst(10);
    await vi.waitFor(() => expect(held() + refused()).toBe(10), { timeout: 10_000, interval: 2 });
    expect(held()).toBe(5); // across both gateways: 5 × $0.01 fit $0.055
    for (const g of gates) g.openAll();
    const results = await Promise.all(first);
    expect(results.filter((r) => r === 'ok')).toHaveLength(5);
    for (const r of results.filter((r) => r !== 'ok')) expect((r as InstanceType<typeof OpenAI.APIError>).code).toBe('insufficient_quota');
    await vi.waitFor(() => expect(gateways.flatMap((g) => g.log)).toHaveLength(10), { timeout: 5_000, interval: 2 });
    const admin = await redis.admin();
    const [spendKey] = await admin.keys('*spend');
    expect(Object.values(await admin.hGetAll(spendKey!)).reduce((sum, v) => sum + Number(v), 0)).toBeCloseTo(0.02, 10);
    const [reservedKey] = await admin.keys('*reserved');
    expect(reservedKey === undefined ? 0 : await admin.hLen(reservedKey)).toBe(0); // every estimate settled

    for (const g of gates) g.close();
    const second = burst(6);
    await vi.waitFor(() => expect(held() + refused()).toBe(5 + 6), { timeout: 10_000, interval: 2 });
    expect(held()).toBe(3); // $0.035 left: 3 estimates
    for (const g of gates) g.openAll();
    expect((await Promise.all(second)).filter((r) => r === 'ok')).toHaveLength(3);
    expect(server.hits()).toBe(8);
  });

  it('with Redis gone, /readyz says so and each gateway limits on its own; requests still go through', async () => {
    const { a, b } = await pair({ rpm: 1 });
    for (const c of clients) await c.disconnect();
    const ready = await fetch(`${gateways[0]!.address.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'unready', sharedState: { available: false } });
    await a.chat.completions.create(ask);
    await b.chat.completions.create(ask);
    expect(await a.chat.completions.create(ask).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.RateLimitError);
    expect(server.hits()).toBe(2);
  });
});
