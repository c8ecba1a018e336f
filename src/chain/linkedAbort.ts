import type { Clock } from '../time/clock.js';

/**
 * An AbortController that also aborts when `parent` aborts (with the parent's reason) and,
 * optionally, after `timeoutMs` with `timeoutReason()`. `dispose()` detaches listeners and
 * timers so nothing outlives the call it bounded.
 */
export interface LinkedAbort {
  signal: AbortSignal;
  abort(reason: unknown): void;
  dispose(): void;
}

/**
 * Settles like `promise`, or rejects with the signal's reason as soon as the signal aborts: the
 * caller never waits on a call that ignores its signal. A late rejection of `promise` is handled.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

export function linkedAbort(clock: Clock, parent: AbortSignal | undefined, timeout?: { ms: number; reason: () => unknown }): LinkedAbort {
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(parent?.reason);
  if (parent) {
    if (parent.aborted) controller.abort(parent.reason);
    else parent.addEventListener('abort', onParentAbort, { once: true });
  }
  let cancelTimer: (() => void) | undefined;
  if (timeout && !controller.signal.aborted && Number.isFinite(timeout.ms)) {
    cancelTimer = clock.setTimer(() => controller.abort(timeout.reason()), Math.max(0, timeout.ms));
  }
  return {
    signal: controller.signal,
    abort: (reason) => controller.abort(reason),
    dispose() {
      cancelTimer?.();
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}
