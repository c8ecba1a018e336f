/**
 * The gateway's telemetry through the real OpenTelemetry SDK: the caller's `traceparent` continues
 * into the gateway's SERVER span and, under it, the chain's request and attempt spans; every request
 * records `http.server.request.duration` with the HTTP semantic-convention attributes the contract
 * (docs/TELEMETRY.md, "Gateway") lists.
 */
import { readFileSync } from 'node:fs';
import { metrics, propagation, SpanKind, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { DataPointType } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ATTR, GATEWAY_METRICS, METRIC, SECONDS_BUCKETS, SPAN } from '../../src/telemetry/names.js';
import { fault, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { createSdk, type Sdk } from '../telemetry/harness.js';
import { KEY_A, startTestGateway, type TestGateway } from './setup.js';

let server: FaultServer;
let sdk: Sdk;
let gw: TestGateway;
beforeAll(async () => {
  server = await startFaultServer({ seed: 1415 });
  sdk = createSdk();
  trace.setGlobalTracerProvider(sdk.tracerProvider);
  metrics.setGlobalMeterProvider(sdk.meterProvider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  gw = await startTestGateway(server, {}, { telemetry: true });
});
afterAll(async () => {
  await gw.gateway.close({ drainMs: 0 });
  await server.close();
  await sdk.shutdown();
  trace.disable();
  metrics.disable();
  propagation.disable();
});
beforeEach(() => {
  server.reset();
  sdk.exporter.reset();
});

const ask = { model: 'support-agent', messages: [{ role: 'user' as const, content: 'Hi' }] };
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN_ID = '00f067aa0ba902b7';

describe('gateway telemetry', () => {
  it('continues the caller’s trace: SERVER span child of the traceparent, the chain’s request and attempt spans under it', async () => {
    server.script({ route: 'primary' }, { then: fault.serverError(503) });
    server.script({ route: 'backup' }, { then: fault.ok({ text: 'hi' }) });
    const openai = gw.openai(KEY_A, { defaultHeaders: { traceparent: `00-${TRACE_ID}-${CALLER_SPAN_ID}-01` } });
    await openai.chat.completions.create(ask);
    await gw.entry(0);
    const spans = sdk.spans();
    const serverSpan = spans.find((s) => s.kind === SpanKind.SERVER)!;
    expect(serverSpan.name).toBe('POST /v1/chat/completions');
    expect(serverSpan.spanContext().traceId).toBe(TRACE_ID);
    expect(serverSpan.parentSpanContext?.spanId).toBe(CALLER_SPAN_ID);
    expect(serverSpan.attributes).toMatchObject({
      [ATTR.HTTP_REQUEST_METHOD]: 'POST',
      [ATTR.HTTP_ROUTE]: '/v1/chat/completions',
      [ATTR.HTTP_RESPONSE_STATUS_CODE]: 200,
      [ATTR.URL_SCHEME]: 'http',
    });
    const request = spans.find((s) => s.name === SPAN.request('chat', 'support'))!;
    expect(request.parentSpanContext?.spanId).toBe(serverSpan.spanContext().spanId);
    const attempts = spans.filter((s) => s.parentSpanContext?.spanId === request.spanContext().spanId && s.kind === SpanKind.CLIENT);
    expect(attempts.map((s) => s.name)).toEqual(['chat gpt-4o', 'chat claude-sonnet-4-6']);
    expect(spans.every((s) => s.spanContext().traceId === TRACE_ID)).toBe(true);
    // No key, no content on any span.
    expect(JSON.stringify(spans.map((s) => s.attributes))).not.toContain(KEY_A);
  });

  it('streams too: the request span of a streamed answer is a child of the SERVER span', async () => {
    server.script({ route: 'primary' }, { then: fault.ok({ text: 'a b c' }) });
    const stream = await gw.openai(KEY_A, { defaultHeaders: { traceparent: `00-${TRACE_ID}-${CALLER_SPAN_ID}-01` } }).chat.completions.create({ ...ask, stream: true });
    for await (const _ of stream);
    const n = gw.log.length;
    await gw.entry(n - 1);
    const spans = sdk.spans();
    const serverSpan = spans.find((s) => s.kind === SpanKind.SERVER)!;
    const request = spans.find((s) => s.name === SPAN.request('chat', 'support'))!;
    expect(request.parentSpanContext?.spanId).toBe(serverSpan.spanContext().spanId);
    expect(serverSpan.parentSpanContext?.spanId).toBe(CALLER_SPAN_ID);
  });

  it('without a traceparent the SERVER span is a root', async () => {
    await gw.openai(KEY_A).models.list();
    await gw.entry(gw.log.length - 1);
    const serverSpan = sdk.spans().find((s) => s.kind === SpanKind.SERVER)!;
    expect(serverSpan.name).toBe('GET /v1/models');
    expect(serverSpan.parentSpanContext).toBeUndefined();
  });

  it('records http.server.request.duration with exactly the contract’s attributes, error.type on 5xx only', async () => {
    server.script({ route: 'primary' }, { then: fault.serverError(500) });
    server.script({ route: 'backup' }, { then: fault.serverError(500) });
    const before = gw.log.length;
    // A question not asked before: the chain's on-failure cache has no answer to fall back on.
    await gw.openai(KEY_A).chat.completions.create({ ...ask, messages: [{ role: 'user', content: 'Something new' }] }).catch(() => undefined);
    await gw.openai('wrong').chat.completions.create(ask).catch(() => undefined);
    await fetch(`${gw.address.url}/nowhere`);
    await gw.entry(before + 2);
    const def = GATEWAY_METRICS.find((m) => m.name === METRIC.HTTP_SERVER_REQUEST_DURATION)!;
    const metric = (await sdk.collect()).find((m) => m.descriptor.name === def.name)!;
    expect(metric.descriptor.unit).toBe('s');
    expect(metric.dataPointType).toBe(DataPointType.HISTOGRAM);
    const points = metric.dataPoints.map((p) => p.attributes);
    expect(points).toContainEqual({ 'http.request.method': 'POST', 'http.route': '/v1/chat/completions', 'http.response.status_code': 502, 'url.scheme': 'http', 'error.type': '502' });
    expect(points).toContainEqual({ 'http.request.method': 'POST', 'http.route': '/v1/chat/completions', 'http.response.status_code': 401, 'url.scheme': 'http' });
    expect(points).toContainEqual({ 'http.request.method': 'GET', 'http.response.status_code': 404, 'url.scheme': 'http' });
    const allowed = new Set(def.attributes);
    expect(points.flatMap((p) => Object.keys(p)).filter((k) => !allowed.has(k))).toEqual([]);
    const histogram = metric.dataPoints[0]!.value as { buckets: { boundaries: number[] } };
    expect(histogram.buckets.boundaries).toEqual(SECONDS_BUCKETS);
  });
});

describe('the gateway table of docs/TELEMETRY.md', () => {
  const md = readFileSync(new URL('../../docs/TELEMETRY.md', import.meta.url), 'utf8');
  const table = md.slice(md.indexOf('| gateway instrument |')).split('\n\n')[0]!.split('\n').slice(2);

  it('lists exactly GATEWAY_METRICS: name, kind and unit, attributes, Prometheus name', () => {
    expect(table.length).toBe(GATEWAY_METRICS.length);
    for (const [i, def] of GATEWAY_METRICS.entries()) {
      const [name, kind, attributes, prometheus] = table[i]!.split('|').slice(1, -1).map((c) => c.trim());
      expect(name).toBe(`\`${def.name}\``);
      expect(kind).toBe(`${def.kind}, ${def.unit}`);
      expect(attributes!.replace(/\([^)]*\)/g, '').split(',').map((a) => a.trim()).sort()).toEqual([...def.attributes].sort());
      expect(prometheus).toBe(`\`${def.prometheus}_*\``);
    }
  });
});
