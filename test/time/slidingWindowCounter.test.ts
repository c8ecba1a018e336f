import { describe, expect, it } from 'vitest';
import { SlidingWindowCounter } from '../../src/time/slidingWindowCounter.js';

describe('SlidingWindowCounter', () => {
  it('sums named counters over the window', () => {
    const w = new SlidingWindowCounter(['ok', 'bad'], 1_000);
    w.add(0, 'ok');
    w.add(150, 'bad', 2);
    w.add(999, 'ok');
    expect(w.totals(999)).toEqual({ ok: 2, bad: 2 });
  });

  it('forgets an event windowMs after it when it lands on a bucket boundary', () => {
    const w = new SlidingWindowCounter(['n'], 1_000, 10);
    w.add(0, 'n');
    expect(w.totals(999)).toEqual({ n: 1 });
    expect(w.totals(1_000)).toEqual({ n: 0 });
  });

  it('forgets at bucket resolution: an event mid-bucket goes with its bucket', () => {
    const w = new SlidingWindowCounter(['n'], 1_000, 10);
    w.add(150, 'n'); // bucket [100, 200)
    expect(w.totals(1_099)).toEqual({ n: 1 });
    expect(w.totals(1_100)).toEqual({ n: 0 });
  });

  it('reuses ring slots after long idle gaps without resurrecting old counts', () => {
    const w = new SlidingWindowCounter(['n'], 1_000, 10);
    w.add(0, 'n', 5);
    w.add(10_000, 'n'); // same ring slot as t=0, ten windows later
    expect(w.totals(10_000)).toEqual({ n: 1 });
  });

  it('treats time running backwards as the latest time seen', () => {
    const w = new SlidingWindowCounter(['n'], 1_000, 10);
    w.add(5_000, 'n');
    w.add(100, 'n');
    expect(w.totals(5_000)).toEqual({ n: 2 });
  });

  it('clear forgets everything', () => {
    const w = new SlidingWindowCounter(['n'], 1_000);
    w.add(0, 'n', 3);
    w.clear();
    expect(w.totals(0)).toEqual({ n: 0 });
  });

  it('rejects a bucket count below 1', () => {
    expect(() => new SlidingWindowCounter(['n'], 1_000, 0)).toThrow(RangeError);
  });
});
