import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Tracer } from '@opentelemetry/api';
import { InMemorySpanExporter, SamplingDecision, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ATTR, EVENT, METRIC, PRECREATE, SECONDS_BUCKETS, TOKEN_BUCKETS } from '../../src/telemetry/names.js';
import { createOtelObserver } from '../../src/telemetry/otelObserver.js';
import {
  createSdk,
  Driver,
  FakeHealth,
  histogramCount,
  histogramPoints,
  histogramSum,
  metric,
  newObserver,
  only,
  points,
  REQUEST,
  spanId,
  sumOf,
  TARGETS,
  type Sdk,
} from './harness.js';

const CHAIN = 'support-agent';
const LOGICAL = `bulwark chat ${CHAIN}`;

let sdk: Sdk;
let health: FakeHealth;

beforeEach(() => {
  sdk = createSdk();
  health = new FakeHealth(CHAIN);
});

afterEach(async () => {
  await sdk.shutdown();
  vi.unstubAllEnvs();
});

/** The logical span and its attempt spans, asserting the tree shape on the way. */
function tree() {
  const spans = sdk.spans();
  const logical = only(spans, LOGICAL);
  expect(logical.kind).toBe(SpanKind.INTERNAL);
  const attempts = spans.filter((s) => s !== logical);
  for (const a of attempts) {
    expect(a.kind).toBe(SpanKind.CLIENT);
    expect(a.parentSpanContext?.spanId).toBe(spanId(logical));
    expect(a.spanContext().traceId).toBe(logical.spanContext().traceId);
  }
  attempts.sort((a, b) => Number(a.attributes[ATTR.ATTEMPT_NUMBER]) - Number(b.attributes[ATTR.ATTEMPT_NUMBER]));
  return { logical, attempts };
}

const eventNames = (span: { events: { name: string }[] }) => span.events.map((e) => e.name);

describe('success at the primary', () => {
  it('one logical span, one CLIENT attempt child with the GenAI attributes, request metrics', async () => {
    const observer = newObserver(sdk, health);
    const d = new Driver(observer, health);
    d.attempt(0, 'initial');
    d.succeed(800);
    d.end('success', 'full');

    const { logical, attempts } = tree();
    expect(attempts).toHaveLength(1);
    const a = attempts[0]!;
    expect(a.name).toBe('chat gpt-4o');
    expect(a.attributes).toEqual({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.request.max_tokens': 256,
      'gen_ai.request.temperature': 0.2,
      'gen_ai.request.stream': false,
      'gen_ai.response.model': 'gpt-4o-2025',
      'gen_ai.response.id': 'resp-0',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 120,
      'gen_ai.usage.output_tokens': 40,
      'server.address': 'api.openai.com',
      'server.port': 443,
      'bulwark.attempt.number': 1,
      'bulwark.attempt.kind': 'initial',
      'bulwark.target.index': 0,
      'bulwark.breaker': 'openai/gpt-4o',
    });
    expect(a.status.code).toBe(SpanStatusCode.UNSET);
    expect(logical.attributes).toEqual({
      'gen_ai.operation.name': 'chat',
      'bulwark.chain': CHAIN,
      'bulwark.tier': 'full',
      'bulwark.outcome': 'success',
      'bulwark.attempts': 1,
      'bulwark.retries': 0,
      'bulwark.fallback.hops': 0,
      'bulwark.cost_usd': 0.0007,
      'gen_ai.provider.name': 'openai',
      'gen_ai.response.model': 'gpt-4o-2025',
    });
    expect(logical.status.code).toBe(SpanStatusCode.UNSET);
    expect(logical.events).toEqual([]);

    const m = await sdk.collect();
    expect(sumOf(m, METRIC.REQUESTS, { 'bulwark.outcome': 'success', 'bulwark.tier': 'full' })).toBe(1);
    expect(sumOf(m, METRIC.REQUESTS)).toBe(1);
    expect(sumOf(m, METRIC.ATTEMPTS, { 'gen_ai.provider.name': 'openai', 'bulwark.attempt.kind': 'initial', 'bulwark.attempt.outcome': 'success' })).toBe(1);
    expect(sumOf(m, METRIC.ATTEMPTS)).toBe(1);
    expect(sumOf(m, METRIC.RETRIES)).toBe(0);
    expect(sumOf(m, METRIC.COST)).toBeCloseTo(0.0007, 10);
    const dur = histogramPoints(m, METRIC.OPERATION_DURATION);
    expect(dur).toHaveLength(1);
    expect(dur[0]!.attributes).toEqual({ 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o' });
    expect(dur[0]!.value.sum).toBeCloseTo(0.8, 10);
    expect(dur[0]!.value.buckets.boundaries).toEqual([...SECONDS_BUCKETS]);
    expect(metric(m, METRIC.OPERATION_DURATION).descriptor.unit).toBe('s');
    expect(histogramSum(m, METRIC.TOKEN_USAGE, { 'gen_ai.token.type': 'input' })).toBe(120);
    expect(histogramSum(m, METRIC.TOKEN_USAGE, { 'gen_ai.token.type': 'output' })).toBe(40);
    expect(histogramPoints(m, METRIC.TOKEN_USAGE)[0]!.value.buckets.boundaries).toEqual([...TOKEN_BUCKETS]);
    expect(histogramSum(m, METRIC.REQUEST_DURATION, { 'bulwark.chain': CHAIN, 'bulwark.tier': 'full' })).toBeCloseTo(1.5, 10);
    expect(histogramPoints(m, METRIC.REQUEST_DURATION)[0]!.value.buckets.boundaries).toEqual([...SECONDS_BUCKETS]);
  });

  it('joins the caller\'s trace, makes the logical span active in run(), the attempt span in the attempt\'s run()', () => {
    const observer = newObserver(sdk, health);
    const agentTracer = sdk.tracerProvider.getTracer('agent');
    const agentSpan = agentTracer.startSpan('agent turn');
    let inRequest: string | undefined;
    let inAttempt: string | undefined;
    context.with(trace.setSpan(context.active(), agentSpan), () => {
      const d = new Driver(observer, health);
      d.run(() => {
        inRequest = trace.getActiveSpan()?.spanContext().spanId;
        const a = d.attempt(0, 'initial');
        a?.run?.(() => {
          inAttempt = trace.getActiveSpan()?.spanContext().spanId;
        });
        d.succeed();
        d.end('success', 'full');
      });
    });
    agentSpan.end();
    const spans = sdk.spans();
    const logical = only(spans, LOGICAL);
    const attempt = only(spans, 'chat gpt-4o');
    expect(logical.parentSpanContext?.spanId).toBe(agentSpan.spanContext().spanId);
    expect(logical.spanContext().traceId).toBe(agentSpan.spanContext().traceId);
    expect(inRequest).toBe(spanId(logical));
    expect(inAttempt).toBe(spanId(attempt));
    expect(attempt.parentSpanContext?.spanId).toBe(spanId(logical));
  });
});

describe('retry then success', () => {
  it('retry event on the failed attempt, resend_count on the retry, retries counter by error type', async () => {
    const d = new Driver(newObserver(sdk, health), health);
    d.attempt(0, 'initial');
    d.fail('rate_limited', 200, 0, { retryAfterMs: 400 });
    d.scheduleRetry(500, 'rate_limited', 400);
    d.attempt(0, 'retry');
    d.succeed(900);
    d.end('success_after_retry', 'full');

    const { logical, attempts } = tree();
    expect(attempts.map((s) => s.name)).toEqual(['chat gpt-4o', 'chat gpt-4o']);
    const [first, second] = attempts as [(typeof attempts)[0], (typeof attempts)[0]];
    expect(first.attributes['error.type']).toBe('rate_limited');
    expect(first.attributes['http.request.resend_count']).toBeUndefined();
    expect(first.status).toEqual({ code: SpanStatusCode.ERROR, message: 'rate_limited from openai' });
    expect(first.events.map((e) => [e.name, e.attributes])).toEqual([
      [EVENT.RETRY_SCHEDULED, { 'bulwark.retry.delay_ms': 500, 'bulwark.retry.reason': 'rate_limited', 'bulwark.retry.retry_after_ms': 400 }],
    ]);
    expect(second.attributes['bulwark.attempt.kind']).toBe('retry');
    expect(second.attributes['bulwark.attempt.number']).toBe(2);
    expect(second.attributes['http.request.resend_count']).toBe(1);
    expect(second.attributes['error.type']).toBeUndefined();
    expect(logical.attributes['bulwark.outcome']).toBe('success_after_retry');
    expect(logical.attributes['bulwark.retries']).toBe(1);
    expect(logical.attributes['bulwark.attempts']).toBe(2);

    const m = await sdk.collect();
    expect(sumOf(m, METRIC.RETRIES)).toBe(1);
    expect(sumOf(m, METRIC.RETRIES, { 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o', 'error.type': 'rate_limited' })).toBe(1);
    expect(sumOf(m, METRIC.ATTEMPTS, { 'bulwark.attempt.outcome': 'failure', 'error.type': 'rate_limited', 'bulwark.attempt.kind': 'initial' })).toBe(1);
    expect(sumOf(m, METRIC.ATTEMPTS, { 'bulwark.attempt.outcome': 'success', 'bulwark.attempt.kind': 'retry' })).toBe(1);
    expect(histogramCount(m, METRIC.OPERATION_DURATION, { 'error.type': 'rate_limited' })).toBe(1);
    expect(histogramCount(m, METRIC.OPERATION_DURATION, { 'error.type': undefined })).toBe(1);
    expect(sumOf(m, METRIC.REQUESTS, { 'bulwark.outcome': 'success_after_retry', 'bulwark.tier': 'full' })).toBe(1);
  });

  it('the attempt span keeps its own end time although it is closed after the retry event', () => {
    const d = new Driver(newObserver(sdk, health), health);
    const startedAt = performance.now();
    d.attempt(0, 'initial');
    d.fail('server_error');
    const failedAt = performance.now();
    // Engine waits (backoff) before scheduling/starting the next attempt: simulate with a busy wait.
    const until = performance.now() + 30;
    while (performance.now() < until) {
      /* spin */
    }
    d.scheduleRetry(30, 'server_error');
    d.attempt(0, 'retry');
    d.succeed();
    d.end('success_after_retry', 'full');
    const { attempts } = tree();
    const first = attempts[0]!;
    // The span's own duration, not its end against this process's clock: the SDK anchors a span's
    // times to Date.now() at its start, which differs from timeOrigin + performance.now() by the
    // wall clock's drift (milliseconds in a long-lived worker). Closed at the retry, it would last 30 ms+.
    const durationMs = first.duration[0] * 1000 + first.duration[1] / 1e6;
    expect(durationMs).toBeLessThanOrEqual(failedAt - startedAt + 1);
    expect(eventNames(first)).toEqual([EVENT.RETRY_SCHEDULED]);
  });
});

describe('hop after retries', () => {
  it('breaker transition on the attempt that opened it, fallback event and counter, tier reduced', async () => {
    const observer = newObserver(sdk, health);
    const d = new Driver(observer, health);
    d.attempt(0, 'initial');
    d.fail('server_error');
    d.scheduleRetry(400, 'server_error');
    d.attempt(0, 'retry');
    d.fail('server_error');
    d.scheduleRetry(900, 'server_error');
    d.attempt(0, 'retry');
    d.fail('server_error');
    d.transition('openai/gpt-4o', 'closed', 'open', 'consecutive_failures');
    d.hop(0, 1, 'server_error');
    d.attempt(1, 'fallback');
    d.succeed(1200, undefined, 0.002);
    d.end('success_via_fallback', 'reduced');

    const { logical, attempts } = tree();
    expect(attempts.map((s) => s.name)).toEqual(['chat gpt-4o', 'chat gpt-4o', 'chat gpt-4o', 'chat claude-sonnet-4-5']);
    expect(attempts.map((s) => s.attributes['http.request.resend_count'])).toEqual([undefined, 1, 2, undefined]);
    expect(attempts.map((s) => s.attributes['bulwark.attempt.kind'])).toEqual(['initial', 'retry', 'retry', 'fallback']);
    expect(eventNames(attempts[0]!)).toEqual([EVENT.RETRY_SCHEDULED]);
    expect(eventNames(attempts[1]!)).toEqual([EVENT.RETRY_SCHEDULED]);
    expect(attempts[2]!.events.map((e) => [e.name, e.attributes])).toEqual([
      [
        EVENT.CIRCUIT_TRANSITION,
        { 'bulwark.breaker': 'openai/gpt-4o', 'bulwark.circuit.from': 'closed', 'bulwark.circuit.to': 'open', 'bulwark.circuit.reason': 'consecutive_failures' },
      ],
    ]);
    expect(logical.events.map((e) => [e.name, e.attributes])).toEqual([
      [EVENT.FALLBACK, { 'bulwark.chain': CHAIN, 'bulwark.fallback.from': 'openai/gpt-4o', 'bulwark.fallback.to': 'anthropic/claude-sonnet-4-5', 'bulwark.fallback.reason': 'server_error' }],
    ]);
    expect(logical.attributes).toMatchObject({
      'bulwark.tier': 'reduced',
      'bulwark.outcome': 'success_via_fallback',
      'bulwark.attempts': 4,
      'bulwark.retries': 2,
      'bulwark.fallback.hops': 1,
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.response.model': 'claude-sonnet-4-5-2025',
    });

    const m = await sdk.collect();
    expect(sumOf(m, METRIC.RETRIES)).toBe(2);
    expect(sumOf(m, METRIC.RETRIES, { 'error.type': 'server_error', 'gen_ai.request.model': 'gpt-4o' })).toBe(2);
    expect(sumOf(m, METRIC.FALLBACKS)).toBe(1);
    expect(sumOf(m, METRIC.FALLBACKS, { 'bulwark.fallback.from': 'openai/gpt-4o', 'bulwark.fallback.to': 'anthropic/claude-sonnet-4-5', 'bulwark.fallback.reason': 'server_error' })).toBe(1);
    expect(sumOf(m, METRIC.CIRCUIT_TRANSITIONS)).toBe(1);
    expect(sumOf(m, METRIC.CIRCUIT_TRANSITIONS, { 'bulwark.breaker': 'openai/gpt-4o', 'bulwark.circuit.from': 'closed', 'bulwark.circuit.to': 'open' })).toBe(1);
    expect(sumOf(m, METRIC.CIRCUIT_STATE, { 'bulwark.breaker': 'openai/gpt-4o', 'bulwark.circuit.state': 'open' })).toBe(1);
    expect(sumOf(m, METRIC.CIRCUIT_STATE, { 'bulwark.breaker': 'openai/gpt-4o', 'bulwark.circuit.state': 'closed' })).toBe(0);
    expect(sumOf(m, METRIC.ATTEMPTS, { 'bulwark.attempt.outcome': 'failure' })).toBe(3);
    expect(sumOf(m, METRIC.ATTEMPTS, { 'bulwark.attempt.kind': 'fallback', 'bulwark.attempt.outcome': 'success', 'gen_ai.provider.name': 'anthropic' })).toBe(1);
    expect(sumOf(m, METRIC.COST)).toBeCloseTo(0.002, 10);
    expect(sumOf(m, METRIC.REQUESTS, { 'bulwark.outcome': 'success_via_fallback', 'bulwark.tier': 'reduced' })).toBe(1);
  });
});

describe('open breaker skipped', () => {
  it('circuit.rejected event and counter, no attempt span for the skipped target', async () => {
    health.states.set('openai/gpt-4o', 'open');
    const d = new Driver(newObserver(sdk, health), health);
    d.req?.onCircuitRejected?.({ target: { provider: 'openai', model: 'gpt-4o', index: 0 }, breaker: 'openai/gpt-4o' });
    d.hop(0, 1, 'circuit_open');
    d.attempt(1, 'fallback');
    d.succeed();
    d.end('success_via_fallback', 'reduced');

    const { logical, attempts } = tree();
    expect(attempts.map((s) => s.name)).toEqual(['chat claude-sonnet-4-5']);
    expect(attempts[0]!.attributes['bulwark.attempt.number']).toBe(1);
    expect(logical.events.map((e) => [e.name, e.attributes])).toEqual([
      [EVENT.CIRCUIT_REJECTED, { 'bulwark.breaker': 'openai/gpt-4o', 'bulwark.target.index': 0, 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o' }],
      [EVENT.FALLBACK, { 'bulwark.chain': CHAIN, 'bulwark.fallback.from': 'openai/gpt-4o', 'bulwark.fallback.to': 'anthropic/claude-sonnet-4-5', 'bulwark.fallback.reason': 'circuit_open' }],
    ]);
    const m = await sdk.collect();
    expect(sumOf(m, METRIC.CIRCUIT_REJECTIONS)).toBe(1);
    expect(sumOf(m, METRIC.CIRCUIT_REJECTIONS, { 'bulwark.breaker': 'openai/gpt-4o' })).toBe(1);
    expect(sumOf(m, METRIC.ATTEMPTS, { 'gen_ai.request.model': 'gpt-4o' })).toBe(0);
    expect(sumOf(m, METRIC.FALLBACKS, { 'bulwark.fallback.reason': 'circuit_open' })).toBe(1);
    expect(sumOf(m, METRIC.CIRCUIT_STATE, { 'bulwark.breaker': 'openai/gpt-4o', 'bulwark.circuit.state': 'open' })).toBe(1);
  });
});

describe('half-open probe closes the breaker', () => {
  it('probe attempt carries the half_open → closed transition; gauge follows the snapshot', async () => {
    health.states.set('openai/gpt-4o', 'open');
    const observer = newObserver(sdk, health);
    let m = await sdk.collect();
    expect(points(m, METRIC.CIRCUIT_STATE, { 'bulwark.breaker': 'openai/gpt-4o' }).map((p) => [p.attributes['bulwark.circuit.state'], p.value])).toEqual([
      ['closed', 0],
      ['half_open', 0],
      ['open', 1],
    ]);
    // Time moves the breaker to half-open (no attempt caused it).
    const d = new Driver(observer, health);
    d.transition('openai/gpt-4o', 'open', 'half_open', 'open_elapsed', false);
    d.attempt(0, 'probe');
    d.succeed();
    d.transition('openai/gpt-4o', 'half_open', 'closed', 'probes_succeeded');
    d.end('success', 'full');

    const { attempts } = tree();
    expect(attempts).toHaveLength(1);
    expect(attempts[0]!.attributes['bulwark.attempt.kind']).toBe('probe');
    expect(attempts[0]!.events.map((e) => [e.name, e.attributes?.['bulwark.circuit.from'], e.attributes?.['bulwark.circuit.to']])).toEqual([
      [EVENT.CIRCUIT_TRANSITION, 'half_open', 'closed'],
    ]);
    m = await sdk.collect();
    expect(sumOf(m, METRIC.CIRCUIT_TRANSITIONS, { 'bulwark.circuit.from': 'open', 'bulwark.circuit.to': 'half_open' })).toBe(1);
    expect(sumOf(m, METRIC.CIRCUIT_TRANSITIONS, { 'bulwark.circuit.from': 'half_open', 'bulwark.circuit.to': 'closed' })).toBe(1);
    expect(sumOf(m, METRIC.CIRCUIT_TRANSITIONS)).toBe(2);
    expect(sumOf(m, METRIC.ATTEMPTS, { 'bulwark.attempt.kind': 'probe', 'bulwark.attempt.outcome': 'success' })).toBe(1);
    expect(points(m, METRIC.CIRCUIT_STATE, { 'bulwark.breaker': 'openai/gpt-4o' }).map((p) => [p.attributes['bulwark.circuit.state'], p.value])).toEqual([
      ['closed', 1],
      ['half_open', 0],
      ['open', 0],
    ]);
  });
});

describe('cache', () => {
  it('hit: a cache.lookup event, no attempt, outcome cached, no provider on the logical span', async () => {
    const d = new Driver(newObserver(sdk, health), health);
    d.req?.onCacheLookup?.('hit');
    d.end('cached', 'cached', { durationMs: 2 });
    const { logical, attempts } = tree();
    expect(attempts).toHaveLength(0);
    expect(logical.events.map((e) => [e.name, e.attributes])).toEqual([[EVENT.CACHE_LOOKUP, { 'bulwark.cache.result': 'hit' }]]);
    expect(logical.attributes['bulwark.tier']).toBe('cached');
    expect(logical.attributes['bulwark.outcome']).toBe('cached');
    expect(logical.attributes['gen_ai.provider.name']).toBeUndefined();
    expect(logical.attributes['gen_ai.response.model']).toBeUndefined();
    const m = await sdk.collect();
    expect(sumOf(m, METRIC.CACHE_LOOKUPS, { 'bulwark.cache.result': 'hit' })).toBe(1);
    expect(sumOf(m, METRIC.CACHE_LOOKUPS)).toBe(1);
    expect(sumOf(m, METRIC.REQUESTS, { 'bulwark.outcome': 'cached', 'bulwark.tier': 'cached' })).toBe(1);
    expect(histogramCount(m, METRIC.REQUEST_DURATION, { 'bulwark.tier': 'cached' })).toBe(1);
  });

  it('stale entry served after every target failed: degraded event (tier cached), cache.lookup stale_served', async () => {
    const d = new Driver(newObserver(sdk, health), health);
    d.req?.onCacheLookup?.('miss');
    d.attempt(0, 'initial');
    d.fail('connection');
    d.hop(0, 1, 'connection');
    d.attempt(1, 'fallback');
    d.fail('overloaded');
    d.hop(1, 2, 'overloaded');
    d.attempt(2, 'fallback');
    d.fail('timeout');
    d.req?.onDegraded?.({ tier: 'cached', reason: 'timeout' });
    d.req?.onCacheLookup?.('stale_served');
    d.end('cached', 'cached');

    const { logical, attempts } = tree();
    expect(attempts.map((a) => a.attributes['error.type'])).toEqual(['connection', 'overloaded', 'timeout']);
    expect(attempts.every((a) => a.status.code === SpanStatusCode.ERROR)).toBe(true);
    expect(eventNames(logical)).toEqual([EVENT.CACHE_LOOKUP, EVENT.FALLBACK, EVENT.FALLBACK, EVENT.DEGRADED, EVENT.CACHE_LOOKUP]);
    expect(logical.events[3]!.attributes).toEqual({ 'bulwark.tier': 'cached', 'bulwark.degraded.reason': 'timeout' });
    expect(logical.events[4]!.attributes).toEqual({ 'bulwark.cache.result': 'stale_served' });
    expect(logical.status.code).toBe(SpanStatusCode.UNSET);
    expect(logical.attributes['error.type']).toBeUndefined();
    const m = await sdk.collect();
    expect(sumOf(m, METRIC.CACHE_LOOKUPS, { 'bulwark.cache.result': 'miss' })).toBe(1);
    expect(sumOf(m, METRIC.CACHE_LOOKUPS, { 'bulwark.cache.result': 'stale_served' })).toBe(1);
    expect(sumOf(m, METRIC.REQUESTS, { 'bulwark.outcome': 'cached' })).toBe(1);
    expect(sumOf(m, METRIC.FALLBACKS)).toBe(2);
    expect(sumOf(m, METRIC.ATTEMPTS, { 'bulwark.attempt.outcome': 'failure' })).toBe(3);
  });
});

describe('degradation and failure', () => {
  it('static tier: degraded event, outcome static, not an error', async () => {
    const d = new Driver(newObserver(sdk, health), health);
    d.attempt(0, 'initial');
    d.fail('authentication');
    d.transition('openai/gpt-4o', 'closed', 'open', 'immediate');
    d.hop(0, 1, 'authentication');
    d.attempt(1, 'fallback');
    d.fail('server_error');
    d.req?.onDegraded?.({ tier: 'static', reason: 'server_error' });
    d.end('static', 'static');
    const { logical, attempts } = tree();
    expect(eventNames(attempts[0]!)).toEqual([EVENT.CIRCUIT_TRANSITION]);
    expect(eventNames(logical)).toEqual([EVENT.FALLBACK, EVENT.DEGRADED]);
    expect(logical.attributes).toMatchObject({ 'bulwark.tier': 'static', 'bulwark.outcome': 'static' });
    expect(logical.status.code).toBe(SpanStatusCode.UNSET);
    const m = await sdk.collect();
    expect(sumOf(m, METRIC.REQUESTS, { 'bulwark.outcome': 'static', 'bulwark.tier': 'static' })).toBe(1);
    expect(sumOf(m, METRIC.ATTEMPTS, { 'error.type': 'authentication' })).toBe(1);
  });

  it('critical refusal: outcome failed, tier none, error.type and ERROR status on the logical span', async () => {
    const d = new Driver(newObserver(sdk, health), health);
    d.attempt(0, 'initial');
    d.fail('server_error', 300, 0.0001, { usage: { inputTokens: 100, outputTokens: 0 } });
    d.hop(0, 1, 'server_error');
    d.attempt(1, 'fallback');
    d.fail('server_error');
    d.end('failed', undefined, { error: 'server_error' });
    const { logical } = tree();
    expect(logical.attributes).toMatchObject({ 'bulwark.outcome': 'failed', 'bulwark.tier': 'none', 'error.type': 'server_error' });
    expect(logical.attributes['gen_ai.provider.name']).toBeUndefined();
    expect(logical.status).toEqual({ code: SpanStatusCode.ERROR, message: 'request failed: server_error' });
    const m = await sdk.collect();
    expect(sumOf(m, METRIC.REQUESTS, { 'bulwark.outcome': 'failed', 'bulwark.tier': 'none' })).toBe(1);
    // Spend of failed attempts is counted, under outcome failure.
    expect(sumOf(m, METRIC.COST, { 'bulwark.attempt.outcome': 'failure' })).toBeCloseTo(0.0001, 10);
    expect(histogramSum(m, METRIC.TOKEN_USAGE, { 'error.type': 'server_error', 'gen_ai.token.type': 'input' })).toBe(100);
    expect(histogramCount(m, METRIC.REQUEST_DURATION, { 'bulwark.tier': 'none' })).toBe(1);
  });

  it('abort: the cancelled attempt and the request both carry error.type cancelled', async () => {
    const d = new Driver(newObserver(sdk, health), health);
    d.attempt(0, 'initial');
    d.fail('cancelled', 50);
    d.end('failed', undefined, { error: 'cancelled' });
    const { logical, attempts } = tree();
    expect(attempts[0]!.attributes['error.type']).toBe('cancelled');
    expect(logical.attributes['error.type']).toBe('cancelled');
    expect(logical.status.code).toBe(SpanStatusCode.ERROR);
    const m = await sdk.collect();
    expect(sumOf(m, METRIC.ATTEMPTS, { 'error.type': 'cancelled', 'bulwark.attempt.outcome': 'failure' })).toBe(1);
    expect(sumOf(m, METRIC.REQUESTS, { 'bulwark.outcome': 'failed' })).toBe(1);
  });

  it('an attempt the engine never ended is closed with the request', () => {
    const d = new Driver(newObserver(sdk, health), health);
    d.attempt(0, 'initial');
    d.end('failed', undefined, { error: 'cancelled' });
    const { attempts } = tree();
    expect(attempts).toHaveLength(1);
    expect(attempts[0]!.ended).toBe(true);
  });
});

describe('streams', () => {
  it('time to first chunk is recorded once per attempt; request.stream is true', async () => {
    const d = new Driver(newObserver(sdk, health), health, REQUEST, true);
    const a = d.attempt(0, 'initial');
    a?.onFirstChunk?.(350);
    d.current!.observer!.onEnd!({ durationMs: 2000, response: { text: 'x', toolCalls: [], finishReason: 'stop', model: 'gpt-4o' }, costUsd: 0, timeToFirstChunkMs: 350 });
    d.req?.onStreamReset?.('server_error');
    d.end('success', 'full');
    const { logical, attempts } = tree();
    expect(attempts[0]!.attributes['gen_ai.request.stream']).toBe(true);
    expect(logical.events.map((e) => [e.name, e.attributes])).toEqual([[EVENT.STREAM_RESET, { 'bulwark.stream.reset_reason': 'server_error' }]]);
    const m = await sdk.collect();
    const ttfc = histogramPoints(m, METRIC.TIME_TO_FIRST_CHUNK);
    expect(ttfc).toHaveLength(1);
    expect(ttfc[0]!.attributes).toEqual({ 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o' });
    expect(ttfc[0]!.value.count).toBe(1);
    expect(ttfc[0]!.value.sum).toBeCloseTo(0.35, 10);
    expect(metric(m, METRIC.TIME_TO_FIRST_CHUNK).descriptor.unit).toBe('s');
  });
});

describe('content capture', () => {
  const toolRequest = {
    messages: [
      { role: 'system' as const, content: 'Be brief.' },
      { role: 'user' as const, content: 'Weather in Oslo?' },
      { role: 'assistant' as const, content: null, toolCalls: [{ id: 'call_1', name: 'weather', arguments: '{"city":"Oslo"}' }] },
      { role: 'tool' as const, toolCallId: 'call_1', content: '{"temp":3}' },
    ],
  };

  it('is off by default: no message attributes on any span', () => {
    const d = new Driver(newObserver(sdk, health, false), health, toolRequest);
    d.attempt(0, 'initial');
    d.succeed();
    d.end('success', 'full');
    for (const span of sdk.spans()) {
      expect(Object.keys(span.attributes).filter((k) => k.includes('messages'))).toEqual([]);
      expect(JSON.stringify(span.attributes)).not.toContain('Oslo');
    }
  });

  it('captureContent: GenAI v1.41 JSON shapes for input and output messages', () => {
    const d = new Driver(newObserver(sdk, health, true), health, toolRequest);
    d.attempt(0, 'initial');
    d.succeed(500, {
      text: '',
      toolCalls: [{ id: 'call_2', name: 'forecast', arguments: '{"days":2}' }],
      finishReason: 'tool_calls',
      model: 'gpt-4o',
    });
    d.end('success', 'full');
    const { logical, attempts } = tree();
    const attrs = attempts[0]!.attributes;
    expect(JSON.parse(String(attrs['gen_ai.input.messages']))).toEqual([
      { role: 'system', parts: [{ type: 'text', content: 'Be brief.' }] },
      { role: 'user', parts: [{ type: 'text', content: 'Weather in Oslo?' }] },
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'weather', arguments: { city: 'Oslo' } }] },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_1', response: '{"temp":3}' }] },
    ]);
    expect(JSON.parse(String(attrs['gen_ai.output.messages']))).toEqual([
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_2', name: 'forecast', arguments: { days: 2 } }], finish_reason: 'tool_call' },
    ]);
    expect(attrs['gen_ai.response.finish_reasons']).toEqual(['tool_calls']);
    expect(logical.attributes['gen_ai.input.messages']).toBeUndefined();
  });

  it('OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true turns it on', () => {
    vi.stubEnv('OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT', 'true');
    const d = new Driver(newObserver(sdk, health, false), health);
    d.attempt(0, 'initial');
    d.succeed();
    d.end('success', 'full');
    const attrs = only(sdk.spans(), 'chat gpt-4o').attributes;
    expect(JSON.parse(String(attrs['gen_ai.input.messages']))).toHaveLength(2);
    expect(JSON.parse(String(attrs['gen_ai.output.messages']))).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'All quiet.' }], finish_reason: 'stop' },
    ]);
  });
});

describe('pre-created series and lifecycle', () => {
  it('every configured target, breaker and outcome has its series at 0 before any request', async () => {
    newObserver(sdk, health);
    const m = await sdk.collect();
    const requests = points(m, METRIC.REQUESTS);
    expect(requests.map((p) => `${p.attributes['bulwark.outcome']}/${p.attributes['bulwark.tier']}`).sort()).toEqual(
      ['cached/cached', 'failed/none', 'static/static', 'success/full', 'success_after_retry/full', 'success_via_fallback/reduced'].sort(),
    );
    expect(requests.every((p) => p.value === 0)).toBe(true);
    for (const t of TARGETS) {
      const where = { 'gen_ai.provider.name': t.provider, 'gen_ai.request.model': t.model };
      expect(points(m, METRIC.ATTEMPTS, where)).toHaveLength(4 * 8);
      expect(points(m, METRIC.RETRIES, where)).toHaveLength(6);
      expect(points(m, METRIC.COST, where)).toHaveLength(2);
      expect(points(m, METRIC.CIRCUIT_TRANSITIONS, { 'bulwark.breaker': t.breaker })).toHaveLength(6);
      expect(points(m, METRIC.CIRCUIT_REJECTIONS, { 'bulwark.breaker': t.breaker })).toHaveLength(1);
      expect(points(m, METRIC.CIRCUIT_STATE, { 'bulwark.breaker': t.breaker })).toHaveLength(3);
      expect(points(m, METRIC.RETRY_BUDGET_REMAINING, { 'bulwark.breaker': t.breaker }).map((p) => p.value)).toEqual([10]);
    }
    expect(points(m, METRIC.FALLBACKS)).toHaveLength(2 * PRECREATE.fallbackReasons.length);
    expect(points(m, METRIC.CACHE_LOOKUPS)).toHaveLength(3);
    for (const name of [METRIC.REQUESTS, METRIC.ATTEMPTS, METRIC.RETRIES, METRIC.COST, METRIC.FALLBACKS, METRIC.CIRCUIT_TRANSITIONS, METRIC.CIRCUIT_REJECTIONS, METRIC.CACHE_LOOKUPS]) {
      expect(sumOf(m, name)).toBe(0);
    }
  });

  it('a shared breaker key gets one set of breaker series', async () => {
    const observer = createOtelObserver({
      chain: 'shared',
      targets: [
        { index: 0, provider: 'openai', model: 'gpt-4o', breaker: 'openai' },
        { index: 1, provider: 'openai', model: 'gpt-4o-mini', breaker: 'openai' },
      ],
      snapshot: () => ({
        chain: 'shared',
        forcedTier: 'auto',
        targets: [0, 1].map((index) => ({
          index,
          provider: 'openai',
          model: index === 0 ? 'gpt-4o' : 'gpt-4o-mini',
          tier: 'full' as const,
          breaker: 'openai',
          state: 'half_open' as const,
          override: 'auto' as const,
          consecutiveFailures: 0,
          failureRate: 0,
          windowCalls: 0,
          latencyMs: null,
          retryBudgetRemaining: 3,
          inFlight: 0,
        })),
      }),
      captureContent: false,
      meter: sdk.meterProvider.getMeter('bulwark'),
      tracer: sdk.tracerProvider.getTracer('bulwark'),
    });
    const m = await sdk.collect();
    expect(points(m, METRIC.CIRCUIT_STATE).map((p) => [p.attributes['bulwark.breaker'], p.attributes['bulwark.circuit.state'], p.value])).toEqual([
      ['openai', 'closed', 0],
      ['openai', 'half_open', 1],
      ['openai', 'open', 0],
    ]);
    expect(points(m, METRIC.CIRCUIT_TRANSITIONS)).toHaveLength(6);
    await observer.close?.();
  });

  it('close() unregisters the observable gauges (snapshot() is no longer read)', async () => {
    const snapshot = vi.fn(health.snapshot);
    const observer = createOtelObserver({
      chain: CHAIN,
      targets: TARGETS,
      snapshot,
      captureContent: false,
      meter: sdk.meterProvider.getMeter('bulwark'),
      tracer: sdk.tracerProvider.getTracer('bulwark'),
    });
    await sdk.collect();
    expect(snapshot).toHaveBeenCalledTimes(1);
    await observer.close?.();
    await sdk.collect();
    expect(snapshot).toHaveBeenCalledTimes(1);
  });

  it('a snapshot that throws does not break collection, and is counted as a telemetry error', async () => {
    createOtelObserver({
      chain: 'c',
      targets: TARGETS,
      snapshot: () => {
        throw new Error('boom');
      },
      captureContent: false,
      meter: sdk.meterProvider.getMeter('bulwark'),
      tracer: sdk.tracerProvider.getTracer('bulwark'),
    });
    const m = await sdk.collect();
    expect(sumOf(m, METRIC.REQUESTS)).toBe(0);
    expect(sumOf(m, METRIC.TELEMETRY_ERRORS, { 'bulwark.chain': 'c', 'bulwark.telemetry.stage': 'health_snapshot' })).toBe(1);
    expect(sumOf(m, METRIC.TELEMETRY_ERRORS, { 'bulwark.chain': 'c', 'bulwark.telemetry.stage': 'attributes_hook' })).toBe(0);
  });
});

describe('without an SDK', () => {
  it('everything is a no-op and nothing throws; run() still runs the callback', () => {
    const observer = createOtelObserver({ chain: 'noop', targets: TARGETS, snapshot: health.snapshot, captureContent: true });
    const d = new Driver(observer, health);
    expect(d.run(() => 42)).toBe(42);
    const a = d.attempt(0, 'initial');
    expect(a?.run?.(() => 'x')).toBe('x');
    d.fail('rate_limited');
    d.scheduleRetry(10, 'rate_limited');
    d.attempt(0, 'retry');
    d.succeed();
    d.transition('openai/gpt-4o', 'closed', 'open', 'x');
    d.end('success_after_retry', 'full');
    void observer.close?.();
    expect(sdk.spans()).toHaveLength(0);
  });
});

describe('engine details', () => {
  it('the classified error type (classify hook) wins over the raw error\'s type', async () => {
    const d = new Driver(newObserver(sdk, health), health);
    d.attempt(0, 'initial');
    d.current!.observer!.onEnd!({ durationMs: 10, error: (await import('./harness.js')).providerError(0, 'server_error'), errorType: 'overloaded', costUsd: 0 });
    d.end('failed', undefined, { error: 'overloaded' });
    const { attempts } = tree();
    expect(attempts[0]!.attributes['error.type']).toBe('overloaded');
    const m = await sdk.collect();
    expect(sumOf(m, METRIC.ATTEMPTS, { 'error.type': 'overloaded' })).toBe(1);
    expect(sumOf(m, METRIC.ATTEMPTS, { 'error.type': 'server_error' })).toBe(0);
  });

  it('an attempt released without answer or error (consumer walked away) is not a failure', async () => {
    const d = new Driver(newObserver(sdk, health), health, REQUEST, true);
    d.attempt(0, 'initial');
    d.current!.observer!.onEnd!({ durationMs: 10, costUsd: 0 });
    d.end('success', 'full');
    const { attempts } = tree();
    expect(attempts[0]!.attributes['error.type']).toBeUndefined();
    expect(attempts[0]!.status.code).toBe(SpanStatusCode.UNSET);
    const m = await sdk.collect();
    expect(sumOf(m, METRIC.ATTEMPTS, { 'bulwark.attempt.outcome': 'success' })).toBe(1);
  });

  it('a disabled retry budget (Infinity) reports no budget series', async () => {
    for (const t of TARGETS) health.budgets.set(t.breaker, Number.POSITIVE_INFINITY);
    newObserver(sdk, health);
    const m = await sdk.collect();
    expect(m.find((x) => x.descriptor.name === METRIC.RETRY_BUDGET_REMAINING)?.dataPoints ?? []).toHaveLength(0);
    expect(points(m, METRIC.CIRCUIT_STATE)).toHaveLength(9);
  });
});

describe('GenAI v1.41 details', () => {
  it('the attempt span carries operation, provider, model and server at creation, for samplers', () => {
    const seen: Array<{ name: string; kind: SpanKind; attributes: Attributes }> = [];
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({
      sampler: {
        shouldSample: (_ctx, _traceId, name, kind, attributes) => {
          seen.push({ name, kind, attributes: { ...attributes } });
          return { decision: SamplingDecision.RECORD_AND_SAMPLED };
        },
        toString: () => 'recording',
      },
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    const observer = createOtelObserver({
      chain: CHAIN,
      targets: TARGETS,
      snapshot: health.snapshot,
      captureContent: false,
      tracer: provider.getTracer('bulwark'),
      meter: sdk.meterProvider.getMeter('bulwark'),
    });
    const d = new Driver(observer, health);
    d.attempt(1, 'initial');
    d.succeed();
    d.end('success', 'full');
    const attempt = seen.find((s) => s.kind === SpanKind.CLIENT);
    expect(attempt?.name).toBe('chat claude-sonnet-4-5');
    expect(attempt?.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-sonnet-4-5',
      'server.address': 'api.anthropic.com',
      'server.port': 443,
    });
    expect(seen.find((s) => s.kind === SpanKind.INTERNAL)?.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'bulwark.chain': CHAIN });
  });

  it("start attributes are the span's own: a tracer that adds to them (SDK 2.x merges a sampler's attributes in place) changes no later span", () => {
    const real = sdk.tracerProvider.getTracer('bulwark');
    const given: Attributes[] = [];
    let first = true;
    const tracer: Tracer = {
      startSpan: (name, options, ctx) => {
        if (options?.attributes && first) Object.assign(options.attributes, { 'sampler.rule': 'first-decision' });
        given.push({ ...options?.attributes });
        return real.startSpan(name, options, ctx);
      },
      startActiveSpan: real.startActiveSpan.bind(real) as Tracer['startActiveSpan'],
    };
    const observer = createOtelObserver({ chain: CHAIN, targets: TARGETS, snapshot: health.snapshot, captureContent: false, tracer, meter: sdk.meterProvider.getMeter('bulwark') });
    for (const id of ['r1', 'r2']) {
      first = id === 'r1';
      const d = new Driver(observer, health, REQUEST, false, id);
      d.attempt(0, 'initial');
      d.succeed();
      d.end('success', 'full');
    }
    // r1: the logical span got the sampler's attribute (the attempt span too, with first still true).
    expect(given[0]).toMatchObject({ 'sampler.rule': 'first-decision' });
    for (const later of given.slice(2)) expect(later['sampler.rule']).toBeUndefined();
  });

  it('a streamed attempt span carries gen_ai.response.time_to_first_chunk in seconds; a plain call does not', () => {
    const streamed = new Driver(newObserver(sdk, health), health, REQUEST, true, 'req-stream');
    streamed.attempt(0, 'initial')?.onFirstChunk?.(350);
    streamed.current!.observer!.onEnd!({ durationMs: 900, response: { text: 'x', toolCalls: [], finishReason: 'stop', model: 'gpt-4o' }, costUsd: 0, timeToFirstChunkMs: 350 });
    streamed.end('success', 'full');
    const plain = new Driver(newObserver(sdk, health), health, REQUEST, false, 'req-plain');
    plain.attempt(1, 'initial');
    plain.succeed();
    plain.end('success', 'full');
    expect(only(sdk.spans(), 'chat gpt-4o').attributes['gen_ai.response.time_to_first_chunk']).toBeCloseTo(0.35, 10);
    expect(only(sdk.spans(), 'chat claude-sonnet-4-5').attributes['gen_ai.response.time_to_first_chunk']).toBeUndefined();
  });

  it.each([
    ['SPAN_ONLY', true],
    ['span_and_event', true],
    [' True ', true],
    ['EVENT_ONLY', false],
    ['NO_CONTENT', false],
    ['false', false],
    ['1', false],
  ])('OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=%j captures content on spans: %s', (value, captured) => {
    vi.stubEnv('OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT', value);
    const d = new Driver(newObserver(sdk, health, false), health);
    d.attempt(0, 'initial');
    d.succeed();
    d.end('success', 'full');
    const attrs = only(sdk.spans(), 'chat gpt-4o').attributes;
    expect(attrs['gen_ai.input.messages'] !== undefined).toBe(captured);
    expect(attrs['gen_ai.output.messages'] !== undefined).toBe(captured);
  });
});
