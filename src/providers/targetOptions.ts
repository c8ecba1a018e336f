import { ConfigError } from '../errors/bulwarkError.js';
import type { ModelPrice, ProviderAdapter, Target, TargetOptions } from './adapter.js';
import { resolveCapabilities, type FamilyDefaults } from './capabilities.js';
import { providerOptionsProblem } from '../request/providerOptions.js';

/**
 * Largest delay `setTimeout` accepts (~24.8 days; anything larger fires after 1 ms). Given to the
 * SDKs as their timeout so that only Bulwark's own attempt / total / chunk timeouts ever fire.
 */
export const NO_SDK_TIMEOUT_MS = 2_147_483_647;

/** Validates the fields every target factory shares; throws a ConfigError naming the field. */
export function validateTargetOptions(factory: string, options: TargetOptions): void {
  const field = (name: string) => `${factory}.${name}`;
  if (options === null || typeof options !== 'object') {
    throw new ConfigError(factory, 'needs an options object ({ client, model, … })');
  }
  if (typeof options.model !== 'string' || options.model.trim() === '') {
    throw new ConfigError(field('model'), 'is required (a non-empty string naming the model)');
  }
  if (options.tier !== undefined && options.tier !== 'full' && options.tier !== 'reduced') {
    throw new ConfigError(field('tier'), `must be 'full' or 'reduced' (got ${JSON.stringify(options.tier)})`);
  }
  if (options.contextWindow !== undefined && !isPositiveInteger(options.contextWindow)) {
    throw new ConfigError(field('contextWindow'), 'must be a positive integer (tokens)');
  }
  if (options.breakerKey !== undefined && (typeof options.breakerKey !== 'string' || options.breakerKey === '')) {
    throw new ConfigError(field('breakerKey'), 'must be a non-empty string');
  }
  if (options.pricing !== undefined) validatePrice(field('pricing'), options.pricing);
  if (options.maxOutputTokens !== undefined && !isPositiveInteger(options.maxOutputTokens)) {
    throw new ConfigError(field('maxOutputTokens'), 'must be a positive integer (tokens)');
  }
  if (options.providerOptions !== undefined) {
    const problem = providerOptionsProblem(options.providerOptions, 'providerOptions');
    if (problem) throw new ConfigError(field(problem.field), problem.problem);
  }
  validateCapabilities(field('capabilities'), options.capabilities);
}

function validateCapabilities(field: string, caps: TargetOptions['capabilities']): void {
  if (caps === undefined) return;
  if (caps === null || typeof caps !== 'object' || Array.isArray(caps)) throw new ConfigError(field, 'must be an object ({ images?, files? })');
  for (const key of Object.keys(caps)) {
    if (key !== 'images' && key !== 'files') throw new ConfigError(`${field}.${key}`, 'is not a capability (known: images, files)');
  }
  if (caps.images !== undefined && typeof caps.images !== 'boolean') throw new ConfigError(`${field}.images`, 'must be a boolean');
  const files: unknown = caps.files;
  const mediaTypes = Array.isArray(files) && files.every((t) => typeof t === 'string' && /^[\w.+-]+\/[\w.+-]+$/.test(t));
  if (files !== undefined && typeof files !== 'boolean' && !mediaTypes) {
    throw new ConfigError(`${field}.files`, "must be a boolean or a list of media types (['application/pdf', …])");
  }
}

function validatePrice(field: string, price: ModelPrice): void {
  if (price === null || typeof price !== 'object') throw new ConfigError(field, 'must be an object');
  for (const key of ['inputPerMTok', 'outputPerMTok'] as const) {
    if (!isNonNegativeNumber(price[key])) throw new ConfigError(`${field}.${key}`, 'must be a number ≥ 0 (USD per million tokens)');
  }
  if (price.cachedInputPerMTok !== undefined && !isNonNegativeNumber(price.cachedInputPerMTok)) {
    throw new ConfigError(`${field}.cachedInputPerMTok`, 'must be a number ≥ 0 (USD per million tokens)');
  }
}

/** Checks that `client` has the method the adapter calls, so a wrong client fails at construction. */
export function validateClient(factory: string, client: unknown, path: readonly string[], expected: string): void {
  if (client === null || client === undefined) {
    throw new ConfigError(`${factory}.client`, `is required (an ${expected} client instance)`);
  }
  let current: unknown = client;
  for (const key of path) current = (current as Record<string, unknown> | undefined)?.[key];
  if (typeof current !== 'function') {
    throw new ConfigError(`${factory}.client`, `must be an ${expected} client (it has no ${path.join('.')}())`);
  }
}

export function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function isNonNegativeNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

export interface Endpoint {
  serverAddress?: string;
  serverPort?: number;
}

/** `server.address` / `server.port` from a client's base URL (default ports filled in). */
export function endpointOf(baseURL: unknown): Endpoint {
  if (typeof baseURL !== 'string') return {};
  try {
    const url = new URL(baseURL);
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : url.protocol === 'http:' ? 80 : undefined;
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    return { ...(host && { serverAddress: host }), ...(port !== undefined && { serverPort: port }) };
  } catch {
    return {};
  }
}

export function makeTarget(adapter: ProviderAdapter, options: TargetOptions, family: FamilyDefaults): Target {
  return {
    adapter,
    tier: options.tier ?? 'full',
    capabilities: resolveCapabilities(options.model, family, options.capabilities),
    ...(options.maxOutputTokens !== undefined && { maxOutputTokens: options.maxOutputTokens }),
    ...(options.contextWindow !== undefined && { contextWindow: options.contextWindow }),
    ...(options.pricing !== undefined && { pricing: { ...options.pricing } }),
    ...(options.breakerKey !== undefined && { breakerKey: options.breakerKey }),
  };
}
