import type { Provider, RateLimitFault } from './faults.js';

/**
 * Formats a duration the way OpenAI's `x-ratelimit-reset-*` headers do (Go's `time.Duration.String()` at
 * millisecond precision): `250ms`, `1s`, `1.5s`, `6m0s`, `1h2m3s`.
 */
export function formatGoDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  if (total === 0) return '0s';
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const secondsMs = total % 60_000;
  const seconds = secondsMs % 1000 === 0 ? String(secondsMs / 1000) : (secondsMs / 1000).toFixed(3).replace(/0+$/, '');
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

/** RFC 3339 UTC timestamp as Anthropic sends it (`2025-01-01T00:00:01Z`; milliseconds only when non-zero). */
export function formatRfc3339(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('.000Z', 'Z');
}

/** IMF-fixdate (`Wed, 21 Oct 2015 07:28:00 GMT`), rounded up to the next whole second as HTTP dates must be. */
export function formatHttpDate(epochMs: number): string {
  return new Date(Math.ceil(epochMs / 1000) * 1000).toUTCString();
}

const DEFAULT_RESETS = { retryAfterSeconds: 1, resetRequestsMs: 1000, resetTokensMs: 1000 } as const;

/**
 * The headers a 429 carries for `provider`, computed at `nowMs`. See {@link RateLimitFault} for the table.
 */
export function rateLimitHeaders(provider: Provider, spec: RateLimitFault, nowMs: number): Record<string, string> {
  const hasExplicit =
    spec.retryAfterMs !== undefined ||
    spec.retryAfterSeconds !== undefined ||
    spec.retryAfterDateMs !== undefined ||
    spec.resetRequestsMs !== undefined ||
    spec.resetTokensMs !== undefined ||
    spec.resetInputTokensMs !== undefined ||
    spec.resetOutputTokensMs !== undefined;
  const resets: Omit<RateLimitFault, 'kind'> = hasExplicit ? spec : DEFAULT_RESETS;
  const headers: Record<string, string> = {};

  if (resets.retryAfterMs !== undefined) headers['retry-after-ms'] = String(resets.retryAfterMs);
  if (resets.retryAfterSeconds !== undefined) {
    headers['retry-after'] =
      provider === 'anthropic' ? String(Math.ceil(resets.retryAfterSeconds)) : String(resets.retryAfterSeconds);
  }
  // A date wins over seconds when both are asked for: one header, one value.
  if (resets.retryAfterDateMs !== undefined) headers['retry-after'] = formatHttpDate(nowMs + resets.retryAfterDateMs);

  if (provider === 'openai') {
    if (resets.resetRequestsMs !== undefined) {
      headers['x-ratelimit-limit-requests'] = '500';
      headers['x-ratelimit-remaining-requests'] = '0';
      headers['x-ratelimit-reset-requests'] = formatGoDuration(resets.resetRequestsMs);
    }
    if (resets.resetTokensMs !== undefined) {
      headers['x-ratelimit-limit-tokens'] = '30000';
      headers['x-ratelimit-remaining-tokens'] = '0';
      headers['x-ratelimit-reset-tokens'] = formatGoDuration(resets.resetTokensMs);
    }
    return headers;
  }

  const anthropicReset = (family: string, ms: number | undefined, limit: string) => {
    if (ms === undefined) return;
    headers[`anthropic-ratelimit-${family}-limit`] = limit;
    headers[`anthropic-ratelimit-${family}-remaining`] = '0';
    headers[`anthropic-ratelimit-${family}-reset`] = formatRfc3339(nowMs + ms);
  };
  anthropicReset('requests', resets.resetRequestsMs, '50');
  anthropicReset('tokens', resets.resetTokensMs, '40000');
  anthropicReset('input-tokens', resets.resetInputTokensMs, '30000');
  anthropicReset('output-tokens', resets.resetOutputTokensMs, '8000');
  return headers;
}
