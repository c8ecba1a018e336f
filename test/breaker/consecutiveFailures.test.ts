import { describe, expect, it } from 'vitest';
import { ConsecutiveFailures } from '../../src/breaker/consecutiveFailures.js';

describe('ConsecutiveFailures', () => {
  it('asks to open on the threshold-th failure in a row', () => {
    const s = new ConsecutiveFailures(3);
    expect(s.failure(0)).toBe(false);
    expect(s.failure(0)).toBe(false);
    expect(s.failure(0)).toBe(true);
    expect(s.stats(0)).toEqual({ consecutiveFailures: 3 });
  });

  it('starts counting again after a success', () => {
    const s = new ConsecutiveFailures(2);
    s.failure(0);
    s.success(0);
    expect(s.failure(0)).toBe(false);
    expect(s.stats(0)).toEqual({ consecutiveFailures: 1 });
  });

  it('reset forgets the run', () => {
    const s = new ConsecutiveFailures(2);
    s.failure(0);
    s.reset();
    expect(s.stats(0)).toEqual({ consecutiveFailures: 0 });
    expect(s.failure(0)).toBe(false);
  });

  it('names its reason', () => {
    expect(new ConsecutiveFailures(1).reason).toBe('consecutive_failures');
  });
});
