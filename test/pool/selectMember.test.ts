import { describe, expect, it } from 'vitest';
import { pickMember, weightedPick, type MemberView } from '../../src/pool/selectMember.js';
import { createRandom } from '../../src/testing/random.js';

const seeded = (seed: number) => {
  const source = createRandom(seed);
  return () => source.next();
};
const m = (name: string, view: Partial<MemberView> = {}) => ({ name, weight: 1, inFlight: 0, ...view });
const counts = (picks: Array<{ name: string }>) => picks.reduce<Record<string, number>>((c, p) => ({ ...c, [p.name]: (c[p.name] ?? 0) + 1 }), {});

describe('pickMember', () => {
  it('weighted: shares follow the weights within three standard deviations (10 000 seeded draws)', () => {
    const members = [m('a', { weight: 5 }), m('b', { weight: 3 }), m('c', { weight: 2 })];
    const random = seeded(42);
    const n = 10_000;
    const c = counts(Array.from({ length: n }, () => pickMember('weighted', members, { random, tolerance: 0 })));
    for (const [name, p] of [['a', 0.5], ['b', 0.3], ['c', 0.2]] as const) {
      expect(Math.abs(c[name]! - p * n)).toBeLessThanOrEqual(3 * Math.sqrt(n * p * (1 - p)));
    }
  });

  it('weighted: a source outside [0, 1) still picks a member', () => {
    const members = [m('a'), m('b')];
    expect(weightedPick(members, () => 1).name).toBe('b');
    expect(weightedPick(members, () => -3).name).toBe('a');
    expect(weightedPick(members, () => Number.NaN).name).toBe('a');
  });

  it('least-busy: the fewest in flight, ties broken by weight', () => {
    const random = seeded(1);
    expect(pickMember('least-busy', [m('a', { inFlight: 3 }), m('b', { inFlight: 1 }), m('c', { inFlight: 2 })], { random, tolerance: 0 }).name).toBe('b');
    const tied = [m('a', { inFlight: 1, weight: 1 }), m('b', { inFlight: 1, weight: 1 }), m('c', { inFlight: 4 })];
    const c = counts(Array.from({ length: 2_000 }, () => pickMember('least-busy', tied, { random, tolerance: 0 })));
    expect(c.c).toBeUndefined();
    expect(c.a! + c.b!).toBe(2_000);
    expect(Math.min(c.a!, c.b!)).toBeGreaterThan(900);
  });

  it('latency: the band within the tolerance of the fastest shares; slower members and nothing else are left out', () => {
    const random = seeded(2);
    const members = [m('fast', { latencyScoreMs: 100 }), m('close', { latencyScoreMs: 120 }), m('slow', { latencyScoreMs: 200 }), m('unmeasured')];
    const c = counts(Array.from({ length: 3_000 }, () => pickMember('latency', members, { random, tolerance: 0.25 })));
    expect(c.slow).toBeUndefined();
    // No herding onto the fastest: every member in the band gets about a third.
    for (const name of ['fast', 'close', 'unmeasured']) expect(c[name]).toBeGreaterThan(900);
    // With no tolerance only the fastest (and the unmeasured) remain.
    const strict = counts(Array.from({ length: 500 }, () => pickMember('latency', members, { random, tolerance: 0 })));
    expect(Object.keys(strict).sort()).toEqual(['fast', 'unmeasured']);
  });

  it('cost: the cheapest; ties share', () => {
    const random = seeded(3);
    expect(pickMember('cost', [m('a', { costUsd: 0.3 }), m('b', { costUsd: 0.1 }), m('c', { costUsd: 0.2 })], { random, tolerance: 0 }).name).toBe('b');
    const c = counts(Array.from({ length: 1_000 }, () => pickMember('cost', [m('a', { costUsd: 0.1 }), m('b', { costUsd: 0.1 }), m('c', { costUsd: 0.2 })], { random, tolerance: 0 })));
    expect(c.c).toBeUndefined();
    expect(Math.min(c.a!, c.b!)).toBeGreaterThan(400);
  });

  it('no candidates is a programming error', () => {
    expect(() => pickMember('weighted', [], { random: Math.random, tolerance: 0 })).toThrow(RangeError);
  });
});
