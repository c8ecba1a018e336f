/**
 * `bulwark gateway --config …` as a process: a bad config file is one line on stderr naming the
 * field and exit code 1 before anything listens; the config the compose stack mounts passes the
 * same check; SIGTERM on an idle gateway exits 0.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { repoRoot } from '../support/tools.js';
import { runCli, startGatewayProcess } from './gatewayProcess.js';

const KEYS = { OPENAI_API_KEY: 'sk-test-cli-OPENAI-000111222333', ANTHROPIC_API_KEY: 'sk-ant-test-cli-444555666777' };

const config = (patch: (c: any) => void = () => undefined) => {
  const c: any = {
    chains: { support: { targets: [{ provider: 'openai', model: 'gpt-4o', apiKey: 'env:OPENAI_API_KEY', baseURL: 'http://127.0.0.1:9/v1' }] } },
    routes: { 'support-agent': 'support' },
    clients: [{ name: 'acme', keyHash: 'c'.repeat(64) }],
  };
  patch(c);
  return c;
};

describe('bulwark gateway (the process)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bulwark-gateway-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: object): string => {
    const path = join(dir, name);
    writeFileSync(path, name.endsWith('.json') ? JSON.stringify(content) : stringify(content));
    return path;
  };

  it.each([
    ['a literal key (refused by the file loader)', (c: any) => (c.chains.support.targets[0].apiKey = KEYS.OPENAI_API_KEY), 'chains.support.targets[0].apiKey'],
    ['a key variable that is not set', (c: any) => (c.chains.support.targets[0].apiKey = 'env:NOT_SET_ANYWHERE'), 'chains.support.targets[0].apiKey'],
    ['a misspelt chain option (refused by createGateway)', (c: any) => (c.chains.support.retry = { maxAttemps: 2 }), 'chains.support.retry.maxAttemps'],
    ['a client key that is not a SHA-256', (c: any) => (c.clients[0].keyHash = 'not-a-hash'), 'clients[0].keyHash'],
    ['a route to a chain that does not exist', (c: any) => (c.routes['support-agent'] = 'suport'), 'routes.support-agent'],
    ['a server option out of range', (c: any) => (c.server = { drainTimeoutMs: -5 }), 'server.drainTimeoutMs'],
    ['a pool member of weight 0, under --check', (c: any) => (c.chains.support.targets = [{ name: 'gpt-4o', members: [{ ...c.chains.support.targets[0], breakerKey: 'east', weight: 0 }, { ...c.chains.support.targets[0], breakerKey: 'west' }] }]), 'chains.support.targets[0].members[0].weight', '--check'],
    ['a hedge delay of 0, under --check', (c: any) => (c.chains.support.hedge = { after: 0 }), 'chains.support.hedge.after', '--check'],
    ['a target limit of 0', (c: any) => (c.chains.support.targets[0].limits = { rpm: 0 }), 'chains.support.targets[0].limits.rpm'],
    ['a literal Authorization header, under --check', (c: any) => (c.chains.support.targets[0].headers = { Authorization: `Bearer ${KEYS.OPENAI_API_KEY}` }), 'chains.support.targets[0].headers.Authorization', '--check'],
  ])('exits 1 naming the field for %s, listening on nothing', async (_, patch, field, mode = '--port') => {
    const path = file('bad.yaml', config(patch));
    const r = await runCli(['gateway', '--config', path, ...(mode === '--check' ? ['--check'] : ['--port', '0'])], KEYS);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Invalid Bulwark config: ${field} `);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/listening on/);
    expect(r.stderr).not.toContain(KEYS.OPENAI_API_KEY);
    expect(r.stdout).toBe('');
  });

  it('exits 1 for a file that is not there or not YAML, and 2 for bad usage', async () => {
    expect((await runCli(['gateway', '--config', join(dir, 'missing.yaml')])).stderr).toMatch(/--config cannot be read: ENOENT/);
    writeFileSync(join(dir, 'broken.yaml'), 'chains: [\n');
    const broken = await runCli(['gateway', '--config', join(dir, 'broken.yaml')]);
    expect(broken).toMatchObject({ code: 1 });
    expect(broken.stderr).toMatch(/is not valid YAML \(line/);
    const usage = await runCli(['gateway']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--config is required/);
    expect((await runCli(['serve'])).stderr).toMatch(/unknown command 'serve'/);
    expect((await runCli(['gateway', '--config', 'x.yaml', '--port', 'eighty'])).code).toBe(2);
  });

  it('the config the compose stack mounts passes --check with its variables set, and names the one missing', async () => {
    const shipped = join(repoRoot, 'gateway/bulwark.config.yaml');
    const ok = await runCli(['gateway', '--config', shipped, '--check'], { ...KEYS, REDIS_URL: 'redis://127.0.0.1:1' });
    expect(ok.stderr).toMatch(/config ok/);
    expect(ok.code).toBe(0);
    const missing = await runCli(['gateway', '--config', shipped, '--check'], { ...KEYS });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/sharedState\.redisUrl refers to the environment variable REDIS_URL, which is not set/);
  });

  it('serves until SIGTERM, then exits 0', async () => {
    const gw = await startGatewayProcess(file('ok.json', config()), KEYS);
    const health = await fetch(`${gw.url}/healthz`);
    expect(health.status).toBe(200);
    gw.signal('SIGTERM');
    expect(await gw.exit).toBe(0);
    expect(gw.stderr()).toMatch(/SIGTERM, draining in-flight requests\n.*stopped\n$/);
  });
});
