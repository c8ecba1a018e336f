import { describe, expect, it } from 'vitest';
import { createFakeClock } from './fakeClock.js';

describe('createFakeClock', () => {
  it('starts at the given instant and only moves when advanced', () => {
    const clock = createFakeClock(1_000);
    expect(clock.now()).toBe(1_000);
    clock.advance(250);
    expect(clock.now()).toBe(1_250);
    clock.advanceTo(2_000);
    expect(clock.now()).toBe(2_000);
    clock.advanceTo(1_500);
    expect(clock.now()).toBe(2_000);
  });

  it('fires timers in due order, with now() at each due time', () => {
    const clock = createFakeClock();
    const fired: Array<[string, number]> = [];
    clock.setTimer(() => fired.push(['b', clock.now()]), 200);
    clock.setTimer(() => fired.push(['a', clock.now()]), 100);
    clock.setTimer(() => fired.push(['c', clock.now()]), 200);
    clock.advance(150);
    expect(fired).toEqual([['a', 100]]);
    clock.advance(100);
    expect(fired).toEqual([['a', 100], ['b', 200], ['c', 200]]);
    expect(clock.now()).toBe(250);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('fires timers scheduled by a timer when they fall due in the same advance', () => {
    const clock = createFakeClock();
    const fired: number[] = [];
    clock.setTimer(() => {
      fired.push(clock.now());
      clock.setTimer(() => fired.push(clock.now()), 50);
    }, 100);
    clock.advance(200);
    expect(fired).toEqual([100, 150]);
  });

  it('fires a zero-delay timer on the next advance, even advance(0)', () => {
    const clock = createFakeClock();
    let fired = 0;
    clock.setTimer(() => fired++, 0);
    expect(fired).toBe(0);
    clock.advance(0);
    expect(fired).toBe(1);
  });

  it('cancels a timer, idempotently', () => {
    const clock = createFakeClock();
    let fired = 0;
    const cancel = clock.setTimer(() => fired++, 10);
    cancel();
    cancel();
    clock.advance(20);
    expect(fired).toBe(0);
    expect(clock.nextTimerAt()).toBeUndefined();
  });

  it('sleep advances virtual time by itself and records the duration', async () => {
    const clock = createFakeClock(0);
    await clock.sleep(500);
    await clock.sleep(250);
    expect(clock.now()).toBe(750);
    expect(clock.sleeps).toEqual([500, 250]);
  });

  it('sleep rejects at once with the reason of an already aborted signal, without moving time', async () => {
    const clock = createFakeClock(0);
    const controller = new AbortController();
    controller.abort(new Error('cancelled'));
    await expect(clock.sleep(1_000, controller.signal)).rejects.toThrow('cancelled');
    expect(clock.now()).toBe(0);
  });

  it('sleep stops at a timer that aborts its signal (a deadline) and rejects with the reason', async () => {
    const clock = createFakeClock(0);
    const controller = new AbortController();
    clock.setTimer(() => controller.abort(new Error('deadline')), 300);
    await expect(clock.sleep(1_000, controller.signal)).rejects.toThrow('deadline');
    expect(clock.now()).toBe(300);
  });

  it("in 'wait' mode, sleep resolves only when the clock is advanced past it", async () => {
    const clock = createFakeClock(0, { sleep: 'wait' });
    const order: string[] = [];
    const a = clock.sleep(200).then(() => order.push(`a@${clock.now()}`));
    const b = clock.sleep(100).then(() => order.push(`b@${clock.now()}`));
    expect(clock.pendingTimers()).toBe(2);
    await Promise.resolve();
    expect(order).toEqual([]);
    clock.advance(200);
    await Promise.all([a, b]);
    expect(order).toEqual(['b@200', 'a@200']);
  });

  it("in 'wait' mode, sleep rejects as soon as its signal aborts and frees its timer", async () => {
    const clock = createFakeClock(0, { sleep: 'wait' });
    const controller = new AbortController();
    const sleeping = clock.sleep(1_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(sleeping).rejects.toThrow('stop');
    expect(clock.pendingTimers()).toBe(0);
    expect(clock.now()).toBe(0);
  });

  it('advanceAsync lets async code woken by one timer schedule the next within the same advance', async () => {
    const clock = createFakeClock(0, { sleep: 'wait' });
    const wakes: number[] = [];
    const loop = (async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(100);
        wakes.push(clock.now());
      }
    })();
    await clock.advanceAsync(300);
    await loop;
    expect(wakes).toEqual([100, 200, 300]);
    expect(clock.now()).toBe(300);
  });

  it('runAll fires every pending timer and reports a timer loop', () => {
    const clock = createFakeClock(0);
    const fired: number[] = [];
    clock.setTimer(() => fired.push(clock.now()), 5_000);
    clock.setTimer(() => fired.push(clock.now()), 10);
    clock.runAll();
    expect(fired).toEqual([10, 5_000]);

    const loop = () => {
      clock.setTimer(loop, 1);
    };
    loop();
    expect(() => clock.runAll(100)).toThrow(/timer loop/);
  });

  it('rejects negative or non-finite advances', () => {
    const clock = createFakeClock(0);
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(() => clock.advance(Number.NaN)).toThrow(RangeError);
    expect(() => clock.advance(Infinity)).toThrow(RangeError);
  });
});
