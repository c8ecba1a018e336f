import { BulwarkError } from '../errors/bulwarkError.js';
import type { ErrorType } from '../errors/errorTypes.js';

/**
 * A native request a front cannot translate: a field Bulwark cannot honour, or a field of the
 * wrong shape. Answered with a 400 in the provider's own error shape, naming `param`.
 */
export class FrontRequestError extends Error {
  override readonly name = 'FrontRequestError';
  readonly param: string;
  constructor(param: string, problem: string) {
    super(`${param}: ${problem}`);
    this.param = param;
  }
}

/** What a failed request becomes on the wire, before each front spells it in its provider's shape. */
export interface FrontFailure {
  status: number;
  kind: FailureKind;
  message: string;
  /** The request field at fault, when there is one. */
  param?: string;
  /** Bulwark's error.type, when Bulwark raised it. */
  errorType?: ErrorType;
  /** OpenAI's `code` when it is not Bulwark's error.type (the gateway's `invalid_api_key`, `model_not_found`). */
  code?: string;
  attempts?: number;
  /**
   * The gateway's own refusals only: whether the client should retry (`x-should-retry`; default
   * false — Bulwark already retried and fell back), and after how long (`retry-after` in seconds,
   * `retry-after-ms`), which the official clients honour.
   */
  retry?: boolean;
  retryAfterMs?: number;
}

export type FailureKind =
  | 'invalid_request'
  | 'not_found'
  | 'rate_limit'
  | 'overloaded'
  | 'timeout'
  | 'unavailable'
  | 'upstream'
  | 'cancelled'
  | 'internal'
  // The gateway's own refusals: a missing or wrong API key (401), a body over its limit (413), a
  // client key's spend limit reached (429, not to be retried until the budget frees).
  | 'authentication'
  | 'too_large'
  | 'quota';

/**
 * The status of an exhausted chain (README "Wire fronts" has this table). Bulwark already retried
 * and fell back, so none of these invites the client to retry (`x-should-retry: false`).
 *
 * | error.type of the BulwarkError                                 | status | kind            |
 * |----------------------------------------------------------------|--------|-----------------|
 * | bad_request, context_length_exceeded, content_filtered         | 400    | invalid_request |
 * | rate_limited, and every failed attempt was rate_limited        | 429    | rate_limit      |
 * | overloaded                                                     | 503    | overloaded      |
 * | circuit_open, budget_exhausted (no target would take it)       | 503    | unavailable     |
 * | timeout                                                        | 504    | timeout         |
 * | cancelled                                                      | 499    | cancelled       |
 * | internal (a Bulwark bug)                                       | 500    | internal        |
 * | anything else (server_error, connection, authentication, …)    | 502    | upstream        |
 */
export function failureOf(error: unknown): FrontFailure {
  if (error instanceof FrontRequestError) return { status: 400, kind: 'invalid_request', message: error.message, param: error.param };
  if (!BulwarkError.isInstance(error)) return { status: 500, kind: 'internal', message: 'Internal error in Bulwark' };
  const base = { message: error.message, errorType: error.errorType, attempts: error.attempts.length };
  switch (error.errorType) {
    case 'bad_request':
    case 'context_length_exceeded':
    case 'content_filtered':
      return { ...base, status: 400, kind: 'invalid_request' };
    case 'rate_limited':
      return error.attempts.length > 0 && error.attempts.every((a) => a.errorType === 'rate_limited')
        ? { ...base, status: 429, kind: 'rate_limit' }
        : { ...base, status: 502, kind: 'upstream' };
    case 'overloaded':
      return { ...base, status: 503, kind: 'overloaded' };
    case 'circuit_open':
    case 'budget_exhausted':
      return { ...base, status: 503, kind: 'unavailable' };
    case 'timeout':
      return { ...base, status: 504, kind: 'timeout' };
    case 'cancelled':
      return { ...base, status: 499, kind: 'cancelled' };
    case 'internal':
      return { ...base, status: 500, kind: 'internal' };
    default:
      return { ...base, status: 502, kind: 'upstream' };
  }
}
