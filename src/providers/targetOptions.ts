import { ConfigError } from '../errors/bulwarkError.js';
import type { ProviderAdapter, Target, TargetOptions } from './adapter.js';
import { DECLARED_ONLY, resolveCapabilities, targetCapabilities, type FamilyDefaults } from './capabilities.js';
import { providerOptions } from '../validation/providerOptions.js';
import { modelPrice } from './modelPrice.js';
import { asConfigError, fields, finite, oneOf, string, type Shape } from '../validation/walk.js';

/**
 * Largest delay `setTimeout` accepts (~24.8 days; anything larger fires after 1 ms). Given to the
 * SDKs as their timeout so that only Bulwark's own attempt / total / chunk timeouts ever fire.
 */
export const NO_SDK_TIMEOUT_MS = 2_147_483_647;

/** A target's `limits`: every limit finite and > 0, `queueMs` >= 0, no other key. */
export const targetLimits = fields(
  {
    rpm: finite({ above: 0, unit: 'requests per minute' }),
    tpm: finite({ above: 0, unit: 'tokens per minute' }),
    maxConcurrent: finite({ integer: true, above: 0, unit: 'calls' }),
    queueMs: finite({ min: 0, unit: 'ms' }),
  },
  { unknown: 'reject' },
);

/** The options every target factory takes; a factory adds its own (`maxTokensParam`, …). */
const SHARED_OPTIONS: Shape = {
  client: () => undefined, // checked by validateClient, which knows the SDK
  model: { required: true, check: string({ nonBlank: true }) },
  tier: oneOf(['full', 'reduced'] as const),
  contextWindow: finite({ integer: true, above: 0, unit: 'tokens' }),
  pricing: modelPrice,
  breakerKey: string({ nonEmpty: true }),
  capabilities: targetCapabilities,
  maxOutputTokens: finite({ integer: true, above: 0, unit: 'tokens' }),
  providerOptions,
  limits: targetLimits,
};


/**
 * Validates a factory's options with the shared validation walk: the shared fields, the factory's
 * own, and no other key — a typo (`contextWindw`) is a ConfigError naming it (with the key it
 * probably meant), as anywhere else in the config, never silently dropped.
 */
export function validateTargetOptions(factory: string, options: unknown, own: Shape = {}): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ConfigError(factory, 'needs an options object ({ client, model, … })');
  }
  asConfigError(() => fields({ ...SHARED_OPTIONS, ...own }, { unknown: 'reject', keyPath: (_, key) => `${factory}.${key}` })(options, factory));
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

/**
 * `family`: the capability defaults of the target's provider. Without one (AI SDK models: the
 * provider package converts parts itself) the target is never skipped for its input unless it
 * declares `capabilities`.
 */
export function makeTarget(adapter: ProviderAdapter, options: TargetOptions, family?: FamilyDefaults): Target {
  const capabilities =
    family !== undefined ? resolveCapabilities(options.model, family, options.capabilities) : options.capabilities !== undefined ? resolveCapabilities(options.model, DECLARED_ONLY, options.capabilities) : undefined;
  return {
    adapter,
    tier: options.tier ?? 'full',
    ...(capabilities !== undefined && { capabilities }),
    ...(options.maxOutputTokens !== undefined && { maxOutputTokens: options.maxOutputTokens }),
    ...(options.contextWindow !== undefined && { contextWindow: options.contextWindow }),
    ...(options.pricing !== undefined && { pricing: { ...options.pricing } }),
    ...(options.breakerKey !== undefined && { breakerKey: options.breakerKey }),
    ...(options.limits !== undefined && { limits: { ...options.limits } }),
  };
}
