import { ProviderError } from '../errors/providerError.js';

/**
 * One provider call, with what happens before any byte leaves for the provider told apart from the
 * provider's failures: building the provider's parameters from the request, and the SDK's own
 * `JSON.stringify` of them (its TypeError, thrown inside the call, looked like the provider's
 * failure — retried on every target and charged to every breaker).
 *
 * A failure there is `local`: serialization → the caller's `bad_request`; anything else → Bulwark's
 * own `internal` error (validated input must always convert). Neither is retried, sent to
 * another target, or charged to a breaker or budget.
 *
 * The serialization check runs only when the call fails with a TypeError (what `JSON.stringify`
 * throws, and what undici throws for a connection failure): a body the SDK could not serialize never
 * left, so the failure is ours to name; a happy call is not charged a second serialization of its
 * body (which can hold megabytes of images).
 */
export async function callPrepared<P, R>(ctx: { provider: string; model: string }, build: () => P, send: (params: P) => PromiseLike<R>): Promise<R> {
  let params: P;
  try {
    params = build();
  } catch (error) {
    if (error instanceof ProviderError) throw error; // already said whose it is (a refused option)
    throw localError(ctx, 'internal', `Internal error: Bulwark could not build the ${ctx.provider}/${ctx.model} call (${summary(error)})`, error);
  }
  try {
    return await send(params);
  } catch (error) {
    if (error instanceof TypeError) {
      const unserializable = serializationError(params);
      if (unserializable) throw localError(ctx, 'bad_request', `Invalid request: it cannot be serialized as JSON for ${ctx.provider}/${ctx.model} (${summary(unserializable)})`, unserializable);
    }
    throw error;
  }
}

function serializationError(params: unknown): unknown {
  try {
    JSON.stringify(params);
    return undefined;
  } catch (error) {
    return error;
  }
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
