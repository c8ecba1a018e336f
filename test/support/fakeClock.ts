import type { Clock } from '../../src/time/clock.js';

/**
 * A virtual-time `Clock` for tests: nothing ever waits on the wall clock, so resilience tests
 * are fast and exact.
 *
 * ```ts
 * const clock = createFakeClock();          // now() === 0
 * clock.setTimer(() => fired.push(clock.now()), 100);
 * clock.advance(250);                       // fires the timer with now() === 100, ends at 250
 * await clock.sleep(500);                   // time jumps to 750 (default 'advance' mode)
 * ```
 *
 * Semantics:
 * - `now()` only changes through `advance`, `advanceTo`, `advanceAsync`, `runAll` and `sleep`.
 * - `setTimer(fn, ms)` schedules `fn` at `now() + max(0, ms)`. Timers fire in due order (ties in
 *   the order they were scheduled) and `now()` reads the timer's due time inside its callback.
 *   Timers scheduled by a callback fire in the same advance when they fall due within it.
 *   The returned function cancels the timer (idempotent).
 * - Like real timers, an exception thrown by a timer callback does not stop the clock: it is
 *   re-thrown as an uncaught exception on a microtask, which vitest reports as a failure.
 * - `sleep(ms, signal)` rejects at once with `signal.reason` when the signal is already aborted.
 *   In the default `'advance'` mode it moves time forward by `ms` itself (firing the timers
 *   it passes) and resolves; if a timer on the way aborts the signal (a deadline, say), time
 *   stops at that timer and the sleep rejects with the reason. In `'wait'` mode it behaves like
 *   a real sleep: it resolves when someone advances the clock past it, and rejects as soon as
 *   the signal aborts. Use `'wait'` to test concurrent waiters.
 */
export interface FakeClock extends Clock {
  /** Moves time forward by `ms`, firing due timers synchronously. */
  advance(ms: number): void;
  /** Moves time forward to the absolute instant `t` (no-op when `t` is not in the future). */
  advanceTo(t: number): void;
  /**
   * Like `advance`, but lets pending promise callbacks run before and after every timer, so
   * async code woken by one timer can schedule the next one within the same advance.
   */
  advanceAsync(ms: number): Promise<void>;
  /** Fires every pending timer (including ones they schedule), up to `limit` of them. */
  runAll(limit?: number): void;
  /** Timers scheduled and not yet fired or cancelled (sleepers in 'wait' mode included). */
  pendingTimers(): number;
  /** Due time of the next pending timer, or undefined. */
  nextTimerAt(): number | undefined;
  /** Every `sleep(ms)` duration requested, in call order (for asserting backoff delays). */
  readonly sleeps: readonly number[];
}

export interface FakeClockOptions {
  /** 'advance' (default): `sleep` moves virtual time itself. 'wait': `sleep` waits for `advance`. */
  sleep?: 'advance' | 'wait';
}

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

export function createFakeClock(start = 0, options: FakeClockOptions = {}): FakeClock {
  if (!Number.isFinite(start)) throw new RangeError(`createFakeClock: start must be a finite number, got ${start}`);
  const sleepMode = options.sleep ?? 'advance';
  let now = start;
  let nextId = 0;
  /** Kept sorted by (at, id). */
  const timers: Timer[] = [];
  const sleeps: number[] = [];

  function insert(timer: Timer): void {
    let i = timers.length;
    while (i > 0 && timers[i - 1]!.at > timer.at) i--;
    timers.splice(i, 0, timer);
  }

  function schedule(fn: () => void, ms: number): () => void {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : ms === Infinity ? Infinity : 0;
    const timer: Timer = { id: nextId++, at: now + delay, fn };
    insert(timer);
    return () => {
      const i = timers.indexOf(timer);
      if (i >= 0) timers.splice(i, 1);
    };
  }

  function fire(timer: Timer): void {
    try {
      timer.fn();
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }

  /** Fires timers due up to `target` in order; stops early (at that timer's time) when `stop()` says so. */
  function runUntil(target: number, stop?: () => boolean): void {
    for (;;) {
      const next = timers[0];
      if (next === undefined || next.at > target) break;
      timers.shift();
      if (next.at > now) now = next.at;
      fire(next);
      if (stop?.()) return;
    }
    if (target > now) now = target;
  }

  function checkMs(name: string, ms: number): void {
    if (!(ms >= 0) || ms === Infinity) throw new RangeError(`FakeClock.${name}: ms must be a finite number >= 0, got ${ms}`);
  }

  const flushPromises = () => new Promise<void>((resolve) => setImmediate(resolve));

  const clock: FakeClock = {
    now: () => now,

    setTimer: schedule,

    sleep(ms, signal) {
      sleeps.push(ms);
      if (signal?.aborted) return Promise.reject(signal.reason);
      const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
      if (sleepMode === 'advance') {
        runUntil(now + delay, () => signal?.aborted === true);
        return signal?.aborted ? Promise.reject(signal.reason) : Promise.resolve();
      }
      return new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          cancel();
          reject(signal?.reason);
        };
        const cancel = schedule(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, delay);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },

    advance(ms) {
      checkMs('advance', ms);
      runUntil(now + ms);
    },

    advanceTo(t) {
      if (Number.isNaN(t)) throw new RangeError('FakeClock.advanceTo: t is NaN');
      if (t > now) runUntil(t);
    },

    async advanceAsync(ms) {
      checkMs('advanceAsync', ms);
      const target = now + ms;
      await flushPromises();
      for (;;) {
        const next = timers[0];
        if (next === undefined || next.at > target) break;
        timers.shift();
        if (next.at > now) now = next.at;
        fire(next);
        await flushPromises();
      }
      if (target > now) now = target;
    },

    runAll(limit = 10_000) {
      for (let fired = 0; fired < limit; fired++) {
        const next = timers[0];
        if (next === undefined) return;
        if (next.at === Infinity) return;
        timers.shift();
        if (next.at > now) now = next.at;
        fire(next);
      }
      if (timers.some((t) => t.at !== Infinity)) {
        throw new Error(`FakeClock.runAll: still scheduling timers after ${limit} fired (a timer loop?)`);
      }
    },

    pendingTimers: () => timers.length,

    nextTimerAt: () => timers[0]?.at,

    sleeps,
  };
  return clock;
}
