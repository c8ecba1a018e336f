/**
 * `bulwark/otel`: one call that sets up the OpenTelemetry Node SDK for an application that has
 * none yet — OTLP exporters for traces and metrics (by default OTLP/HTTP: traces as JSON, metrics
 * as protobuf; OTLP/gRPC or another HTTP encoding per `OTEL_EXPORTER_OTLP_PROTOCOL`, its per-signal
 * variants or the `protocol` option), the resource attributes dashboards filter on, and no
 * auto-instrumentations.
 *
 * The SDK packages are optional peer dependencies, imported only when this function runs; the
 * core library depends on `@opentelemetry/api` alone. Applications that already run an SDK do
 * not need this: Bulwark reports through whatever SDK is registered.
 */
import { context, diag, metrics, propagation, trace, type Attributes, type MeterProvider } from '@opentelemetry/api';
import { ExemplarStore, exemplarJsonSerializer, withExemplars } from './exemplars.js';
import { loadPeer as load, PROTOCOL_PEER_DEPENDENCIES, TELEMETRY_PEER_DEPENDENCIES } from './loadPeer.js';
import { withZeroStartPoints } from './zeroStart.js';

export { PROTOCOL_PEER_DEPENDENCIES, TELEMETRY_PEER_DEPENDENCIES, withZeroStartPoints };

/** The OTLP transports of the OpenTelemetry exporter specification (`OTEL_EXPORTER_OTLP_PROTOCOL`). */
export type OtlpProtocol = 'grpc' | 'http/protobuf' | 'http/json';
const PROTOCOLS: readonly OtlpProtocol[] = ['grpc', 'http/protobuf', 'http/json'];

export interface StartTelemetryOptions {
  /** `service.name`. Default: OTEL_SERVICE_NAME, else the SDK's `unknown_service:node`. */
  serviceName?: string;
  /** `service.version`. */
  serviceVersion?: string;
  /** `deployment.environment.name` (e.g. production, staging). */
  environment?: string;
  /**
   * OTLP base endpoint. OTLP/HTTP (`http://collector:4318`): `/v1/traces` and `/v1/metrics` are
   * appended. OTLP/gRPC (`http://collector:4317`): used as is. Default: OTEL_EXPORTER_OTLP_ENDPOINT /
   * OTEL_EXPORTER_OTLP_{TRACES,METRICS}_ENDPOINT, else `http://localhost:4318` (HTTP) or
   * `http://localhost:4317` (gRPC).
   */
  endpoint?: string;
  /**
   * OTLP transport of both signals. Default: OTEL_EXPORTER_OTLP_{TRACES,METRICS}_PROTOCOL, else
   * OTEL_EXPORTER_OTLP_PROTOCOL, else OTLP/HTTP with traces as JSON and metrics as protobuf.
   * `grpc` needs the optional peers `@opentelemetry/exporter-trace-otlp-grpc`,
   * `@opentelemetry/exporter-metrics-otlp-grpc` and `@grpc/grpc-js` (see {@link PROTOCOL_PEER_DEPENDENCIES}).
   */
  protocol?: OtlpProtocol;
  /**
   * Exemplars on the latency histograms (`gen_ai.client.operation.duration`, `time_to_first_chunk`,
   * `bulwark.request.duration`): the trace and span id of the span that produced an observation
   * (src/otel/exemplars.ts). They travel with OTLP/HTTP JSON metrics only (the JS SDK's protobuf
   * serializer writes none). Default: on when metrics go as `http/json`, unless
   * OTEL_METRICS_EXEMPLAR_FILTER=always_off. `true` makes `http/json` the metrics protocol when none
   * is set; `true` with another explicit metrics protocol is refused.
   */
  exemplars?: boolean;
  /** Extra export headers (merged over OTEL_EXPORTER_OTLP_HEADERS). Never recorded anywhere. */
  headers?: Record<string, string>;
  /** Metric export interval. Default: OTEL_METRIC_EXPORT_INTERVAL, else 60 000 ms. */
  metricExportIntervalMs?: number;
  /**
   * How long one export may take, retries of an unreachable endpoint included; bounds how long
   * `forceFlush()` and `shutdown()` can wait. Default: OTEL_EXPORTER_OTLP_TIMEOUT, else 10 000 ms.
   */
  exportTimeoutMs?: number;
  /** More resource attributes; they win over OTEL_RESOURCE_ATTRIBUTES. */
  resourceAttributes?: Attributes;
  /** Export traces. Default: true unless OTEL_TRACES_EXPORTER=none. */
  traces?: boolean;
  /** Export metrics. Default: true unless OTEL_METRICS_EXPORTER=none. */
  metrics?: boolean;
}

export interface TelemetryHandle {
  /** Exports what is buffered. Never rejects: export failures are reported through `diag`. */
  forceFlush(): Promise<void>;
  /** Flushes, stops the exporters and unregisters the SDK. Never rejects. */
  shutdown(): Promise<void>;
}

function env(name: string): string | undefined {
  const value = process.env[name]?.trim();
  return value ? value : undefined;
}

function envList(name: string): string[] | undefined {
  return env(name)
    ?.split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
}

function envNumber(name: string): number | undefined {
  const raw = env(name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    diag.warn(`bulwark/otel: ignoring ${name}=${raw} (not a positive number)`);
    return undefined;
  }
  return n;
}

/** `base` + `/v1/<signal>`, the OTLP/HTTP rule for a base endpoint. */
function signalUrl(base: string, signal: 'traces' | 'metrics'): string {
  return `${base.replace(/\/+$/, '')}/v1/${signal}`;
}

/**
 * The protocol of one signal: the explicit option, else the per-signal variable, else the general
 * one, else this module's default for the signal. An unknown value in a variable is reported and
 * ignored; an unknown explicit option throws.
 */
function protocolOf(option: OtlpProtocol | undefined, signal: 'traces' | 'metrics'): OtlpProtocol {
  if (option !== undefined) {
    if (!PROTOCOLS.includes(option)) {
      throw new TypeError(`bulwark/otel: options.protocol must be one of ${PROTOCOLS.join(', ')}; got ${JSON.stringify(option)}`);
    }
    return option;
  }
  for (const name of [`OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_PROTOCOL`, 'OTEL_EXPORTER_OTLP_PROTOCOL']) {
    const value = env(name)?.toLowerCase();
    if (value === undefined) continue;
    if ((PROTOCOLS as readonly string[]).includes(value)) return value as OtlpProtocol;
    diag.warn(`bulwark/otel: ignoring ${name}=${value} (not one of ${PROTOCOLS.join(', ')})`);
  }
  return signal === 'traces' ? 'http/json' : 'http/protobuf';
}

function enabled(option: boolean | undefined, exporterEnv: string): boolean {
  if (option !== undefined) return option;
  return !(envList(exporterEnv)?.includes('none') ?? false);
}

/** The running handle; 'starting' while a start awaits its imports, so a concurrent start is refused too. */
let active: TelemetryHandle | 'starting' | undefined;

const NOOP_HANDLE: TelemetryHandle = {
  forceFlush: async () => undefined,
  shutdown: async () => undefined,
};

/**
 * Starts the OpenTelemetry Node SDK with OTLP exporters and registers it globally, so
 * Bulwark's spans and metrics (and any other `@opentelemetry/api` user's) are exported.
 * Explicit options win over the standard OTEL_* environment variables, which are honoured
 * otherwise. An unreachable endpoint never throws into the application: failed exports are
 * reported through `diag` and dropped.
 */
export async function startTelemetry(options: StartTelemetryOptions = {}): Promise<TelemetryHandle> {
  if (active) throw new Error('bulwark/otel: startTelemetry() is already running; call shutdown() on its handle first');
  if (env('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return NOOP_HANDLE;
  active = 'starting';
  try {
    const handle = await start(options);
    active = handle;
    return handle;
  } catch (error) {
    active = undefined;
    throw error;
  }
}

async function start(options: StartTelemetryOptions): Promise<TelemetryHandle> {
  const wantTraces = enabled(options.traces, 'OTEL_TRACES_EXPORTER');
  const wantMetrics = enabled(options.metrics, 'OTEL_METRICS_EXPORTER');

  const tracesProtocol = protocolOf(options.protocol, 'traces');
  const metricsProtocolSet =
    options.protocol !== undefined || env('OTEL_EXPORTER_OTLP_METRICS_PROTOCOL') !== undefined || env('OTEL_EXPORTER_OTLP_PROTOCOL') !== undefined;
  const metricsProtocol = options.exemplars === true && !metricsProtocolSet ? 'http/json' : protocolOf(options.protocol, 'metrics');
  if (options.exemplars === true && metricsProtocol !== 'http/json') {
    throw new TypeError(
      `bulwark/otel: options.exemplars needs OTLP/HTTP JSON metrics (http/json), but the metrics protocol is ${metricsProtocol}`,
    );
  }
  const exemplars =
    wantMetrics && metricsProtocol === 'http/json' && (options.exemplars ?? env('OTEL_METRICS_EXEMPLAR_FILTER')?.toLowerCase() !== 'always_off')
      ? new ExemplarStore()
      : undefined;

  const { NodeSDK } = await load('@opentelemetry/sdk-node', () => import('@opentelemetry/sdk-node'));
  const resources = await load('@opentelemetry/resources', () => import('@opentelemetry/resources'));
  const sdkTrace = wantTraces ? await load('@opentelemetry/sdk-trace', () => import('@opentelemetry/sdk-trace')) : undefined;
  const sdkMetrics = wantMetrics ? await load('@opentelemetry/sdk-metrics', () => import('@opentelemetry/sdk-metrics')) : undefined;
  // Resource: SDK defaults < detectors (OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME, host, os,
  // service.instance.id) < explicit options. `process` is opt-in via OTEL_NODE_RESOURCE_DETECTORS:
  // it records the command line, which may hold secrets.
  const detectorsByName = {
    env: [resources.resourceAttributesEnvDetector, resources.serviceNameEnvDetector],
    host: [resources.hostDetector],
    os: [resources.osDetector],
    process: [resources.processDetector],
    serviceinstance: [resources.serviceInstanceIdDetector],
  };
  const requested = envList('OTEL_NODE_RESOURCE_DETECTORS');
  const detectorNames: Array<keyof typeof detectorsByName> = requested?.includes('none')
    ? []
    : requested?.includes('all')
      ? ['env', 'host', 'os', 'process', 'serviceinstance']
      : requested
        ? requested.filter((n): n is keyof typeof detectorsByName => n in detectorsByName)
        : ['env', 'host', 'os', 'serviceinstance'];
  const explicit: Attributes = { ...options.resourceAttributes };
  if (options.serviceName !== undefined) explicit['service.name'] = options.serviceName;
  if (options.serviceVersion !== undefined) explicit['service.version'] = options.serviceVersion;
  if (options.environment !== undefined) explicit['deployment.environment.name'] = options.environment;
  const resource = resources
    .defaultResource()
    .merge(resources.detectResources({ detectors: detectorNames.flatMap((n) => detectorsByName[n]) }))
    .merge(resources.resourceFromAttributes(explicit));

  const httpConfig = (signal: 'traces' | 'metrics') => ({
    ...(options.endpoint !== undefined ? { url: signalUrl(options.endpoint, signal) } : {}),
    ...(options.headers !== undefined ? { headers: { ...options.headers } } : {}),
    ...(options.exportTimeoutMs !== undefined ? { timeoutMillis: options.exportTimeoutMs } : {}),
  });
  // OTLP/gRPC: the endpoint as is; explicit headers become gRPC metadata (merged over
  // OTEL_EXPORTER_OTLP_HEADERS by the exporter).
  const grpcConfig = async () => {
    let metadata: import('@grpc/grpc-js').Metadata | undefined;
    if (options.headers !== undefined) {
      const grpc = await load('@grpc/grpc-js', () => import('@grpc/grpc-js'));
      metadata = new grpc.Metadata();
      for (const [key, value] of Object.entries(options.headers)) metadata.set(key, value);
    }
    return {
      ...(options.endpoint !== undefined ? { url: options.endpoint } : {}),
      ...(metadata !== undefined ? { metadata } : {}),
      ...(options.exportTimeoutMs !== undefined ? { timeoutMillis: options.exportTimeoutMs } : {}),
    };
  };

  const traceExporter = async () => {
    switch (tracesProtocol) {
      case 'grpc': {
        const m = await load('@opentelemetry/exporter-trace-otlp-grpc', () => import('@opentelemetry/exporter-trace-otlp-grpc'));
        return new m.OTLPTraceExporter(await grpcConfig());
      }
      case 'http/protobuf': {
        const m = await load('@opentelemetry/exporter-trace-otlp-proto', () => import('@opentelemetry/exporter-trace-otlp-proto'));
        return new m.OTLPTraceExporter(httpConfig('traces'));
      }
      case 'http/json': {
        const m = await load('@opentelemetry/exporter-trace-otlp-http', () => import('@opentelemetry/exporter-trace-otlp-http'));
        return new m.OTLPTraceExporter(httpConfig('traces'));
      }
    }
  };
  const metricExporter = async () => {
    switch (metricsProtocol) {
      case 'grpc': {
        const m = await load('@opentelemetry/exporter-metrics-otlp-grpc', () => import('@opentelemetry/exporter-metrics-otlp-grpc'));
        return new m.OTLPMetricExporter(await grpcConfig());
      }
      case 'http/protobuf': {
        const m = await load('@opentelemetry/exporter-metrics-otlp-proto', () => import('@opentelemetry/exporter-metrics-otlp-proto'));
        return new m.OTLPMetricExporter(httpConfig('metrics'));
      }
      case 'http/json': {
        const m = await load('@opentelemetry/exporter-metrics-otlp-http', () => import('@opentelemetry/exporter-metrics-otlp-http'));
        if (!exemplars) return new m.OTLPMetricExporter(httpConfig('metrics'));
        // The SDK's OTLP/HTTP JSON metric exporter, built from the same parts, with a serializer
        // that adds the exemplars.
        const base = await load('@opentelemetry/otlp-exporter-base', () => import('@opentelemetry/otlp-exporter-base/node-http'));
        const transformer = await load('@opentelemetry/otlp-transformer', () => import('@opentelemetry/otlp-transformer'));
        const config = httpConfig('metrics');
        const delegate = base.createOtlpHttpExportDelegate(
          base.convertLegacyHttpOptions(config, 'METRICS', 'v1/metrics', { 'Content-Type': 'application/json' }),
          exemplarJsonSerializer(transformer.JsonMetricsSerializer, exemplars),
          'otlp_http_metric_exporter',
          transformer.MetricsExporterMetricsHelper,
          undefined,
        );
        return new m.OTLPMetricExporterBase(delegate, config);
      }
    }
  };

  const spanProcessor = sdkTrace ? new sdkTrace.BatchSpanProcessor({ exporter: await traceExporter() }) : undefined;

  let metricReader: InstanceType<NonNullable<typeof sdkMetrics>['PeriodicExportingMetricReader']> | undefined;
  if (sdkMetrics) {
    const interval = options.metricExportIntervalMs ?? envNumber('OTEL_METRIC_EXPORT_INTERVAL') ?? 60_000;
    // The reader refuses a timeout longer than the interval.
    const timeout = Math.min(envNumber('OTEL_METRIC_EXPORT_TIMEOUT') ?? 30_000, interval);
    metricReader = new sdkMetrics.PeriodicExportingMetricReader({
      // Every new series starts with an explicit 0 at its start timestamp, so its first
      // observations count in rate()/increase() on any backend (src/otel/zeroStart.ts).
      exporter: withZeroStartPoints(await metricExporter()),
      exportIntervalMillis: interval,
      exportTimeoutMillis: timeout,
    });
  }

  const sdk = new NodeSDK({
    resource,
    autoDetectResources: false,
    spanProcessors: spanProcessor ? [spanProcessor] : [],
    metricReaders: metricReader ? [metricReader] : [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  let meterProvider: MeterProvider | undefined = metricReader ? metrics.getMeterProvider() : undefined;
  if (meterProvider && exemplars) {
    // The latency histograms also offer each observation (with its span) to the exemplar store.
    const withStore = withExemplars(meterProvider, exemplars);
    metrics.disable();
    metrics.setGlobalMeterProvider(withStore);
    meterProvider = withStore;
  }

  const report = (what: string) => (error: unknown) => {
    diag.warn(`bulwark/otel: ${what} failed`, error);
  };

  let stopped: Promise<void> | undefined;
  const handle: TelemetryHandle = {
    async forceFlush() {
      if (stopped) return;
      await Promise.all([
        spanProcessor?.forceFlush().catch(report('trace flush')),
        metricReader?.forceFlush().catch(report('metric flush')),
      ]);
    },
    shutdown() {
      stopped ??= (async () => {
        await sdk.shutdown().catch(report('shutdown'));
        // Unregister what this call registered, so the process can start telemetry again.
        if (spanProcessor) trace.disable();
        if (meterProvider && metrics.getMeterProvider() === meterProvider) metrics.disable();
        propagation.disable();
        context.disable();
        if (active === handle) active = undefined;
      })();
      return stopped;
    },
  };
  return handle;
}
