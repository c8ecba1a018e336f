/**
 * `startTelemetry()` (bulwark/otel) against a local OTLP/HTTP capture server: where it sends,
 * with which resource and headers, how OTEL_* variables and explicit options combine, and that
 * an unreachable endpoint never throws into the application.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, diag, metrics, trace } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadPeer, PROTOCOL_PEER_DEPENDENCIES, TELEMETRY_PEER_DEPENDENCIES } from '../../src/otel/loadPeer.js';
import { startTelemetry, type TelemetryHandle } from '../../src/otel/index.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

let server: Server;
let base: string;
let received: Received[];
let handle: TelemetryHandle | undefined;

beforeEach(async () => {
  received = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/json' });
      res.end(req.headers['content-type']?.includes('json') ? '{}' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await handle?.shutdown();
  handle = undefined;
  vi.unstubAllEnvs();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Emits one span and one counter point through the global API, as Bulwark does. */
function emit(): void {
  trace.getTracer('bulwark').startSpan('bulwark chat t').end();
  metrics.getMeter('bulwark').createCounter('bulwark.requests', { unit: '{request}' }).add(1, { 'bulwark.chain': 't' });
}

type OtlpAttr = { key: string; value: { stringValue?: string } };

function traceResource(): Record<string, string | undefined> {
  const traces = received.filter((r) => r.path === '/v1/traces');
  expect(traces.length).toBeGreaterThan(0);
  const body = JSON.parse(traces[0]!.body.toString('utf8')) as { resourceSpans: Array<{ resource: { attributes: OtlpAttr[] } }> };
  return Object.fromEntries(body.resourceSpans[0]!.resource.attributes.map((a) => [a.key, a.value.stringValue]));
}

describe('startTelemetry', () => {
  it('explicit options: endpoint, headers, resource attributes; traces as OTLP JSON, metrics as OTLP protobuf', async () => {
    handle = await startTelemetry({
      serviceName: 'checkout',
      serviceVersion: '1.2.3',
      environment: 'staging',
      endpoint: `${base}/`,
      headers: { 'x-tenant': 't1' },
      resourceAttributes: { team: 'ai' },
      metricExportIntervalMs: 60_000,
    });
    emit();
    await handle.forceFlush();

    const traces = received.find((r) => r.path === '/v1/traces');
    const metricsReq = received.find((r) => r.path === '/v1/metrics');
    expect(traces?.headers['content-type']).toContain('application/json');
    expect(traces?.headers['x-tenant']).toBe('t1');
    expect(metricsReq?.headers['content-type']).toBe('application/x-protobuf');
    expect(metricsReq?.headers['x-tenant']).toBe('t1');
    expect(metricsReq?.body.toString('latin1')).toContain('bulwark.requests');
    expect(traceResource()).toMatchObject({
      'service.name': 'checkout',
      'service.version': '1.2.3',
      'deployment.environment.name': 'staging',
      team: 'ai',
    });
    // No process detector by default: the command line may hold secrets.
    expect(Object.keys(traceResource()).filter((k) => k.startsWith('process.'))).toEqual([]);
  });

  it('honours OTEL_* variables; explicit options win over them', async () => {
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', base);
    vi.stubEnv('OTEL_SERVICE_NAME', 'from-env');
    vi.stubEnv('OTEL_RESOURCE_ATTRIBUTES', 'deployment.environment.name=qa,team=env-team');
    vi.stubEnv('OTEL_EXPORTER_OTLP_HEADERS', 'x-from-env=1,x-both=env');
    handle = await startTelemetry({ environment: 'production', headers: { 'x-both': 'explicit' } });
    emit();
    await handle.forceFlush();
    expect(traceResource()).toMatchObject({ 'service.name': 'from-env', 'deployment.environment.name': 'production', team: 'env-team' });
    const traces = received.find((r) => r.path === '/v1/traces')!;
    expect(traces.headers['x-from-env']).toBe('1');
    expect(traces.headers['x-both']).toBe('explicit');
    expect(received.some((r) => r.path === '/v1/metrics')).toBe(true);

    await handle.shutdown();
    received = [];
    handle = await startTelemetry({ serviceName: 'explicit-name' });
    emit();
    await handle.forceFlush();
    expect(traceResource()['service.name']).toBe('explicit-name');
  });

  it('OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf: traces as protobuf too; the per-signal variable wins for its signal', async () => {
    vi.stubEnv('OTEL_EXPORTER_OTLP_PROTOCOL', 'http/protobuf');
    vi.stubEnv('OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', 'http/json');
    handle = await startTelemetry({ serviceName: 's', endpoint: base });
    emit();
    await handle.forceFlush();
    const traces = received.find((r) => r.path === '/v1/traces')!;
    const metricsReq = received.find((r) => r.path === '/v1/metrics')!;
    expect(traces.headers['content-type']).toBe('application/x-protobuf');
    expect(traces.body.toString('latin1')).toContain('bulwark chat t');
    expect(metricsReq.headers['content-type']).toContain('application/json');
    expect(JSON.parse(metricsReq.body.toString('utf8')).resourceMetrics[0].scopeMetrics[0].metrics[0].name).toBe('bulwark.requests');
  });

  it('an unknown protocol: the option throws naming it; a variable is reported and ignored', async () => {
    await expect(startTelemetry({ serviceName: 's', endpoint: base, protocol: 'udp' as never })).rejects.toThrow(/options\.protocol must be one of grpc, http\/protobuf, http\/json; got "udp"/);
    const warn = vi.spyOn(diag, 'warn');
    try {
      vi.stubEnv('OTEL_EXPORTER_OTLP_PROTOCOL', 'thrift');
      handle = await startTelemetry({ serviceName: 's', endpoint: base });
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('ignoring OTEL_EXPORTER_OTLP_PROTOCOL=thrift'));
      emit();
      await handle.forceFlush();
      // The defaults: traces OTLP/HTTP JSON, metrics OTLP/HTTP protobuf.
      expect(received.find((r) => r.path === '/v1/traces')!.headers['content-type']).toContain('application/json');
      expect(received.find((r) => r.path === '/v1/metrics')!.headers['content-type']).toBe('application/x-protobuf');
    } finally {
      warn.mockRestore();
    }
  });

  it('exemplars: true makes http/json the metrics protocol; with another explicit protocol it is refused', async () => {
    await expect(startTelemetry({ serviceName: 's', endpoint: base, exemplars: true, protocol: 'http/protobuf' })).rejects.toThrow(
      /options\.exemplars needs OTLP\/HTTP JSON metrics \(http\/json\), but the metrics protocol is http\/protobuf/,
    );
    handle = await startTelemetry({ serviceName: 's', endpoint: base, exemplars: true });
    emit();
    await handle.forceFlush();
    expect(received.find((r) => r.path === '/v1/metrics')!.headers['content-type']).toContain('application/json');
  });

  it('http/json metrics carry exemplars of the latency histograms recorded in a span; OTEL_METRICS_EXEMPLAR_FILTER=always_off stops them', async () => {
    const record = () => {
      const span = trace.getTracer('bulwark').startSpan('attempt');
      metrics
        .getMeter('bulwark')
        .createHistogram('gen_ai.client.operation.duration', { unit: 's' })
        .record(0.3, { 'gen_ai.request.model': 'm' }, trace.setSpan(context.active(), span));
      span.end();
      return span.spanContext();
    };
    const exemplarsSent = () =>
      received
        .filter((r) => r.path === '/v1/metrics')
        .flatMap((r) => JSON.parse(r.body.toString('utf8')).resourceMetrics[0].scopeMetrics[0].metrics)
        .filter((m: { name: string }) => m.name === 'gen_ai.client.operation.duration')
        .flatMap((m: { histogram: { dataPoints: { exemplars?: { traceId: string; spanId: string }[] }[] } }) => m.histogram.dataPoints.flatMap((p) => p.exemplars ?? []));

    vi.stubEnv('OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', 'http/json');
    handle = await startTelemetry({ serviceName: 's', endpoint: base });
    const sc = record();
    await handle.forceFlush();
    expect(exemplarsSent()).toMatchObject([{ traceId: sc.traceId, spanId: sc.spanId, asDouble: 0.3 }]);
    await handle.shutdown();

    received = [];
    vi.stubEnv('OTEL_METRICS_EXEMPLAR_FILTER', 'always_off');
    handle = await startTelemetry({ serviceName: 's', endpoint: base });
    record();
    await handle.forceFlush();
    expect(received.some((r) => r.path === '/v1/metrics')).toBe(true);
    expect(exemplarsSent()).toEqual([]);
  });

  it('traces: false and OTEL_METRICS_EXPORTER=none switch a signal off', async () => {
    handle = await startTelemetry({ serviceName: 's', endpoint: base, traces: false });
    emit();
    await handle.forceFlush();
    expect(received.map((r) => r.path)).toEqual(['/v1/metrics']);
    await handle.shutdown();

    received = [];
    vi.stubEnv('OTEL_METRICS_EXPORTER', 'none');
    handle = await startTelemetry({ serviceName: 's', endpoint: base });
    emit();
    await handle.forceFlush();
    expect(received.map((r) => r.path)).toEqual(['/v1/traces']);
  });

  it('an unreachable endpoint never throws into the application', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      // A port that was just free: connection refused.
      const closed = await new Promise<number>((resolve) => {
        const s = createServer().listen(0, '127.0.0.1', () => {
          const port = (s.address() as AddressInfo).port;
          s.close(() => resolve(port));
        });
      });
      handle = await startTelemetry({ serviceName: 's', endpoint: `http://127.0.0.1:${closed}`, metricExportIntervalMs: 200, exportTimeoutMs: 1000 });
      emit();
      const t0 = Date.now();
      await expect(handle.forceFlush()).resolves.toBeUndefined();
      // Bounded by exportTimeoutMs (retries of the refused connection included).
      expect(Date.now() - t0).toBeLessThan(3000);
      await new Promise((r) => setTimeout(r, 500)); // a couple of periodic exports fail meanwhile
      await expect(handle.shutdown()).resolves.toBeUndefined();
      handle = undefined;
      await new Promise((r) => setTimeout(r, 50));
      expect(rejections).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });

  it('refuses a second start while one runs; starts again after shutdown', async () => {
    handle = await startTelemetry({ serviceName: 's', endpoint: base });
    await expect(startTelemetry({ serviceName: 's', endpoint: base })).rejects.toThrow(/already running/);
    await handle.shutdown();
    await handle.shutdown(); // idempotent
    handle = await startTelemetry({ serviceName: 's2', endpoint: base });
    emit();
    await handle.forceFlush();
    expect(traceResource()['service.name']).toBe('s2');
  });

  it('two concurrent starts: one runs, the other is refused (no second SDK fighting over the globals)', async () => {
    const results = await Promise.allSettled([startTelemetry({ serviceName: 'a', endpoint: base }), startTelemetry({ serviceName: 'b', endpoint: base })]);
    const started = results.filter((r): r is PromiseFulfilledResult<TelemetryHandle> => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    handle = started[0]?.value;
    for (const extra of started.slice(1)) await extra.value.shutdown();
    expect(started).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(String(refused[0]!.reason)).toMatch(/already running/);
    emit();
    await handle!.forceFlush();
    expect(traceResource()['service.name']).toBe('a');
  });

  it('a start that fails (missing peer dependency, bad option) leaves the way open for the next', async () => {
    await expect(startTelemetry({ serviceName: 's', endpoint: base, metricExportIntervalMs: -1 })).rejects.toThrow();
    handle = await startTelemetry({ serviceName: 'after', endpoint: base });
    emit();
    await handle.forceFlush();
    expect(traceResource()['service.name']).toBe('after');
  });

  it('OTEL_SDK_DISABLED=true: a no-op handle, nothing registered', async () => {
    vi.stubEnv('OTEL_SDK_DISABLED', 'true');
    handle = await startTelemetry({ serviceName: 's', endpoint: base });
    emit();
    await handle.forceFlush();
    expect(received).toEqual([]);
  });
});

describe('optional peer dependencies', () => {
  it('a missing SDK package is named, with the install command', async () => {
    const missing = '@opentelemetry/this-package-does-not-exist';
    const attempt = loadPeer('@opentelemetry/sdk-node', () => import(/* @vite-ignore */ missing));
    await expect(attempt).rejects.toThrow(/needs the optional peer dependency "@opentelemetry\/sdk-node".*npm install @opentelemetry\/sdk-node/);
  });

  it('a missing protocol package names the protocol and its packages', async () => {
    const missing = '@opentelemetry/this-package-does-not-exist';
    const attempt = loadPeer('@opentelemetry/exporter-trace-otlp-grpc', () => import(/* @vite-ignore */ missing));
    await expect(attempt).rejects.toThrow(
      /"@opentelemetry\/exporter-trace-otlp-grpc".*The OTLP protocol grpc needs: npm install @opentelemetry\/exporter-trace-otlp-grpc @opentelemetry\/exporter-metrics-otlp-grpc @grpc\/grpc-js/,
    );
  });

  it('every optional peer is declared optional in package.json and pinned as a devDependency', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
      devDependencies: Record<string, string>;
    };
    for (const name of [...TELEMETRY_PEER_DEPENDENCIES, ...Object.values(PROTOCOL_PEER_DEPENDENCIES).flat()]) {
      expect(pkg.peerDependencies[name], name).toBeDefined();
      expect(pkg.peerDependenciesMeta[name]?.optional, name).toBe(true);
      expect(pkg.devDependencies[name], name).toMatch(/^\d+\.\d+\.\d+$/);
    }
  });

  it('other import errors pass through unchanged', async () => {
    const boom = new Error('syntax error in module');
    await expect(loadPeer('@opentelemetry/resources', () => Promise.reject(boom))).rejects.toBe(boom);
  });

  it('lists exactly the packages startTelemetry imports', () => {
    expect([...TELEMETRY_PEER_DEPENDENCIES].sort()).toEqual([
      '@opentelemetry/exporter-metrics-otlp-proto',
      '@opentelemetry/exporter-trace-otlp-http',
      '@opentelemetry/resources',
      '@opentelemetry/sdk-metrics',
      '@opentelemetry/sdk-node',
      '@opentelemetry/sdk-trace',
    ]);
  });
});
