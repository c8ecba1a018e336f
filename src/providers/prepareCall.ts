import { ProviderError } from '../errors/providerError.js';

/**
 * The part of an attempt that happens before any byte leaves for the provider: building the
 * provider's parameters from the request, and checking that they serialize (the SDK's own
 * `JSON.stringify` would throw inside the call, where its TypeError looked like the provider's
 * failure — retried on every target and charged to every breaker).
 *
 * A failure here is `local`: serialization → the caller's `bad_request`; anything else → Bulwark's
 * own `internal` error (validated input must always convert). Neither is retried, sent to
 * another target, or charged to a breaker or budget.
 */
export function prepareCall<P>(ctx: { provider: string; model: string }, build: () => P): P {
  let params: P;
  try {
    params = build();
  } catch (error) {
    throw localError(ctx, 'internal', `Internal error: Bulwark could not build the ${ctx.provider}/${ctx.model} call (${summary(error)})`, error);
  }
  try {
    JSON.stringify(params);
  } catch (error) {
    throw localError(ctx, 'bad_request', `Invalid request: it cannot be serialized as JSON for ${ctx.provider}/${ctx.model} (${summary(error)})`, error);
  }
  return params;
}

function localError(ctx: { provider: string; model: string }, errorType: 'bad_request' | 'internal', message: string, cause: unknown): ProviderError {
  return new ProviderError({ errorType, provider: ctx.provider, model: ctx.model, message, local: true, cause: { name: nameOf(cause), message: summary(cause) } });
}

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

/** The error's class and first line: JSON.stringify and conversion errors name keys and types, never values. */
function summary(error: unknown): string {
  const message = error instanceof Error ? error.message.split('\n')[0]!.slice(0, 200) : '';
  return message ? `${nameOf(error)}: ${message}` : nameOf(error);
}
