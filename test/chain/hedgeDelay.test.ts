/**
 * The hedge delay a percentile names, read from the latency the targets track: a chain target's
 * own; in a pool the quickest member's — and, for 'p95', at least twice its p50.
 */
import { describe, expect, it } from 'vitest';
import { Hedging } from '../../src/chain/hedge.js';
import type { PoolRuntime, TargetRuntime } from '../../src/chain/targetRuntime.js';
import { LatencyTracker } from '../../src/health/latencyTracker.js';
import { createFakeClock } from '../support/fakeClock.js';

/** What delayFor reads of a target: its latency trackers, and its pool. */
function runtime(answers: number[], firstChunks: number[] = []): TargetRuntime {
  const latency = new LatencyTracker();
  const firstChunkLatency = new LatencyTracker();
  for (const ms of answers) latency.record(ms);
  for (const ms of firstChunks) firstChunkLatency.record(ms);
  return { latency, firstChunkLatency } as unknown as TargetRuntime;
}

function pooled(...members: TargetRuntime[]): TargetRuntime[] {
  const pool = { members } as unknown as PoolRuntime;
  for (const m of members) m.pool = pool;
  return members;
}

const hedging = (after: 'p50' | 'p95') => new Hedging({ after, maxHedges: 1, budgetRatio: 0.05 }, createFakeClock());
/** 100 samples: 90 of `fast` ms, 10 of `slow` ms (p50 fast, p95 slow). */
const mix = (fast: number, slow: number) => [...Array<number>(90).fill(fast), ...Array<number>(10).fill(slow)];
/** 100 samples from 91 to 110 ms, five of each: p50 100, p95 109. */
const tight = Array.from({ length: 100 }, (_, i) => 91 + (i % 20));

describe('hedge delay for a percentile', () => {
  it("a chain target waits its own percentile, 'p95' included (no floor outside pools)", () => {
    const rt = runtime(tight);
    expect(hedging('p95').delayFor(rt, false)).toBe(109);
    expect(hedging('p50').delayFor(rt, false)).toBe(100);
    expect(hedging('p95').delayFor(runtime([]), false)).toBeUndefined();
  });

  it("in a pool, 'p95' is the quickest member's p95 when it is past twice its p50 (a real tail)", () => {
    const [stalling, quick] = pooled(runtime(mix(100, 3_000)), runtime(mix(100, 400)));
    expect(hedging('p95').delayFor(stalling!, false)).toBe(400);
    expect(hedging('p95').delayFor(quick!, false)).toBe(400);
  });

  it("in a pool, 'p95' waits at least twice the quickest member's p50: a tight spread's p95 would hedge calls about to answer", () => {
    const [stalling, steady] = pooled(runtime(mix(100, 3_000)), runtime(tight));
    expect(hedging('p95').delayFor(stalling!, false)).toBe(200);
    // 'p50' asks for hedging about half the calls: no floor.
    expect(hedging('p50').delayFor(steady!, false)).toBe(100);
  });

  it('streams read the time to first chunk', () => {
    const [a] = pooled(runtime(tight, mix(20, 500)), runtime(tight, mix(30, 45)));
    expect(hedging('p95').delayFor(a!, true)).toBe(60);
    expect(hedging('p95').delayFor(a!, false)).toBe(200);
  });
});
