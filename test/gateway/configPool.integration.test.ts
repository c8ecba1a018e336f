/**
 * A pool, per-target limits and hedging written in a YAML config file, loaded as the CLI loads it,
 * served by the gateway to the official client over loopback, on the fault server and a fake clock:
 * the cheaper member takes traffic up to its rpm limit, the rest goes to the other member; a member
 * silent past the pool's hedge delay loses to a hedge on the other member, whose connection closes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createGateway } from '../../src/gateway/server.js';
import { loadGatewayConfig } from '../../src/gateway/loadConfig.js';
import { fault, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { createFakeClock } from '../support/fakeClock.js';
import { KEY_A, sha256 } from './setup.js';
import OpenAI from 'openai';

const YAML = `
chains:
  support:
    targets:
      - name: gpt-4o
        strategy: cost
        hedge: { after: 200, budgetRatio: 1 }
        members:
          - provider: openai
            model: gpt-4o
            apiKey: env:EAST_KEY
            baseURL: env:EAST_URL
            breakerKey: east
            pricing: { inputPerMTok: 1, outputPerMTok: 2 }
            limits: { rpm: 3 }
          - provider: openai
            model: gpt-4o
            apiKey: env:WEST_KEY
            baseURL: env:WEST_URL
            breakerKey: west
            pricing: { inputPerMTok: 2, outputPerMTok: 4 }
    retry: { maxAttempts: 1 }
    telemetry: false
routes: { support-agent: support }
clients:
  - { name: team-a, keyHash: ${sha256(KEY_A)} }
accessLog: false
`;

describe('gateway config file: a pool with limits and hedging', () => {
  let server: FaultServer;
  let dir: string;
  beforeAll(async () => {
    server = await startFaultServer({ seed: 1417 });
    dir = mkdtempSync(join(tmpdir(), 'bulwark-gateway-pool-'));
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves traffic split across the members by cost and rpm limit, and hedges a silent member onto the other', async () => {
    const path = join(dir, 'bulwark.config.yaml');
    writeFileSync(path, YAML);
    const env = { EAST_KEY: 'sk-east-upstream-key', WEST_KEY: 'sk-west-upstream-key', EAST_URL: server.baseURL('openai', 'east'), WEST_URL: server.baseURL('openai', 'west') };
    const loaded = await loadGatewayConfig(path, { env });
    const clock = createFakeClock(Date.now());
    const gateway = createGateway({ ...loaded.config, clock });
    const address = await gateway.listen(0, '127.0.0.1');
    const openai = new OpenAI({ apiKey: KEY_A, baseURL: `${address.url}/v1`, maxRetries: 0 });
    const ask = { model: 'support-agent', messages: [{ role: 'user' as const, content: 'Hi' }] };
    try {
      server.script({ route: 'east' }, { then: fault.ok({ text: 'from east' }) });
      server.script({ route: 'west' }, { then: fault.ok({ text: 'from west' }) });
      const answers: string[] = [];
      for (let i = 0; i < 5; i++) answers.push((await openai.chat.completions.create(ask)).choices[0]!.message.content!);
      // east is cheaper: it takes every request up to its 3 a minute, then is skipped (limited), not failed.
      expect(answers).toEqual(['from east', 'from east', 'from east', 'from west', 'from west']);
      expect([server.hits({ route: 'east' }), server.hits({ route: 'west' })]).toEqual([3, 2]);

      // A minute later east has room again; it goes silent, and the pool's hedge (200 ms) goes to west.
      clock.advance(60_000);
      server.reset();
      server.script({ route: 'east' }, { then: fault.hang() });
      server.script({ route: 'west' }, { then: fault.ok({ text: 'hedged to west' }) });
      const pending = openai.chat.completions.create(ask).withResponse();
      await vi.waitFor(() => expect(server.hits({ route: 'east' })).toBe(1), { timeout: 5_000, interval: 2 });
      expect(server.hits({ route: 'west' })).toBe(0);
      clock.advance(200);
      const { data, response } = await pending;
      expect(data.choices[0]!.message.content).toBe('hedged to west');
      expect(response.headers.get('x-bulwark-attempts')).toBe('2');
      await server.idle();
      expect(server.requests.filter((r) => r.route === 'east').map((r) => r.clientClosed)).toEqual([true]);
    } finally {
      await gateway.close({ drainMs: 0 });
      await loaded.close();
    }
  });
});
