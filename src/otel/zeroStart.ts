/**
 * Every first event counts: a metric exporter wrapper that gives each new cumulative series an
 * explicit zero point at its start timestamp.
 *
 * Why: a cumulative counter or histogram series appears in its first export with its first
 * observations already in it. PromQL's `rate()`/`increase()` (Prometheus and VictoriaMetrics) count
 * from the first stored sample, so those observations are lost — the first error of a new type, the
 * first call of a new model, the first fallback of a new reason. The OpenTelemetry JS SDK sets a new
 * series' `startTimeUnixNano` to the time of its first observation; a zero point at exactly that
 * time is what Prometheus' `created-timestamp-zero-ingestion` synthesises from it, and what the
 * OpenMetrics `_created` sample means. Doing it here, before OTLP, works for every backend
 * (VictoriaMetrics ignores start timestamps) without a feature flag.
 *
 * The zero point is `{ startTime, endTime: startTime, value: 0 }` (histograms: every bucket 0,
 * count 0, sum 0), sent in the same export, before the series' real point; when the SDK's start
 * timestamp (millisecond precision) equals the collection time, it goes one millisecond before it.
 * It is added once per series and exporter — again only when the export that carried it failed —
 * and only for cumulative monotonic sums, histograms and exponential histograms whose first exported
 * value is not 0 already (a series pre-created with `add(0)` has its zero sample: adding one at its
 * creation time would only give it a first timestamp different from its export's). Gauges and
 * up-down counters are left alone.
 *
 * Depends on types of `@opentelemetry/sdk-metrics` only (an optional peer); no runtime import.
 */
import type { DataPoint, ExponentialHistogram, Histogram, MetricData, PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { seriesKey } from './series.js';

type ExportResultCallback = Parameters<PushMetricExporter['export']>[1];
type HrTime = DataPoint<unknown>['startTime'];

/**
 * `@opentelemetry/sdk-metrics` enum values (stable since 1.x; checked against the SDK by
 * test/telemetry/zeroStart.test.ts), so this module needs no runtime import of the peer.
 */
const HISTOGRAM = 0;
const EXPONENTIAL_HISTOGRAM = 1;
const SUM = 3;
const CUMULATIVE = 1;
const SUCCESS = 0;

const before = (a: HrTime, b: HrTime): boolean => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
/** `t` minus one millisecond. */
const minusMs = (t: HrTime): HrTime => (t[1] >= 1e6 ? [t[0], t[1] - 1e6] : [t[0] - 1, t[1] + 1e9 - 1e6]);


function zeroHistogram(h: Histogram): Histogram {
  return { buckets: { boundaries: h.buckets.boundaries, counts: h.buckets.counts.map(() => 0) }, count: 0, sum: 0 };
}

function zeroExponential(h: ExponentialHistogram): ExponentialHistogram {
  return {
    count: 0,
    sum: 0,
    scale: h.scale,
    zeroCount: 0,
    positive: { offset: h.positive.offset, bucketCounts: [] },
    negative: { offset: h.negative.offset, bucketCounts: [] },
  };
}

function zeroValue(metric: MetricData, value: unknown): unknown {
  switch (metric.dataPointType as number) {
    case SUM:
      return 0;
    case HISTOGRAM:
      return zeroHistogram(value as Histogram);
    case EXPONENTIAL_HISTOGRAM:
      return zeroExponential(value as ExponentialHistogram);
    default:
      return undefined;
  }
}

function isZero(metric: MetricData, value: unknown): boolean {
  return (metric.dataPointType as number) === SUM ? value === 0 : (value as { count: number }).count === 0;
}

function wantsZero(metric: MetricData): boolean {
  if ((metric.aggregationTemporality as number) !== CUMULATIVE) return false;
  const type = metric.dataPointType as number;
  if (type === SUM) return (metric as { isMonotonic?: boolean }).isMonotonic === true;
  return type === HISTOGRAM || type === EXPONENTIAL_HISTOGRAM;
}

/**
 * Wraps `exporter` so that every new cumulative series is exported with a zero point at its start
 * timestamp before its first real point (see the module comment). Use it around the exporter of
 * your own `PeriodicExportingMetricReader` when you do not use `startTelemetry()` (which does it
 * already); everything else is passed through to `exporter`.
 */
export function withZeroStartPoints<E extends PushMetricExporter>(exporter: E): PushMetricExporter {
  const seen = new Set<string>();
  const wrapped: PushMetricExporter = {
    export(metrics: ResourceMetrics, resultCallback: ExportResultCallback): void {
      const added = new Set<string>();
      const scopeMetrics = metrics.scopeMetrics.map((scope) => ({
        ...scope,
        metrics: scope.metrics.map((metric): MetricData => {
          if (!wantsZero(metric)) return metric;
          const points: DataPoint<unknown>[] = [];
          for (const point of metric.dataPoints as DataPoint<unknown>[]) {
            const key = seriesKey(`${scope.scope.name}@${scope.scope.version ?? ''}`, metric.descriptor.name, point.attributes);
            if (!seen.has(key) && !added.has(key)) {
              added.add(key);
              // A series whose first point is already 0 (pre-created with add(0)) needs none.
              if (isZero(metric, point.value)) {
                points.push(point);
                continue;
              }
              // At the start timestamp; when the first observation and the collection fell in the
              // same millisecond (the SDK's start timestamps have millisecond precision), one
              // millisecond before it, so the zero and the first value are two samples.
              const at = before(point.startTime, point.endTime) ? point.startTime : minusMs(point.endTime);
              points.push({ startTime: at, endTime: at, attributes: point.attributes, value: zeroValue(metric, point.value) });
            }
            points.push(point);
          }
          return { ...metric, dataPoints: points } as MetricData;
        }),
      }));
      exporter.export({ ...metrics, scopeMetrics }, (result) => {
        if (result.code === SUCCESS) for (const key of added) seen.add(key);
        resultCallback(result);
      });
    },
    forceFlush: () => exporter.forceFlush(),
    shutdown: () => exporter.shutdown(),
  };
  if (exporter.selectAggregationTemporality) wrapped.selectAggregationTemporality = (t) => exporter.selectAggregationTemporality!(t);
  if (exporter.selectAggregation) wrapped.selectAggregation = (t) => exporter.selectAggregation!(t);
  return wrapped;
}
