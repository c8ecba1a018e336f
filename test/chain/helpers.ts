import { createResilientLLM } from '../../src/createResilientLLM.js';
import type { ResilientLLMOptions } from '../../src/config/types.js';
import type { EngineObserver, RequestObserver } from '../../src/events/engineObserver.js';
import { createFakeClock, type FakeClock } from '../support/fakeClock.js';
import { scriptedAdapter, scriptedTarget, type ScriptedAdapter } from '../support/scriptedAdapter.js';

export const ask = { messages: [{ role: 'user' as const, content: 'Summarise today' }] };

/** Everything the engine told its observers, flattened, for asserting what happened. */
export interface Recorded {
  events: Array<{ type: string; [k: string]: unknown }>;
  observer: EngineObserver;
}

export function recorder(): Recorded {
  const events: Recorded['events'] = [];
  const requestObserver: RequestObserver = {
    onCacheLookup: (result) => events.push({ type: 'cache', result }),
    onAttemptStart: (a) => {
      events.push({ type: 'attempt', target: `${a.target.provider}/${a.target.model}`, kind: a.kind, number: a.number, resendCount: a.resendCount });
      return {
        onEnd: (e) => events.push({ type: 'attemptEnd', errorType: e.errorType, costUsd: e.costUsd }),
        onBreakerTransition: (t) => events.push({ type: 'attemptTransition', from: t.from, to: t.to }),
      };
    },
    onRetryScheduled: (e) => events.push({ type: 'retry', delayMs: e.delayMs, reason: e.reason, retryAfterMs: e.retryAfterMs }),
    onFallback: (e) => events.push({ type: 'fallback', from: `${e.from.provider}/${e.from.model}`, to: `${e.to.provider}/${e.to.model}`, reason: e.reason }),
    onCircuitRejected: (e) => events.push({ type: 'rejected', breaker: e.breaker }),
    onDegraded: (e) => events.push({ type: 'degraded', tier: e.tier, reason: e.reason }),
    onEnd: (e) => events.push({ type: 'end', outcome: e.outcome, retries: e.retries, hops: e.hops }),
  };
  return {
    events,
    observer: {
      onRequestStart: () => requestObserver,
      onBreakerTransition: (t) => events.push({ type: 'transition', breaker: t.breaker, from: t.from, to: t.to, reason: t.reason }),
    },
  };
}

export interface Harness {
  clock: FakeClock;
  primary: ScriptedAdapter;
  secondary: ScriptedAdapter;
  local: ScriptedAdapter;
  rec: Recorded;
  llm: ReturnType<typeof createResilientLLM>;
}

/** A three-target chain on virtual time: openai/gpt-4o → anthropic/claude-sonnet-4-5 → local/llama (reduced). */
export function harness(options: Partial<ResilientLLMOptions> = {}, random?: () => number): Harness {
  const clock = createFakeClock(1_000_000);
  const primary = scriptedAdapter('openai', 'gpt-4o');
  const secondary = scriptedAdapter('anthropic', 'claude-sonnet-4-5');
  const local = scriptedAdapter('openai', 'llama3.1');
  const rec = recorder();
  void random;
  const llm = createResilientLLM({
    name: 'support-agent',
    targets: [scriptedTarget(primary), scriptedTarget(secondary), scriptedTarget(local, { tier: 'reduced' })],
    clock,
    telemetry: false,
    observers: [rec.observer],
    ...options,
  });
  return { clock, primary, secondary, local, rec, llm };
}
