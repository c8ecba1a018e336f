import { describe, expect, it } from 'vitest';
import { formatGoDuration, formatHttpDate, formatRfc3339 } from '../../src/testing/index.js';

describe('rate-limit header formats', () => {
  it.each([
    [0, '0s'],
    [250, '250ms'],
    [1000, '1s'],
    [1500, '1.5s'],
    [6_000, '6s'],
    [360_000, '6m0s'],
    [3_723_000, '1h2m3s'],
    [61_250, '1m1.25s'],
  ])('formats %i ms as the Go duration %s (x-ratelimit-reset-*)', (ms, text) => {
    expect(formatGoDuration(ms)).toBe(text);
  });

  it('formats RFC 3339 timestamps with milliseconds only when present', () => {
    expect(formatRfc3339(Date.UTC(2025, 0, 1, 12, 0, 5))).toBe('2025-01-01T12:00:05Z');
    expect(formatRfc3339(Date.UTC(2025, 0, 1, 12, 0, 5, 250))).toBe('2025-01-01T12:00:05.250Z');
  });

  it('formats HTTP dates rounded up to the next second', () => {
    expect(formatHttpDate(Date.UTC(2025, 0, 1, 0, 0, 29, 1))).toBe('Wed, 01 Jan 2025 00:00:30 GMT');
  });
});
