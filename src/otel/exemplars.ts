/**
 * Exemplars for the latency histograms: the trace and span id of the span that produced an
 * observation, sent with the histogram point so a latency panel can jump to the trace.
 *
 * `@opentelemetry/sdk-metrics` 3.1 neither samples exemplars nor serializes them (its OTLP
 * serializers write no `exemplars` field), so `startTelemetry()` does both for the three latency
 * histograms of the contract ({@link EXEMPLAR_INSTRUMENTS}):
 *
 * - {@link withExemplars} wraps the global MeterProvider: a `record(value, attributes, context)` on
 *   one of those histograms is passed on unchanged and, when the context (or the active one) holds a
 *   valid sampled span, offered to an {@link ExemplarStore} — the last observation per histogram
 *   bucket and series, as the specification's aligned-histogram-bucket reservoir keeps it.
 *   Bulwark's observer records each observation in the context of its span (attempt span for
 *   `gen_ai.client.operation.duration` and `time_to_first_chunk`, request span for
 *   `bulwark.request.duration`).
 * - {@link exemplarJsonSerializer} wraps the SDK's OTLP/JSON metrics serializer and adds the stored
 *   exemplars (`timeUnixNano`, `asDouble`, hex `traceId`/`spanId`) to the points of the series they
 *   belong to, then forgets them (exemplars describe one collection interval).
 *
 * Exemplars therefore travel with OTLP/HTTP JSON metrics (`http/json`) only.
 */
import { context as apiContext, isSpanContextValid, trace, TraceFlags, type Attributes, type Context, type Histogram, type Meter, type MeterProvider, type MetricOptions } from '@opentelemetry/api';
import type { DataPoint, Histogram as HistogramValue, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { METRIC } from '../telemetry/names.js';
import { seriesKey } from './series.js';

/** The histograms that carry exemplars (docs/TELEMETRY.md, "Exemplars"). */
export const EXEMPLAR_INSTRUMENTS: ReadonlySet<string> = new Set([METRIC.OPERATION_DURATION, METRIC.REQUEST_DURATION, METRIC.TIME_TO_FIRST_CHUNK]);

/** One exemplar in its OTLP/JSON shape. */
export interface JsonExemplar {
  timeUnixNano: string;
  asDouble: number;
  traceId: string;
  spanId: string;
}

/** The last sampled observation per bucket of every series, until the series is exported. */
export class ExemplarStore {
  private readonly series = new Map<string, Map<number, JsonExemplar>>();

  offer(scope: string, instrument: string, boundaries: readonly number[] | undefined, value: number, attributes: Attributes, ctx: Context): void {
    const span = trace.getSpanContext(ctx);
    if (!span || !isSpanContextValid(span) || (span.traceFlags & TraceFlags.SAMPLED) === 0) return;
    let bucket = 0;
    if (boundaries) {
      bucket = boundaries.findIndex((b) => value <= b);
      if (bucket < 0) bucket = boundaries.length;
    }
    const key = seriesKey(scope, instrument, attributes);
    let buckets = this.series.get(key);
    if (!buckets) this.series.set(key, (buckets = new Map()));
    buckets.set(bucket, { timeUnixNano: String(BigInt(Date.now()) * 1_000_000n), asDouble: value, traceId: span.traceId, spanId: span.spanId });
  }

  /** The exemplars of a series, oldest bucket first; forgets them. */
  take(scope: string, instrument: string, attributes: Attributes): JsonExemplar[] {
    const key = seriesKey(scope, instrument, attributes);
    const buckets = this.series.get(key);
    if (!buckets) return [];
    this.series.delete(key);
    return [...buckets.entries()].sort(([a], [b]) => a - b).map(([, e]) => e);
  }
}

/**
 * A MeterProvider that hands out `provider`'s meters, with the histograms of
 * {@link EXEMPLAR_INSTRUMENTS} also offering each observation to `store`.
 */
export function withExemplars(provider: MeterProvider, store: ExemplarStore): MeterProvider {
  return {
    getMeter(name: string, version?: string, options?: Parameters<MeterProvider['getMeter']>[2]): Meter {
      const meter = provider.getMeter(name, version, options);
      const scope = `${name}@${version ?? ''}`;
      return new Proxy(meter, {
        get(target, prop, receiver) {
          if (prop === 'createHistogram') {
            return (instrument: string, opts?: MetricOptions): Histogram => {
              const histogram = target.createHistogram(instrument, opts);
              if (!EXEMPLAR_INSTRUMENTS.has(instrument)) return histogram;
              const boundaries = opts?.advice?.explicitBucketBoundaries;
              return {
                record(value: number, attributes: Attributes = {}, ctx: Context = apiContext.active()): void {
                  histogram.record(value, attributes, ctx);
                  store.offer(scope, instrument, boundaries, value, attributes, ctx);
                },
              };
            };
          }
          const value = Reflect.get(target, prop, receiver) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    },
  };
}

/** The minimal serializer shape of `@opentelemetry/otlp-transformer`. */
export interface MetricsSerializer<Response> {
  serializeRequest(request: ResourceMetrics): Uint8Array | undefined;
  deserializeResponse(data: Uint8Array): Response;
}

const HISTOGRAM = 0; // DataPointType.HISTOGRAM (checked in test/telemetry/exemplars.test.ts)

/** `json` (the SDK's OTLP/JSON metrics serializer) plus the exemplars `store` holds for each histogram point. */
export function exemplarJsonSerializer<Response>(json: MetricsSerializer<Response>, store: ExemplarStore): MetricsSerializer<Response> {
  return {
    serializeRequest(request: ResourceMetrics): Uint8Array | undefined {
      const bytes = json.serializeRequest(request);
      if (!bytes) return bytes;
      type JsonPoint = { exemplars?: JsonExemplar[] };
      type JsonMetric = { name?: string; histogram?: { dataPoints?: JsonPoint[] } };
      const body = JSON.parse(new TextDecoder().decode(bytes)) as { resourceMetrics?: { scopeMetrics?: { metrics?: JsonMetric[] }[] }[] };
      const jsonScopes = body.resourceMetrics?.[0]?.scopeMetrics ?? [];
      let added = 0;
      request.scopeMetrics.forEach((scope, i) => {
        const scopeKey = `${scope.scope.name}@${scope.scope.version ?? ''}`;
        scope.metrics.forEach((metric, j) => {
          if ((metric.dataPointType as number) !== HISTOGRAM || !EXEMPLAR_INSTRUMENTS.has(metric.descriptor.name)) return;
          const jsonMetric = jsonScopes[i]?.metrics?.[j];
          if (jsonMetric?.name !== metric.descriptor.name) return; // not the same layout: leave it alone
          (metric.dataPoints as DataPoint<HistogramValue>[]).forEach((point, k) => {
            const target = jsonMetric.histogram?.dataPoints?.[k];
            if (!target || point.value.count === 0) return;
            const exemplars = store.take(scopeKey, metric.descriptor.name, point.attributes);
            if (exemplars.length > 0) {
              target.exemplars = exemplars;
              added += exemplars.length;
            }
          });
        });
      });
      return added > 0 ? new TextEncoder().encode(JSON.stringify(body)) : bytes;
    },
    deserializeResponse: (data) => json.deserializeResponse(data),
  };
}
