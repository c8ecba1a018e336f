import type { Fault, Provider } from './faults.js';

/**
 * Selects requests by where they went. Every given field must match; `{}` matches everything.
 * `route: 'default'` is the route without a path prefix.
 */
export interface RequestMatcher {
  route?: string;
  provider?: Provider;
  /** Exact model name, or a pattern. */
  model?: string | RegExp;
}

/** Why a request got the fault it got. */
export type FaultSource =
  /** consumed from a script's `sequence` */
  | 'sequence'
  /** drawn from a script's `random` list */
  | 'random'
  /** a script's outage window was active */
  | 'outage'
  /** the script's `then`, or the server default when no script matched */
  | 'default'
  /** the request's estimated tokens exceeded `options.models[model].contextWindow` */
  | 'contextWindow'
  /** the request itself was unusable (unknown path, method, or invalid JSON) */
  | 'invalidRequest'
  /** refused with a 429 by a route limit (`server.limit`) */
  | 'limit';

/** One request as the server saw it. Fields after the response started are updated live. */
export interface RecordedRequest {
  /** 1-based arrival order on this server (kept across `reset()`). */
  readonly seq: number;
  readonly route: string;
  /** Undefined for paths that are neither provider's endpoint. */
  readonly provider: Provider | undefined;
  readonly model: string | undefined;
  readonly method: string;
  /** Request path, including the route prefix. */
  readonly path: string;
  /** `stream: true` in the body. */
  readonly stream: boolean;
  /** Parsed JSON body (the raw text when it was not JSON). */
  readonly body: unknown;
  /** Request headers, lower-cased, with credentials (authorization, api keys, cookies, tokens) replaced by `[redacted]`. */
  readonly headers: Readonly<Record<string, string>>;
  /** Input tokens the server attributed to the request (ceil(chars/4), see `estimateInputTokens`). */
  readonly estimatedInputTokens: number;
  /** Server clock (`options.now`) at arrival. */
  readonly startedAt: number;
  /** The fault that was applied. */
  readonly fault: Fault;
  readonly faultSource: FaultSource;
  /** HTTP status sent; undefined while nothing was sent (hang, reset, latency pending). */
  readonly status: number | undefined;
  /** The response was written completely. */
  readonly finished: boolean;
  /** The client closed the connection before the response finished (cancellation, timeout, early `break`). */
  readonly clientClosed: boolean;
  /** The server cut the connection on purpose (reset, streamCut destroy) or because it was closing. */
  readonly serverClosed: boolean;
  /** Server clock when the exchange ended; undefined while in flight. */
  readonly endedAt: number | undefined;
}

/** True when `request` satisfies every field of `matcher`. */
export function matchesRequest(
  matcher: RequestMatcher | undefined,
  request: { route: string; provider: Provider | undefined; model: string | undefined },
): boolean {
  if (!matcher) return true;
  if (matcher.route !== undefined && matcher.route !== request.route) return false;
  if (matcher.provider !== undefined && matcher.provider !== request.provider) return false;
  if (matcher.model !== undefined) {
    if (request.model === undefined) return false;
    if (typeof matcher.model === 'string' ? matcher.model !== request.model : !matcher.model.test(request.model)) return false;
  }
  return true;
}

/** How many fields a matcher pins down: more specific scripts win. */
export function matcherSpecificity(matcher: RequestMatcher): number {
  return Number(matcher.route !== undefined) + Number(matcher.provider !== undefined) + Number(matcher.model !== undefined);
}

const CREDENTIAL_HEADER = /^(authorization|proxy-authorization|x-api-key|api-key|x-goog-api-key|openai-api-key|anthropic-api-key)$|cookie|token|secret|session|password/i;

/** Copies headers, lower-cased, replacing every credential-bearing value with `[redacted]`. */
export function redactHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    out[lower] = CREDENTIAL_HEADER.test(lower) ? '[redacted]' : Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
