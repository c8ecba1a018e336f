/**
 * The telemetry scenarios again, through the REAL engine (createResilientLLM with scripted
 * adapters on virtual time) and its built-in OpenTelemetry observer, with a real SDK registered
 * globally. Ground truth comes from a plain recording observer on the same engine: the retries
 * counter must equal the retries made, the cost counter the sum of attempt costs, the attempt
 * and fallback counters what happened, and the breaker state gauge the breaker's real state.
 */
import { metrics, SpanKind, trace } from '@opentelemetry/api';
import type { MetricData } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CircuitState } from '../../src/events/breakerTransition.js';
import { createResilientLLM, type ResilientLLM } from '../../src/createResilientLLM.js';
import type { EngineObserver, Outcome } from '../../src/events/engineObserver.js';
import { CIRCUIT_STATE_VALUES, METRIC } from '../../src/telemetry/names.js';
import { createFakeClock, type FakeClock } from '../support/fakeClock.js';
import { scriptedAdapter, scriptedTarget, type ScriptedAdapter } from '../support/scriptedAdapter.js';
import { createSdk, histogramCount, points, sumOf, type Sdk } from './harness.js';

const CHAIN = 'engine-telemetry';
const ask = { messages: [{ role: 'user' as const, content: 'Summarise today' }] };

/** What the engine told a plain observer: the ground truth the metrics are held to. */
interface Truth {
  attempts: Array<{ target: string; kind: string; resendCount: number; errorType?: string; costUsd: number }>;
  retries: number;
  retryEvents: number;
  hops: Array<{ from: string; to: string; reason: string }>;
  rejections: string[];
  transitions: Array<{ breaker: string; from: CircuitState; to: CircuitState }>;
  ends: Array<{ outcome: Outcome; retries: number; costUsd: number }>;
}

function truthRecorder(): { truth: Truth; observer: EngineObserver } {
  const truth: Truth = { attempts: [], retries: 0, retryEvents: 0, hops: [], rejections: [], transitions: [], ends: [] };
  return {
    truth,
    observer: {
      onRequestStart: () => ({
        onAttemptStart: (a) => ({
          onEnd: (e) => {
            truth.attempts.push({
              target: `${a.target.provider}/${a.target.model}`,
              kind: a.kind,
              resendCount: a.resendCount,
              ...((e.errorType ?? e.error?.errorType) !== undefined && { errorType: e.errorType ?? e.error?.errorType }),
              costUsd: e.costUsd,
            });
          },
        }),
        onRetryScheduled: () => void truth.retryEvents++,
        onFallback: (e) => void truth.hops.push({ from: `${e.from.provider}/${e.from.model}`, to: `${e.to.provider}/${e.to.model}`, reason: e.reason }),
        onCircuitRejected: (e) => void truth.rejections.push(e.breaker),
        onEnd: (e) => {
          truth.retries += e.retries;
          truth.ends.push({ outcome: e.outcome, retries: e.retries, costUsd: e.costUsd });
        },
      }),
      onBreakerTransition: (t) => void truth.transitions.push({ breaker: t.breaker, from: t.from, to: t.to }),
    },
  };
}

describe('telemetry through the real engine', () => {
  let sdk: Sdk;
  let clock: FakeClock;
  let primary: ScriptedAdapter;
  let secondary: ScriptedAdapter;
  let local: ScriptedAdapter;
  let llm: ResilientLLM;
  let truth: Truth;

  beforeAll(() => {
    sdk = createSdk();
    // The engine's own observer uses the global API, as in an application.
    metrics.setGlobalMeterProvider(sdk.meterProvider);
    trace.setGlobalTracerProvider(sdk.tracerProvider);
    clock = createFakeClock(1_000_000);
    primary = scriptedAdapter('openai', 'gpt-4o');
    secondary = scriptedAdapter('anthropic', 'claude-sonnet-4-5');
    local = scriptedAdapter('openai', 'llama3.1');
    const rec = truthRecorder();
    truth = rec.truth;
    llm = createResilientLLM({
      name: CHAIN,
      targets: [scriptedTarget(primary), scriptedTarget(secondary), scriptedTarget(local, { tier: 'reduced' })],
      clock,
      retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 400, budget: { ratio: 1, minRetriesPerSecond: 50 } },
      breaker: { consecutiveFailures: 3, openMs: 10_000, halfOpenProbes: 1, successThreshold: 1, minCalls: 100 },
      degrade: { staticReply: 'Temporarily unavailable.' },
      pricing: { 'llama3.1': { inputPerMTok: 0.1, outputPerMTok: 0.1 } },
      observers: [rec.observer],
    });
  });

  afterAll(async () => {
    await llm.close();
    await sdk.shutdown();
    metrics.disable();
    trace.disable();
  });

  /** The breaker state gauge, one-hot, must say exactly what llm.health() says. */
  async function expectGaugeMatchesHealth(m: MetricData[]): Promise<void> {
    for (const t of llm.health().targets) {
      for (const state of CIRCUIT_STATE_VALUES) {
        expect(sumOf(m, METRIC.CIRCUIT_STATE, { 'bulwark.breaker': t.breaker, 'bulwark.circuit.state': state }), `${t.breaker} ${state}`).toBe(
          state === t.state ? 1 : 0,
        );
      }
      if (Number.isFinite(t.retryBudgetRemaining)) {
        expect(sumOf(m, METRIC.RETRY_BUDGET_REMAINING, { 'bulwark.breaker': t.breaker })).toBe(t.retryBudgetRemaining);
      }
    }
  }

  it('retry then success: one retry counted, by its error type', async () => {
    primary.script({ fail: 'rate_limited', retryAfterMs: 150 }, { ok: 'fine' });
    const res = await llm.chat(ask);
    expect(res.tier).toBe('full');
    const m = await sdk.collect();
    expect(sumOf(m, METRIC.RETRIES, { 'bulwark.chain': CHAIN })).toBe(1);
    expect(sumOf(m, METRIC.RETRIES, { 'error.type': 'rate_limited', 'gen_ai.request.model': 'gpt-4o' })).toBe(1);
    expect(sumOf(m, METRIC.REQUESTS, { 'bulwark.outcome': 'success_after_retry', 'bulwark.tier': 'full' })).toBe(1);
    await expectGaugeMatchesHealth(m);
  });

  it('hop after retries opens the primary breaker: transition counted, gauge says open', async () => {
    primary.script({ fail: 'server_error', usage: { inputTokens: 1000, outputTokens: 0 } }, { fail: 'server_error' }, { fail: 'server_error' });
    const res = await llm.chat(ask);
    expect(res.target.provider).toBe('anthropic');
    expect(llm.health().targets[0]!.state).toBe('open');
    const m = await sdk.collect();
    expect(sumOf(m, METRIC.CIRCUIT_TRANSITIONS, { 'bulwark.breaker': 'openai/gpt-4o', 'bulwark.circuit.from': 'closed', 'bulwark.circuit.to': 'open' })).toBe(1);
    expect(sumOf(m, METRIC.FALLBACKS, { 'bulwark.fallback.from': 'openai/gpt-4o', 'bulwark.fallback.to': 'anthropic/claude-sonnet-4-5', 'bulwark.fallback.reason': 'server_error' })).toBe(1);
    expect(sumOf(m, METRIC.REQUESTS, { 'bulwark.outcome': 'success_via_fallback', 'bulwark.tier': 'reduced' })).toBe(1);
    await expectGaugeMatchesHealth(m);
  });

  it('open breaker skipped: rejection counted, no upstream call to the primary', async () => {
    const callsBefore = primary.calls.length;
    await llm.chat(ask);
    expect(primary.calls.length).toBe(callsBefore);
    const m = await sdk.collect();
    expect(sumOf(m, METRIC.CIRCUIT_REJECTIONS, { 'bulwark.breaker': 'openai/gpt-4o' })).toBe(truth.rejections.filter((b) => b === 'openai/gpt-4o').length);
    expect(sumOf(m, METRIC.CIRCUIT_REJECTIONS)).toBeGreaterThanOrEqual(1);
    await expectGaugeMatchesHealth(m);
  });

  it('half-open probe closes the breaker: probe attempt, transitions and gauge follow', async () => {
    clock.advance(10_001);
    primary.script({ ok: 'recovered' });
    const res = await llm.chat(ask);
    expect(res.target.provider).toBe('openai');
    expect(llm.health().targets[0]!.state).toBe('closed');
    const m = await sdk.collect();
    expect(sumOf(m, METRIC.ATTEMPTS, { 'bulwark.attempt.kind': 'probe', 'bulwark.attempt.outcome': 'success', 'gen_ai.request.model': 'gpt-4o' })).toBe(1);
    expect(sumOf(m, METRIC.CIRCUIT_TRANSITIONS, { 'bulwark.breaker': 'openai/gpt-4o', 'bulwark.circuit.to': 'closed' })).toBe(1);
    await expectGaugeMatchesHealth(m);
  });

  it('every target failing: a stale cached answer, then (nothing cached) the static tier; critical request: failed', async () => {
    primary.then({ fail: 'overloaded' });
    secondary.then({ fail: 'authentication' });
    local.then({ fail: 'connection' });
    try {
      const stale = await llm.chat(ask);
      expect(stale.tier).toBe('cached');
      clock.advance(10_001);
      const res = await llm.chat({ messages: [{ role: 'user', content: 'Something never asked before' }] });
      expect(res.tier).toBe('static');
      clock.advance(10_001);
      await expect(llm.chat({ ...ask, critical: true })).rejects.toThrow();
    } finally {
      primary.then({ ok: 'answer from openai/gpt-4o' });
      secondary.then({ ok: 'answer from anthropic/claude-sonnet-4-5' });
      local.then({ ok: 'answer from openai/llama3.1' });
    }
    const m = await sdk.collect();
    expect(sumOf(m, METRIC.REQUESTS, { 'bulwark.outcome': 'cached', 'bulwark.tier': 'cached' })).toBe(1);
    expect(sumOf(m, METRIC.CACHE_LOOKUPS, { 'bulwark.cache.result': 'stale_served' })).toBe(1);
    expect(sumOf(m, METRIC.REQUESTS, { 'bulwark.outcome': 'static', 'bulwark.tier': 'static' })).toBe(1);
    expect(sumOf(m, METRIC.REQUESTS, { 'bulwark.outcome': 'failed', 'bulwark.tier': 'none' })).toBe(1);
    await expectGaugeMatchesHealth(m);
  });

  it('caller abort: failed with error.type cancelled', async () => {
    clock.advance(20_000);
    const controller = new AbortController();
    primary.script('hang');
    const pending = llm.chat({ ...ask, signal: controller.signal });
    await Promise.resolve();
    controller.abort();
    await expect(pending).rejects.toThrow();
    const spans = sdk.spans().filter((s) => s.name === `bulwark chat ${CHAIN}`);
    expect(spans.at(-1)?.attributes['error.type']).toBe('cancelled');
  });

  it('a streamed answer records time to first chunk', async () => {
    clock.advance(20_000);
    const stream = llm.stream(ask);
    for await (const event of stream) void event;
    const res = await stream.result;
    expect(res.text.length).toBeGreaterThan(0);
    const m = await sdk.collect();
    expect(histogramCount(m, METRIC.TIME_TO_FIRST_CHUNK)).toBeGreaterThanOrEqual(1);
  });

  it('counters equal what the engine did: retries, attempts, cost, fallbacks, requests, transitions', async () => {
    const m = await sdk.collect();
    const c = { 'bulwark.chain': CHAIN };

    // Retries made: attempts that re-sent the request to the same target.
    const retriesMade = truth.attempts.filter((a) => a.resendCount > 0).length;
    expect(retriesMade).toBeGreaterThan(0);
    expect(sumOf(m, METRIC.RETRIES, c)).toBe(retriesMade);
    // The engine also counts retries it scheduled but an opened breaker refused after the wait.
    expect(truth.retries).toBeGreaterThanOrEqual(retriesMade);
    expect(truth.retries).toBe(truth.retryEvents);

    const attemptCost = truth.attempts.reduce((s, a) => s + a.costUsd, 0);
    expect(attemptCost).toBeGreaterThan(0);
    expect(sumOf(m, METRIC.COST, c)).toBeCloseTo(attemptCost, 12);
    expect(sumOf(m, METRIC.COST, c)).toBeCloseTo(truth.ends.reduce((s, e) => s + e.costUsd, 0), 12);
    const failedCost = truth.attempts.filter((a) => a.errorType !== undefined).reduce((s, a) => s + a.costUsd, 0);
    expect(failedCost).toBeGreaterThan(0);
    expect(sumOf(m, METRIC.COST, { ...c, 'bulwark.attempt.outcome': 'failure' })).toBeCloseTo(failedCost, 12);

    expect(sumOf(m, METRIC.ATTEMPTS, c)).toBe(truth.attempts.length);
    for (const a of new Set(truth.attempts.map((x) => `${x.target}|${x.kind}|${x.errorType ?? ''}`))) {
      const [target, kind, errorType] = a.split('|') as [string, string, string];
      const [provider, model] = target.split('/') as [string, string];
      const expected = truth.attempts.filter((x) => `${x.target}|${x.kind}|${x.errorType ?? ''}` === a).length;
      expect(
        sumOf(m, METRIC.ATTEMPTS, {
          ...c,
          'gen_ai.provider.name': provider,
          'gen_ai.request.model': model,
          'bulwark.attempt.kind': kind,
          'error.type': errorType === '' ? undefined : errorType,
        }),
        a,
      ).toBe(expected);
    }
    expect(histogramCount(m, METRIC.OPERATION_DURATION)).toBe(truth.attempts.length);

    expect(sumOf(m, METRIC.FALLBACKS, c)).toBe(truth.hops.length);
    expect(sumOf(m, METRIC.CIRCUIT_REJECTIONS)).toBe(truth.rejections.length);
    expect(sumOf(m, METRIC.REQUESTS, c)).toBe(truth.ends.length);
    for (const outcome of new Set(truth.ends.map((e) => e.outcome))) {
      expect(sumOf(m, METRIC.REQUESTS, { ...c, 'bulwark.outcome': outcome }), outcome).toBe(truth.ends.filter((e) => e.outcome === outcome).length);
    }
    expect(sumOf(m, METRIC.CIRCUIT_TRANSITIONS)).toBe(truth.transitions.length);
    for (const t of truth.transitions) {
      const n = truth.transitions.filter((x) => x.breaker === t.breaker && x.from === t.from && x.to === t.to).length;
      expect(sumOf(m, METRIC.CIRCUIT_TRANSITIONS, { 'bulwark.breaker': t.breaker, 'bulwark.circuit.from': t.from, 'bulwark.circuit.to': t.to })).toBe(n);
    }
    expect(points(m, METRIC.CIRCUIT_STATE)).toHaveLength(9);
    await expectGaugeMatchesHealth(m);
  });

  it('span tree: one logical span per request, every attempt a CLIENT child of it', () => {
    const spans = sdk.spans();
    const logical = spans.filter((s) => s.name === `bulwark chat ${CHAIN}`);
    const attempts = spans.filter((s) => s.kind === SpanKind.CLIENT);
    expect(logical).toHaveLength(truth.ends.length);
    expect(attempts).toHaveLength(truth.attempts.length);
    const logicalIds = new Set(logical.map((s) => s.spanContext().spanId));
    for (const a of attempts) expect(logicalIds.has(a.parentSpanContext?.spanId ?? '')).toBe(true);
    const retrySpans = attempts.filter((a) => a.attributes['bulwark.attempt.kind'] === 'retry');
    expect(retrySpans.every((a) => Number(a.attributes['http.request.resend_count']) >= 1)).toBe(true);
    const retryEvents = attempts.flatMap((a) => a.events.filter((e) => e.name === 'bulwark.retry.scheduled'));
    expect(retryEvents).toHaveLength(truth.retryEvents);
    const transitionEvents = attempts.flatMap((a) => a.events.filter((e) => e.name === 'bulwark.circuit.transition'));
    // Every transition an attempt caused is on that attempt's span (time-driven ones are not).
    expect(transitionEvents.length).toBe(truth.transitions.filter((t) => t.from !== 'open').length);
  });
});
