/**
 * withZeroStartPoints (src/otel/zeroStart.ts) around the real SDK: every new cumulative counter or
 * histogram series is exported with a zero point at its start timestamp, once, before its first
 * real point; gauges and up-down counters are untouched; a failed export leaves it to the next.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type DataPoint,
  type Histogram,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { withZeroStartPoints } from '../../src/otel/zeroStart.js';

let provider: MeterProvider | undefined;
afterEach(async () => {
  await provider?.shutdown();
  provider = undefined;
});

/** A provider whose reader exports through withZeroStartPoints into `sink` (and can be told to fail). */
function setup() {
  const sink = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  let fail = false;
  const failing = {
    export: (m: ResourceMetrics, cb: (r: ExportResult) => void) => (fail ? cb({ code: ExportResultCode.FAILED }) : sink.export(m, cb)),
    forceFlush: () => sink.forceFlush(),
    shutdown: () => sink.shutdown(),
    selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
  };
  const reader = new PeriodicExportingMetricReader({ exporter: withZeroStartPoints(failing), exportIntervalMillis: 600_000 });
  provider = new MeterProvider({ readers: [reader] });
  const meter = provider.getMeter('bulwark');
  /**
   * The points of `name` in the last export, as [attributes.k, value, is a zero point]. A zero
   * point has start === end, lies at or before the series' start (one ms before when the first
   * observation and the collection share a millisecond) and strictly before its real point.
   */
  const last = (name: string) => {
    const exports = sink.getMetrics();
    const metric = exports.at(-1)!.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
    return (metric?.dataPoints ?? []).map((p: DataPoint<unknown>, i: number, all: DataPoint<unknown>[]) => {
      const v = p.value as number | Histogram;
      const value = typeof v === 'number' ? v : { count: v.count, sum: v.sum, buckets: v.buckets.counts.reduce((a, b) => a + b, 0) };
      // The zero point is the first of two points of its series.
      const real = all.slice(i + 1).find((q) => q.attributes['k'] === p.attributes['k']);
      const zero = real !== undefined && p.startTime.join() === p.endTime.join();
      if (zero) {
        const ns = (t: [number, number]) => BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);
        const where = JSON.stringify({ zero: [p.startTime, p.endTime], real: [real.startTime, real.endTime] });
        expect(ns(p.endTime) <= ns(real.startTime), where).toBe(true);
        expect(ns(real.endTime) - ns(p.endTime) >= 1_000_000n, where).toBe(true); // >= 1 ms apart: two samples
      }
      return [p.attributes['k'], value, zero];
    });
  };
  return { sink, reader, meter, last, setFail: (f: boolean) => (fail = f) };
}

describe('withZeroStartPoints', () => {
  it('uses the SDK enum values it hard-codes', () => {
    expect([DataPointType.HISTOGRAM, DataPointType.EXPONENTIAL_HISTOGRAM, DataPointType.SUM]).toEqual([0, 1, 3]);
    expect(AggregationTemporality.CUMULATIVE).toBe(1);
    expect(ExportResultCode.SUCCESS).toBe(0);
  });

  it('a new counter series: a zero point at its start, then the real point; only in its first export', async () => {
    const { reader, meter, last } = setup();
    const c = meter.createCounter('c');
    c.add(2, { k: 'a' });
    await reader.forceFlush();
    expect(last('c')).toEqual([
      ['a', 0, true],
      ['a', 2, false],
    ]);
    c.add(1, { k: 'a' });
    c.add(5, { k: 'b' }); // a series first seen now
    await reader.forceFlush();
    expect(last('c')).toEqual([
      ['a', 3, false],
      ['b', 0, true],
      ['b', 5, false],
    ]);
  });

  it('the zero point carries the series attributes, at its start timestamp when that is before the collection', async () => {
    const { sink, reader, meter } = setup();
    meter.createCounter('c').add(1, { k: 'a', n: 2 });
    // Let the clock move on past the observation's millisecond (no timing assumption: a busy wait on the clock).
    const t = Date.now();
    while (Date.now() <= t + 1) await new Promise((r) => setImmediate(r));
    await reader.forceFlush();
    const [zero, real] = sink.getMetrics()[0]!.scopeMetrics[0]!.metrics[0]!.dataPoints as DataPoint<number>[];
    expect(zero!.value).toBe(0);
    expect(zero!.startTime).toEqual(real!.startTime);
    expect(zero!.endTime).toEqual(real!.startTime);
    expect(zero!.attributes).toEqual({ k: 'a', n: 2 });
  });

  it('a new histogram series: an empty histogram with the same bucket boundaries first', async () => {
    const { sink, reader, meter, last } = setup();
    meter.createHistogram('h', { advice: { explicitBucketBoundaries: [0.1, 1, 10] } }).record(0.5, { k: 'a' });
    await reader.forceFlush();
    expect(last('h')).toEqual([
      ['a', { count: 0, sum: 0, buckets: 0 }, true],
      ['a', { count: 1, sum: 0.5, buckets: 1 }, false],
    ]);
    const [zero] = sink.getMetrics()[0]!.scopeMetrics[0]!.metrics[0]!.dataPoints as DataPoint<Histogram>[];
    expect(zero!.value.buckets).toEqual({ boundaries: [0.1, 1, 10], counts: [0, 0, 0, 0] });
  });

  it('a series pre-created at 0 gets no extra zero point', async () => {
    const { reader, meter, last } = setup();
    const c = meter.createCounter('c');
    c.add(0, { k: 'a' });
    await reader.forceFlush();
    expect(last('c')).toEqual([['a', 0, false]]);
    c.add(4, { k: 'a' });
    await reader.forceFlush();
    expect(last('c')).toEqual([['a', 4, false]]);
  });

  it('gauges and up-down counters are left alone', async () => {
    const { reader, meter, last } = setup();
    meter.createUpDownCounter('u').add(3, { k: 'a' });
    meter.createGauge('g').record(7, { k: 'a' });
    meter.createObservableGauge('og').addCallback((r) => r.observe(1, { k: 'a' }));
    await reader.forceFlush();
    expect(last('u')).toEqual([['a', 3, false]]);
    expect(last('g').map((p) => p.slice(0, 2))).toEqual([['a', 7]]);
    expect(last('og').map((p) => p.slice(0, 2))).toEqual([['a', 1]]);
  });

  it('a failed export leaves the zero point to the next export', async () => {
    const { sink, reader, meter, last, setFail } = setup();
    const c = meter.createCounter('c');
    c.add(1, { k: 'a' });
    setFail(true);
    await reader.forceFlush().catch(() => undefined);
    expect(sink.getMetrics()).toHaveLength(0);
    setFail(false);
    await reader.forceFlush();
    expect(last('c')).toEqual([
      ['a', 0, true],
      ['a', 1, false],
    ]);
  });
});
