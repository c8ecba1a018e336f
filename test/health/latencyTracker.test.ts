import { describe, expect, it } from 'vitest';
import { LatencyTracker } from '../../src/health/latencyTracker.js';

describe('LatencyTracker', () => {
  it('has no summary before the first sample', () => {
    expect(new LatencyTracker().summary()).toBeNull();
  });

  it('reports p50 and p95 by nearest rank', () => {
    const t = new LatencyTracker(100);
    for (let ms = 1; ms <= 100; ms++) t.record(ms);
    expect(t.summary()).toEqual({ p50: 50, p95: 95 });
  });

  it('reports the only sample as both percentiles', () => {
    const t = new LatencyTracker();
    t.record(420);
    expect(t.summary()).toEqual({ p50: 420, p95: 420 });
  });

  it('does not depend on arrival order', () => {
    const t = new LatencyTracker();
    for (const ms of [900, 100, 500, 300, 700]) t.record(ms);
    expect(t.summary()).toEqual({ p50: 500, p95: 900 });
  });

  it('keeps only the most recent samples (bounded ring)', () => {
    const t = new LatencyTracker(4);
    for (const ms of [10_000, 10_000, 1, 2, 3, 4]) t.record(ms);
    expect(t.size).toBe(4);
    expect(t.summary()).toEqual({ p50: 2, p95: 4 });
  });

  it('ignores negative and non-finite samples', () => {
    const t = new LatencyTracker();
    t.record(-1);
    t.record(Number.NaN);
    t.record(Infinity);
    expect(t.summary()).toBeNull();
  });

  it('reset empties it', () => {
    const t = new LatencyTracker();
    t.record(5);
    t.reset();
    expect(t.summary()).toBeNull();
    expect(t.size).toBe(0);
  });

  it('rejects a capacity below 1', () => {
    expect(() => new LatencyTracker(0)).toThrow(RangeError);
  });
});
