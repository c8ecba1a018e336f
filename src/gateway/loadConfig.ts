/**
 * The gateway's config FILE (`bulwark gateway --config bulwark.config.yaml|json|js|ts`) → the
 * in-memory `GatewayConfig` that `createGateway(config)` takes.
 *
 * The file is data: chains whose positions are target specs (`provider`, `model`,
 * `apiKey: env:NAME`, optional `baseURL`, `headers`, `limits`) or pools of them (`{ name, strategy,
 * members: [spec + weight] }`, what `pool({ … })` takes in code), routes, clients (key hashes), the
 * admin token hash, server options, and `sharedState: { redisUrl }`. This module reads it, resolves every `env:NAME` reference from the
 * environment, builds the official provider clients and the Redis store, and leaves every other
 * field to `createGateway`, which validates the whole config once. A bad field here is a
 * ConfigError naming its path in the file (`chains.support.targets[1].apiKey`).
 *
 * Secrets come from the environment only: a literal secret anywhere in the file (a key, a token, an
 * Authorization header, a password in a URL: literalSecrets.ts) is refused before anything else
 * is checked. Errors never quote the value of a secret.
 */
import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseDocument } from 'yaml';
import { ConfigError } from '../errors/bulwarkError.js';
import { anthropicTarget } from '../providers/anthropic.js';
import { openaiTarget } from '../providers/openai.js';
import type { Target } from '../providers/adapter.js';
import { pool, type Pool } from '../pool/pool.js';
import { redisStore, type RedisClientLike } from '../state/redisStore.js';
import { arrayOf, asConfigError, describe, fail, fields, oneOf, plainObject, rejectUnknownKeys, string, timerMs } from '../validation/walk.js';
import { refuseLiteralSecrets } from './literalSecrets.js';
import type { GatewayChain, GatewayConfig } from './types.js';

/** Extensions `--config` accepts. `.ts` / `.mts` need Node's type stripping (Node ≥ 22.18) or tsx. */
export const CONFIG_EXTENSIONS = ['.yaml', '.yml', '.json', '.js', '.mjs', '.ts', '.mts'] as const;

/** The providers a target spec may name, and the package each needs (optional peers). */
export const FILE_PROVIDERS = ['openai', 'anthropic'] as const;
type FileProvider = (typeof FILE_PROVIDERS)[number];
const PROVIDER_PACKAGE: Record<FileProvider, string> = { openai: 'openai', anthropic: '@anthropic-ai/sdk' };

/** Top-level keys of the file. */
const FILE_KEYS = ['chains', 'routes', 'clients', 'adminTokenHash', 'server', 'sharedState', 'accessLog'] as const;
/** A chain's keys in a file: createResilientLLM's options that are data (no hooks, stores or clocks). */
const CHAIN_KEYS = ['targets', 'retry', 'timeouts', 'breaker', 'cache', 'degrade', 'pricing', 'maxHops', 'hedge', 'rateLimitHeaders', 'midStream', 'captureContent', 'telemetry'] as const;
/** A target spec's own keys; the rest go to openaiTarget / anthropicTarget, which check them. */
const SPEC_KEYS = ['provider', 'model', 'apiKey', 'baseURL', 'headers'] as const;
const TARGET_OPTION_KEYS = ['tier', 'contextWindow', 'pricing', 'breakerKey', 'capabilities', 'maxOutputTokens', 'providerOptions', 'limits'] as const;
/**
 * A chain position with `members` is a pool: `pool({ … })`'s data (no `random`). createResilientLLM
 * checks it (names, weights, strategy, hedge), so its fields are named as in the file.
 */
const POOL_KEYS = ['name', 'members', 'strategy', 'latency', 'hedge'] as const;
const OWN_TARGET_OPTIONS: Record<FileProvider, readonly string[]> = { openai: ['maxTokensParam', 'providerName'], anthropic: [] };
const SHARED_STATE_KEYS = ['redisUrl', 'namespace', 'timeoutMs', 'syncIntervalMs'] as const;

const ENV_REF = /^env:([A-Za-z_][A-Za-z0-9_]*)$/;

/** A loaded config and what it opened (the Redis connection), to close after the gateway. */
export interface LoadedGatewayConfig {
  config: GatewayConfig;
  /** Closes what loading opened (the Redis client). Idempotent. */
  close(): Promise<void>;
}

export interface LoadConfigOptions {
  /** Where `env:NAME` references are read. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Reads, checks and resolves a config file. Throws ConfigError naming the field (or the file). */
export async function loadGatewayConfig(file: string, options: LoadConfigOptions = {}): Promise<LoadedGatewayConfig> {
  const raw = await readConfigFile(file);
  return resolveConfigFile(raw, options);
}

/** The file's content as a value: YAML/JSON parsed, JS/TS imported (its default export). */
export async function readConfigFile(file: string): Promise<unknown> {
  const path = resolve(file);
  const ext = extname(path).toLowerCase();
  if (!(CONFIG_EXTENSIONS as readonly string[]).includes(ext)) {
    throw new ConfigError('--config', `must be a ${CONFIG_EXTENSIONS.join(', ')} file, got '${ext || file}'`);
  }
  if (ext === '.js' || ext === '.mjs' || ext === '.ts' || ext === '.mts') return importConfig(path, ext);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError('--config', `cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'} ${path}`);
  }
  if (ext === '.json') {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new ConfigError('--config', `${path} is not valid JSON: ${(error as Error).message}`);
    }
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const where = first.linePos?.[0] ? ` (line ${first.linePos[0].line}, column ${first.linePos[0].col})` : '';
    throw new ConfigError('--config', `${path} is not valid YAML${where}: ${first.code}`);
  }
  return doc.toJS();
}

async function importConfig(path: string, ext: string): Promise<unknown> {
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && (error as Error).message.includes(path)) throw new ConfigError('--config', `cannot be read: ENOENT ${path}`);
    if (code === 'ERR_UNKNOWN_FILE_EXTENSION' && (ext === '.ts' || ext === '.mts')) {
      throw new ConfigError('--config', `is TypeScript, which this Node (${process.version}) cannot load: use Node >= 22.18, or run with \`node --import tsx\``);
    }
    throw error;
  }
  if (module.default === undefined) throw new ConfigError('--config', `${path} has no default export (export default { chains, routes, clients, … })`);
  return module.default;
}

/** The file's content (already parsed) → a GatewayConfig with clients built and keys resolved. */
export async function resolveConfigFile(raw: unknown, options: LoadConfigOptions = {}): Promise<LoadedGatewayConfig> {
  const env = options.env ?? process.env;
  const file = asConfigError(() => plainObject(raw, 'config file'));
  asConfigError(() => refuseLiteralSecrets(file));
  asConfigError(() => rejectUnknownKeys(file, FILE_KEYS, '', (_, key) => key));
  const chainsIn = asConfigError(() => plainObject(file.chains, 'chains'));
  if (Object.keys(chainsIn).length === 0) throw new ConfigError('chains', 'must name at least one chain');

  // Every spec is checked (and every env reference resolved) before anything is built or connected.
  const specs = Object.entries(chainsIn).map(([name, chain]) => [name, checkChain(name, chain, env)] as const);
  const sharedState = file.sharedState === undefined ? undefined : checkSharedState(file.sharedState, env);
  if (file.accessLog !== undefined && typeof file.accessLog !== 'boolean') {
    throw new ConfigError('accessLog', `must be true (one JSON line per request on stdout, the default) or false, got ${describe(file.accessLog)}`);
  }

  const chains: Record<string, GatewayChain> = {};
  for (const [name, { options: chainOptions, positions }] of specs) {
    chains[name] = { ...chainOptions, targets: await Promise.all(positions.map((p) => buildPosition(p))) } as GatewayChain;
  }
  const config: Record<string, unknown> = {
    chains,
    routes: file.routes,
    clients: file.clients,
    ...(file.adminTokenHash !== undefined && { adminTokenHash: file.adminTokenHash }),
    ...(file.server !== undefined && { server: file.server }),
    ...(file.accessLog === false && { accessLog: false }),
  };
  let close = async (): Promise<void> => undefined;
  if (sharedState) {
    const shared = await connectRedis(sharedState);
    config.sharedState = shared.store;
    close = shared.close;
  }
  return { config: config as unknown as GatewayConfig, close };
}

interface TargetSpec {
  kind: 'target';
  field: string;
  provider: FileProvider;
  model: string;
  apiKey: string;
  baseURL: string | undefined;
  headers: Record<string, string> | undefined;
  options: Record<string, unknown>;
  /** A pool member's share (weighted strategy); undefined: the pool's default (1). */
  weight?: unknown;
}

interface PoolSpec {
  kind: 'pool';
  options: Record<string, unknown>;
  members: TargetSpec[];
}

function checkChain(name: string, value: unknown, env: LoadConfigOptions['env'] & object): { options: Record<string, unknown>; positions: Array<TargetSpec | PoolSpec> } {
  const at = `chains.${name}`;
  const chain = asConfigError(() => plainObject(value, at));
  asConfigError(() => rejectUnknownKeys(chain, CHAIN_KEYS, at));
  const positions = asConfigError(() => arrayOf((spec, path) => checkPosition(spec, path, env), { nonEmpty: true, what: 'target specs or pools' })(chain.targets, `${at}.targets`));
  const { targets: _specs, ...options } = chain;
  return { options, positions };
}

/** A target spec, or a pool of them (it has `members`). */
function checkPosition(value: unknown, field: string, env: LoadConfigOptions['env'] & object): TargetSpec | PoolSpec {
  const spec = plainObject(value, field);
  if (!('members' in spec)) return checkTarget(spec, field, env);
  rejectUnknownKeys(spec, POOL_KEYS, field);
  const members = arrayOf(
    (member, path) => {
      const { weight, ...target } = plainObject(member, path);
      return { ...checkTarget(target, path, env), weight };
    },
    { nonEmpty: true, what: 'target specs' },
  )(spec.members, `${field}.members`);
  const { members: _members, ...options } = spec;
  return { kind: 'pool', options, members };
}

function checkTarget(value: unknown, field: string, env: LoadConfigOptions['env'] & object): TargetSpec {
  const spec = plainObject(value, field);
  const provider = fields({ provider: { required: true, check: oneOf(FILE_PROVIDERS) } })(spec, field).provider as FileProvider;
  rejectUnknownKeys(spec, [...SPEC_KEYS, ...TARGET_OPTION_KEYS, ...OWN_TARGET_OPTIONS[provider]], field);
  const model = string({ nonBlank: true })(spec.model ?? fail(`${field}.model`, 'is required'), `${field}.model`);
  if (spec.apiKey === undefined) fail(`${field}.apiKey`, `is required: the environment variable holding the key, as 'env:${provider === 'openai' ? 'OPENAI_API_KEY' : 'ANTHROPIC_API_KEY'}'`);
  const apiKey = envValue(spec.apiKey, `${field}.apiKey`, env, { secret: true });
  const baseURL = spec.baseURL === undefined ? undefined : url(envValue(spec.baseURL, `${field}.baseURL`, env), `${field}.baseURL`, ['http:', 'https:']);
  const headers = spec.headers === undefined ? undefined : checkHeaders(spec.headers, `${field}.headers`, env);
  const options: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(spec)) if (!(SPEC_KEYS as readonly string[]).includes(key)) options[key] = v;
  return { kind: 'target', field, provider, model, apiKey, baseURL, headers, options };
}

/** Extra headers on every upstream call (the client's `defaultHeaders`): strings or `env:NAME`. */
function checkHeaders(value: unknown, field: string, env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const headers = plainObject(value, field);
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(headers)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) fail(`${field}`, `has a header name that is not a token: ${describe(name)}`);
    out[name] = envValue(v, `${field}.${name}`, env);
  }
  return out;
}

/**
 * An `env:NAME` reference resolved, or (when not `secret`) a literal. A secret given literally is
 * refused without quoting it: keys never live in the config file.
 */
function envValue(value: unknown, field: string, env: Readonly<Record<string, string | undefined>>, { secret = false } = {}): string {
  if (typeof value !== 'string') fail(field, `must be ${secret ? "an environment reference 'env:NAME'" : "a string or an environment reference 'env:NAME'"}, got ${secret ? typeof value : describe(value)}`);
  const ref = ENV_REF.exec(value);
  if (!ref) {
    if (secret) fail(field, "must name the environment variable that holds the key ('env:NAME'): keys never live in the config file");
    if (value.startsWith('env:')) fail(field, `is not an environment reference: 'env:' must be followed by a variable name (letters, digits, '_')`);
    return value;
  }
  const resolved = env[ref[1]!];
  if (resolved === undefined || resolved === '') fail(field, `refers to the environment variable ${ref[1]}, which is not set`);
  return resolved;
}

function url(value: string, field: string, protocols: readonly string[]): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return fail(field, `must be a URL (${protocols.join(' or ')}//…), got ${describe(value)}`);
  }
  if (!protocols.includes(parsed.protocol)) fail(field, `must be a ${protocols.join(' or ')} URL, got ${parsed.protocol}`);
  return value;
}

interface SharedStateSpec {
  url: string;
  store: { namespace?: string; timeoutMs?: number; syncIntervalMs?: number };
}

function checkSharedState(value: unknown, env: Readonly<Record<string, string | undefined>>): SharedStateSpec {
  return asConfigError(() => {
    const s = plainObject(value, 'sharedState');
    rejectUnknownKeys(s, SHARED_STATE_KEYS, 'sharedState');
    if (s.redisUrl === undefined) fail('sharedState.redisUrl', "is required ('redis://host:6379' or 'env:REDIS_URL')");
    // A password written into the URL was refused with every other literal secret (literalSecrets.ts).
    const redisUrl = url(envValue(s.redisUrl, 'sharedState.redisUrl', env), 'sharedState.redisUrl', ['redis:', 'rediss:']);
    const store = fields({ namespace: string({ nonEmpty: true }), timeoutMs: timerMs, syncIntervalMs: timerMs })(
      { namespace: s.namespace, timeoutMs: s.timeoutMs, syncIntervalMs: s.syncIntervalMs },
      'sharedState',
    );
    return { url: redisUrl, store };
  });
}

/** A pool's members built, its own fields left to createResilientLLM's checks. */
async function buildPosition(spec: TargetSpec | PoolSpec): Promise<Target | Pool> {
  if (spec.kind === 'target') return buildTarget(spec);
  const members = await Promise.all(spec.members.map(async (m) => (m.weight === undefined ? buildTarget(m) : { target: await buildTarget(m), weight: m.weight as number })));
  return pool({ ...(spec.options as Omit<Parameters<typeof pool>[0], 'members'>), members });
}

/** The official client for a spec, loaded only when a target names its provider (optional peers). */
async function buildTarget(spec: TargetSpec): Promise<Target> {
  const sdk = await importPeer(PROVIDER_PACKAGE[spec.provider], `${spec.field}.provider`);
  const Client = (sdk as { default: new (options: Record<string, unknown>) => unknown }).default;
  const client = new Client({
    apiKey: spec.apiKey,
    ...(spec.baseURL !== undefined && { baseURL: spec.baseURL }),
    ...(spec.headers !== undefined && { defaultHeaders: spec.headers }),
  });
  const options = { ...spec.options, client, model: spec.model };
  try {
    return spec.provider === 'openai' ? openaiTarget(options as Parameters<typeof openaiTarget>[0]) : anthropicTarget(options as Parameters<typeof anthropicTarget>[0]);
  } catch (error) {
    // `openaiTarget.contextWindow` → `chains.support.targets[0].contextWindow`: the field in the file.
    if (error instanceof ConfigError) {
      const field = error.field.replace(/^(openaiTarget|anthropicTarget)(?=\.|$)/, spec.field);
      throw new ConfigError(field, error.message.slice(`Invalid Bulwark config: ${error.field} `.length));
    }
    throw error;
  }
}

async function connectRedis(spec: SharedStateSpec): Promise<{ store: NonNullable<GatewayConfig['sharedState']>; close(): Promise<void> }> {
  const redis = (await importPeer('redis', 'sharedState')) as typeof import('redis');
  // Reconnects forever with a short backoff: the gateway serves on local state while Redis is away.
  const client = redis.createClient({ url: spec.url, socket: { reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2_000) } });
  client.on('error', () => undefined); // the store records errors; an unheard 'error' event would crash the process
  // Not awaited to readiness: an unreachable Redis at start is what /readyz reports, not a crash.
  client.connect().catch(() => undefined);
  const store = redisStore(client as unknown as RedisClientLike, spec.store);
  let closed = false;
  return {
    store,
    async close() {
      if (closed) return;
      closed = true;
      await store.close?.();
      client.destroy();
    },
  };
}

async function importPeer(name: string, field: string): Promise<unknown> {
  try {
    return await import(name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      throw new ConfigError(field, `needs the '${name}' package, which is not installed: npm install ${name}`);
    }
    throw error;
  }
}
