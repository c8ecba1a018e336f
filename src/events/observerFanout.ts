import type { AttemptObserver, EngineObserver, RequestInfo, RequestObserver } from './engineObserver.js';

/**
 * Combines observers into one and shields the request path from them: an observer that throws
 * is skipped for that call, never allowed to fail or change a request.
 *
 * Built on every request and attempt, so the combined observers are small classes over the list
 * of observers (methods on the prototype) rather than a fresh closure per hook: per request, the
 * fan-out allocates its list, one object and its bound `run`, whatever the number of hooks.
 */

type Hooks<O> = { [K in keyof O]-?: NonNullable<O[K]> extends (arg: infer A) => void ? A : never };

/** Calls `key` on every observer that has it; one that throws is skipped. */
function notify<O extends object, K extends keyof O>(observers: readonly O[], key: K, arg: Hooks<O>[K]): void {
  for (const o of observers) {
    const hook = o[key];
    if (typeof hook !== 'function') continue;
    try {
      hook.call(o, arg);
    } catch {
      /* observers must not break requests */
    }
  }
}

type Run = <T>(fn: () => T) => T;

/**
 * A `run` hook that cannot change the call it wraps: the result is always `fn`'s own (value or
 * error). A hook that throws before running `fn`, or never runs it, gets `fn` run plainly; one
 * that throws after running it is ignored.
 */
function guardedRun<T>(owner: { run?: Run }, run: Run, fn: () => T): T {
  // What `fn` did: not run yet, returned `value`, or threw `error`.
  let ran: 'no' | 'value' | 'error' = 'no';
  let value: T | undefined;
  let error: unknown;
  const inner = (): T => {
    try {
      value = fn();
      ran = 'value';
      return value;
    } catch (thrown) {
      error = thrown;
      ran = 'error';
      throw thrown;
    }
  };
  try {
    run.call(owner, inner);
  } catch {
    /* observers must not break requests */
  }
  if (ran === 'no') return fn();
  if (ran === 'error') throw error;
  return value as T;
}

/** The index of the first observer from `from` on with a `run` hook, or -1. */
function nextRun(observers: ReadonlyArray<{ run?: Run }>, from: number): number {
  for (let i = from; i < observers.length; i++) if (typeof observers[i]!.run === 'function') return i;
  return -1;
}

/** Every observer's `run` nested around `fn`, the first observer outermost. */
function runNested<T>(observers: ReadonlyArray<{ run?: Run }>, from: number, fn: () => T): T {
  const i = nextRun(observers, from);
  if (i < 0) return fn();
  const o = observers[i]!;
  // The innermost hook wraps `fn` itself: no closure for an empty rest.
  const rest = nextRun(observers, i + 1) < 0 ? fn : () => runNested(observers, i + 1, fn);
  return guardedRun(o, o.run as Run, rest);
}

class AttemptFanout implements AttemptObserver {
  constructor(private readonly observers: readonly AttemptObserver[]) {}
  /** Bound: the engine hands `run` around on its own. */
  readonly run = <T>(fn: () => T): T => runNested(this.observers, 0, fn);
  onFirstChunk(ms: Hooks<AttemptObserver>['onFirstChunk']): void {
    notify(this.observers, 'onFirstChunk', ms);
  }
  onReasoningDropped(dropped: Hooks<AttemptObserver>['onReasoningDropped']): void {
    notify(this.observers, 'onReasoningDropped', dropped);
  }
  onClamped(event: Hooks<AttemptObserver>['onClamped']): void {
    notify(this.observers, 'onClamped', event);
  }
  onBreakerTransition(transition: Hooks<AttemptObserver>['onBreakerTransition']): void {
    notify(this.observers, 'onBreakerTransition', transition);
  }
  onEnd(end: Hooks<AttemptObserver>['onEnd']): void {
    notify(this.observers, 'onEnd', end);
  }
}

class RequestFanout implements RequestObserver {
  constructor(private readonly observers: readonly RequestObserver[]) {}
  /** Bound: the engine hands `run` around on its own. */
  readonly run = <T>(fn: () => T): T => runNested(this.observers, 0, fn);
  onCacheLookup(result: Hooks<RequestObserver>['onCacheLookup']): void {
    notify(this.observers, 'onCacheLookup', result);
  }
  onAttemptStart(attempt: Hooks<RequestObserver>['onAttemptStart']): AttemptObserver {
    const started: AttemptObserver[] = [];
    for (const o of this.observers) {
      if (typeof o.onAttemptStart !== 'function') continue;
      try {
        const a = o.onAttemptStart(attempt);
        if (a) started.push(a);
      } catch {
        /* skip */
      }
    }
    return started.length === 0 ? NO_ATTEMPT_OBSERVERS : new AttemptFanout(started);
  }
  onRetryScheduled(event: Hooks<RequestObserver>['onRetryScheduled']): void {
    notify(this.observers, 'onRetryScheduled', event);
  }
  onFallback(event: Hooks<RequestObserver>['onFallback']): void {
    notify(this.observers, 'onFallback', event);
  }
  onCircuitRejected(event: Hooks<RequestObserver>['onCircuitRejected']): void {
    notify(this.observers, 'onCircuitRejected', event);
  }
  onDegraded(event: Hooks<RequestObserver>['onDegraded']): void {
    notify(this.observers, 'onDegraded', event);
  }
  onStreamReset(reason: Hooks<RequestObserver>['onStreamReset']): void {
    notify(this.observers, 'onStreamReset', reason);
  }
  onHedge(event: Hooks<RequestObserver>['onHedge']): void {
    notify(this.observers, 'onHedge', event);
  }
  onEnd(end: Hooks<RequestObserver>['onEnd']): void {
    notify(this.observers, 'onEnd', end);
  }
}

// With no observer (telemetry off, none configured), every request and attempt shares these.
const NO_ATTEMPT_OBSERVERS = new AttemptFanout([]);
const NO_REQUEST_OBSERVERS = new RequestFanout([]);

/** An observer whose every hook exists and is safe to call. */
export interface SafeEngineObserver {
  startRequest(info: RequestInfo): RequestObserver;
  onBreakerTransition: EngineObserver['onBreakerTransition'];
  onStoreError: EngineObserver['onStoreError'];
  onLimitHeaderError: EngineObserver['onLimitHeaderError'];
  close(): Promise<void>;
}

export function fanOut(observers: EngineObserver[]): SafeEngineObserver {
  const all = [...observers];
  return {
    startRequest(info) {
      const started: RequestObserver[] = [];
      for (const o of all) {
        if (typeof o.onRequestStart !== 'function') continue;
        try {
          const r = o.onRequestStart(info);
          if (r) started.push(r);
        } catch {
          /* skip */
        }
      }
      return started.length === 0 ? NO_REQUEST_OBSERVERS : new RequestFanout(started);
    },
    onBreakerTransition: (transition) => notify(all, 'onBreakerTransition', transition),
    onStoreError: (event) => notify(all, 'onStoreError', event),
    onLimitHeaderError: (event) => notify(all, 'onLimitHeaderError', event),
    async close() {
      await Promise.allSettled(all.map(async (o) => o.close?.()));
    },
  };
}
