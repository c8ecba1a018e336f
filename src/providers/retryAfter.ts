/**
 * How long a provider asked us to wait before the next attempt, read from its response headers.
 *
 * Sources, first usable one wins:
 *  1. `retry-after-ms`   milliseconds (OpenAI, Azure OpenAI). Non-standard but exact.
 *  2. `retry-after`      RFC 9110: delta-seconds, or an HTTP-date (a date in the past means "now": 0).
 *  3. reset headers      when the provider only says when its rate-limit window resets:
 *       OpenAI     `x-ratelimit-reset-requests` / `x-ratelimit-reset-tokens`: Go-style durations
 *                  (`6m0s`, `1s`, `250ms`, `1h2m3.5s`), relative to now.
 *       Anthropic  `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-reset`:
 *                  RFC 3339 instants.
 *
 * A header that is present but unusable (negative, not a number, not a date, NaN, Infinity) is ignored
 * and the next source is tried, so one garbage header does not hide a good one. Nothing usable →
 * `undefined` (the caller falls back to its own backoff).
 *
 * Which reset header to trust. A 429 happens because at least one limit ran out, and each limit has
 * its own window. When a `*-remaining` header says a limit is exhausted (≤ 0), only the windows of the
 * exhausted limits matter: waiting for an unrelated token window to reset after the request window
 * already reset would be waiting for nothing. When no limit reports itself exhausted (remaining
 * headers absent, or all > 0 — e.g. a request that needs more tokens than the window has left, which
 * is refused while `remaining-tokens` is still positive), we cannot tell which limit refused us, and
 * the only wait that is sure to clear it is the longest one: the max. Overshooting is bounded by the
 * engine's `maxRetryAfterMs` cap (above it the engine moves to the next target instead of waiting).
 *
 * The result is whole milliseconds, rounded up, never negative.
 */
export function retryAfterMs(headers: Headers | Record<string, string>, now: number): number | undefined {
  const get = headerReader(headers);

  const ms = parseNonNegativeNumber(get('retry-after-ms'));
  if (ms !== undefined) return Math.ceil(ms);

  const retryAfter = parseRetryAfter(get('retry-after'), now);
  if (retryAfter !== undefined) return retryAfter;

  const limits: RateLimitWindow[] = [
    ...OPENAI_LIMITS.map((limit) => ({
      resetMs: parseGoDuration(get(`x-ratelimit-reset-${limit}`)),
      remaining: parseNumber(get(`x-ratelimit-remaining-${limit}`)),
    })),
    ...ANTHROPIC_LIMITS.map((limit) => ({
      resetMs: parseInstant(get(`anthropic-ratelimit-${limit}-reset`), now),
      remaining: parseNumber(get(`anthropic-ratelimit-${limit}-remaining`)),
    })),
  ];
  return longestRelevantReset(limits);
}

/**
 * Only what the provider explicitly asked for: `retry-after-ms`, then `retry-after`. Use it for answers
 * that are not rate limits (503, 529): OpenAI sends its `x-ratelimit-reset-*` headers on every answer,
 * and a quota window's reset time says nothing about when an overloaded server recovers.
 */
export function explicitRetryAfterMs(headers: Headers | Record<string, string>, now: number): number | undefined {
  const get = headerReader(headers);
  const ms = parseNonNegativeNumber(get('retry-after-ms'));
  if (ms !== undefined) return Math.ceil(ms);
  return parseRetryAfter(get('retry-after'), now);
}

interface RateLimitWindow {
  resetMs: number | undefined;
  remaining: number | undefined;
}

const OPENAI_LIMITS = ['requests', 'tokens'] as const;
const ANTHROPIC_LIMITS = ['requests', 'tokens', 'input-tokens', 'output-tokens'] as const;

function longestRelevantReset(limits: RateLimitWindow[]): number | undefined {
  const known = limits.filter((l): l is { resetMs: number; remaining: number | undefined } => l.resetMs !== undefined);
  if (known.length === 0) return undefined;
  const exhausted = known.filter((l) => l.remaining !== undefined && l.remaining <= 0);
  const relevant = exhausted.length > 0 ? exhausted : known;
  return Math.ceil(Math.max(...relevant.map((l) => l.resetMs)));
}

function headerReader(headers: Headers | Record<string, string>): (name: string) => string | undefined {
  if (typeof (headers as Headers).get === 'function') {
    const h = headers as Headers;
    return (name) => h.get(name) ?? undefined;
  }
  // Plain records come from hand-written code and proxies: match names case-insensitively.
  const lower = new Map<string, string>();
  for (const [key, value] of Object.entries(headers as Record<string, string>)) {
    if (typeof value === 'string') lower.set(key.toLowerCase(), value);
  }
  return (name) => lower.get(name);
}

const DECIMAL = /^\s*\d+(?:\.\d+)?\s*$/;

function parseNonNegativeNumber(value: string | undefined): number | undefined {
  if (value === undefined || !DECIMAL.test(value)) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

function parseNumber(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*-?\d+(?:\.\d+)?\s*$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

const MONTH = /\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\b/i;

function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const seconds = parseNonNegativeNumber(value);
  if (seconds !== undefined) return Math.ceil(seconds * 1000);
  // HTTP-date (IMF-fixdate, RFC 850 or asctime). Require a month name: Date.parse alone accepts
  // things like "-5" or "2" as years.
  if (!MONTH.test(value)) return undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil(at - now));
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

function parseInstant(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (!RFC3339.test(trimmed)) return undefined;
  const at = Date.parse(trimmed.replace(' ', 'T'));
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

const DURATION_UNIT_MS: Record<string, number> = {
  h: 3_600_000,
  m: 60_000,
  s: 1_000,
  ms: 1,
  us: 0.001,
  µs: 0.001,
  μs: 0.001,
  ns: 0.000_001,
};
const DURATION = /^(?:\d+(?:\.\d+)?(?:h|ms|m|s|us|µs|μs|ns))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|μs|ns)/g;

/** Go `time.Duration` strings as OpenAI sends them (`6m0s`, `1.5s`, `250ms`); a bare number is seconds. */
function parseGoDuration(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  const bare = parseNonNegativeNumber(trimmed);
  if (bare !== undefined) return bare * 1000;
  if (!DURATION.test(trimmed)) return undefined;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(DURATION_PART)) {
    total += Number(amount) * (DURATION_UNIT_MS[unit ?? ''] ?? Number.NaN);
  }
  return Number.isFinite(total) ? total : undefined;
}
