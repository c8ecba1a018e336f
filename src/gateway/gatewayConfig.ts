import { createResilientLLM, type ResilientLLM } from '../createResilientLLM.js';
import type { ResilientLLMOptions } from '../config/types.js';
import { ConfigError } from '../errors/bulwarkError.js';
import type { ModelPrice } from '../providers/adapter.js';
import { systemClock, type Clock } from '../time/clock.js';
import { priceCeiling } from './clientLimits.js';
import { stdoutAccessLog } from './accessLog.js';
import type { AccessLogger, GatewayChain, GatewayClient, GatewayClientLimits, GatewayConfig, GatewayServerOptions } from './types.js';

/** The gateway's config checked once, defaulted, its chains built. */
export interface ResolvedGateway {
  /** Chain name → chain; `owned` chains were built here and are closed with the gateway. */
  chains: ReadonlyMap<string, { llm: ResilientLLM; owned: boolean }>;
  /** Model alias → chain. */
  routes: ReadonlyMap<string, ResilientLLM>;
  /** Key hash (lower-case hex) → client. */
  clients: ReadonlyMap<string, ResolvedClient>;
  /**
   * Chain name → the dearest prices among its targets, to estimate a request's cost against a
   * client's spend limit (empty when no client has one).
   */
  spendPrices: ReadonlyMap<string, ModelPrice | undefined>;
  /** SHA-256 of the admin token, as bytes; undefined: /admin/* is not served. */
  adminTokenHash: Buffer | undefined;
  server: Required<GatewayServerOptions>;
  sharedState: GatewayConfig['sharedState'];
  accessLog: AccessLogger | undefined;
  clock: Clock;
}

export interface ResolvedClient {
  name: string;
  keyHash: Buffer;
  cachePartition: string;
  limits: GatewayClientLimits;
}

export const SERVER_DEFAULTS: Required<GatewayServerOptions> = {
  host: '127.0.0.1',
  port: 8787,
  bodyLimitBytes: 20 * 1024 * 1024,
  headersTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  requestTimeoutMs: 300_000,
  drainTimeoutMs: 30_000,
};

const SHA256_HEX = /^[0-9a-f]{64}$/i;
const CLIENT_KEYS: readonly string[] = ['name', 'keyHash', 'cachePartition', 'limits'];

/**
 * Checks every field (a bad one is a ConfigError naming it, e.g. `clients[1].keyHash`), applies
 * the defaults and builds the chains given as options. Nothing is built when a field is bad.
 */
export function resolveGatewayConfig(config: GatewayConfig): ResolvedGateway {
  if (!isObject(config)) throw new ConfigError('gateway config', 'must be an object');
  if (!isObject(config.chains) || Object.keys(config.chains).length === 0) throw new ConfigError('chains', 'must name at least one chain');
  if (!isObject(config.routes) || Object.keys(config.routes).length === 0) throw new ConfigError('routes', 'must map at least one model alias to a chain');
  for (const [alias, chain] of Object.entries(config.routes)) {
    if (alias.length === 0) throw new ConfigError('routes', 'has an empty model alias');
    if (typeof chain !== 'string' || !Object.hasOwn(config.chains, chain)) {
      throw new ConfigError(`routes.${alias}`, `must name a chain (known: ${Object.keys(config.chains).join(', ')}), got ${JSON.stringify(chain)}`);
    }
  }
  for (const [name, chain] of Object.entries(config.chains)) {
    if (!isObject(chain)) throw new ConfigError(`chains.${name}`, 'must be createResilientLLM options or a chain made by createResilientLLM()');
    if (isChain(chain) && chain.name !== name) throw new ConfigError(`chains.${name}`, `is a chain named '${chain.name}': key it by its name`);
    if (!isChain(chain) && 'name' in chain && chain.name !== undefined && chain.name !== name) {
      throw new ConfigError(`chains.${name}.name`, `must be '${name}' (the key) or left out, got ${JSON.stringify(chain.name)}`);
    }
  }
  const clients = resolveClients(config.clients);
  if (config.adminTokenHash !== undefined && !(typeof config.adminTokenHash === 'string' && SHA256_HEX.test(config.adminTokenHash))) {
    throw new ConfigError('adminTokenHash', 'must be the SHA-256 of the admin token as 64 hex characters');
  }
  const server = resolveServer(config.server);
  if (config.accessLog !== undefined && config.accessLog !== false && typeof config.accessLog !== 'function') {
    throw new ConfigError('accessLog', 'must be a function (entry) => void or false');
  }
  if (config.sharedState !== undefined && !isObject(config.sharedState)) throw new ConfigError('sharedState', 'must be a store made by redisStore(client)');

  // Built last, so a bad field above leaves nothing to close.
  const chains = new Map<string, { llm: ResilientLLM; owned: boolean }>();
  for (const [name, chain] of Object.entries(config.chains)) {
    chains.set(name, isChain(chain) ? { llm: chain, owned: false } : { llm: buildChain(name, chain, config), owned: true });
  }
  const routes = new Map(Object.entries(config.routes).map(([alias, chain]) => [alias, chains.get(chain)!.llm]));
  const spendPrices = new Map<string, ModelPrice | undefined>();
  if ([...clients.values()].some((c) => c.limits.spendUsdPerDay !== undefined)) {
    for (const [name, chain] of Object.entries(config.chains)) spendPrices.set(name, priceCeiling(isChain(chain) ? chain : (chain as Pick<ResilientLLMOptions, 'targets' | 'pricing'>)));
  }
  return {
    chains,
    routes,
    clients,
    spendPrices,
    adminTokenHash: config.adminTokenHash === undefined ? undefined : Buffer.from(config.adminTokenHash, 'hex'),
    server,
    sharedState: config.sharedState,
    accessLog: config.accessLog === false ? undefined : (config.accessLog ?? stdoutAccessLog),
    clock: config.clock ?? systemClock,
  };
}

function buildChain(name: string, options: Exclude<GatewayChain, ResilientLLM>, config: GatewayConfig): ResilientLLM {
  const full: ResilientLLMOptions = {
    ...(config.sharedState && { sharedState: config.sharedState }),
    ...(config.clock && { clock: config.clock }),
    ...options,
    name,
  };
  try {
    return createResilientLLM(full);
  } catch (error) {
    // Say which chain: `chains.support.retry.maxAttempts`, not just `retry.maxAttempts`.
    if (error instanceof ConfigError) throw new ConfigError(`chains.${name}.${error.field}`, error.message.replace(`Invalid Bulwark config: ${error.field} `, ''));
    throw error;
  }
}

function resolveClients(clients: readonly GatewayClient[] | undefined): Map<string, ResolvedClient> {
  if (!Array.isArray(clients)) throw new ConfigError('clients', 'must be a list of { name, keyHash } (an empty list refuses every request)');
  const byHash = new Map<string, ResolvedClient>();
  const names = new Set<string>();
  for (const [i, client] of clients.entries()) {
    const at = `clients[${i}]`;
    if (!isObject(client)) throw new ConfigError(at, 'must be an object { name, keyHash }');
    for (const key of Object.keys(client)) {
      if (!CLIENT_KEYS.includes(key)) throw new ConfigError(`${at}.${key}`, `is not a client field (${CLIENT_KEYS.join(', ')})`);
    }
    if (typeof client.name !== 'string' || client.name.length === 0) throw new ConfigError(`${at}.name`, 'must be a non-empty string');
    if (names.has(client.name)) throw new ConfigError(`${at}.name`, `repeats '${client.name}'`);
    names.add(client.name);
    if (typeof client.keyHash !== 'string' || !SHA256_HEX.test(client.keyHash)) {
      throw new ConfigError(`${at}.keyHash`, 'must be the SHA-256 of the API key as 64 hex characters');
    }
    const hash = client.keyHash.toLowerCase();
    if (byHash.has(hash)) throw new ConfigError(`${at}.keyHash`, `is the same key as client '${byHash.get(hash)!.name}'`);
    if (client.cachePartition !== undefined && (typeof client.cachePartition !== 'string' || client.cachePartition.length === 0)) {
      throw new ConfigError(`${at}.cachePartition`, 'must be a non-empty string');
    }
    const limits = client.limits ?? {};
    if (!isObject(limits)) throw new ConfigError(`${at}.limits`, 'must be an object { rpm?, spendUsdPerDay? }');
    for (const key of Object.keys(limits)) {
      if (key !== 'rpm' && key !== 'spendUsdPerDay') throw new ConfigError(`${at}.limits.${key}`, 'is not a limit (rpm, spendUsdPerDay)');
    }
    if (limits.rpm !== undefined && !(Number.isInteger(limits.rpm) && limits.rpm > 0)) throw new ConfigError(`${at}.limits.rpm`, 'must be an integer > 0');
    if (limits.spendUsdPerDay !== undefined && !(typeof limits.spendUsdPerDay === 'number' && Number.isFinite(limits.spendUsdPerDay) && limits.spendUsdPerDay > 0)) {
      throw new ConfigError(`${at}.limits.spendUsdPerDay`, 'must be a number > 0');
    }
    byHash.set(hash, { name: client.name, keyHash: Buffer.from(hash, 'hex'), cachePartition: client.cachePartition ?? client.name, limits: { ...limits } });
  }
  return byHash;
}

function resolveServer(options: GatewayServerOptions | undefined): Required<GatewayServerOptions> {
  if (options === undefined) return { ...SERVER_DEFAULTS };
  if (!isObject(options)) throw new ConfigError('server', 'must be an object');
  const server = { ...SERVER_DEFAULTS };
  for (const [key, value] of Object.entries(options)) {
    if (!(key in SERVER_DEFAULTS)) throw new ConfigError(`server.${key}`, `is not a server option (${Object.keys(SERVER_DEFAULTS).join(', ')})`);
    if (value === undefined) continue;
    if (key === 'host') {
      if (typeof value !== 'string' || value.length === 0) throw new ConfigError('server.host', 'must be a non-empty string');
    } else if (key === 'port') {
      if (!(Number.isInteger(value) && value >= 0 && value <= 65_535)) throw new ConfigError('server.port', 'must be an integer from 0 to 65535');
    } else if (!(Number.isInteger(value) && value > 0)) {
      throw new ConfigError(`server.${key}`, 'must be an integer > 0');
    }
    (server as Record<string, unknown>)[key] = value;
  }
  return server;
}

function isChain(value: object): value is ResilientLLM {
  const v = value as Partial<ResilientLLM>;
  return typeof v.chat === 'function' && typeof v.stream === 'function' && typeof v.health === 'function';
}

function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
