import { describe, expect, it } from 'vitest';
import { explicitRetryAfterMs, retryAfterMs } from '../../src/providers/retryAfter.js';

const NOW = Date.parse('2026-11-20T12:00:00.000Z');
const h = (record: Record<string, string>) => new Headers(record);

describe('retryAfterMs', () => {
  describe('retry-after-ms', () => {
    it.each([
      ['1500', 1500],
      ['0', 0],
      ['250.4', 251],
      [' 20 ', 20],
    ])('reads %j as %d ms', (value, expected) => {
      expect(retryAfterMs(h({ 'retry-after-ms': value }), NOW)).toBe(expected);
    });

    it('wins over retry-after and reset headers', () => {
      expect(
        retryAfterMs(h({ 'retry-after-ms': '300', 'retry-after': '20', 'x-ratelimit-reset-requests': '1m0s' }), NOW),
      ).toBe(300);
    });

    it.each(['-5', 'soon', '', 'NaN', 'Infinity', '1e3', '0x10', '12abc'])('ignores garbage %j and falls through', (value) => {
      expect(retryAfterMs(h({ 'retry-after-ms': value }), NOW)).toBeUndefined();
      expect(retryAfterMs(h({ 'retry-after-ms': value, 'retry-after': '2' }), NOW)).toBe(2000);
    });
  });

  describe('retry-after', () => {
    it.each([
      ['0', 0],
      ['1', 1000],
      ['30', 30_000],
      ['1.5', 1500],
      ['86400', 86_400_000],
    ])('reads delta-seconds %j as %d ms', (value, expected) => {
      expect(retryAfterMs(h({ 'retry-after': value }), NOW)).toBe(expected);
    });

    it('reads an IMF-fixdate relative to now', () => {
      expect(retryAfterMs(h({ 'retry-after': 'Fri, 20 Nov 2026 12:00:07 GMT' }), NOW)).toBe(7000);
    });

    it('reads the obsolete RFC 850 and asctime date forms', () => {
      expect(retryAfterMs(h({ 'retry-after': 'Friday, 20-Nov-26 12:00:03 GMT' }), NOW)).toBe(3000);
      // asctime carries no zone; Date.parse reads it as local time, so compare against the same reading.
      const asctime = 'Fri Nov 20 12:00:04 2026';
      expect(retryAfterMs(h({ 'retry-after': asctime }), Date.parse(asctime) - 4000)).toBe(4000);
    });

    it('treats a date in the past as "now" (0), not negative', () => {
      expect(retryAfterMs(h({ 'retry-after': 'Fri, 20 Nov 2026 11:59:00 GMT' }), NOW)).toBe(0);
    });

    it.each(['-5', '-1', 'soon', 'tomorrow', '5 seconds', '2', 'Fri, 99 Foo 2026 xx GMT', ''])(
      'ignores garbage %j (only when not a valid number)',
      (value) => {
        const result = retryAfterMs(h({ 'retry-after': value }), NOW);
        if (value === '2') expect(result).toBe(2000);
        else expect(result).toBeUndefined();
      },
    );

    it('does not take a bare negative number for a year (Date.parse would)', () => {
      expect(retryAfterMs(h({ 'retry-after': '-5' }), NOW)).toBeUndefined();
    });

    it('wins over reset headers', () => {
      expect(retryAfterMs(h({ 'retry-after': '2', 'x-ratelimit-reset-tokens': '6m0s' }), NOW)).toBe(2000);
    });
  });

  describe('x-ratelimit-reset-* (OpenAI, Go durations)', () => {
    it.each([
      ['1s', 1000],
      ['250ms', 250],
      ['6m0s', 360_000],
      ['1h2m3.5s', 3_723_500],
      ['0.5s', 500],
      ['20ms', 20],
      ['1m', 60_000],
      ['2h', 7_200_000],
      ['1500us', 2], // 1.5 ms, rounded up
      ['7.66s', 7660],
      ['3', 3000], // a bare number is seconds
      ['0s', 0],
    ])('reads %j as %d ms', (value, expected) => {
      expect(retryAfterMs(h({ 'x-ratelimit-reset-requests': value }), NOW)).toBe(expected);
    });

    it.each(['-1s', '1x', 's', '1 s', 'ms', 'forever', '1s2', 'P1S', ''])('ignores garbage %j', (value) => {
      expect(retryAfterMs(h({ 'x-ratelimit-reset-requests': value }), NOW)).toBeUndefined();
    });

    it('uses the exhausted limit when x-ratelimit-remaining-* says which one ran out', () => {
      const headers = {
        'x-ratelimit-reset-requests': '120ms',
        'x-ratelimit-reset-tokens': '6m0s',
      };
      expect(retryAfterMs(h({ ...headers, 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-remaining-tokens': '12000' }), NOW)).toBe(120);
      expect(retryAfterMs(h({ ...headers, 'x-ratelimit-remaining-requests': '499', 'x-ratelimit-remaining-tokens': '0' }), NOW)).toBe(
        360_000,
      );
    });

    it('takes the longest of the exhausted limits when several ran out', () => {
      expect(
        retryAfterMs(
          h({
            'x-ratelimit-reset-requests': '2s',
            'x-ratelimit-reset-tokens': '5s',
            'x-ratelimit-remaining-requests': '0',
            'x-ratelimit-remaining-tokens': '0',
          }),
          NOW,
        ),
      ).toBe(5000);
    });

    it('takes the max when no limit says it is exhausted (we cannot tell which one refused us)', () => {
      expect(retryAfterMs(h({ 'x-ratelimit-reset-requests': '2s', 'x-ratelimit-reset-tokens': '5s' }), NOW)).toBe(5000);
      // A request larger than the tokens left is refused while remaining-tokens is still positive.
      expect(
        retryAfterMs(
          h({
            'x-ratelimit-reset-requests': '2s',
            'x-ratelimit-reset-tokens': '5s',
            'x-ratelimit-remaining-requests': '10',
            'x-ratelimit-remaining-tokens': '500',
          }),
          NOW,
        ),
      ).toBe(5000);
    });

    it('ignores a garbage reset next to a good one', () => {
      expect(retryAfterMs(h({ 'x-ratelimit-reset-requests': 'junk', 'x-ratelimit-reset-tokens': '1s' }), NOW)).toBe(1000);
    });
  });

  describe('anthropic-ratelimit-*-reset (RFC 3339)', () => {
    it.each([
      ['anthropic-ratelimit-requests-reset', '2026-11-20T12:00:05Z', 5000],
      ['anthropic-ratelimit-tokens-reset', '2026-11-20T12:00:01.250Z', 1250],
      ['anthropic-ratelimit-input-tokens-reset', '2026-11-20T13:00:30+01:00', 30_000],
      ['anthropic-ratelimit-output-tokens-reset', '2026-11-20T12:01:00Z', 60_000],
    ])('reads %s', (name, value, expected) => {
      expect(retryAfterMs(h({ [name]: value }), NOW)).toBe(expected);
    });

    it('treats a reset in the past as 0', () => {
      expect(retryAfterMs(h({ 'anthropic-ratelimit-requests-reset': '2026-11-20T11:00:00Z' }), NOW)).toBe(0);
    });

    it.each(['tomorrow', '2026-11-20', '1700000000', '2026-13-45T99:99:99Z', '-5', ''])('ignores garbage %j', (value) => {
      expect(retryAfterMs(h({ 'anthropic-ratelimit-requests-reset': value }), NOW)).toBeUndefined();
    });

    it('prefers the exhausted limit, else the latest reset', () => {
      const resets = {
        'anthropic-ratelimit-requests-reset': '2026-11-20T12:00:02Z',
        'anthropic-ratelimit-input-tokens-reset': '2026-11-20T12:00:40Z',
      };
      expect(retryAfterMs(h(resets), NOW)).toBe(40_000);
      expect(
        retryAfterMs(
          h({ ...resets, 'anthropic-ratelimit-requests-remaining': '0', 'anthropic-ratelimit-input-tokens-remaining': '9000' }),
          NOW,
        ),
      ).toBe(2000);
    });
  });

  it('returns undefined without any known header', () => {
    expect(retryAfterMs(h({}), NOW)).toBeUndefined();
    expect(retryAfterMs(h({ 'x-request-id': 'req_1', 'content-type': 'application/json' }), NOW)).toBeUndefined();
  });

  it('accepts a plain record with any header-name case', () => {
    expect(retryAfterMs({ 'Retry-After': '3' }, NOW)).toBe(3000);
    expect(retryAfterMs({ 'RETRY-AFTER-MS': '45' }, NOW)).toBe(45);
    expect(retryAfterMs({ 'X-RateLimit-Reset-Tokens': '1m30s' }, NOW)).toBe(90_000);
  });

  it('never returns a negative or non-integer value', () => {
    const samples: Array<Record<string, string>> = [
      { 'retry-after-ms': '0.1' },
      { 'retry-after': '0.0001' },
      { 'retry-after': 'Fri, 20 Nov 2020 12:00:00 GMT' },
      { 'x-ratelimit-reset-tokens': '1ns' },
      { 'anthropic-ratelimit-tokens-reset': '2026-11-20T12:00:00.0001Z' },
    ];
    for (const sample of samples) {
      const value = retryAfterMs(h(sample), NOW);
      expect(value).toBeDefined();
      expect(Number.isInteger(value)).toBe(true);
      expect(value).toBeGreaterThanOrEqual(0);
    }
  });
});

describe('explicitRetryAfterMs', () => {
  it('reads retry-after-ms and retry-after only', () => {
    expect(explicitRetryAfterMs(h({ 'retry-after-ms': '10', 'retry-after': '5' }), NOW)).toBe(10);
    expect(explicitRetryAfterMs(h({ 'retry-after': '5' }), NOW)).toBe(5000);
  });

  it('ignores rate-limit window resets (they ride on every OpenAI answer)', () => {
    expect(explicitRetryAfterMs(h({ 'x-ratelimit-reset-tokens': '6m0s' }), NOW)).toBeUndefined();
    expect(explicitRetryAfterMs(h({ 'anthropic-ratelimit-requests-reset': '2026-11-20T12:00:05Z' }), NOW)).toBeUndefined();
  });
});
