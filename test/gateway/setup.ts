import { createHash } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { ResilientLLMOptions } from '../../src/config/types.js';
import { createGateway } from '../../src/gateway/server.js';
import type { AccessLogEntry, Gateway, GatewayAddress, GatewayConfig } from '../../src/gateway/types.js';
import { anthropicTarget, openaiTarget } from '../../src/providers/index.js';
import type { FaultServer } from '../../src/testing/index.js';
import { createFakeClock, type FakeClock } from '../support/fakeClock.js';

/** Gateway keys of the test clients, and the upstream provider keys (none may ever reach a log line). */
export const KEY_A = 'bwk-team-a-SECRET-0123456789abcdef';
export const KEY_B = 'bwk-team-b-SECRET-fedcba9876543210';
export const ADMIN_TOKEN = 'bwk-admin-SECRET-00112233445566778899';
export const OPENAI_KEY = 'sk-proj-GATEWAY-UPSTREAM-SECRET-0123';
export const ANTHROPIC_KEY = 'sk-ant-api03-GATEWAY-UPSTREAM-SECRET-4567';

export const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

/** The chain 'support' (OpenAI primary → Anthropic backup) over the fault server's routes. */
export function supportChain(server: FaultServer, options: Partial<ResilientLLMOptions> = {}): Omit<ResilientLLMOptions, 'name'> {
  return {
    targets: [
      openaiTarget({ client: new OpenAI({ apiKey: OPENAI_KEY, baseURL: server.baseURL('openai', 'primary') }), model: 'gpt-4o', contextWindow: 128_000 }),
      anthropicTarget({ client: new Anthropic({ apiKey: ANTHROPIC_KEY, baseURL: server.baseURL('anthropic', 'backup') }), model: 'claude-sonnet-4-6', contextWindow: 200_000 }),
    ],
    retry: { maxAttempts: 1 },
    telemetry: false,
    ...options,
  };
}

export interface TestGateway {
  gateway: Gateway;
  address: GatewayAddress;
  clock: FakeClock;
  /** Every access-log entry so far. */
  log: AccessLogEntry[];
  /** Resolves with the access-log entry number `n` (0-based) once it is written. */
  entry(n: number): Promise<AccessLogEntry>;
  openai(key?: string, options?: ConstructorParameters<typeof OpenAI>[0]): OpenAI;
  anthropic(key?: string, options?: ConstructorParameters<typeof Anthropic>[0]): Anthropic;
}

/** A gateway on 127.0.0.1 (free port) over the fault server, with a fake clock and a collected access log. */
export async function startTestGateway(server: FaultServer, config: Partial<GatewayConfig> = {}, chain: Partial<ResilientLLMOptions> = {}): Promise<TestGateway> {
  const clock = createFakeClock(Date.now());
  const log: AccessLogEntry[] = [];
  const waiters = new Map<number, (e: AccessLogEntry) => void>();
  const gateway = createGateway({
    chains: { support: supportChain(server, chain) },
    routes: { 'support-agent': 'support' },
    clients: [
      { name: 'team-a', keyHash: sha256(KEY_A) },
      { name: 'team-b', keyHash: sha256(KEY_B) },
    ],
    adminTokenHash: sha256(ADMIN_TOKEN),
    clock,
    accessLog: (e) => {
      log.push(e);
      waiters.get(log.length - 1)?.(e);
    },
    ...config,
  });
  const address = await gateway.listen(0, '127.0.0.1');
  return {
    gateway,
    address,
    clock,
    log,
    entry: (n) => (log[n] ? Promise.resolve(log[n]) : new Promise((resolve) => waiters.set(n, resolve))),
    openai: (key = KEY_A, options = {}) => new OpenAI({ apiKey: key, baseURL: `${address.url}/v1`, maxRetries: 0, ...options }),
    anthropic: (key = KEY_A, options = {}) => new Anthropic({ apiKey: key, baseURL: address.url, maxRetries: 0, ...options }),
  };
}
