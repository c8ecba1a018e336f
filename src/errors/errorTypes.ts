/** Low-cardinality `error.type` values (DESIGN §3). */
export const ERROR_TYPES = [
  'rate_limited',
  'overloaded',
  'server_error',
  'connection',
  'timeout',
  'malformed_response',
  // An answer that does not parse as JSON or validate against the request's responseFormat schema.
  'invalid_output',
  'context_length_exceeded',
  'content_filtered',
  'authentication',
  'permission',
  'not_found',
  'bad_request',
  'circuit_open',
  'budget_exhausted',
  'cancelled',
  // Bulwark's own failure (a bug), raised in this process before anything was sent.
  'internal',
] as const;

export type ErrorType = (typeof ERROR_TYPES)[number];

/** What the engine does with a failed attempt. */
export type Disposition =
  /** Retry the same target (after backoff / Retry-After). */
  | 'retry'
  /** Give up on this target, try the next one. */
  | 'next_target'
  /** Stop the whole request: the request itself is wrong, or the caller cancelled. */
  | 'fail';
