/**
 * The providers' own rate-limit headers, read from every successful response, in a neutral form:
 * how much of each limit is left and when it resets. What limits/ uses to move traffic off a
 * target BEFORE it answers 429.
 *
 * | provider | limit | remaining | reset |
 * |---|---|---|---|
 * | OpenAI (and compatible) | `x-ratelimit-limit-{requests,tokens}` | `x-ratelimit-remaining-{requests,tokens}` | `x-ratelimit-reset-{requests,tokens}`: a Go duration (`1s`, `6m0s`, `20ms`, `1h2m3.5s`) |
 * | Anthropic | `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-limit` | `…-remaining` | `…-reset`: an RFC 3339 timestamp |
 *
 * Anthropic's `input-tokens` / `output-tokens` families count as `tokens` (the tightest one wins).
 * A value that does not parse (not a non-negative finite number, remaining above its limit, a reset
 * that is neither a duration nor a timestamp) is never trusted: the family is left out and the header
 * is named in `garbage`, which the engine counts (`bulwark.limit.header_errors`).
 */

/** One limit as the provider reported it. */
export interface ReportedLimit {
  limit: number;
  remaining: number;
  /** When the provider says the window is full again (caller's clock, ms). */
  resetAt: number;
}

export interface RateLimitReport {
  requests?: ReportedLimit;
  tokens?: ReportedLimit;
  /** Names of the headers whose values were not usable (at most one entry per header). */
  garbage: string[];
}

/**
 * Where an adapter reports each successful response's rate-limit headers (`AttemptOptions.rateLimits`):
 * the engine's clock (OpenAI's resets are relative) and the receiver.
 */
export interface RateLimitListener {
  now(): number;
  report(report: RateLimitReport): void;
}

/** The SDKs' `APIPromise`: `.withResponse()` gives the parsed body and the raw `Response`. */
interface WithResponse<T> extends PromiseLike<T> {
  withResponse?: () => Promise<{ data: T; response: { headers: HeaderSource } }>;
}

/**
 * The call's result, its response headers read into `listener` on the way when there is one (the
 * official clients' raw-response API, `.withResponse()`: the same request, the headers kept). No
 * listener, or a client without the API: the call as it was, nothing more on the happy path.
 */
export function readingRateLimits<T>(call: WithResponse<T>, listener: RateLimitListener | undefined, parse: HeaderParser): PromiseLike<T> {
  if (!listener || typeof call.withResponse !== 'function') return call;
  return call.withResponse().then(({ data, response }) => {
    reportRateLimits(response.headers, listener, parse);
    return data;
  });
}

type HeaderParser = (headers: HeaderSource, now: number) => RateLimitReport;

/** Reads `headers` into `listener`. Headers are advice: a failure to read them never fails the call. */
export function reportRateLimits(headers: HeaderSource | undefined, listener: RateLimitListener | undefined, parse: HeaderParser): void {
  if (!headers || !listener) return;
  try {
    listener.report(parse(headers, listener.now()));
  } catch {
    // advice only
  }
}

/** Headers as a plain record (the AI SDK's `response.headers`, lower-case names) as a HeaderSource. */
export function headerRecord(headers: Record<string, string | undefined> | undefined): HeaderSource | undefined {
  if (!headers) return undefined;
  return { get: (name) => headers[name] ?? headers[name.toLowerCase()] ?? null };
}

/**
 * Either provider's headers, for a client that may speak to any of them (an AI SDK model: OpenAI,
 * Azure and OpenAI-compatible servers send `x-ratelimit-*`, Anthropic `anthropic-ratelimit-*`): each
 * family the tighter of the two reports, garbage from both.
 */
export function parseAnyRateLimits(headers: HeaderSource, now: number): RateLimitReport {
  const openai = parseOpenAIRateLimits(headers, now);
  const anthropic = parseAnthropicRateLimits(headers, now);
  const report: RateLimitReport = { garbage: [...openai.garbage, ...anthropic.garbage] };
  const requests = tighter(openai.requests, anthropic.requests);
  const tokens = tighter(openai.tokens, anthropic.tokens);
  if (requests) report.requests = requests;
  if (tokens) report.tokens = tokens;
  return report;
}

/** The part of a fetch `Headers` object the parser needs. */
export interface HeaderSource {
  get(name: string): string | null;
}

const NUMBER = /^\d+(?:\.\d+)?$/;
const GO_DURATION = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$/;

/** `1s`, `6m0s`, `20ms`, `1h2m3.5s`, `0s` → ms; undefined for anything else (`-3s`, `soon`, ``). */
export function parseGoDuration(text: string): number | undefined {
  const m = GO_DURATION.exec(text.trim());
  if (!m || text.trim() === '' || m.slice(1).every((g) => g === undefined)) return undefined;
  const [h, min, s, ms] = m.slice(1).map((g) => (g === undefined ? 0 : Number(g))) as [number, number, number, number];
  const total = h * 3_600_000 + min * 60_000 + s * 1000 + ms;
  return Number.isFinite(total) ? total : undefined;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i;

/** An RFC 3339 timestamp → epoch ms; undefined when it is not one. */
export function parseRfc3339(text: string): number | undefined {
  const t = text.trim();
  if (!RFC3339.test(t)) return undefined;
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? ms : undefined;
}

type Family = 'requests' | 'tokens';

const PARTS = ['limit', 'remaining', 'reset'] as const;
const OPENAI_FAMILIES = ['requests', 'tokens'] as const satisfies readonly Family[];
const ANTHROPIC_FAMILIES = ['requests', 'tokens', 'input-tokens', 'output-tokens'] as const;
const openaiHeader = (part: (typeof PARTS)[number], family: Family) => `x-ratelimit-${part}-${family}`;
const anthropicHeader = (family: (typeof ANTHROPIC_FAMILIES)[number], part: (typeof PARTS)[number]) => `anthropic-ratelimit-${family}-${part}`;

/** Every header the OpenAI reader looks at (the `bulwark.limit.header` values an OpenAI target can report). */
export const OPENAI_RATE_LIMIT_HEADERS: readonly string[] = OPENAI_FAMILIES.flatMap((f) => PARTS.map((p) => openaiHeader(p, f)));
/** Every header the Anthropic reader looks at. */
export const ANTHROPIC_RATE_LIMIT_HEADERS: readonly string[] = ANTHROPIC_FAMILIES.flatMap((f) => PARTS.map((p) => anthropicHeader(f, p)));

function readFamily(
  headers: HeaderSource,
  names: { limit: string; remaining: string; reset: string },
  resetAt: (raw: string) => number | undefined,
  garbage: string[],
): ReportedLimit | undefined {
  const rawLimit = headers.get(names.limit);
  const rawRemaining = headers.get(names.remaining);
  const rawReset = headers.get(names.reset);
  if (rawLimit === null && rawRemaining === null && rawReset === null) return undefined;
  const bad = (name: string) => {
    garbage.push(name);
    return undefined;
  };
  const limit = rawLimit !== null && NUMBER.test(rawLimit.trim()) ? Number(rawLimit) : undefined;
  const remaining = rawRemaining !== null && NUMBER.test(rawRemaining.trim()) ? Number(rawRemaining) : undefined;
  const reset = rawReset !== null ? resetAt(rawReset) : undefined;
  if (rawLimit !== null && (limit === undefined || limit <= 0)) return bad(names.limit);
  if (rawRemaining !== null && remaining === undefined) return bad(names.remaining);
  if (rawReset !== null && reset === undefined) return bad(names.reset);
  // Without the three together the report cannot say "little is left until then": not garbage, just not enough.
  if (limit === undefined || remaining === undefined || reset === undefined) return undefined;
  if (remaining > limit) return bad(names.remaining);
  return { limit, remaining, resetAt: reset };
}

/** The tighter of two reports of one family (the smaller share left). */
function tighter(a: ReportedLimit | undefined, b: ReportedLimit | undefined): ReportedLimit | undefined {
  if (!a) return b;
  if (!b) return a;
  return b.remaining / b.limit < a.remaining / a.limit ? b : a;
}

/** OpenAI's `x-ratelimit-*` headers, resets relative to `now`. */
export function parseOpenAIRateLimits(headers: HeaderSource, now: number): RateLimitReport {
  const garbage: string[] = [];
  const report: RateLimitReport = { garbage };
  for (const family of OPENAI_FAMILIES) {
    const limit = readFamily(
      headers,
      { limit: openaiHeader('limit', family), remaining: openaiHeader('remaining', family), reset: openaiHeader('reset', family) },
      (raw) => {
        const ms = parseGoDuration(raw);
        return ms === undefined ? undefined : now + ms;
      },
      garbage,
    );
    if (limit) report[family] = limit;
  }
  return report;
}

/** Anthropic's `anthropic-ratelimit-*` headers (absolute RFC 3339 resets). */
export function parseAnthropicRateLimits(headers: HeaderSource, _now?: number): RateLimitReport {
  const garbage: string[] = [];
  const report: RateLimitReport = { garbage };
  const family = (name: (typeof ANTHROPIC_FAMILIES)[number]) =>
    readFamily(headers, { limit: anthropicHeader(name, 'limit'), remaining: anthropicHeader(name, 'remaining'), reset: anthropicHeader(name, 'reset') }, parseRfc3339, garbage);
  const requests = family('requests');
  if (requests) report.requests = requests;
  const tokens = tighter(tighter(family('tokens'), family('input-tokens')), family('output-tokens'));
  if (tokens) report.tokens = tokens;
  return report;
}
