import { describe, expect, it } from 'vitest';
import { FailureRate } from '../../src/breaker/failureRate.js';

describe('FailureRate', () => {
  it('has no opinion until minCalls calls were seen in the window', () => {
    const s = new FailureRate({ threshold: 0.5, windowMs: 10_000, minCalls: 4 });
    expect(s.failure(0)).toBe(false);
    expect(s.failure(0)).toBe(false);
    expect(s.failure(0)).toBe(false); // 3/3 failed, but only 3 calls
    expect(s.failure(0)).toBe(true); // 4/4
  });

  it('opens when the ratio reaches the threshold, not before', () => {
    const s = new FailureRate({ threshold: 0.5, windowMs: 10_000, minCalls: 4 });
    s.success(0);
    s.success(0);
    s.success(0);
    expect(s.failure(0)).toBe(false); // 1/4
    expect(s.failure(0)).toBe(false); // 2/5
    expect(s.failure(0)).toBe(true); // 3/6 = 0.5
    expect(s.stats(0)).toEqual({ failureRate: 0.5, windowCalls: 6, windowFailures: 3 });
  });

  it('compares exactly at thresholds that are not binary fractions', () => {
    // 0.1 × 30 is 3.0000000000000004 in binary floating point.
    const s = new FailureRate({ threshold: 0.1, windowMs: 10_000, minCalls: 30 });
    for (let i = 0; i < 27; i++) s.success(0);
    s.failure(0);
    s.failure(0);
    expect(s.failure(0)).toBe(true); // 3/30 = 0.1
  });

  it('forgets calls older than the window', () => {
    const s = new FailureRate({ threshold: 0.5, windowMs: 10_000, minCalls: 4 });
    s.failure(0);
    s.failure(0);
    s.failure(0);
    expect(s.stats(9_999).windowCalls).toBe(3);
    // The three old failures have left the window: one new failure is 1 call, below minCalls.
    expect(s.failure(10_000)).toBe(false);
    expect(s.stats(10_000)).toEqual({ failureRate: 1, windowCalls: 1, windowFailures: 1 });
  });

  it('reports a rate of 0 over an empty window, and reset empties it', () => {
    const s = new FailureRate({ threshold: 0.5, windowMs: 1_000, minCalls: 1 });
    expect(s.stats(0)).toEqual({ failureRate: 0, windowCalls: 0, windowFailures: 0 });
    s.failure(0);
    s.reset();
    expect(s.stats(0)).toEqual({ failureRate: 0, windowCalls: 0, windowFailures: 0 });
  });

  it('names its reason', () => {
    expect(new FailureRate({ threshold: 1, windowMs: 1_000, minCalls: 1 }).reason).toBe('failure_rate');
  });
});
