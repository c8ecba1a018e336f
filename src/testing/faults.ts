/**
 * The faults the server can play, as plain data (so scripts can be logged, compared and built in config),
 * plus the {@link fault} builders that read like sentences: `fault.rateLimit({ retryAfterMs: 1500 })`.
 *
 * Every fault is rendered in the wire format of the provider the request was addressed to (OpenAI chat
 * completions or Anthropic messages), with that provider's real error body and headers.
 */

/** The wire protocols the server speaks: OpenAI Chat Completions, Anthropic Messages, Gemini generateContent. */
export type Provider = 'openai' | 'anthropic' | 'gemini';

/** Provider-neutral finish reasons; they are translated to each provider's own value. */
export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

/** A tool call the mock "model" makes. */
export interface ToolCallSpec {
  /** Tool (function) name. */
  name: string;
  /** Arguments: an object is JSON-encoded; a string is sent verbatim (it may even be invalid JSON). */
  arguments: Record<string, unknown> | string;
  /** Call id; default `call_…` (OpenAI) / `toolu_…` (Anthropic). */
  id?: string;
}

/** What a successful answer contains. Every field is optional. */
export interface Reply {
  /** Assistant text. Default: `options.defaultReply.text`, else `Mock reply from <route> (<model>).`; `''` when only tool calls are given. */
  text?: string;
  /** Tool calls (OpenAI `tool_calls`, Anthropic `tool_use` blocks; streamed as argument / `input_json_delta` deltas). */
  toolCalls?: ToolCallSpec[];
  /**
   * Finish reason. Neutral values map per provider: `stop`→`end_turn`, `length`→`max_tokens`,
   * `tool_calls`→`tool_use`, `content_filter`→`refusal` (and the Anthropic names map back for OpenAI).
   * Any other string is sent verbatim. Default: `tool_calls` when there are tool calls, else `stop`.
   */
  finishReason?: FinishReason | (string & {});
  /**
   * Override the reported token usage. Default: input = ceil(chars/4) of the request's text, output = ceil(chars/4)
   * of the reply (plus the reasoning text). The breakdowns are parts of the totals, counted as Bulwark counts them:
   * `cacheReadTokens` / `cacheWriteTokens` of `inputTokens` (OpenAI `prompt_tokens_details.cached_tokens` /
   * `cache_write_tokens`; Anthropic `cache_read_input_tokens` / `cache_creation_input_tokens`, its `input_tokens`
   * then being the rest), `reasoningTokens` of `outputTokens` (OpenAI `completion_tokens_details.reasoning_tokens`,
   * Anthropic `output_tokens_details.thinking_tokens`). Default: the prompt cache the server simulates for
   * Anthropic `cache_control` breakpoints (see {@link promptCache}), and ceil(chars/4) of the reasoning text.
   */
  usage?: { inputTokens?: number; outputTokens?: number; cacheReadTokens?: number; cacheWriteTokens?: number; reasoningTokens?: number };
  /**
   * Reasoning the mock "model" did. OpenAI: sent as `reasoning_content` (message and stream deltas), as
   * OpenAI-compatible reasoning servers do. Anthropic: a `thinking` block with a signature the server can verify
   * (streamed as `thinking_delta` + `signature_delta`), only when the request enabled `thinking`, as the API does.
   */
  reasoning?: string;
  /** Delay between stream events (ms). Default 0. Use it to give a consumer time to break out mid-stream. */
  chunkDelayMs?: number;
  /**
   * Answer with what the request carried instead of `text`: the JSON of an `InputSummary` (its images
   * and files with type, size or URL, its top-level body fields, its `anthropic-beta` values).
   */
  echo?: boolean;
  /**
   * Extra response headers on the answer, over the computed ones: e.g. a provider's rate-limit headers with
   * chosen (or garbage) values, `{ 'x-ratelimit-remaining-requests': '3' }`.
   */
  headers?: Record<string, string>;
}

/** Extra response headers, merged over the ones the server computes. */
export interface WithHeaders {
  headers?: Record<string, string>;
}

/** A normal 200 answer. */
export interface OkFault extends Reply {
  kind: 'ok';
}

/**
 * 429. Each reset option emits the matching header(s) for the request's provider. With none given, the
 * default is `{ retryAfterSeconds: 1, resetRequestsMs: 1000, resetTokensMs: 1000 }`; with any given, only
 * those are sent (so each header can be tested alone).
 *
 * | option | OpenAI | Anthropic |
 * |---|---|---|
 * | `retryAfterMs` | `retry-after-ms: <ms>` | `retry-after-ms: <ms>` |
 * | `retryAfterSeconds` | `retry-after: <s>` | `retry-after: <ceil s>` (integer, as Anthropic sends it) |
 * | `retryAfterDateMs` | `retry-after: <HTTP-date now+ms>` | same |
 * | `resetRequestsMs` | `x-ratelimit-reset-requests: 6m0s` (Go duration) | `anthropic-ratelimit-requests-reset: <RFC 3339>` |
 * | `resetTokensMs` | `x-ratelimit-reset-tokens: 1s` | `anthropic-ratelimit-tokens-reset: <RFC 3339>` |
 * | `resetInputTokensMs` | — | `anthropic-ratelimit-input-tokens-reset` |
 * | `resetOutputTokensMs` | — | `anthropic-ratelimit-output-tokens-reset` |
 *
 * Absolute timestamps are computed from the server clock (`options.now`).
 */
export interface RateLimitFault extends WithHeaders {
  kind: 'rateLimit';
  retryAfterMs?: number;
  retryAfterSeconds?: number;
  retryAfterDateMs?: number;
  resetRequestsMs?: number;
  resetTokensMs?: number;
  resetInputTokensMs?: number;
  resetOutputTokensMs?: number;
  /** Which limit was hit; shapes the message and OpenAI's `type`/`code`. `quota` = OpenAI `insufficient_quota`. Default `requests`. */
  limit?: 'requests' | 'tokens' | 'quota';
  message?: string;
}

/** 500 / 502 / 503 / 504 with the provider's server-error body (Anthropic 504 is `timeout_error`). */
export interface ServerErrorFault extends WithHeaders {
  kind: 'serverError';
  /** Default 500. */
  status?: 500 | 502 | 503 | 504;
  message?: string;
}

/**
 * The provider is overloaded. Default status: 529 for Anthropic (`overloaded_error`), 503 for OpenAI
 * ("The engine is currently overloaded…"). `status: 503` on Anthropic sends the overload body with 503.
 */
export interface OverloadedFault extends WithHeaders {
  kind: 'overloaded';
  status?: 503 | 529;
  message?: string;
}

/** 401 `invalid_api_key` / `authentication_error`. */
export interface AuthenticationFault extends WithHeaders {
  kind: 'authentication';
  message?: string;
}

/** 403 (OpenAI model access denied / Anthropic `permission_error`). */
export interface PermissionDeniedFault extends WithHeaders {
  kind: 'permissionDenied';
  message?: string;
}

/** 404 for the requested model (OpenAI code `model_not_found` / Anthropic `not_found_error` "model: …"). */
export interface ModelNotFoundFault extends WithHeaders {
  kind: 'modelNotFound';
  message?: string;
}

/** 400 `invalid_request_error`. */
export interface BadRequestFault extends WithHeaders {
  kind: 'badRequest';
  message?: string;
  /** OpenAI `param`. */
  param?: string;
}

/** 422 Unprocessable Entity. */
export interface UnprocessableFault extends WithHeaders {
  kind: 'unprocessable';
  message?: string;
}

/**
 * The provider's context-length error (400): OpenAI code `context_length_exceeded`, Anthropic
 * `invalid_request_error` "prompt is too long: N tokens > M maximum". N is the request's estimated tokens.
 * Served automatically when a request exceeds `options.models[model].contextWindow`.
 */
export interface ContextLengthFault extends WithHeaders {
  kind: 'contextLength';
  /** The window to report. Default: the model's `contextWindow`, else N - 1. */
  maxTokens?: number;
}

/**
 * A content-policy refusal.
 * - OpenAI, `as: 'error'` (default): 400 with `code` `content_policy_violation` (default) or `content_filter`
 *   (Azure's body with `innererror`).
 * - OpenAI, `as: 'finish'`: 200 with `finish_reason: 'content_filter'`.
 * - Anthropic (always): 200 with `stop_reason: 'refusal'` (and `stop_details`).
 */
export interface ContentFilterFault extends WithHeaders {
  kind: 'contentFilter';
  as?: 'error' | 'finish';
  code?: 'content_policy_violation' | 'content_filter';
  message?: string;
  /** Text emitted before the refusal in the 200 forms. Default `''`. */
  text?: string;
}

/** Any status with any body (object → JSON, string → sent verbatim): the escape hatch. */
export interface HttpErrorFault extends WithHeaders {
  kind: 'httpError';
  status: number;
  body?: unknown;
}

/** Reads the request and never answers, until the client closes the connection (or the server closes). */
export interface HangFault {
  kind: 'hang';
}

/**
 * Sends the status line and headers at once, then the first body byte (first SSE event, or the JSON body)
 * only after `delayMs`. For "nothing at all for N ms" use a script's `latency` instead.
 */
export interface SlowFirstByteFault {
  kind: 'slowFirstByte';
  delayMs: number;
  reply?: Reply;
}

/** Destroys the socket (TCP RST where supported) after reading the request, before any response byte. */
export interface ResetFault {
  kind: 'reset';
}

/**
 * 200 with a broken body. JSON: the valid answer truncated mid-way (or `body`). Streams: one SSE event whose
 * `data` is truncated JSON, after the first event.
 */
export interface MalformedJsonFault {
  kind: 'malformedJson';
  body?: string;
}

/**
 * The stream stops halfway: after `afterChunks` SSE events (default 2; for non-stream requests: half the JSON
 * body) the server either destroys the socket (`mode: 'destroy'`, default) or stalls forever with the
 * connection open (`mode: 'stall'`, what an idle-chunk timeout must catch).
 */
export interface StreamCutFault {
  kind: 'streamCut';
  afterChunks?: number;
  mode?: 'destroy' | 'stall';
  reply?: Reply;
}

/**
 * An error in the middle of a 200 stream, after `afterChunks` events (default 2), then the response ends.
 * Anthropic: `event: error` with `{"type":"error","error":{"type": errorType, …}}` (default `overloaded_error`).
 * OpenAI: `data: {"error":{…,"type":"server_error"}}`.
 * Non-stream requests get the equivalent HTTP error (Anthropic 529 / 500, OpenAI 500).
 */
export interface StreamErrorFault {
  kind: 'streamError';
  afterChunks?: number;
  /** Anthropic error type. Default `overloaded_error`. */
  errorType?: string;
  message?: string;
  reply?: Reply;
}

/**
 * A 200 whose body is about `bytes` long. `content: 'garbage'` (default): an unterminated JSON string of that
 * size (non-stream) or one SSE event whose data is that many bytes of non-JSON (stream): the client must read
 * it all before it can tell. `'answer'`: a valid answer whose text fills the size.
 */
export interface HugeBodyFault {
  kind: 'hugeBody';
  bytes: number;
  content?: 'garbage' | 'answer';
}

/**
 * A 200 with the SSE content type and a body that is no SSE the API sends: binary bytes, lines without a
 * field, events whose data is not JSON, an unknown event type — then the end of the response (`body`
 * replaces the default garbage). Non-stream requests get the same body.
 */
export interface SseGarbageFault {
  kind: 'sseGarbage';
  body?: string;
}

/**
 * Slowloris: the status line and headers trickle out one byte every `intervalMs` (default 50) and the header
 * block never ends, until the client gives up or the server closes.
 */
export interface SlowHeadersFault {
  kind: 'slowHeaders';
  intervalMs?: number;
}

/**
 * A 200 that never ends. Streams: the opening events and a first text chunk, then one more text chunk every
 * `intervalMs` (default 50) forever, so an idle-chunk timeout never fires and only a deadline can end it.
 * Non-stream: the JSON body up to the answer's text, then more text every `intervalMs`, never closed.
 */
export interface EndlessFault {
  kind: 'endless';
  intervalMs?: number;
}

/** Everything the server can do to a request. Discriminated on `kind`. */
export type Fault =
  | OkFault
  | RateLimitFault
  | ServerErrorFault
  | OverloadedFault
  | AuthenticationFault
  | PermissionDeniedFault
  | ModelNotFoundFault
  | BadRequestFault
  | UnprocessableFault
  | ContextLengthFault
  | ContentFilterFault
  | HttpErrorFault
  | HangFault
  | SlowFirstByteFault
  | ResetFault
  | MalformedJsonFault
  | StreamCutFault
  | StreamErrorFault
  | HugeBodyFault
  | SseGarbageFault
  | SlowHeadersFault
  | EndlessFault;

/** The `kind` of a {@link Fault}. */
export type FaultKind = Fault['kind'];

/** Faults answered with a complete JSON error response. */
export type ErrorFault =
  | RateLimitFault
  | ServerErrorFault
  | OverloadedFault
  | AuthenticationFault
  | PermissionDeniedFault
  | ModelNotFoundFault
  | BadRequestFault
  | UnprocessableFault
  | ContextLengthFault
  | HttpErrorFault;

type Options<F extends Fault> = Omit<F, 'kind'>;

/**
 * Builders for every {@link Fault}. Plain object literals (`{ kind: 'hang' }`) work just as well.
 *
 * @example
 * server.script({ route: 'primary' }, {
 *   sequence: [fault.rateLimit({ retryAfterMs: 200 }), fault.overloaded()],
 *   then: fault.ok({ text: 'recovered' }),
 * });
 */
export const fault = {
  ok: (reply: Reply = {}): OkFault => ({ kind: 'ok', ...reply }),
  rateLimit: (options: Options<RateLimitFault> = {}): RateLimitFault => ({ kind: 'rateLimit', ...options }),
  serverError: (status: ServerErrorFault['status'] = 500, options: Omit<Options<ServerErrorFault>, 'status'> = {}): ServerErrorFault => ({
    kind: 'serverError',
    status,
    ...options,
  }),
  overloaded: (options: Options<OverloadedFault> = {}): OverloadedFault => ({ kind: 'overloaded', ...options }),
  authentication: (options: Options<AuthenticationFault> = {}): AuthenticationFault => ({ kind: 'authentication', ...options }),
  permissionDenied: (options: Options<PermissionDeniedFault> = {}): PermissionDeniedFault => ({ kind: 'permissionDenied', ...options }),
  modelNotFound: (options: Options<ModelNotFoundFault> = {}): ModelNotFoundFault => ({ kind: 'modelNotFound', ...options }),
  badRequest: (options: Options<BadRequestFault> = {}): BadRequestFault => ({ kind: 'badRequest', ...options }),
  unprocessable: (options: Options<UnprocessableFault> = {}): UnprocessableFault => ({ kind: 'unprocessable', ...options }),
  contextLength: (options: Options<ContextLengthFault> = {}): ContextLengthFault => ({ kind: 'contextLength', ...options }),
  contentFilter: (options: Options<ContentFilterFault> = {}): ContentFilterFault => ({ kind: 'contentFilter', ...options }),
  httpError: (status: number, body?: unknown, headers?: Record<string, string>): HttpErrorFault => ({
    kind: 'httpError',
    status,
    body,
    ...(headers ? { headers } : {}),
  }),
  hang: (): HangFault => ({ kind: 'hang' }),
  slowFirstByte: (delayMs: number, reply?: Reply): SlowFirstByteFault => ({ kind: 'slowFirstByte', delayMs, ...(reply ? { reply } : {}) }),
  reset: (): ResetFault => ({ kind: 'reset' }),
  malformedJson: (body?: string): MalformedJsonFault => ({ kind: 'malformedJson', ...(body !== undefined ? { body } : {}) }),
  streamCut: (options: Options<StreamCutFault> = {}): StreamCutFault => ({ kind: 'streamCut', ...options }),
  streamError: (options: Options<StreamErrorFault> = {}): StreamErrorFault => ({ kind: 'streamError', ...options }),
  hugeBody: (bytes: number, content?: HugeBodyFault['content']): HugeBodyFault => ({ kind: 'hugeBody', bytes, ...(content ? { content } : {}) }),
  sseGarbage: (body?: string): SseGarbageFault => ({ kind: 'sseGarbage', ...(body !== undefined ? { body } : {}) }),
  slowHeaders: (intervalMs?: number): SlowHeadersFault => ({ kind: 'slowHeaders', ...(intervalMs !== undefined ? { intervalMs } : {}) }),
  endless: (intervalMs?: number): EndlessFault => ({ kind: 'endless', ...(intervalMs !== undefined ? { intervalMs } : {}) }),
} as const;
