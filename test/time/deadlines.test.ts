import { describe, expect, it } from 'vitest';
import { DeadlineQueue, deadlinesOf } from '../../src/time/deadlines.js';
import { createFakeClock } from '../support/fakeClock.js';

/** A target that records when it expired. */
function recorder(clock: { now(): number }, fired: Array<[string, number]>, name: string) {
  return { expire: () => fired.push([name, clock.now()]) };
}

describe('DeadlineQueue', () => {
  it('fires each deadline at its due time, in due order, ties in the order they were added', () => {
    const clock = createFakeClock(0);
    const queue = new DeadlineQueue(clock);
    const fired: Array<[string, number]> = [];
    queue.add(300, recorder(clock, fired, 'c'));
    queue.add(100, recorder(clock, fired, 'a'));
    queue.add(200, recorder(clock, fired, 'b1'));
    queue.add(200, recorder(clock, fired, 'b2'));
    clock.advance(250);
    expect(fired).toEqual([['a', 100], ['b1', 200], ['b2', 200]]);
    clock.advance(1_000);
    expect(fired.at(-1)).toEqual(['c', 300]);
    expect(queue.size).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('holds one clock timer however many deadlines are pending, none once they are all gone', () => {
    const clock = createFakeClock(0);
    const queue = new DeadlineQueue(clock);
    const deadlines = Array.from({ length: 50 }, (_, i) => queue.add(1_000 + i, { expire: () => undefined }));
    expect(clock.pendingTimers()).toBe(1);
    expect(clock.nextTimerAt()).toBe(1_000);
    for (const d of deadlines) d.cancel();
    expect(queue.size).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('a cancelled deadline never fires; cancelling the earliest leaves the others exact', () => {
    const clock = createFakeClock(0);
    const queue = new DeadlineQueue(clock);
    const fired: Array<[string, number]> = [];
    const early = queue.add(100, recorder(clock, fired, 'early'));
    queue.add(250, recorder(clock, fired, 'late'));
    early.cancel();
    early.cancel();
    clock.advance(249);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([['late', 250]]);
  });

  it('a deadline added earlier than the armed one re-arms the timer for it', () => {
    const clock = createFakeClock(0);
    const queue = new DeadlineQueue(clock);
    const fired: Array<[string, number]> = [];
    queue.add(500, recorder(clock, fired, 'total'));
    clock.advance(100);
    queue.add(50, recorder(clock, fired, 'attempt'));
    expect(clock.nextTimerAt()).toBe(150);
    clock.advance(1_000);
    expect(fired).toEqual([['attempt', 150], ['total', 500]]);
  });

  it("a deadline cancelled by one due at the same instant does not fire (a walk's deadline ending its attempt's scope)", () => {
    const clock = createFakeClock(0);
    const queue = new DeadlineQueue(clock);
    const fired: string[] = [];
    let attempt: { cancel(): void } | undefined;
    queue.add(100, {
      expire: () => {
        fired.push('walk');
        attempt!.cancel();
      },
    });
    attempt = queue.add(100, { expire: () => fired.push('attempt') });
    clock.advance(100);
    expect(fired).toEqual(['walk']);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('random adds and cancels: exactly the deadlines not cancelled fire, each at its due time, in (due, added) order', () => {
    const clock = createFakeClock(0);
    const queue = new DeadlineQueue(clock);
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const fired: Array<{ id: number; at: number }> = [];
    const due = new Map<number, number>();
    const cancelled = new Set<number>();
    const pending = new Map<number, { cancel(): void }>();
    for (let id = 0; id < 2_000; id++) {
      if (random() < 0.3 && pending.size > 0) {
        const ids = [...pending.keys()];
        const victim = ids[Math.floor(random() * ids.length)]!;
        pending.get(victim)!.cancel();
        pending.delete(victim);
        cancelled.add(victim);
      }
      const ms = Math.floor(random() * 500);
      due.set(id, clock.now() + ms);
      pending.set(
        id,
        queue.add(ms, {
          expire: () => {
            fired.push({ id, at: clock.now() });
            pending.delete(id);
          },
        }),
      );
      if (random() < 0.2) clock.advance(Math.floor(random() * 50));
    }
    clock.advance(10_000);
    for (const f of fired) expect(f.at).toBe(due.get(f.id));
    expect(fired.map((f) => f.id).sort((a, b) => a - b)).toEqual([...due.keys()].filter((id) => !cancelled.has(id)));
    const inOrder = [...fired].sort((a, b) => a.at - b.at || a.id - b.id);
    expect(fired).toEqual(inOrder);
    expect(cancelled.size).toBeGreaterThan(100);
    expect(queue.size).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("sets one clock timer per request once an attempt's shorter timeout was seen, and still fires each deadline at its due time", () => {
    const clock = createFakeClock(0);
    let sets = 0;
    const counting = { ...clock, setTimer: (fn: () => void, ms: number) => (sets++, clock.setTimer(fn, ms)) };
    const queue = new DeadlineQueue(counting);
    const noop = { expire: () => undefined };
    const request = () => {
      const walk = queue.add(120_000, noop);
      const attempt = queue.add(60_000, noop);
      clock.advance(5);
      attempt.cancel();
      walk.cancel();
    };
    request();
    const afterFirst = sets;
    request();
    request();
    expect(sets - afterFirst).toBe(2);
    expect(clock.pendingTimers()).toBe(0);

    // Armed early (at the shortest timeout seen), a longer deadline still fires exactly when due.
    const fired: Array<[string, number]> = [];
    const start = clock.now();
    queue.add(120_000, recorder(clock, fired, 'total'));
    clock.advance(119_999);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([['total', start + 120_000]]);
  });

  it('a near-zero timeout makes only the next busy period arm early, not every later one', () => {
    const clock = createFakeClock(0);
    let sets = 0;
    const counting = { ...clock, setTimer: (fn: () => void, ms: number) => (sets++, clock.setTimer(fn, ms)) };
    const queue = new DeadlineQueue(counting);
    const noop = { expire: () => undefined };
    const request = (attemptMs: number) => {
      const walk = queue.add(120_000, noop);
      const attempt = queue.add(attemptMs, noop);
      clock.advance(5);
      attempt.cancel();
      walk.cancel();
    };
    request(60_000);
    request(0); // a request at the very end of its deadline: its attempt's timeout is 0
    request(60_000); // armed at 0 (the last period's shortest): fires early, re-arms
    request(60_000);
    const settled = sets;
    request(60_000);
    request(60_000);
    expect(sets - settled).toBe(2);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('one queue per clock', () => {
    const a = createFakeClock(0);
    const b = createFakeClock(0);
    expect(deadlinesOf(a)).toBe(deadlinesOf(a));
    expect(deadlinesOf(a)).not.toBe(deadlinesOf(b));
  });
});
