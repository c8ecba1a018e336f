/**
 * Limits shared fleet-wide through a real redis-server: three worker processes (official OpenAI
 * clients → the fault server in this process) keep one rpm between them; with Redis gone, each
 * process falls back to its own window and every request is still answered.
 */
import OpenAI from 'openai';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResilientLLM } from '../../src/createResilientLLM.js';
import type { StoreErrorEvent } from '../../src/events/storeError.js';
import { openaiTarget } from '../../src/providers/openai.js';
import { redisStore } from '../../src/state/redisStore.js';
import { startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { createFakeClock } from '../support/fakeClock.js';
import { needRedis, startTestRedis, type TestRedis } from '../support/redis.js';
import { spawnWorker, type Worker } from '../state/fleet.js';
import type { ChatOutcome } from '../state/worker.js';

const API_KEY = 'sk-bulwark-test-SECRET-4242424242';
const { skip } = needRedis();

describe.skipIf(skip)('limits shared through Redis', () => {
  let redis: TestRedis;
  let server: FaultServer;
  let workers: Worker[] = [];

  beforeAll(async () => {
    [redis, server] = await Promise.all([startTestRedis(), startFaultServer({ seed: 11 })]);
    workers = await Promise.all([spawnWorker(), spawnWorker(), spawnWorker()]);
  });

  afterAll(async () => {
    await Promise.allSettled(workers.map((w) => w.close()));
    await server?.close();
    await redis?.stop();
  });

  it('three processes keep one rpm between them: the primary gets exactly its limit, never a 429, and every request is answered', async () => {
    const chain = 'fleet-rpm';
    const provider = server.limit({ route: 'rpm' }, { rpm: 5 });
    await Promise.all(
      workers.map((w) =>
        w.call({
          cmd: 'init',
          chain,
          redisUrl: redis.url,
          primaryURL: server.baseURL('openai', 'rpm'),
          backupURL: server.baseURL('openai', 'rpm-backup'),
          apiKey: API_KEY,
          primaryLimits: { rpm: 5 },
        }),
      ),
    );
    const outcomes = (await Promise.all(workers.map((w) => w.call<ChatOutcome[]>({ cmd: 'chat', chain, count: 4, concurrent: true })))).flat();
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(server.hits({ route: 'rpm' })).toBe(5);
    expect(server.hits({ route: 'rpm-backup' })).toBe(7);
    expect(provider.refused).toBe(0);
    expect(outcomes.filter((o) => o.model === 'gpt-4o')).toHaveLength(5);
  });

  it('Redis down: each process counts on its own, and requests are still answered', async () => {
    const own = await startTestRedis();
    const client = createClient({ url: own.url, socket: { reconnectStrategy: 20 } });
    client.on('error', () => undefined);
    await client.connect();
    const storeErrors: StoreErrorEvent[] = [];
    const clock = createFakeClock(Date.now());
    const openai = (route: string) => new OpenAI({ apiKey: API_KEY, baseURL: server.baseURL('openai', route), maxRetries: 0 });
    const llm = createResilientLLM({
      name: 'redis-down',
      targets: [openaiTarget({ client: openai('down'), model: 'gpt-4o', limits: { rpm: 2 } }), openaiTarget({ client: openai('down-backup'), model: 'gpt-4o-mini' })],
      retry: { maxAttempts: 1 },
      clock,
      telemetry: false,
      cache: false,
      sharedState: redisStore(client, { syncIntervalMs: 60_000, timeoutMs: 200 }),
      observers: [{ onStoreError: (e) => storeErrors.push(e) }],
    });
    try {
      // With Redis up, the first call is counted in the shared window (and in this process's).
      expect((await llm.chat({ messages: [{ role: 'user', content: 'one' }] })).target.index).toBe(0);
      expect(storeErrors).toEqual([]);
      await own.kill();

      const answered = [];
      for (let i = 0; i < 3; i++) answered.push((await llm.chat({ messages: [{ role: 'user', content: `more ${i}` }] })).target.index);
      // The local window knew the first call: one more fits, then the backup.
      expect(answered).toEqual([0, 1, 1]);
      expect(server.hits({ route: 'down' })).toBe(2);
      expect(storeErrors.some((e) => e.operation === 'limit.take')).toBe(true);
    } finally {
      await llm.close();
      client.destroy();
      await own.stop();
    }
  });
});
