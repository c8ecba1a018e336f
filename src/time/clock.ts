/**
 * Time as the engine sees it. Injected so resilience tests run on virtual time: a fake clock
 * advances on `sleep` instead of waiting.
 */
export interface Clock {
  /** Milliseconds, monotonic enough for breakers and deadlines. */
  now(): number;
  /** Resolves after `ms`, rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Schedules `fn` after `ms`; returns a cancel function. Used for attempt timeouts. */
  setTimer(fn: () => void, ms: number): () => void;
}

// Read once: the getter is a call into the runtime, and now() runs several times per request.
const timeOrigin = performance.timeOrigin;

export const systemClock: Clock = {
  now: () => timeOrigin + performance.now(),
  sleep(ms, signal) {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
  setTimer(fn, ms) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};
