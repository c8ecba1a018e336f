/**
 * The opt-in telemetry.attributes hook, through the real engine and a real SDK: caller attributes on
 * the request span and on bulwark.requests, bulwark.cost and gen_ai.client.token.usage only; a hook
 * that throws or breaks its contract leaves the request without them and is counted; the per-
 * instrument cap holds across collections (where the SDK's own limit does not) and sends every
 * later value set to the overflow series, counted, never dropped.
 */
import { metrics, trace } from '@opentelemetry/api';
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createResilientLLM, type ResilientLLM } from '../../src/createResilientLLM.js';
import { ConfigError } from '../../src/errors/bulwarkError.js';
import type { ChatRequest } from '../../src/request/types.js';
import { METRIC, SPAN } from '../../src/telemetry/names.js';
import { createFakeClock } from '../support/fakeClock.js';
import { scriptedAdapter, scriptedTarget } from '../support/scriptedAdapter.js';
import { createSdk, histogramCount, only, points, sumOf, type Sdk } from './harness.js';

const CHAIN = 'tenants';
const OVERFLOW = 'otel.metric.overflow';
const ask = (tenant: string | undefined): ChatRequest => ({ messages: [{ role: 'user', content: 'hi' }], ...(tenant !== undefined && { partition: tenant }) });

describe('telemetry.attributes (caller attributes)', () => {
  let sdk: Sdk;
  let llms: ResilientLLM[] = [];

  beforeEach(() => {
    sdk = createSdk();
    metrics.setGlobalMeterProvider(sdk.meterProvider);
    trace.setGlobalTracerProvider(sdk.tracerProvider);
  });
  afterEach(async () => {
    for (const llm of llms) await llm.close();
    llms = [];
    await sdk.shutdown();
    metrics.disable();
    trace.disable();
  });

  function chain(attributes: unknown, limit?: number, knownAttributes?: unknown[]): ResilientLLM {
    const adapter = scriptedAdapter('openai', 'gpt-4o').then({ ok: 'fine', usage: { inputTokens: 100, outputTokens: 20 } });
    const llm = createResilientLLM({
      name: CHAIN,
      targets: [scriptedTarget(adapter)],
      clock: createFakeClock(1_000_000),
      pricing: { 'gpt-4o': { inputPerMTok: 10, outputPerMTok: 50 } },
      telemetry: {
        attributes: attributes as never,
        ...(limit !== undefined && { attributeLimit: limit }),
        ...(knownAttributes !== undefined && { knownAttributes: knownAttributes as never }),
      },
    });
    llms.push(llm);
    return llm;
  }

  it('go onto the request span and onto bulwark.requests, bulwark.cost and the token histogram only', async () => {
    const llm = chain((req: ChatRequest) => ({ 'app.tenant': req.partition ?? 'none', 'app.plan': 'pro', 'app.seats': 3, 'app.trial': false }));
    await llm.chat(ask('acme'));
    const m = await sdk.collect();
    const tenant = { 'app.tenant': 'acme', 'app.plan': 'pro', 'app.seats': 3, 'app.trial': false };
    expect(sumOf(m, METRIC.REQUESTS, tenant)).toBe(1);
    expect(sumOf(m, METRIC.COST, tenant)).toBeCloseTo((100 * 10 + 20 * 50) / 1e6, 12);
    expect(histogramCount(m, METRIC.TOKEN_USAGE, { ...tenant, 'gen_ai.token.type': 'input' })).toBe(1);
    expect(histogramCount(m, METRIC.TOKEN_USAGE, { ...tenant, 'gen_ai.token.type': 'output' })).toBe(1);
    // Nothing else carries them.
    for (const metric of m) {
      if ([METRIC.REQUESTS, METRIC.COST, METRIC.TOKEN_USAGE].includes(metric.descriptor.name as never)) continue;
      for (const p of metric.dataPoints) expect(Object.keys(p.attributes).filter((k) => k.startsWith('app.')), metric.descriptor.name).toEqual([]);
    }
    const request = only(sdk.spans(), SPAN.request('chat', CHAIN));
    expect(request.attributes).toMatchObject(tenant);
    const attempt = only(sdk.spans(), 'chat gpt-4o');
    expect(Object.keys(attempt.attributes).filter((k) => k.startsWith('app.'))).toEqual([]);
    expect(sumOf(m, METRIC.TELEMETRY_ERRORS)).toBe(0);
  });

  it.each([
    ['throws', () => { throw new Error('tenant lookup failed'); }],
    ['returns a key outside app.', () => ({ 'app.tenant': 'acme', 'tenant': 'acme' })],
    ['returns a Bulwark name', () => ({ 'bulwark.chain': 'other' })],
    ['returns an object value', () => ({ 'app.tenant': { id: 'acme' } })],
    ['returns an array value', () => ({ 'app.tenants': ['acme', 'globex'] })],
    ['returns NaN', () => ({ 'app.score': Number.NaN })],
    ['returns a string', () => 'acme'],
    ['returns an array', () => [['app.tenant', 'acme']]],
  ])('a hook that %s: the request goes on without caller attributes, counted in bulwark.telemetry.errors', async (_what, hook) => {
    const llm = chain(hook);
    const res = await llm.chat(ask('acme'));
    expect(res.tier).toBe('full');
    const m = await sdk.collect();
    expect(sumOf(m, METRIC.TELEMETRY_ERRORS, { 'bulwark.chain': CHAIN, 'bulwark.telemetry.stage': 'attributes_hook' })).toBe(1);
    expect(sumOf(m, METRIC.REQUESTS, { 'bulwark.outcome': 'success' })).toBe(1);
    for (const name of [METRIC.REQUESTS, METRIC.COST, METRIC.TOKEN_USAGE]) {
      for (const p of points(m, name)) expect(Object.keys(p.attributes).filter((k) => k.startsWith('app.') || k === 'tenant'), name).toEqual([]);
    }
    const request = only(sdk.spans(), SPAN.request('chat', CHAIN));
    expect(Object.keys(request.attributes).filter((k) => k.startsWith('app.') || k === 'tenant')).toEqual([]);
    expect(request.attributes['bulwark.chain']).toBe(CHAIN);
  });

  it('a hook that returns nothing adds nothing and counts no error', async () => {
    const llm = chain(() => undefined);
    await llm.chat(ask(undefined));
    const m = await sdk.collect();
    expect(sumOf(m, METRIC.TELEMETRY_ERRORS)).toBe(0);
    expect(sumOf(m, METRIC.REQUESTS, { 'bulwark.outcome': 'success' })).toBe(1);
  });

  it('the cap: the first N value sets get series, every later one lands in the overflow series, across collections', async () => {
    const llm = chain((req: ChatRequest) => ({ 'app.tenant': req.partition! }), 3);
    for (const t of ['a', 'b', 'c', 'd', 'e']) await llm.chat(ask(t));
    let m = await sdk.collect();
    const tenantsOf = (name: string) => [...new Set(points(m, name).map((p) => p.attributes['app.tenant']).filter((t) => t !== undefined))].sort();
    expect(tenantsOf(METRIC.REQUESTS)).toEqual(['a', 'b', 'c']);
    expect(sumOf(m, METRIC.REQUESTS, { [OVERFLOW]: true })).toBe(2);
    expect(sumOf(m, METRIC.REQUESTS, { 'bulwark.outcome': 'success' })).toBe(5); // counted, never dropped
    expect(tenantsOf(METRIC.COST)).toEqual(['a', 'b', 'c']);
    expect(sumOf(m, METRIC.COST, { [OVERFLOW]: true })).toBeCloseTo(2 * 0.002, 12);
    expect(histogramCount(m, METRIC.TOKEN_USAGE, { [OVERFLOW]: true, 'gen_ai.token.type': 'input' })).toBe(2);
    // The overflow series keeps the bounded attributes: per-outcome totals stay exact.
    expect(points(m, METRIC.REQUESTS, { [OVERFLOW]: true }).map((p) => p.attributes)).toEqual([
      { 'bulwark.chain': CHAIN, 'bulwark.outcome': 'success', 'bulwark.tier': 'full', [OVERFLOW]: true },
    ]);

    // Next interval: new values still overflow (the SDK's own limit would admit them), old ones keep their series.
    for (const t of ['f', 'g', 'a']) await llm.chat(ask(t));
    m = await sdk.collect();
    expect(tenantsOf(METRIC.REQUESTS)).toEqual(['a', 'b', 'c']);
    expect(sumOf(m, METRIC.REQUESTS, { 'app.tenant': 'a' })).toBe(2);
    expect(sumOf(m, METRIC.REQUESTS, { [OVERFLOW]: true })).toBe(4);
    expect(sumOf(m, METRIC.REQUESTS, { 'bulwark.outcome': 'success' })).toBe(8);
  });

  it('a newly seen value set gets the chain\'s counter series pre-created at 0; known sets have them from the start', async () => {
    const llm = chain((req: ChatRequest) => ({ 'app.tenant': req.partition! }), undefined, [{ 'app.tenant': 'known' }]);
    let m = await sdk.collect();
    // Before any request: the known tenant's request outcomes and cost series, at 0.
    expect(points(m, METRIC.REQUESTS, { 'app.tenant': 'known' }).map((p) => [p.attributes['bulwark.outcome'], p.value]).sort()).toEqual([
      ['cached', 0],
      ['failed', 0],
      ['static', 0],
      ['success', 0],
      ['success_after_retry', 0],
    ]);
    expect(points(m, METRIC.COST, { 'app.tenant': 'known' }).map((p) => p.attributes['bulwark.attempt.outcome']).sort()).toEqual(['failure', 'success']);
    await llm.chat(ask('new'));
    m = await sdk.collect();
    expect(points(m, METRIC.REQUESTS, { 'app.tenant': 'new' })).toHaveLength(5);
    expect(sumOf(m, METRIC.REQUESTS, { 'app.tenant': 'new', 'bulwark.outcome': 'success' })).toBe(1);
    expect(sumOf(m, METRIC.REQUESTS, { 'app.tenant': 'new' })).toBe(1);
  });

  it('the default cap is 200 value sets per instrument', async () => {
    const llm = chain((req: ChatRequest) => ({ 'app.tenant': req.partition! }));
    for (let i = 0; i < 230; i++) await llm.chat(ask(`t${i}`));
    const m = await sdk.collect();
    const tenants = new Set(points(m, METRIC.REQUESTS).map((p) => p.attributes['app.tenant']).filter((t) => t !== undefined));
    expect(tenants.size).toBe(200);
    expect(sumOf(m, METRIC.REQUESTS, { [OVERFLOW]: true })).toBe(30);
    expect(sumOf(m, METRIC.REQUESTS, { 'bulwark.outcome': 'success' })).toBe(230);
  });

  it('the SDK\'s own cardinality limit is not a hard cap with cumulative temporality (why Bulwark caps itself)', async () => {
    class Reader extends MetricReader {
      protected async onShutdown(): Promise<void> {}
      protected async onForceFlush(): Promise<void> {}
    }
    const reader = new Reader({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
    const provider = new MeterProvider({ readers: [reader], views: [{ instrumentName: 'x', aggregationCardinalityLimit: 10 }] });
    const counter = provider.getMeter('m').createCounter('x');
    const seriesCount = async () => (await reader.collect()).resourceMetrics.scopeMetrics[0]!.metrics[0]!.dataPoints.length;
    for (let i = 0; i < 20; i++) counter.add(1, { t: `a${i}` });
    expect(await seriesCount()).toBe(10); // 9 series + the overflow series
    for (let i = 0; i < 20; i++) counter.add(1, { t: `b${i}` });
    expect(await seriesCount()).toBeGreaterThan(10); // a new interval admits new series again
    await provider.shutdown();
  });

  it.each([
    [{ attributes: 'app.tenant' }, 'telemetry.attributes'],
    [{ attributeLimit: 0 }, 'telemetry.attributeLimit'],
    [{ attributeLimit: 2.5 }, 'telemetry.attributeLimit'],
    [{ attribute: () => ({}) }, 'telemetry.attribute'],
    [{ attributes: () => ({}), knownAttributes: [{ tenant: 'acme' }] }, "telemetry.knownAttributes[0]['tenant']"],
    [{ attributes: () => ({}), knownAttributes: [{ 'app.tenant': ['acme'] }] }, "telemetry.knownAttributes[0]['app.tenant']"],
    [{ attributes: () => ({}), knownAttributes: [{}] }, 'telemetry.knownAttributes[0]'],
    [{ attributes: () => ({}), knownAttributes: 'acme' }, 'telemetry.knownAttributes'],
    [{ knownAttributes: [{ 'app.tenant': 'acme' }] }, 'telemetry.knownAttributes'],
    [{ attributes: () => ({}), attributeLimit: 1, knownAttributes: [{ 'app.tenant': 'a' }, { 'app.tenant': 'b' }] }, 'telemetry.knownAttributes'],
    ['yes', 'telemetry'],
  ])('bad telemetry options are a ConfigError naming the field (%j)', (telemetry, field) => {
    expect(() =>
      createResilientLLM({ name: 'x', targets: [scriptedTarget(scriptedAdapter('openai', 'gpt-4o'))], telemetry: telemetry as never }),
    ).toThrow(expect.objectContaining({ name: 'ConfigError', field }) as ConfigError);
  });
});
