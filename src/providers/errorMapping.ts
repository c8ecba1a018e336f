import type { ErrorType } from '../errors/errorTypes.js';
import { ProviderError } from '../errors/providerError.js';
import { explicitRetryAfterMs, retryAfterMs } from './retryAfter.js';

/**
 * What an adapter learnt from one failure, provider-neutral, before classification. The two official
 * SDKs are generated from the same template (Stainless), so one extractor reads both; only the body
 * layout differs a little (see `factsFromSdkError`).
 */
export interface ErrorFacts {
  kind:
    | 'http' // a non-2xx answer
    | 'stream_error' // an error event inside a 200 stream (no status)
    | 'connection' // refused, reset, DNS, socket hang-up, body cut short
    | 'timeout' // the SDK's or undici's own timer fired
    | 'aborted' // an AbortSignal fired
    | 'malformed' // 200 whose body is not what the API promises
    | 'content_filtered' // 200 that is a refusal
    | 'unknown';
  message: string;
  status?: number;
  /** The body's error category (`invalid_request_error`, `overloaded_error`, `server_error`, …). */
  providerType?: string;
  /** The body's error code (`context_length_exceeded`, `insufficient_quota`, …). */
  providerCode?: string;
  headers?: Headers;
  requestId?: string;
  /** Name of the SDK error class (or JS error) this came from; kept for the sanitized cause. */
  sourceName?: string;
  /** errno-style code found in the error's cause chain (`ECONNREFUSED`, `UND_ERR_SOCKET`, …). */
  systemCode?: string;
}

export interface ErrorContext {
  provider: string;
  model: string;
  /** Credentials of the client, scrubbed from every message we keep (read late: keys can rotate). */
  secrets: () => readonly string[];
  now?: () => number;
}

/** What a `ProviderError.cause` holds: a summary, never the SDK error (its headers / request). */
export interface SanitizedCause {
  name: string;
  message: string;
  status?: number;
  code?: string;
}

// ---------------------------------------------------------------------------------------------
// Classification (DESIGN §3), first match wins:
//
//   insufficient_quota / billing_error / 402 / 429 "exceeded your quota" → permission (no retry helps)
//   429                                        → rate_limited (Retry-After incl. x-ratelimit / anthropic reset headers)
//   529, overloaded_error (any status / event), 503 whose body says overloaded → overloaded
//   413                                        → context_length_exceeded
//   other 5xx                                  → server_error
//   401 → authentication · 404 → not_found
//   Google's bad key (400 INVALID_ARGUMENT "API key not valid") → authentication
//   content-policy code / text (400, 403, 422, stream event) → content_filtered
//   403                                        → permission
//   context-length code / text                 → context_length_exceeded
//   400 "credit balance is too low"            → permission
//   408, 409 (SDKs treat them as transient)    → server_error · 499 → connection
//   any other status                           → bad_request
//   stream error event without status          → by its type (overloaded_error, api_error, rate_limit_error, …)
//   transport: abort → cancelled · SDK timeout → timeout · refused/reset/DNS/cut body → connection
//   SyntaxError (broken JSON 200 / SSE event) → malformed_response

/** Google answers a bad API key with 400 INVALID_ARGUMENT (reason API_KEY_INVALID), not 401. */
const GOOGLE_BAD_KEY_TEXT = /API key not valid|API_KEY_INVALID/i;

const CONTEXT_LENGTH_CODES = new Set(['context_length_exceeded', 'context_window_exceeded', 'string_above_max_context']);
const CONTEXT_LENGTH_TEXT =
  /context[_ ]length[_ ]exceeded|maximum context length|context[_ ]?window|context limit|prompt is too long|prompt too long|input length and `?max_tokens`? exceed|exceeds? (?:the )?(?:model'?s? )?(?:maximum )?context|too many (?:input )?tokens|reduce the length of (?:the|your) (?:messages|prompt|input)|input is too long|exceeds the maximum number of tokens allowed/i;

const CONTENT_POLICY_CODES = new Set([
  'content_policy_violation',
  'content_filter',
  'content_filtered',
  'responsible_ai_policy_violation',
]);
const CONTENT_POLICY_TEXT =
  /content (?:filtering |management )?polic|usage polic|blocked by (?:the )?content filter|responsibleaipolicyviolation/i;

/** Account-level refusals: retrying never helps, another target might. */
const ACCOUNT_CODES = new Set(['insufficient_quota', 'billing_not_active', 'billing_hard_limit_reached']);
const ACCOUNT_TEXT = /credit balance is too low|exceeded your current quota|check your plan and billing/i;

const STREAM_ERROR_TYPES: Record<string, ErrorType> = {
  overloaded_error: 'overloaded',
  rate_limit_error: 'rate_limited',
  rate_limit_exceeded: 'rate_limited',
  tokens: 'rate_limited',
  requests: 'rate_limited',
  api_error: 'server_error',
  server_error: 'server_error',
  timeout_error: 'server_error',
  service_unavailable: 'server_error',
  invalid_request_error: 'bad_request',
  authentication_error: 'authentication',
  permission_error: 'permission',
  billing_error: 'permission',
  not_found_error: 'not_found',
};

export function classifyFacts(facts: ErrorFacts): ErrorType {
  switch (facts.kind) {
    case 'aborted':
      return 'cancelled';
    case 'timeout':
      return 'timeout';
    case 'connection':
      return 'connection';
    case 'malformed':
      return 'malformed_response';
    case 'content_filtered':
      return 'content_filtered';
    case 'unknown':
      return 'server_error';
    case 'http':
    case 'stream_error':
      return classifyApiError(facts);
  }
}

function classifyApiError(facts: ErrorFacts): ErrorType {
  const { status, providerType = '', providerCode = '', message } = facts;
  const text = `${providerType} ${providerCode} ${message}`;

  // Account-level refusals first: retrying never helps, another target (other account) might.
  if (ACCOUNT_CODES.has(providerCode) || providerType === 'billing_error' || status === 402) return 'permission';
  if (status === 429) return ACCOUNT_TEXT.test(message) ? 'permission' : 'rate_limited';
  if (status === 529 || providerType === 'overloaded_error') return 'overloaded';
  if (status === 503 && /overload/i.test(text)) return 'overloaded';
  if (status === 413) return 'context_length_exceeded';
  if (status !== undefined && status >= 500) return 'server_error';
  if (status === 401) return 'authentication';
  if (status === 404) return 'not_found';
  if (GOOGLE_BAD_KEY_TEXT.test(message)) return 'authentication';
  // Policy and context errors come as 400 (sometimes 403 / 422, or as a stream error event).
  if (CONTENT_POLICY_CODES.has(providerCode) || CONTENT_POLICY_TEXT.test(message)) return 'content_filtered';
  if (status === 403) return 'permission';
  if (CONTEXT_LENGTH_CODES.has(providerCode) || CONTEXT_LENGTH_TEXT.test(message)) return 'context_length_exceeded';
  // Anthropic reports an empty prepaid balance as a 400 invalid_request_error.
  if (/credit balance is too low/i.test(message)) return 'permission';
  // Transient by the SDKs' own rules (request timeout, lock timeout), not the request's fault.
  if (status === 408 || status === 409) return 'server_error';
  // A proxy saying the client went away: the connection, not the request, is the problem.
  if (status === 499) return 'connection';
  if (status !== undefined) return 'bad_request';
  return STREAM_ERROR_TYPES[providerType] ?? STREAM_ERROR_TYPES[providerCode] ?? 'server_error';
}

// ---------------------------------------------------------------------------------------------
// Building the ProviderError

export function providerErrorFromFacts(facts: ErrorFacts, ctx: ErrorContext): ProviderError {
  const errorType = classifyFacts(facts);
  const secrets = ctx.secrets();
  const message = redact(facts.message || `${ctx.provider} request failed`, secrets);
  let retryAfter: number | undefined;
  if (facts.headers) {
    const now = ctx.now?.() ?? Date.now();
    // Rate-limit reset headers ride on every OpenAI answer; they say when a quota window resets,
    // which only matters when the quota was what refused us.
    retryAfter = errorType === 'rate_limited' ? retryAfterMs(facts.headers, now) : explicitRetryAfterMs(facts.headers, now);
  }
  const cause: SanitizedCause = { name: facts.sourceName ?? 'Error', message };
  if (facts.status !== undefined) cause.status = facts.status;
  if (facts.systemCode !== undefined) cause.code = facts.systemCode;
  return new ProviderError({
    errorType,
    provider: ctx.provider,
    model: ctx.model,
    message,
    ...(facts.status !== undefined && { status: facts.status }),
    ...(retryAfter !== undefined && { retryAfterMs: retryAfter }),
    ...(facts.requestId && { requestId: redact(facts.requestId, secrets) }),
    ...(facts.providerCode && { providerCode: redact(facts.providerCode, secrets) }),
    cause,
  });
}

/**
 * Whatever a call threw, as a ProviderError. An aborted `signal` wins over the error's own shape: the
 * SDKs report an abort as APIUserAbortError, as a DOMException, or (streams) by just ending; the
 * engine knows whose abort it was (attempt timeout, deadline, caller).
 */
export function normalizeThrown(err: unknown, signal: AbortSignal, classes: SdkErrorClasses, ctx: ErrorContext): ProviderError {
  if (err instanceof ProviderError) return err;
  if (signal.aborted) return providerErrorFromFacts({ kind: 'aborted', message: 'The request was aborted.', sourceName: sourceNameOf(err) }, ctx);
  return providerErrorFromFacts(factsFromSdkError(err, classes), ctx);
}

/** A ProviderError the adapter raises itself (bad shapes, refusals, cut streams). */
export function adapterError(
  ctx: Pick<ErrorContext, 'provider' | 'model'>,
  errorType: ErrorType,
  message: string,
  extra: { providerCode?: string; requestId?: string } = {},
): ProviderError {
  return new ProviderError({
    errorType,
    provider: ctx.provider,
    model: ctx.model,
    message,
    ...(extra.providerCode !== undefined && { providerCode: extra.providerCode }),
    ...(extra.requestId !== undefined && { requestId: extra.requestId }),
  });
}

// ---------------------------------------------------------------------------------------------
// Reading the SDK errors

/** The error classes an official client exposes as statics (`OpenAI.APIError`, `Anthropic.APIError`, …). */
export interface SdkErrorClasses {
  APIError?: abstract new (...args: never[]) => object;
  APIConnectionError?: abstract new (...args: never[]) => object;
  APIConnectionTimeoutError?: abstract new (...args: never[]) => object;
  APIUserAbortError?: abstract new (...args: never[]) => object;
}

/**
 * The error classes of the SDK copy that built `client`. Taking them from the client (instead of
 * importing the package) keeps `instanceof` right when the app has its own copy of the SDK, and lets
 * Bulwark load when only one of the two SDKs is installed.
 */
export function sdkErrorClassesOf(client: object): SdkErrorClasses {
  const ctor = (client as { constructor?: unknown }).constructor as Record<string, unknown> | undefined;
  const pick = (name: keyof SdkErrorClasses) => {
    const value = ctor?.[name];
    return typeof value === 'function' ? (value as SdkErrorClasses[typeof name]) : undefined;
  };
  return {
    APIError: pick('APIError'),
    APIConnectionError: pick('APIConnectionError'),
    APIConnectionTimeoutError: pick('APIConnectionTimeoutError'),
    APIUserAbortError: pick('APIUserAbortError'),
  };
}

function isInstance(value: unknown, cls: SdkErrorClasses[keyof SdkErrorClasses], name: string): boolean {
  if (cls && value instanceof cls) return true;
  // Fallback for clients whose constructor doesn't expose the classes (wrappers, proxies).
  let proto = value === null || typeof value !== 'object' ? null : Object.getPrototypeOf(value);
  while (proto && proto !== Object.prototype) {
    if ((proto as { constructor?: { name?: string } }).constructor?.name === name) return true;
    proto = Object.getPrototypeOf(proto);
  }
  return false;
}

type Loose = Record<string, unknown>;

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function obj(value: unknown): Loose | undefined {
  return value !== null && typeof value === 'object' ? (value as Loose) : undefined;
}

/** Walks `cause` links looking for an errno-style code (ECONNREFUSED, UND_ERR_SOCKET, …). */
function systemCodeOf(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 6 && current; depth++) {
    const o = obj(current);
    if (!o) return undefined;
    const code = str(o['code']);
    if (code && /^[A-Z][A-Z0-9_]+$/.test(code)) return code;
    current = o['cause'];
  }
  return undefined;
}

const NETWORK_CODES =
  /^(?:ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ECONNABORTED|UND_ERR_\w+)$/;

/**
 * Reads whatever an official SDK call threw. Covers both SDKs:
 * - OpenAI `APIError.error` is the body's inner `error` object; `.code`/`.type` come from it.
 * - Anthropic `APIError.error` is the whole body `{type:'error', error:{type,message,details}}`;
 *   `.type`, `.apiMessage`, `.errorCode` come from it.
 */
export function factsFromSdkError(err: unknown, classes: SdkErrorClasses): ErrorFacts {
  const e = obj(err) ?? {};
  const sourceName = sourceNameOf(err);
  const rawMessage = err instanceof Error ? err.message : String(err);

  if (isInstance(err, classes.APIUserAbortError, 'APIUserAbortError') || e['name'] === 'AbortError') {
    return { kind: 'aborted', message: 'The request was aborted.', sourceName };
  }
  if (isInstance(err, classes.APIConnectionTimeoutError, 'APIConnectionTimeoutError')) {
    return { kind: 'timeout', message: rawMessage, sourceName };
  }
  if (isInstance(err, classes.APIConnectionError, 'APIConnectionError')) {
    const systemCode = systemCodeOf(e['cause']);
    const detail = systemCode ? ` (${systemCode})` : '';
    return {
      kind: 'connection',
      message: `${rawMessage}${detail}`,
      sourceName,
      ...(systemCode && { systemCode }),
    };
  }
  if (isInstance(err, classes.APIError, 'APIError')) {
    const status = typeof e['status'] === 'number' ? e['status'] : undefined;
    const body = obj(e['error']);
    const inner = obj(body?.['error']);
    const type = str(e['type']) ?? str(inner?.['type']) ?? (str(body?.['type']) !== 'error' ? str(body?.['type']) : undefined);
    const code =
      str(e['code']) ?? str(e['errorCode']) ?? str(inner?.['code']) ?? str(obj(inner?.['details'])?.['error_code']);
    const message =
      str(e['apiMessage']) ??
      str(body?.['message']) ??
      str(inner?.['message']) ??
      // The SDKs prefix their message with the status; drop it, `status` carries it.
      rawMessage.replace(/^\d{3} /, '');
    const headers = e['headers'] instanceof Headers ? e['headers'] : undefined;
    const requestId = str(e['requestID']) ?? str(headers?.get('x-request-id')) ?? str(headers?.get('request-id'));
    return {
      kind: status === undefined ? 'stream_error' : 'http',
      message,
      sourceName,
      ...(status !== undefined && { status }),
      ...(type && { providerType: type }),
      ...(code && { providerCode: code }),
      ...(headers && { headers }),
      ...(requestId && { requestId }),
    };
  }
  // JSON.parse of a broken 200 body or SSE event (both SDKs let the SyntaxError through).
  if (err instanceof SyntaxError) {
    return { kind: 'malformed', message: `Invalid JSON from the provider: ${rawMessage}`, sourceName };
  }
  // The body of a 200 was cut short (undici: TypeError "terminated" caused by a SocketError).
  const systemCode = systemCodeOf(err);
  if (
    (systemCode && NETWORK_CODES.test(systemCode)) ||
    (err instanceof TypeError && /terminated|fetch failed|network|socket|other side closed/i.test(rawMessage))
  ) {
    return {
      kind: 'connection',
      message: `Connection lost: ${rawMessage}${systemCode ? ` (${systemCode})` : ''}`,
      sourceName,
      ...(systemCode && { systemCode }),
    };
  }
  return { kind: 'unknown', message: `Unexpected ${sourceName}: ${rawMessage}`, sourceName };
}

function sourceNameOf(err: unknown): string {
  if (err === null || typeof err !== 'object') return typeof err;
  const ctorName = (err as { constructor?: { name?: unknown } }).constructor?.name;
  if (typeof ctorName === 'string' && ctorName !== 'Error' && ctorName !== 'Object') return ctorName;
  const name = (err as { name?: unknown }).name;
  return typeof name === 'string' ? name : 'Error';
}

// ---------------------------------------------------------------------------------------------
// Secrets

const KEY_PATTERNS: Array<[RegExp, string]> = [
  [/(x-api-key|api-key|authorization)(["']?\s*[:=]\s*["']?)(?:(?:Bearer|Basic)\s+)?[^\s"',}]+/gi, '$1$2[REDACTED]'],
  [/\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi, 'Bearer [REDACTED]'],
  [/\bsk-[A-Za-z0-9_-]{12,}/g, 'sk-[REDACTED]'],
];

/** Removes the client's own credentials, and anything shaped like a key, from provider text. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 6) out = out.split(secret).join('[REDACTED]');
  }
  for (const [pattern, replacement] of KEY_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** Credential strings a client holds (never stored anywhere but this adapter's closure). */
export function secretsOf(client: object): string[] {
  const c = client as Loose;
  return ['apiKey', 'authToken', 'adminAPIKey']
    .map((k) => c[k])
    .filter((v): v is string => typeof v === 'string' && v.length >= 6);
}
