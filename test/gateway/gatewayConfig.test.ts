import { createHash } from 'node:crypto';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { createResilientLLM } from '../../src/createResilientLLM.js';
import { ConfigError } from '../../src/errors/bulwarkError.js';
import { resolveGatewayConfig, SERVER_DEFAULTS } from '../../src/gateway/gatewayConfig.js';
import type { GatewayConfig } from '../../src/gateway/types.js';
import { openaiTarget } from '../../src/providers/index.js';

const sha = (key: string) => createHash('sha256').update(key).digest('hex');
const target = () => openaiTarget({ client: new OpenAI({ apiKey: 'unused', baseURL: 'http://127.0.0.1:9/v1' }), model: 'gpt-4o' });
const base = (): GatewayConfig => ({
  chains: { support: { targets: [target()], telemetry: false } },
  routes: { 'support-agent': 'support' },
  clients: [{ name: 'team-a', keyHash: sha('key-a') }],
  accessLog: false,
});

function fieldOf(config: unknown): string {
  try {
    resolveGatewayConfig(config as GatewayConfig);
  } catch (error) {
    if (error instanceof ConfigError) return error.field;
    throw error;
  }
  throw new Error('no ConfigError');
}

describe('gateway config', () => {
  it('builds the chains given as options, named by their key, and applies the server defaults', async () => {
    const gw = resolveGatewayConfig(base());
    const support = gw.chains.get('support')!;
    expect(support.owned).toBe(true);
    expect(support.llm.name).toBe('support');
    expect(gw.routes.get('support-agent')).toBe(support.llm);
    expect(gw.server).toEqual(SERVER_DEFAULTS);
    expect(gw.server.bodyLimitBytes).toBe(20 * 1024 * 1024);
    const client = gw.clients.get(sha('key-a'))!;
    expect(client).toMatchObject({ name: 'team-a', cachePartition: 'team-a', limits: {} });
    await support.llm.close();
  });

  it('takes a chain the embedder built, and does not own it', async () => {
    const llm = createResilientLLM({ name: 'support', targets: [target()], telemetry: false });
    const gw = resolveGatewayConfig({ ...base(), chains: { support: llm } });
    expect(gw.chains.get('support')).toEqual({ llm, owned: false });
    expect(fieldOf({ ...base(), chains: { other: llm }, routes: { a: 'other' } })).toBe('chains.other');
    await llm.close();
  });

  it.each([
    ['routes.support-agent', { routes: { 'support-agent': 'nope' } }],
    ['chains', { chains: {} }],
    ['clients', { clients: undefined }],
    ['clients[0].keyHash', { clients: [{ name: 'a', keyHash: 'key-a' }] }],
    ['clients[1].name', { clients: [{ name: 'a', keyHash: sha('1') }, { name: 'a', keyHash: sha('2') }] }],
    ['clients[1].keyHash', { clients: [{ name: 'a', keyHash: sha('1') }, { name: 'b', keyHash: sha('1').toUpperCase() }] }],
    ['clients[0].limits.rpm', { clients: [{ name: 'a', keyHash: sha('1'), limits: { rpm: 0 } }] }],
    ['clients[0].limits.tpm', { clients: [{ name: 'a', keyHash: sha('1'), limits: { tpm: 5 } }] }],
    ['clients[0].limits.spendUsdPerDay', { clients: [{ name: 'a', keyHash: sha('1'), limits: { spendUsdPerDay: -1 } }] }],
    ['adminTokenHash', { adminTokenHash: 'secret' }],
    ['server.bodyLimitBytes', { server: { bodyLimitBytes: 0 } }],
    ['server.port', { server: { port: 70_000 } }],
    ['server.drainMs', { server: { drainMs: 5 } }],
    ['accessLog', { accessLog: 'stdout' }],
    ['chains.support.name', { chains: { support: { name: 'other', targets: [] } } }],
    ['chains.support.targets', { chains: { support: { targets: [] } } }],
  ])('names the bad field %s', (field, change) => {
    expect(fieldOf({ ...base(), ...change })).toBe(field);
  });
});
