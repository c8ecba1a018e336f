/**
 * Two gateway PROCESSES, one config file with `sharedState: { redisUrl: env:REDIS_URL }`, a real
 * redis-server: the primary's breaker, opened by failures one gateway saw, is open in the other,
 * which sends the primary nothing and answers from the backup.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fault, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { needRedis, startTestRedis, type TestRedis } from '../support/redis.js';
import { eventually } from '../state/fleet.js';
import { sha256, startGatewayProcess, writeConfigFile, type GatewayProcess } from './gatewayProcess.js';

const KEY = 'bk-shared-breakers-0123456789ab';
const ADMIN_TOKEN = 'admin-token-shared-breakers-0123';
const { skip } = needRedis();

describe.skipIf(skip)('two gateway processes sharing breakers through Redis', () => {
  let dir: string;
  let redis: TestRedis;
  let server: FaultServer;
  let a: GatewayProcess;
  let b: GatewayProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bulwark-gateway-shared-'));
    [redis, server] = await Promise.all([startTestRedis(), startFaultServer({ seed: 2 })]);
    server.script({ route: 'shared-primary' }, { then: fault.serverError(500) });
    const target = (route: string, model: string) => ({ provider: 'openai', model, apiKey: 'env:OPENAI_API_KEY', baseURL: server.baseURL('openai', route) });
    const config = writeConfigFile(dir, 'shared.yaml', {
      chains: {
        support: {
          targets: [target('shared-primary', 'gpt-4o'), target('shared-backup', 'gpt-4o-mini')],
          retry: { maxAttempts: 1 },
          breaker: { consecutiveFailures: 2, openMs: 600_000 },
        },
      },
      routes: { 'support-agent': 'support' },
      clients: [{ name: 'fleet', keyHash: sha256(KEY) }],
      adminTokenHash: sha256(ADMIN_TOKEN),
      sharedState: { redisUrl: 'env:REDIS_URL', syncIntervalMs: 100 },
    });
    const env = { OPENAI_API_KEY: 'sk-upstream-shared', REDIS_URL: redis.url };
    [a, b] = await Promise.all([startGatewayProcess(config, env), startGatewayProcess(config, env)]);
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await server?.close();
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const ask = async (gw: GatewayProcess) => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 });
    const { data, response } = await client.chat.completions.create({ model: 'support-agent', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    return { text: data.choices[0]!.message.content, target: response.headers.get('x-bulwark-target') };
  };
  const primaryState = async (gw: GatewayProcess): Promise<string | undefined> => {
    const res = await fetch(`${gw.url}/admin/health`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const body = (await res.json()) as { chains: Array<{ chain: string; targets: Array<{ state: string }> }> };
    return body.chains.find((c) => c.chain === 'support')?.targets[0]?.state;
  };

  it('both gateways are ready (Redis reachable)', async () => {
    for (const gw of [a, b]) await eventually('ready', async () => (await fetch(`${gw.url}/readyz`)).status === 200, 10_000);
  });

  it('the primary opened by one gateway is skipped by the other', async () => {
    expect(await primaryState(b)).toBe('closed');
    // Gateway A sees the primary fail twice: its breaker opens; both answers come from the backup.
    for (let i = 0; i < 2; i++) expect(await ask(a)).toEqual({ text: 'Mock reply from shared-backup (gpt-4o-mini).', target: 'openai/gpt-4o-mini' });
    expect(server.hits({ route: 'shared-primary' })).toBe(2);
    expect(await primaryState(a)).toBe('open');

    // Gateway B learns it from Redis, without a failure of its own …
    await eventually('the breaker is open in gateway B', async () => (await primaryState(b)) === 'open', 10_000);
    // … and sends the primary nothing.
    for (let i = 0; i < 5; i++) expect(await ask(b)).toEqual({ text: 'Mock reply from shared-backup (gpt-4o-mini).', target: 'openai/gpt-4o-mini' });
    expect(server.hits({ route: 'shared-primary' }), 'the primary got nothing from gateway B').toBe(2);
    expect(server.hits({ route: 'shared-backup' })).toBe(7);
  });
});
