import { describe, expect, it } from 'vitest';
import { headerRecord, parseAnthropicRateLimits, parseAnyRateLimits, parseGoDuration, parseOpenAIRateLimits, parseRfc3339 } from '../../src/providers/rateLimitHeaders.js';
import { formatGoDuration } from '../../src/testing/index.js';

const headers = (h: Record<string, string>) => new Headers(h);

describe("providers' rate-limit headers", () => {
  it.each([
    ['20ms', 20],
    ['1s', 1_000],
    ['1.5s', 1_500],
    ['6m0s', 360_000],
    ['1h2m3.5s', 3_723_500],
    ['0s', 0],
  ])('reads the Go duration %s as %i ms', (text, ms) => {
    expect(parseGoDuration(text)).toBe(ms);
  });

  it('reads every duration the fault server writes back to the same milliseconds', () => {
    for (const ms of [1, 20, 999, 1_000, 1_250, 59_999, 60_000, 61_250, 3_723_000]) expect(parseGoDuration(formatGoDuration(ms))).toBe(ms);
  });

  it.each(['', 'soon', '-3s', '1x', 's', '5', '1m1m', 'NaNs'])('refuses %j as a duration', (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });

  it('reads RFC 3339 timestamps and refuses anything else', () => {
    expect(parseRfc3339('2026-01-01T12:00:05Z')).toBe(Date.UTC(2026, 0, 1, 12, 0, 5));
    expect(parseRfc3339('2026-01-01T12:00:05.250+01:00')).toBe(Date.UTC(2026, 0, 1, 11, 0, 5, 250));
    for (const bad of ['tomorrow', '2026-01-01', 'Wed, 21 Oct 2015 07:28:00 GMT', '2026-13-45T99:00:00Z']) expect(parseRfc3339(bad)).toBeUndefined();
  });

  it('OpenAI: limit, remaining and a reset relative to now, per family; garbage named', () => {
    const report = parseOpenAIRateLimits(
      headers({
        'x-ratelimit-limit-requests': '500',
        'x-ratelimit-remaining-requests': '499',
        'x-ratelimit-reset-requests': '120ms',
        'x-ratelimit-limit-tokens': '30000',
        'x-ratelimit-remaining-tokens': 'lots',
        'x-ratelimit-reset-tokens': '1s',
      }),
      1_000,
    );
    expect(report.requests).toEqual({ limit: 500, remaining: 499, resetAt: 1_120 });
    expect(report.tokens).toBeUndefined();
    expect(report.garbage).toEqual(['x-ratelimit-remaining-tokens']);
  });

  it('no headers: nothing reported, nothing counted; an incomplete family is not garbage', () => {
    expect(parseOpenAIRateLimits(headers({}), 0)).toEqual({ garbage: [] });
    expect(parseOpenAIRateLimits(headers({ 'x-ratelimit-remaining-requests': '3' }), 0)).toEqual({ garbage: [] });
  });

  it('Anthropic: the tightest token family counts as tokens', () => {
    const reset = '2026-01-01T12:01:00Z';
    const report = parseAnthropicRateLimits(
      headers({
        'anthropic-ratelimit-requests-limit': '50',
        'anthropic-ratelimit-requests-remaining': '49',
        'anthropic-ratelimit-requests-reset': reset,
        'anthropic-ratelimit-tokens-limit': '40000',
        'anthropic-ratelimit-tokens-remaining': '39000',
        'anthropic-ratelimit-tokens-reset': reset,
        'anthropic-ratelimit-output-tokens-limit': '8000',
        'anthropic-ratelimit-output-tokens-remaining': '100',
        'anthropic-ratelimit-output-tokens-reset': reset,
        'anthropic-ratelimit-input-tokens-limit': '0',
        'anthropic-ratelimit-input-tokens-remaining': '0',
        'anthropic-ratelimit-input-tokens-reset': reset,
      }),
    );
    expect(report.requests).toEqual({ limit: 50, remaining: 49, resetAt: Date.parse(reset) });
    expect(report.tokens).toEqual({ limit: 8000, remaining: 100, resetAt: Date.parse(reset) });
    expect(report.garbage).toEqual(['anthropic-ratelimit-input-tokens-limit']);
  });

  it('AI SDK targets read either family from a plain header record: the tighter report per kind, garbage from both', () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 0);
    const record = headerRecord({
      'x-ratelimit-limit-requests': '100',
      'x-ratelimit-remaining-requests': '40',
      'x-ratelimit-reset-requests': '30s',
      'anthropic-ratelimit-requests-limit': '50',
      'anthropic-ratelimit-requests-remaining': '5',
      'anthropic-ratelimit-requests-reset': '2026-01-01T12:00:10Z',
      'x-ratelimit-limit-tokens': '1000',
      'x-ratelimit-remaining-tokens': 'lots',
      'x-ratelimit-reset-tokens': '1s',
    })!;
    expect(parseAnyRateLimits(record, now)).toEqual({
      requests: { limit: 50, remaining: 5, resetAt: Date.UTC(2026, 0, 1, 12, 0, 10) },
      garbage: ['x-ratelimit-remaining-tokens'],
    });
    expect(headerRecord(undefined)).toBeUndefined();
    expect(parseAnyRateLimits(headerRecord({ 'content-type': 'application/json' })!, now)).toEqual({ garbage: [] });
  });
});

