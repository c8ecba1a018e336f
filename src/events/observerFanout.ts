import type { AttemptObserver, EngineObserver, RequestInfo, RequestObserver } from './engineObserver.js';

/**
 * Combines observers into one and shields the request path from them: an observer that throws
 * is skipped for that call, never allowed to fail or change a request.
 */

type Hook<T> = (arg: T) => void;

function safe<T>(hooks: Array<Hook<T>>): Hook<T> | undefined {
  if (hooks.length === 0) return undefined;
  if (hooks.length === 1) {
    const only = hooks[0]!;
    return (arg) => {
      try {
        only(arg);
      } catch {
        /* observers must not break requests */
      }
    };
  }
  return (arg) => {
    for (const hook of hooks) {
      try {
        hook(arg);
      } catch {
        /* observers must not break requests */
      }
    }
  };
}

type Run = <T>(fn: () => T) => T;

/**
 * A `run` hook that cannot change the call it wraps: the result is always `fn`'s own (value or
 * error). A hook that throws before running `fn`, or never runs it, gets `fn` run plainly; one
 * that throws after running it is ignored.
 */
function guardRun(run: Run): Run {
  return <T>(fn: () => T): T => {
    let ran: { value: T } | { error: unknown } | undefined;
    const inner = (): T => {
      try {
        const value = fn();
        ran = { value };
        return value;
      } catch (error) {
        ran = { error };
        throw error;
      }
    };
    try {
      run(inner);
    } catch {
      /* observers must not break requests */
    }
    if (ran === undefined) return fn();
    if ('error' in ran) throw ran.error;
    return ran.value;
  };
}

function runner(runs: Run[]): Run | undefined {
  if (runs.length === 0) return undefined;
  const guarded = runs.map(guardRun);
  return <T>(fn: () => T): T => guarded.reduceRight<() => T>((inner, run) => () => run(inner), fn)();
}

function collect<O extends object, K extends keyof O>(observers: O[], key: K): Array<NonNullable<O[K]>> {
  const out: Array<NonNullable<O[K]>> = [];
  for (const o of observers) {
    const hook = o[key];
    if (typeof hook === 'function') out.push(hook.bind(o) as NonNullable<O[K]>);
  }
  return out;
}

function fanAttempt(observers: AttemptObserver[]): AttemptObserver {
  return {
    run: runner(collect(observers, 'run')),
    onFirstChunk: safe(collect(observers, 'onFirstChunk')),
    onReasoningDropped: safe(collect(observers, 'onReasoningDropped')),
    onClamped: safe(collect(observers, 'onClamped')),
    onBreakerTransition: safe(collect(observers, 'onBreakerTransition')),
    onEnd: safe(collect(observers, 'onEnd')),
  };
}

function fanRequest(observers: RequestObserver[]): RequestObserver {
  const attemptStarts = collect(observers, 'onAttemptStart');
  return {
    run: runner(collect(observers, 'run')),
    onCacheLookup: safe(collect(observers, 'onCacheLookup')),
    onAttemptStart: (attempt) => {
      const started: AttemptObserver[] = [];
      for (const start of attemptStarts) {
        try {
          const o = start(attempt);
          if (o) started.push(o);
        } catch {
          /* skip */
        }
      }
      return fanAttempt(started);
    },
    onRetryScheduled: safe(collect(observers, 'onRetryScheduled')),
    onFallback: safe(collect(observers, 'onFallback')),
    onCircuitRejected: safe(collect(observers, 'onCircuitRejected')),
    onDegraded: safe(collect(observers, 'onDegraded')),
    onStreamReset: safe(collect(observers, 'onStreamReset')),
    onHedge: safe(collect(observers, 'onHedge')),
    onEnd: safe(collect(observers, 'onEnd')),
  };
}

/** An observer whose every hook exists and is safe to call. */
export interface SafeEngineObserver {
  startRequest(info: RequestInfo): RequestObserver;
  onBreakerTransition: EngineObserver['onBreakerTransition'];
  onStoreError: EngineObserver['onStoreError'];
  close(): Promise<void>;
}

export function fanOut(observers: EngineObserver[]): SafeEngineObserver {
  const starts = collect(observers, 'onRequestStart');
  const closes = collect(observers, 'close');
  return {
    startRequest(info) {
      const started: RequestObserver[] = [];
      for (const start of starts) {
        try {
          const o = start(info);
          if (o) started.push(o);
        } catch {
          /* skip */
        }
      }
      return fanRequest(started);
    },
    onBreakerTransition: safe(collect(observers, 'onBreakerTransition')),
    onStoreError: safe(collect(observers, 'onStoreError')),
    async close() {
      await Promise.allSettled(closes.map(async (close) => close()));
    },
  };
}
