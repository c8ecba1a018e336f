import { describe, expect, it } from 'vitest';
import { computeBackoff } from '../../src/retry/backoff.js';

const BASE = { baseDelayMs: 500, maxDelayMs: 8_000 };
const fixed = (r: number) => () => r;

describe('computeBackoff', () => {
  it("'none' doubles from the base and stops at the cap", () => {
    const delays = [0, 1, 2, 3, 4, 5, 6].map((n) => computeBackoff(n, { ...BASE, jitter: 'none' }));
    expect(delays).toEqual([500, 1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  });

  it("'full' jitter is uniform between 0 and the ceiling (AWS)", () => {
    expect(computeBackoff(2, { ...BASE, jitter: 'full' }, fixed(0))).toBe(0);
    expect(computeBackoff(2, { ...BASE, jitter: 'full' }, fixed(0.5))).toBe(1_000);
    expect(computeBackoff(2, { ...BASE, jitter: 'full' }, fixed(0.999_999))).toBe(2_000);
    expect(computeBackoff(10, { ...BASE, jitter: 'full' }, fixed(0.25))).toBe(2_000);
  });

  it("'equal' jitter keeps at least half the ceiling", () => {
    expect(computeBackoff(1, { ...BASE, jitter: 'equal' }, fixed(0))).toBe(500);
    expect(computeBackoff(1, { ...BASE, jitter: 'equal' }, fixed(0.5))).toBe(750);
    expect(computeBackoff(1, { ...BASE, jitter: 'equal' }, fixed(0.999_999))).toBe(1_000);
  });

  it('never overflows for huge retry numbers', () => {
    for (const n of [30, 64, 1_023, 1_024, 5_000, Number.MAX_SAFE_INTEGER]) {
      expect(computeBackoff(n, { ...BASE, jitter: 'none' })).toBe(8_000);
      expect(computeBackoff(n, { ...BASE, jitter: 'full' }, fixed(0.5))).toBe(4_000);
    }
  });

  it('a zero base means no wait at all, even for huge retry numbers', () => {
    expect(computeBackoff(2_000, { baseDelayMs: 0, maxDelayMs: 8_000, jitter: 'none' })).toBe(0);
  });

  it('a cap below the base wins', () => {
    expect(computeBackoff(0, { baseDelayMs: 500, maxDelayMs: 100, jitter: 'none' })).toBe(100);
  });

  it('uses Math.random by default and stays within [0, ceiling]', () => {
    for (let i = 0; i < 200; i++) {
      const d = computeBackoff(3, { ...BASE, jitter: 'full' });
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(4_000);
    }
  });

  it('clamps a misbehaving random source', () => {
    expect(computeBackoff(0, { ...BASE, jitter: 'full' }, fixed(7))).toBe(500);
    expect(computeBackoff(0, { ...BASE, jitter: 'full' }, fixed(-1))).toBe(0);
    expect(computeBackoff(0, { ...BASE, jitter: 'full' }, fixed(Number.NaN))).toBe(0);
  });

  it('rejects invalid input', () => {
    expect(() => computeBackoff(-1, { ...BASE, jitter: 'none' })).toThrow(RangeError);
    expect(() => computeBackoff(1.5, { ...BASE, jitter: 'none' })).toThrow(RangeError);
    expect(() => computeBackoff(0, { ...BASE, jitter: 'decorrelated' as never })).toThrow(RangeError);
  });
});
