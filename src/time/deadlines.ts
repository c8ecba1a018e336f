import type { Clock } from './clock.js';

/** What a deadline expires: an abort scope's timeout. */
export interface Expiring {
  expire(): void;
}

/** One deadline in a queue: due at `at`; `cancel()` takes it out (idempotent, also once it fired). */
export class Deadline {
  /** Its place in the heap; DUE once taken out to fire, DONE once fired or cancelled. */
  index: number;
  constructor(
    private readonly queue: DeadlineQueue,
    readonly at: number,
    readonly seq: number,
    readonly target: Expiring,
    index: number,
  ) {
    this.index = index;
  }

  cancel(): void {
    this.queue.cancel(this);
  }
}

const DUE = -2;
const DONE = -1;

/**
 * Deadlines of many abort scopes on one clock timer. Each request's total deadline and each
 * attempt's timeout used to be a timer of their own (a Node Timeout object, the timer list's insert
 * and unenroll: ~6 % of the pipeline's CPU with telemetry off, for deadlines that almost never
 * fire); here they are entries of a binary heap ordered by due time (ties in the order they were
 * added), and the clock holds one timer, for the earliest.
 *
 * A deadline cancelled before it is due leaves the heap at once. The timer, if it was armed for that
 * one, stays armed: when it fires it finds nothing due and re-arms for the earliest left, so taking
 * out the earliest deadline costs no cancel-and-set pair. When the heap empties the timer is
 * cancelled: nothing in flight, no timer (a fake clock shows none pending).
 *
 * A new deadline earlier than the armed timer arms it no later than the shortest timeout of the last
 * busy period (from the heap's last emptying to the one before) from now: a request's deadline comes
 * before its attempts' shorter timeouts, which then need no re-arming (an early firing finds nothing
 * due and re-arms for the earliest). Only the last period counts, so one near-zero timeout (a request
 * at the end of its deadline) does not make every later period arm early.
 *
 * Exact on any clock: every deadline fires on the clock's timer at its due time or later, never
 * earlier (a fake clock fires it at exactly its due time).
 */
export class DeadlineQueue {
  private readonly heap: Deadline[] = [];
  private seq = 0;
  /** When the clock's timer fires (Infinity: none armed). */
  private armedAt = Number.POSITIVE_INFINITY;
  private cancelTimer: (() => void) | undefined;
  private readonly onTimer = () => this.fire();
  /** The shortest timeout added in the last busy period (an attempt's, typically), and in this one. */
  private shortestMs = Number.POSITIVE_INFINITY;
  private periodShortestMs = Number.POSITIVE_INFINITY;

  constructor(private readonly clock: Clock) {}

  /** Calls `target.expire()` `ms` after `now` (the clock's, unless the caller just read it), unless cancelled first. */
  add(ms: number, target: Expiring, now = this.clock.now()): Deadline {
    const { heap } = this;
    const wait = Math.max(0, ms);
    const deadline = new Deadline(this, now + wait, this.seq++, target, heap.length);
    heap.push(deadline);
    this.siftUp(deadline.index);
    if (wait < this.periodShortestMs) this.periodShortestMs = wait;
    // A request's deadline comes first and its attempts' shorter timeouts after it: armed no later
    // than the last period's shortest timeout from now, the timer is already early enough for them
    // (an early firing only re-arms), instead of a cancel-and-set pair per attempt.
    if (deadline.at < this.armedAt) this.arm(now + Math.min(wait, this.shortestMs), now);
    return deadline;
  }

  /** @internal Through `Deadline.cancel()`. */
  cancel(deadline: Deadline): void {
    const { index } = deadline;
    deadline.index = DONE;
    if (index < 0) return;
    const { heap } = this;
    const last = heap.pop()!;
    if (last !== deadline) {
      heap[index] = last;
      last.index = index;
      this.siftDown(index);
      this.siftUp(last.index);
    }
    if (heap.length === 0) this.disarm();
  }

  /** Pending deadlines (for tests). */
  get size(): number {
    return this.heap.length;
  }

  private fire(): void {
    this.cancelTimer = undefined;
    this.armedAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    const { heap } = this;
    let due: Deadline[] | undefined;
    while (heap.length > 0 && heap[0]!.at <= now) {
      const first = this.take();
      first.index = DUE;
      (due ??= []).push(first);
    }
    if (heap.length > 0) this.arm(heap[0]!.at, now);
    else this.endPeriod();
    if (!due) return;
    for (const deadline of due) {
      // Cancelled by an earlier one of this batch (a walk's deadline ending its attempt's scope).
      if (deadline.index !== DUE) continue;
      deadline.index = DONE;
      try {
        deadline.target.expire();
      } catch (error) {
        // As a timer's callback would: uncaught, without keeping the others of this batch from firing.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  private arm(at: number, now: number): void {
    this.cancelTimer?.();
    this.armedAt = at;
    this.cancelTimer = this.clock.setTimer(this.onTimer, Math.max(0, at - now));
  }

  private disarm(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.armedAt = Number.POSITIVE_INFINITY;
    this.endPeriod();
  }

  /** The heap emptied: this period's shortest timeout is the one the next period arms early by. */
  private endPeriod(): void {
    this.shortestMs = this.periodShortestMs;
    this.periodShortestMs = Number.POSITIVE_INFINITY;
  }

  /** Takes the earliest deadline out of the heap. */
  private take(): Deadline {
    const { heap } = this;
    const first = heap[0]!;
    const last = heap.pop()!;
    if (last !== first) {
      heap[0] = last;
      last.index = 0;
      this.siftDown(0);
    }
    return first;
  }

  private siftUp(index: number): void {
    const { heap } = this;
    const item = heap[index]!;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex]!;
      if (!before(item, parent)) break;
      heap[index] = parent;
      parent.index = index;
      index = parentIndex;
    }
    heap[index] = item;
    item.index = index;
  }

  private siftDown(index: number): void {
    const { heap } = this;
    const item = heap[index]!;
    const half = heap.length >> 1;
    while (index < half) {
      let childIndex = 2 * index + 1;
      let child = heap[childIndex]!;
      const right = heap[childIndex + 1];
      if (right !== undefined && before(right, child)) {
        childIndex += 1;
        child = right;
      }
      if (!before(child, item)) break;
      heap[index] = child;
      child.index = index;
      index = childIndex;
    }
    heap[index] = item;
    item.index = index;
  }
}

function before(a: Deadline, b: Deadline): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

const queues = new WeakMap<Clock, DeadlineQueue>();

/** The deadline queue of `clock` (one per clock: each fake clock of a test has its own). */
export function deadlinesOf(clock: Clock): DeadlineQueue {
  let queue = queues.get(clock);
  if (!queue) {
    queue = new DeadlineQueue(clock);
    queues.set(clock, queue);
  }
  return queue;
}
