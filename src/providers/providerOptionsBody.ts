import { mergedProviderOptions, ownedProviderField } from '../validation/providerOptions.js';
import type { ProviderOptions } from '../request/types.js';
import { adapterError } from './errorMapping.js';

type Ctx = { provider: string; model: string };

/**
 * This attempt's provider options (the target's entry for its provider, the request's over it),
 * merged into the converted body. A field Bulwark owns is refused (validation refuses it before
 * any call; this is the adapters' own guard).
 */
export function withProviderOptions<P extends object>(params: P, target: ProviderOptions | undefined, request: ProviderOptions | undefined, ctx: Ctx, omit: readonly string[] = []): P {
  const options = mergedProviderOptions(ctx.provider, target, request);
  for (const key of omit) delete options[key];
  for (const key of Object.keys(options)) {
    const instead = ownedProviderField(key);
    if (instead !== undefined) throw adapterError(ctx, 'bad_request', `providerOptions.${ctx.provider}.${key} is a field Bulwark owns; use ${instead}`);
  }
  return Object.assign(params, options);
}
