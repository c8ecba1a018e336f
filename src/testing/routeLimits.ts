import type { Provider, RateLimitFault } from './faults.js';
import { formatGoDuration, formatRfc3339 } from './rateLimitHeaders.js';
import { matchesRequest } from './requestLog.js';
import type { RequestMatcher } from './requestLog.js';

/**
 * A provider-side rate limit the server enforces on the requests a matcher selects, over a sliding window on
 * the server clock (`options.now`). Every answer on a limited route — 200s and errors alike — carries the
 * provider's rate-limit headers computed from it; a request that would exceed it gets the provider's 429.
 *
 * Counting (deliberately simple, so tests can size requests exactly):
 * - requests: each admitted request counts 1 from its arrival;
 * - tokens: an admitted request counts its estimated input tokens (ceil(chars/4), see `estimateInputTokens`) from
 *   its arrival, plus the output tokens of its answer once the answer is decided;
 * - a request is admitted when, counting it, no limit is exceeded (`used + 1 <= rpm`,
 *   `usedTokens + inputTokens <= tpm`); a refused request counts toward nothing.
 *
 * Headers (limit / remaining after this request / time until the oldest counted entry leaves the window):
 * - OpenAI: `x-ratelimit-limit-requests`, `x-ratelimit-remaining-requests`, `x-ratelimit-reset-requests` (Go
 *   duration, `6m0s`, `20ms`) and the same for `-tokens`;
 * - Anthropic: `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}`
 *   (RFC 3339 reset), each family only when its limit is set;
 * - 429s add `retry-after` (whole seconds, rounded up) and, for OpenAI, `retry-after-ms`.
 * Gemini answers carry no rate-limit headers (Google sends none); its requests are still limited.
 */
export interface RouteLimit {
  /** Requests per window. */
  rpm?: number;
  /** Tokens (input + output) per window. */
  tpm?: number;
  /** Anthropic: input tokens per window (`anthropic-ratelimit-input-tokens-*`). */
  inputTpm?: number;
  /** Anthropic: output tokens per window (`anthropic-ratelimit-output-tokens-*`). */
  outputTpm?: number;
  /** Window length. Default 60 000 ms (the providers' per-minute limits). */
  windowMs?: number;
}

/** A live handle on an installed limit. */
export interface RouteLimitHandle {
  /** Requests admitted since the limit was installed. */
  readonly admitted: number;
  /** Requests refused with a 429 since the limit was installed. */
  readonly refused: number;
  /** What is left in the window now, per family (undefined for families without a limit). */
  remaining(): { requests?: number; tokens?: number; inputTokens?: number; outputTokens?: number };
  /** Uninstalls the limit. */
  remove(): void;
}

type Family = 'requests' | 'tokens' | 'input-tokens' | 'output-tokens';

interface Entry {
  at: number;
  input: number;
  output: number;
}

/** What a limit decides for one request. */
export interface LimitVerdict {
  /** Headers every answer to this request carries. */
  headers: Record<string, string>;
  /** Set when the request is refused: the 429 fault to play. */
  refusal?: RateLimitFault;
  /** Records the output tokens of the admitted request's answer. */
  settle(outputTokens: number): void;
}

const FAMILIES: ReadonlyArray<{ family: Family; option: keyof RouteLimit; count: (e: Entry) => number }> = [
  { family: 'requests', option: 'rpm', count: () => 1 },
  { family: 'tokens', option: 'tpm', count: (e) => e.input + e.output },
  { family: 'input-tokens', option: 'inputTpm', count: (e) => e.input },
  { family: 'output-tokens', option: 'outputTpm', count: (e) => e.output },
];

function validate(spec: RouteLimit): void {
  for (const key of ['rpm', 'tpm', 'inputTpm', 'outputTpm', 'windowMs'] as const) {
    const value = spec[key];
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
      throw new RangeError(`limit.${key} must be a finite number > 0, got ${String(value)}`);
    }
  }
}

class InstalledLimit {
  entries: Entry[] = [];
  admitted = 0;
  refused = 0;
  readonly windowMs: number;

  constructor(
    readonly matcher: RequestMatcher,
    readonly spec: RouteLimit,
  ) {
    this.windowMs = spec.windowMs ?? 60_000;
  }

  prune(now: number): void {
    const from = now - this.windowMs;
    let drop = 0;
    while (drop < this.entries.length && this.entries[drop]!.at <= from) drop++;
    if (drop > 0) this.entries.splice(0, drop);
  }

  used(count: (e: Entry) => number): number {
    let sum = 0;
    for (const entry of this.entries) sum += count(entry);
    return sum;
  }

  /** Milliseconds until `needed` units of a family are free again (0 when they already are). */
  resetMs(now: number, limit: number, needed: number, count: (e: Entry) => number): number {
    let used = this.used(count);
    if (used === 0) return 0;
    // Time until enough of the oldest entries leave the window; at least until the oldest one does.
    for (const entry of this.entries) {
      used -= count(entry);
      if (used + needed <= limit) return Math.max(0, entry.at + this.windowMs - now);
    }
    return this.windowMs;
  }

  remaining(): ReturnType<RouteLimitHandle['remaining']> {
    const out: ReturnType<RouteLimitHandle['remaining']> = {};
    const key = { requests: 'requests', tokens: 'tokens', 'input-tokens': 'inputTokens', 'output-tokens': 'outputTokens' } as const;
    for (const { family, option, count } of FAMILIES) {
      const limit = this.spec[option];
      if (limit !== undefined) out[key[family]] = Math.max(0, limit - this.used(count));
    }
    return out;
  }
}

/** The installed limits of one server. */
export class LimitBook {
  #limits: InstalledLimit[] = [];

  install(matcher: RequestMatcher, spec: RouteLimit): RouteLimitHandle {
    validate(spec);
    const limit = new InstalledLimit({ ...matcher }, { ...spec });
    this.#limits.push(limit);
    const detach = () => {
      this.#limits = this.#limits.filter((l) => l !== limit);
    };
    return {
      get admitted() {
        return limit.admitted;
      },
      get refused() {
        return limit.refused;
      },
      remaining: () => limit.remaining(),
      remove: detach,
    };
  }

  clear(): void {
    this.#limits = [];
  }

  /**
   * Admits or refuses one request against every matching limit (all must admit). Undefined when no limit
   * matches. The clock is read once by the caller, so headers and window agree.
   */
  check(request: { route: string; provider: Provider; model: string | undefined }, inputTokens: number, now: number): LimitVerdict | undefined {
    const matching = this.#limits.filter((l) => matchesRequest(l.matcher, request));
    if (matching.length === 0) return undefined;
    const candidate: Entry = { at: now, input: inputTokens, output: 0 };
    let refusal: { family: Family; limit: number; used: number; retryAfterMs: number } | undefined;
    for (const limit of matching) {
      limit.prune(now);
      for (const { family, option, count } of FAMILIES) {
        const max = limit.spec[option];
        if (max === undefined) continue;
        const used = limit.used(count);
        if (used + count(candidate) > max) {
          const retryAfterMs = Math.max(1, limit.resetMs(now, max, count(candidate), count));
          if (!refusal || retryAfterMs > refusal.retryAfterMs) refusal = { family, limit: max, used, retryAfterMs };
        }
      }
    }
    const entries: Array<{ limit: InstalledLimit; entry: Entry }> = [];
    for (const limit of matching) {
      if (refusal) {
        limit.refused++;
      } else {
        const entry = { ...candidate };
        limit.entries.push(entry);
        limit.admitted++;
        entries.push({ limit, entry });
      }
    }
    const headers = headersFor(request.provider, matching, now);
    const verdict: LimitVerdict = {
      headers,
      settle(outputTokens) {
        for (const { entry } of entries) entry.output += Math.max(0, outputTokens);
      },
    };
    if (refusal) {
      const tokens = refusal.family !== 'requests';
      headers['retry-after'] = String(Math.ceil(refusal.retryAfterMs / 1000));
      if (request.provider === 'openai') headers['retry-after-ms'] = String(refusal.retryAfterMs);
      verdict.refusal = {
        kind: 'rateLimit',
        limit: tokens ? 'tokens' : 'requests',
        // Only the retry-after forms this provider sends (the exact values are in `headers`).
        ...(request.provider === 'openai' ? { retryAfterMs: refusal.retryAfterMs } : { retryAfterSeconds: Math.ceil(refusal.retryAfterMs / 1000) }),
        headers,
        message: refusalMessage(request.provider, request.model ?? '', refusal.family, refusal.limit, refusal.used, tokens ? inputTokens : 1),
      };
    }
    return verdict;
  }
}

/** The most constrained matching limit's view, per family (the smallest remaining wins). */
function headersFor(provider: Provider, limits: InstalledLimit[], now: number): Record<string, string> {
  const headers: Record<string, string> = {};
  if (provider === 'gemini') return headers;
  for (const { family, option, count } of FAMILIES) {
    let best: { limit: number; remaining: number; resetMs: number } | undefined;
    for (const limit of limits) {
      const max = limit.spec[option];
      if (max === undefined) continue;
      const remaining = Math.max(0, max - limit.used(count));
      // Reset: when the window has fully replenished this family (the newest counted entry leaves it).
      const newest = [...limit.entries].reverse().find((e) => count(e) > 0);
      const resetMs = newest ? Math.max(0, newest.at + limit.windowMs - now) : 0;
      if (!best || remaining < best.remaining) best = { limit: max, remaining, resetMs };
    }
    if (!best) continue;
    if (provider === 'openai') {
      if (family !== 'requests' && family !== 'tokens') continue;
      headers[`x-ratelimit-limit-${family}`] = String(best.limit);
      headers[`x-ratelimit-remaining-${family}`] = String(best.remaining);
      headers[`x-ratelimit-reset-${family}`] = formatGoDuration(best.resetMs);
    } else {
      headers[`anthropic-ratelimit-${family}-limit`] = String(best.limit);
      headers[`anthropic-ratelimit-${family}-remaining`] = String(best.remaining);
      headers[`anthropic-ratelimit-${family}-reset`] = formatRfc3339(now + best.resetMs);
    }
  }
  return headers;
}

function refusalMessage(provider: Provider, model: string, family: Family, limit: number, used: number, requested: number): string {
  const unit = family === 'requests' ? 'requests' : family === 'tokens' ? 'tokens' : family.replace('-', ' ');
  if (provider === 'openai') {
    const short = family === 'requests' ? 'RPM' : 'TPM';
    return `Rate limit reached for ${model} in organization org-bulwark-mock on ${unit} per min (${short}): Limit ${limit}, Used ${used}, Requested ${requested}. Please try again later. Visit https://platform.openai.com/account/rate-limits to learn more.`;
  }
  return `This request would exceed the rate limit for your organization (bulwark-mock) of ${limit} ${unit} per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later. You may also contact sales at https://www.anthropic.com/contact-sales to discuss your options for a rate limit increase.`;
}
