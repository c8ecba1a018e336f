import { ProviderError } from '../errors/providerError.js';
import { type ErrorContext, type ErrorFacts, factsFromSdkError, providerErrorFromFacts } from './errorMapping.js';

/**
 * What an AI SDK provider model threw (or sent as a stream `error` part), as ErrorFacts for the
 * shared classification rules (errorMapping.ts). The AI SDK's errors are recognised by the marker
 * symbols its `isInstance` guards check, so no AI SDK package is loaded here and a second copy of
 * `@ai-sdk/provider` in the app is still recognised.
 *
 *   APICallError with statusCode   → http: status, response headers (Retry-After …), the error
 *                                     body's type / code / status / message (OpenAI, Anthropic and
 *                                     Google bodies: `{error:{type|status, code, message}}`)
 *   APICallError without status    → connection (the fetch failed), or unknown when not retryable
 *   JSONParseError, TypeValidationError, EmptyResponseBodyError, InvalidResponseDataError → malformed
 *   a stream error part (a provider's error object, no status) → stream_error by its type / code
 *   anything else                  → the official SDKs' reading (abort, SyntaxError, cut sockets)
 */
const marker = (name: string) => Symbol.for(`vercel.ai.error.${name}`);
const API_CALL_ERROR = marker('AI_APICallError');
const MALFORMED = ['AI_JSONParseError', 'AI_TypeValidationError', 'AI_EmptyResponseBodyError', 'AI_InvalidResponseDataError'].map(marker);

type Loose = Record<string, unknown>;

function obj(value: unknown): Loose | undefined {
  return value !== null && typeof value === 'object' ? (value as Loose) : undefined;
}
function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
function hasMarker(value: unknown, symbol: symbol): boolean {
  return obj(value)?.[symbol as unknown as string] === true;
}

/** The error body's inner object: `{ error: {...} }` (OpenAI, Google) or `{ type: 'error', error: {...} }` (Anthropic). */
function bodyFacts(data: unknown): Pick<ErrorFacts, 'providerType' | 'providerCode'> & { message?: string } {
  const body = obj(data);
  const inner = obj(body?.['error']) ?? body;
  if (!inner) return {};
  // Google: `status` is the canonical code name (RESOURCE_EXHAUSTED, UNAVAILABLE, …), `code` the HTTP number.
  const type = str(inner['type']) ?? str(inner['status']);
  const code = str(inner['code']);
  const message = str(inner['message']);
  return { ...(type && { providerType: type }), ...(code && { providerCode: code }), ...(message && { message }) };
}

/** `error.details[].retryDelay` of a google.rpc.RetryInfo (`"1.500s"`), in ms. */
function googleRetryDelayMs(data: unknown): number | undefined {
  const details = obj(obj(data)?.['error'])?.['details'];
  if (!Array.isArray(details)) return undefined;
  for (const detail of details) {
    const d = obj(detail);
    const delay = str(d?.['retryDelay']);
    if (delay && String(d?.['@type']).endsWith('google.rpc.RetryInfo')) {
      const match = /^(\d+(?:\.\d+)?)s$/.exec(delay);
      if (match) return Math.round(Number(match[1]) * 1000);
    }
  }
  return undefined;
}

export function factsFromAiSdkError(err: unknown): ErrorFacts {
  const e = obj(err);
  if (e && hasMarker(err, API_CALL_ERROR)) {
    const status = typeof e['statusCode'] === 'number' ? e['statusCode'] : undefined;
    const sourceName = 'APICallError';
    if (status === undefined) {
      const facts = factsFromSdkError(e['cause'] ?? err, {});
      if (facts.kind === 'aborted' || facts.kind === 'timeout' || facts.kind === 'connection') return { ...facts, sourceName };
      return { kind: e['isRetryable'] === false ? 'unknown' : 'connection', message: String(e['message'] ?? ''), sourceName };
    }
    const fromBody = bodyFacts(e['data']);
    const rawHeaders = obj(e['responseHeaders']);
    const headers = new Headers(Object.entries(rawHeaders ?? {}).filter((kv): kv is [string, string] => typeof kv[1] === 'string'));
    // Google sends a rate limit's delay in the body (google.rpc.RetryInfo), never as a header.
    const retryDelayMs = googleRetryDelayMs(e['data']);
    if (retryDelayMs !== undefined && !headers.has('retry-after-ms') && !headers.has('retry-after')) headers.set('retry-after-ms', String(retryDelayMs));
    const requestId = str(headers?.get('x-request-id')) ?? str(headers?.get('request-id'));
    return {
      kind: 'http',
      status,
      message: fromBody.message ?? String(e['message'] ?? ''),
      sourceName,
      ...(fromBody.providerType && { providerType: fromBody.providerType }),
      ...(fromBody.providerCode && { providerCode: fromBody.providerCode }),
      headers,
      ...(requestId && { requestId }),
    };
  }
  if (MALFORMED.some((symbol) => hasMarker(err, symbol))) {
    return { kind: 'malformed', message: `Invalid response from the provider: ${String(e?.['message'] ?? '')}`, sourceName: String(e?.['name'] ?? 'Error') };
  }
  // A stream error part: the provider's own error object (not an Error), e.g. OpenAI's
  // `{ message, type: 'server_error' }`, Anthropic's `{ type: 'overloaded_error', message }`.
  if (e && !(err instanceof Error)) {
    const fromBody = bodyFacts(e);
    const status = typeof e['statusCode'] === 'number' ? e['statusCode'] : undefined;
    return {
      kind: 'stream_error',
      ...(status !== undefined && { status }),
      message: fromBody.message ?? 'The provider sent an error in the stream',
      sourceName: 'StreamErrorPart',
      ...(fromBody.providerType && { providerType: fromBody.providerType }),
      ...(fromBody.providerCode && { providerCode: fromBody.providerCode }),
    };
  }
  return factsFromSdkError(err, {});
}

/** Whatever an AI SDK model threw, as a ProviderError; an aborted `signal` wins (the engine knows whose abort). */
export function normalizeAiSdkThrown(err: unknown, signal: AbortSignal, ctx: ErrorContext): ProviderError {
  if (err instanceof ProviderError) return err;
  if (signal.aborted) return providerErrorFromFacts({ kind: 'aborted', message: 'The request was aborted.' }, ctx);
  return providerErrorFromFacts(factsFromAiSdkError(err), ctx);
}
