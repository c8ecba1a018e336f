/**
 * The exemplar pieces of bulwark/otel (src/otel/exemplars.ts) over the real SDK and its OTLP/JSON
 * serializer: which observations become exemplars (a sampled span in the context; the last per
 * bucket and series), which instruments carry them, and where they land in the serialized request.
 */
import { context, trace, TraceFlags, type Context } from '@opentelemetry/api';
import { JsonMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { DataPointType, MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { ExemplarStore, exemplarJsonSerializer, EXEMPLAR_INSTRUMENTS, withExemplars } from '../../src/otel/exemplars.js';
import { METRIC } from '../../src/telemetry/names.js';
import { installContextManager } from './harness.js';

installContextManager();

class ManualReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

const spanCtx = (n: number, sampled = true): Context =>
  trace.setSpanContext(context.active(), {
    traceId: n.toString(16).padStart(32, '0'),
    spanId: n.toString(16).padStart(16, '0'),
    traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
  });

function setup() {
  const reader = new ManualReader();
  const sdk = new MeterProvider({ readers: [reader] });
  const store = new ExemplarStore();
  const meter = withExemplars(sdk, store).getMeter('bulwark', '0.1.0');
  const serialize = async (): Promise<{ metrics: { name: string; histogram?: { dataPoints: { attributes: { key: string }[]; count: number | string; exemplars?: unknown[] }[] } }[] }> => {
    const { resourceMetrics } = await reader.collect();
    const bytes = exemplarJsonSerializer(JsonMetricsSerializer, store).serializeRequest(resourceMetrics as ResourceMetrics)!;
    const body = JSON.parse(new TextDecoder().decode(bytes));
    return body.resourceMetrics[0].scopeMetrics[0];
  };
  return { meter, store, serialize };
}

describe('exemplars', () => {
  it('the contract names them: the three latency histograms', () => {
    expect([...EXEMPLAR_INSTRUMENTS].sort()).toEqual([METRIC.OPERATION_DURATION, METRIC.TIME_TO_FIRST_CHUNK, METRIC.REQUEST_DURATION].sort());
    expect(DataPointType.HISTOGRAM).toBe(0);
  });

  it('an observation in a sampled span becomes an exemplar of its point, with trace id, span id, value and time', async () => {
    const { meter, serialize } = setup();
    const h = meter.createHistogram(METRIC.OPERATION_DURATION, { advice: { explicitBucketBoundaries: [0.1, 1, 10] } });
    const before = BigInt(Date.now()) * 1_000_000n;
    h.record(0.5, { model: 'a' }, spanCtx(1));
    h.record(0.7, { model: 'a' }, spanCtx(2)); // same bucket: replaces the first
    h.record(5, { model: 'a' }, spanCtx(3)); // another bucket
    h.record(0.5, { model: 'b' }, spanCtx(4, false)); // not sampled: no exemplar
    h.record(0.5, { model: 'c' }); // no span at all
    const scope = await serialize();
    const points = scope.metrics.find((m) => m.name === METRIC.OPERATION_DURATION)!.histogram!.dataPoints;
    const byModel = (m: string) => points.find((p) => JSON.stringify(p.attributes).includes(`"${m}"`))!;
    const ex = byModel('a').exemplars as { traceId: string; spanId: string; asDouble: number; timeUnixNano: string }[];
    expect(ex.map((e) => [e.asDouble, e.traceId, e.spanId])).toEqual([
      [0.7, '2'.padStart(32, '0'), '2'.padStart(16, '0')],
      [5, '3'.padStart(32, '0'), '3'.padStart(16, '0')],
    ]);
    expect(BigInt(ex[0]!.timeUnixNano) >= before).toBe(true);
    expect(byModel('b').exemplars).toBeUndefined();
    expect(byModel('c').exemplars).toBeUndefined();
  });

  it('exemplars describe one collection: the next export of the series has none unless it was observed again', async () => {
    const { meter, serialize } = setup();
    const h = meter.createHistogram(METRIC.REQUEST_DURATION);
    h.record(1, {}, spanCtx(7));
    expect((await serialize()).metrics[0]!.histogram!.dataPoints[0]!.exemplars).toHaveLength(1);
    expect((await serialize()).metrics[0]!.histogram!.dataPoints[0]!.exemplars).toBeUndefined();
  });

  it('the active context counts when none is passed; other instruments carry none', async () => {
    const { meter, serialize } = setup();
    const ttfc = meter.createHistogram(METRIC.TIME_TO_FIRST_CHUNK);
    const tokens = meter.createHistogram(METRIC.TOKEN_USAGE);
    const counter = meter.createCounter('bulwark.requests');
    context.with(spanCtx(9), () => {
      ttfc.record(0.2);
      tokens.record(100);
      counter.add(1);
    });
    const scope = await serialize();
    expect(scope.metrics.find((m) => m.name === METRIC.TIME_TO_FIRST_CHUNK)!.histogram!.dataPoints[0]!.exemplars).toHaveLength(1);
    expect(scope.metrics.find((m) => m.name === METRIC.TOKEN_USAGE)!.histogram!.dataPoints[0]!.exemplars).toBeUndefined();
    expect(scope.metrics.find((m) => m.name === 'bulwark.requests')).toBeDefined();
  });
});
