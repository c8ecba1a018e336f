/**
 * The gateway's config FILE → GatewayConfig: YAML, JSON, JS and TS files read the same way, every
 * `env:NAME` resolved from the environment, the official clients built with those keys, and a bad
 * field a ConfigError naming its path in the file. Keys never come from the file itself.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createResilientLLM } from '../../src/createResilientLLM.js';
import { ConfigError } from '../../src/errors/bulwarkError.js';
import { loadGatewayConfig, resolveConfigFile } from '../../src/gateway/loadConfig.js';

const OPENAI_KEY = 'sk-test-OPENAI-0123456789abcdef';
const ANTHROPIC_KEY = 'sk-ant-test-ANTHROPIC-0123456789';
const env = { OPENAI_API_KEY: OPENAI_KEY, ANTHROPIC_API_KEY: ANTHROPIC_KEY, UPSTREAM_URL: 'http://127.0.0.1:9/v1' };

/** A config file's content: one chain of an OpenAI and an Anthropic target, one route, one client. */
function fileConfig(overrides: Record<string, unknown> = {}) {
  return {
    chains: {
      support: {
        targets: [
          { provider: 'openai', model: 'gpt-4o', apiKey: 'env:OPENAI_API_KEY', baseURL: 'env:UPSTREAM_URL' },
          { provider: 'anthropic', model: 'claude-haiku-4-5', apiKey: 'env:ANTHROPIC_API_KEY', tier: 'reduced' },
        ],
        retry: { maxAttempts: 2 },
        breaker: { consecutiveFailures: 3 },
        degrade: { staticReply: 'unavailable' },
      },
    },
    routes: { 'support-agent': 'support' },
    clients: [{ name: 'acme', keyHash: 'a'.repeat(64), cachePartition: 'acme', limits: { rpm: 60 } }],
    adminTokenHash: 'b'.repeat(64),
    server: { port: 0, drainTimeoutMs: 5_000 },
    ...overrides,
  };
}

async function configError(raw: unknown, withEnv: Record<string, string> = env): Promise<ConfigError> {
  const error = await resolveConfigFile(raw, { env: withEnv }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe('config file → GatewayConfig', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bulwark-gateway-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it.each([
    ['yaml', (c: object) => stringify(c)],
    ['yml', (c: object) => stringify(c)],
    ['json', (c: object) => JSON.stringify(c, null, 2)],
    ['mjs', (c: object) => `export default ${JSON.stringify(c)};\n`],
    ['ts', (c: object) => `interface FileConfig { chains: unknown }\nconst config: FileConfig = ${JSON.stringify(c)};\nexport default config;\n`],
  ])('reads a .%s file the same way', async (ext, render) => {
    const { config, close } = await loadGatewayConfig(write(`bulwark.config.${ext}`, render(fileConfig())), { env });
    await close();
    expect(config.routes).toEqual({ 'support-agent': 'support' });
    expect(config.clients).toEqual([{ name: 'acme', keyHash: 'a'.repeat(64), cachePartition: 'acme', limits: { rpm: 60 } }]);
    expect(config.adminTokenHash).toBe('b'.repeat(64));
    expect(config.server).toEqual({ port: 0, drainTimeoutMs: 5_000 });
    expect(config.sharedState).toBeUndefined();
    const chain = config.chains.support as { targets: Array<{ adapter: { provider: string; model: string }; tier: string }>; retry: unknown };
    expect(chain.targets.map((t) => [t.adapter.provider, t.adapter.model, t.tier])).toEqual([
      ['openai', 'gpt-4o', 'full'],
      ['anthropic', 'claude-haiku-4-5', 'reduced'],
    ]);
    expect(chain.retry).toEqual({ maxAttempts: 2 });
    // Nothing of the keys is visible on the built config (the adapters hold their clients privately).
    expect(JSON.stringify(config)).not.toContain(OPENAI_KEY);
    expect(JSON.stringify(config)).not.toContain(ANTHROPIC_KEY);
  });

  it('builds real clients that send the keys from the environment to the baseURL from the environment', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const upstream: Server = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"message":"no","type":"invalid_request_error"}}');
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    try {
      const raw = fileConfig();
      raw.chains.support.targets[1] = { ...raw.chains.support.targets[1]!, baseURL: base } as (typeof raw.chains.support.targets)[number];
      const { config, close } = await resolveConfigFile(raw, { env: { ...env, UPSTREAM_URL: `${base}/v1` } });
      await close();
      const llm = createResilientLLM({ ...(config.chains.support as object), name: 'support' } as Parameters<typeof createResilientLLM>[0]);
      const res = await llm.chat({ messages: [{ role: 'user', content: 'hi' }] });
      await llm.close();
      expect(res.tier).toBe('static');
      expect(seen.map((h) => h.authorization)).toEqual([`Bearer ${OPENAI_KEY}`, `Bearer ${ANTHROPIC_KEY}`]);
    } finally {
      upstream.close();
    }
  });

  it('refuses a literal key, naming the field and never quoting the key', async () => {
    const raw = fileConfig();
    raw.chains.support.targets[1]!.apiKey = ANTHROPIC_KEY;
    const error = await configError(raw);
    expect(error.field).toBe('chains.support.targets[1].apiKey');
    expect(error.message).toMatch(/env:NAME/);
    expect(error.message).not.toContain(ANTHROPIC_KEY);
    expect(error.message).not.toContain('ANTHROPIC-0123');
  });

  it('names the environment variable that is not set', async () => {
    const { OPENAI_API_KEY: _, ...without } = env;
    const error = await configError(fileConfig(), without);
    expect(error.field).toBe('chains.support.targets[0].apiKey');
    expect(error.message).toMatch(/OPENAI_API_KEY, which is not set/);
  });

  it.each([
    ['an unknown top-level key, with a did-you-mean', { chain: {} }, 'chain', /did you mean 'chains'/],
    ['a missing apiKey', { chains: { c: { targets: [{ provider: 'openai', model: 'm' }] } } }, 'chains.c.targets[0].apiKey', /is required.*env:OPENAI_API_KEY/],
    ['an unknown provider', { chains: { c: { targets: [{ provider: 'gemini', model: 'm', apiKey: 'env:X' }] } } }, 'chains.c.targets[0].provider', /one of 'openai', 'anthropic'/],
    ['a chain without targets', { chains: { c: { retry: {} } } }, 'chains.c.targets', /non-empty array/],
    ['a hook a file cannot carry', { chains: { c: { targets: [], classify: 'x' } } }, 'chains.c.classify', /is not an option/],
    ['an option of the other provider', { chains: { c: { targets: [{ provider: 'anthropic', model: 'm', apiKey: 'env:ANTHROPIC_API_KEY', maxTokensParam: 'max_tokens' }] } } }, 'chains.c.targets[0].maxTokensParam', /is not an option/],
    ['a bad target option (checked by anthropicTarget, named in the file)', { chains: { c: { targets: [{ provider: 'anthropic', model: 'm', apiKey: 'env:ANTHROPIC_API_KEY', contextWindow: -1 }] } } }, 'chains.c.targets[0].contextWindow', /must be > 0/],
    ['a baseURL that is not a URL', { chains: { c: { targets: [{ provider: 'openai', model: 'm', apiKey: 'env:OPENAI_API_KEY', baseURL: 'localhost' }] } } }, 'chains.c.targets[0].baseURL', /must be a URL/],
    ['a redisUrl with a password written in the file', { sharedState: { redisUrl: 'redis://:hunter2@127.0.0.1:6379' } }, 'sharedState.redisUrl', /password written into its URL: give the whole URL as 'env:NAME'/],
    ['a redisUrl that is not redis', { sharedState: { redisUrl: 'http://127.0.0.1:6379' } }, 'sharedState.redisUrl', /redis: or rediss:/],
    ['accessLog as a string', { accessLog: 'stdout' }, 'accessLog', /true .* or false/],
  ])('names the field: %s', async (_, overrides, field, message) => {
    const error = await configError(fileConfig(overrides));
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('hunter2');
  });

  it('builds a pool position (members with weights, strategy, hedge) and per-target limits, as pool({ … }) would', async () => {
    const raw = fileConfig();
    const support = raw.chains.support as Record<string, unknown>;
    support.targets = [
      {
        name: 'gpt-4o',
        strategy: 'least-busy',
        latency: { tolerance: 0.5 },
        hedge: { after: 'p95', maxHedges: 1 },
        members: [
          { provider: 'openai', model: 'gpt-4o', apiKey: 'env:OPENAI_API_KEY', breakerKey: 'east', limits: { rpm: 100, tpm: 50_000, maxConcurrent: 4, queueMs: 250 }, weight: 3 },
          { provider: 'openai', model: 'gpt-4o', apiKey: 'env:OPENAI_API_KEY', breakerKey: 'west', headers: { 'OpenAI-Organization': 'org-west' } },
        ],
      },
      { provider: 'anthropic', model: 'claude-haiku-4-5', apiKey: 'env:ANTHROPIC_API_KEY', limits: { rpm: 10 } },
    ];
    support.hedge = { after: 400, budgetRatio: 0.1 };
    support.rateLimitHeaders = { lowRemaining: 0.1 };
    const { config, close } = await resolveConfigFile(raw, { env });
    await close();
    const chain = config.chains.support as { targets: any[]; hedge: unknown; rateLimitHeaders: unknown };
    const [position, backup] = chain.targets;
    expect(position).toMatchObject({ kind: 'pool', options: { name: 'gpt-4o', strategy: 'least-busy', latency: { tolerance: 0.5 }, hedge: { after: 'p95', maxHedges: 1 } } });
    expect(position.options.members[0]).toMatchObject({ weight: 3, target: { breakerKey: 'east', limits: { rpm: 100, tpm: 50_000, maxConcurrent: 4, queueMs: 250 } } });
    expect(position.options.members[1]).toMatchObject({ breakerKey: 'west', adapter: { provider: 'openai', model: 'gpt-4o' } });
    expect(backup).toMatchObject({ limits: { rpm: 10 } });
    expect(chain.hedge).toEqual({ after: 400, budgetRatio: 0.1 });
    expect(chain.rateLimitHeaders).toEqual({ lowRemaining: 0.1 });
  });

  it.each([
    ['a pool member with a bad limit (checked by openaiTarget, named in the file)', (t: any) => (t[0].members[1].limits = { rpm: 0 }), 'chains.support.targets[0].members[1].limits.rpm'],
    ['a pool member with an unknown key', (t: any) => (t[0].members[0].wieght = 2), 'chains.support.targets[0].members[0].wieght'],
    ['a pool with an unknown key', (t: any) => (t[0].stratgey = 'cost'), 'chains.support.targets[0].stratgey'],
    ['a pool without members', (t: any) => (t[0].members = []), 'chains.support.targets[0].members'],
  ])('names the pool field the file loader refuses: %s', async (_, patch, field) => {
    const raw = fileConfig();
    const targets: any[] = [
      {
        name: 'gpt-4o',
        members: [
          { provider: 'openai', model: 'gpt-4o', apiKey: 'env:OPENAI_API_KEY', breakerKey: 'east' },
          { provider: 'openai', model: 'gpt-4o', apiKey: 'env:OPENAI_API_KEY', breakerKey: 'west' },
        ],
      },
    ];
    patch(targets);
    (raw.chains.support as Record<string, unknown>).targets = targets;
    expect((await configError(raw)).field).toBe(field);
  });

  describe('a secret written literally anywhere in the file is refused, naming the field, never quoting it', () => {
    const SECRET = 'hunter2-LITERAL-SECRET-value';
    const target = (extra: object) => ({ chains: { support: { targets: [{ provider: 'openai', model: 'gpt-4o', apiKey: 'env:OPENAI_API_KEY', ...extra }] } } });
    it.each([
      ['an Authorization header', target({ headers: { Authorization: `Bearer ${SECRET}` } }), 'chains.support.targets[0].headers.Authorization', /give it as 'env:NAME'/],
      ['an api-key header (Azure)', target({ headers: { 'api-key': SECRET } }), 'chains.support.targets[0].headers.api-key', /give it as 'env:NAME'/],
      ['an x-api-key header', target({ headers: { 'x-api-key': SECRET } }), 'chains.support.targets[0].headers.x-api-key', /give it as 'env:NAME'/],
      ['a password in a baseURL', target({ baseURL: `https://user:${SECRET}@proxy.example/v1` }), 'chains.support.targets[0].baseURL', /password written into its URL/],
      ['a key in a baseURL query', target({ baseURL: `https://proxy.example/v1?api-key=${SECRET}` }), 'chains.support.targets[0].baseURL', /query parameter 'api-key'/],
      ['a token in providerOptions', target({ providerOptions: { token: SECRET } }), 'chains.support.targets[0].providerOptions.token', /secrets never live.*apiKey, baseURL and headers/],
      ['a provider key under a misspelt field', target({ api_key: SECRET }), 'chains.support.targets[0].api_key', /secret written in the file/],
      ['a value shaped like a key in any field', target({ providerOptions: { user: 'sk-proj-abcdefghijklmnopqrstuvwx' } }), 'chains.support.targets[0].providerOptions.user', /looks like a key or token/],
      ['the admin token itself', { adminToken: SECRET }, 'adminToken', /adminTokenHash/],
      ['a client key itself', { clients: [{ name: 'acme', apiKey: SECRET }] }, 'clients[0].apiKey', /clients\[0\]\.keyHash/],
      ['a client token', { clients: [{ name: 'acme', keyHash: 'a'.repeat(64), token: SECRET }] }, 'clients[0].token', /keyHash/],
      ['a Redis password field', { sharedState: { redisUrl: 'env:REDIS_URL', password: SECRET } }, 'sharedState.password', /secrets never live/],
    ])('%s', async (_, overrides, field, message) => {
      const error = await configError(fileConfig(overrides), { ...env, REDIS_URL: 'redis://127.0.0.1:1' });
      expect(error.field).toBe(field);
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain(SECRET);
      expect(error.message).not.toContain('abcdefghijkl');
    });

    it('walks only data, once: a JS config with a loop or a class instance gets the field’s own error, not a crash', async () => {
      const looped: Record<string, unknown> = fileConfig();
      looped.self = looped;
      expect((await configError(looped)).field).toBe('self');
      const withInstance = fileConfig({ sharedState: new URL('redis://127.0.0.1:6379') });
      expect((await configError(withInstance)).field).toMatch(/^sharedState/);
    });

    it('takes the same fields from the environment, and leaves hashes and non-secret headers alone', async () => {
      const raw = fileConfig(
        target({ baseURL: 'env:PROXY_URL', headers: { Authorization: 'env:PROXY_AUTH', 'OpenAI-Organization': 'org-acme' }, breakerKey: 'main', maxTokensParam: 'max_completion_tokens' }),
      );
      const { config, close } = await resolveConfigFile(raw, { env: { ...env, PROXY_URL: 'https://proxy.example/v1', PROXY_AUTH: `Bearer ${SECRET}` } });
      await close();
      expect(config.adminTokenHash).toBe('b'.repeat(64));
      expect(JSON.stringify(config)).not.toContain(SECRET);
    });
  });

  it('says where a YAML file is broken, and refuses other extensions', async () => {
    const bad = write('broken.yaml', 'chains:\n  support:\n    targets: [\n');
    await expect(loadGatewayConfig(bad, { env })).rejects.toThrow(/--config .*broken\.yaml is not valid YAML \(line \d+, column \d+\)/);
    const dup = write('dup.yaml', 'routes: {}\nroutes: {}\n');
    await expect(loadGatewayConfig(dup, { env })).rejects.toThrow(/not valid YAML.*DUPLICATE_KEY/);
    await expect(loadGatewayConfig(write('c.toml', ''), { env })).rejects.toThrow(/--config must be a .yaml, .yml, .json/);
    await expect(loadGatewayConfig(join(dir, 'missing.yaml'), { env })).rejects.toThrow(/--config cannot be read: ENOENT/);
    await expect(loadGatewayConfig(join(dir, 'missing.ts'), { env })).rejects.toThrow(/--config cannot be read: ENOENT/);
    await expect(loadGatewayConfig(write('nodefault.mjs', 'export const x = 1;\n'), { env })).rejects.toThrow(/no default export/);
  });
});
