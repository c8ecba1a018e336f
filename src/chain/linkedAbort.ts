import type { Clock } from '../time/clock.js';
import { deadlinesOf, type Deadline, type Expiring } from '../time/deadlines.js';

/**
 * An abort scope: aborts when `abort()` is called, when its parent scope aborts (with the parent's
 * reason) and, optionally, after a timeout. A request's walk is one; each attempt is a child of it
 * (a hedge's racer sits between them). `dispose()` detaches it from its parent and cancels its
 * timer, so nothing outlives the call it bounded.
 *
 * Scopes tell their children directly, not through AbortSignal listeners, and the AbortSignal
 * itself is created only when something asks for it (an adapter's call, a backoff wait): an
 * AbortSignal is an EventTarget, and one per scope plus an `abort` listener per child were a
 * tenth of the pipeline's CPU. Timeouts are deadlines of the clock's one queue (time/deadlines.ts),
 * not a timer each.
 */
export interface LinkedAbort {
  /** A standard signal that aborts with this scope (created on first use). */
  readonly signal: AbortSignal;
  readonly aborted: boolean;
  /** Why it aborted (undefined while it has not). */
  readonly reason: unknown;
  abort(reason: unknown): void;
  /**
   * Calls `listener` with the reason when the scope aborts (at once if it already has); returns
   * the function that removes it.
   */
  onAbort(listener: (reason: unknown) => void): () => void;
  /** `onAbort` without the remover: taken out with `off` (a function, or an object told through its `abort`). */
  listen(listener: AbortListener): void;
  off(listener: AbortListener): void;
  dispose(): void;
}

/** Told the reason when a scope aborts: a function, or an object through its `abort` (a child scope). */
export type AbortListener = ((reason: unknown) => void) | { abort(reason: unknown): void };

class Scope implements LinkedAbort, Expiring {
  aborted = false;
  reason: unknown = undefined;
  private controller: AbortController | undefined;
  /** In the order they came (a short list: a scope has a child or two and a waiter or two). */
  private listeners: AbortListener[] | undefined;
  private deadline: Deadline | undefined;
  private timeoutReason: (() => unknown) | undefined;
  private readonly parent: LinkedAbort | undefined;

  constructor(clock: Clock, parent: LinkedAbort | undefined, timeout: ScopeTimeout | undefined) {
    this.parent = parent;
    // The child itself is the parent's listener: no closure per child.
    parent?.listen(this);
    if (timeout && !this.aborted && Number.isFinite(timeout.ms)) {
      this.timeoutReason = timeout.reason;
      this.deadline = deadlinesOf(clock).add(timeout.ms, this, timeout.from);
    }
  }

  /** The timeout passed (called by the deadline queue). */
  expire(): void {
    this.abort(this.timeoutReason!());
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    // The signal's listeners first, then the children: the order AbortSignal listeners had.
    this.controller?.abort(reason);
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const listener of listeners) tell(listener, reason);
  }

  onAbort(listener: (reason: unknown) => void): () => void {
    this.listen(listener);
    return this.aborted ? noop : () => this.off(listener);
  }

  listen(listener: AbortListener): void {
    if (this.aborted) {
      tell(listener, this.reason);
      return;
    }
    const listeners = (this.listeners ??= []);
    // A listener added twice is told once (as a Set would).
    if (!listeners.includes(listener)) listeners.push(listener);
  }

  off(listener: AbortListener): void {
    const listeners = this.listeners;
    const at = listeners ? listeners.indexOf(listener) : -1;
    if (at >= 0) listeners!.splice(at, 1);
  }

  dispose(): void {
    this.deadline?.cancel();
    this.parent?.off(this);
  }
}

function tell(listener: AbortListener, reason: unknown): void {
  if (typeof listener === 'function') listener(reason);
  else listener.abort(reason);
}

const noop = () => {};

/** A scope's timeout: `ms` after `from` (default: now; a caller that just read the clock passes what it read). */
export interface ScopeTimeout {
  ms: number;
  reason: () => unknown;
  from?: number;
}

export function linkedAbort(clock: Clock, parent: LinkedAbort | undefined, timeout?: ScopeTimeout): LinkedAbort {
  return new Scope(clock, parent, timeout);
}

/**
 * Settles like `promise`, or rejects with the scope's reason as soon as it aborts: the caller
 * never waits on a call that ignores its signal. A late rejection of `promise` is handled.
 */
export function untilAborted<T>(promise: Promise<T>, scope: LinkedAbort): Promise<T> {
  if (scope.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(scope.reason);
  }
  return new Promise<T>((resolve, reject) => {
    scope.listen(reject);
    promise.then(
      (value) => {
        scope.off(reject);
        resolve(value);
      },
      (error: unknown) => {
        scope.off(reject);
        reject(error);
      },
    );
  });
}
