import { describe, expect, it } from 'vitest';
import { AttributeSets } from '../../src/telemetry/attributeSets.js';

// One object per series, found again by the values that make it (src/telemetry/attributeSets.ts):
// SeriesCounter sums by that identity, so two series must never share an object, and one series
// must never get two.

describe('AttributeSets', () => {
  it('returns the same object for the same values and builds each set once, at every depth', () => {
    let built = 0;
    const one = new AttributeSets<string>((a) => (built++, { a }));
    const two = new AttributeSets<string, string | undefined>((a, b) => (built++, b === undefined ? { a } : { a, b }));
    const three = new AttributeSets<string, string, string>((a, b, c) => (built++, { a, b, c }));
    expect(one.get('x')).toBe(one.get('x'));
    expect(two.get('x', undefined)).toBe(two.get('x', undefined));
    expect(two.get('x', 'y')).toBe(two.get('x', 'y'));
    expect(three.get('x', 'y', 'z')).toBe(three.get('x', 'y', 'z'));
    expect(built).toBe(4);
  });

  it('gives different values different sets, whichever value differs', () => {
    const one = new AttributeSets<string>((a) => ({ a }));
    const two = new AttributeSets<string, string | undefined>((a, b) => (b === undefined ? { a } : { a, b }));
    const three = new AttributeSets<string, string, string>((a, b, c) => ({ a, b, c }));
    expect(one.get('x')).toEqual({ a: 'x' });
    expect(one.get('y')).toEqual({ a: 'y' });
    expect(two.get('x', undefined)).toEqual({ a: 'x' });
    expect(two.get('x', 'y')).toEqual({ a: 'x', b: 'y' });
    expect(two.get('y', 'y')).toEqual({ a: 'y', b: 'y' });
    const sets = [three.get('x', 'y', 'z'), three.get('x', 'y', 'w'), three.get('x', 'w', 'z'), three.get('w', 'y', 'z')];
    expect(new Set(sets).size).toBe(4);
    expect(sets.map((s) => Object.values(s).join(''))).toEqual(['xyz', 'xyw', 'xwz', 'wyz']);
  });
});
