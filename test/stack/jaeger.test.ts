/**
 * Traces end to end in a real trace store: a failover request through the engine and the official
 * clients (fault server: the primary answers 503 three times, the backup 429, the local target
 * answers) → the real OpenTelemetry SDK's OTLP/HTTP trace exporter (what startTelemetry() uses) →
 * the collector running the shipped otel-collector/config.yaml (traces pipeline, otlp_grpc/traces
 * exporter) → Jaeger v2 (jaeger/config.yaml, in-memory storage). The trace read back through
 * Jaeger's query API (/api/v3/traces/{id}, OTLP JSON) must equal what the SDK produced: every span
 * with its parent, kind, status, timestamps, attributes and events.
 *
 * The SDK side is read from an in-memory exporter on the same TracerProvider, so both sides are
 * the very spans the SDK ended.
 *
 * Needs `jaeger` and `otelcol-bulwark` (scripts/install-tools.sh): skipped loudly on a developer
 * machine without them, a failure under CI=true.
 */
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fault, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { ask, threeTargetChain } from '../integration/setup.js';
import { startCollector, startJaeger, stopAll, type Collector, type Jaeger } from '../support/processes.js';
import { needTools } from '../support/tools.js';

const tools = needTools('jaeger', 'otelcol-bulwark');
const SERVICE = 'bulwark-jaeger-e2e';

type Value = string | number | boolean | Value[] | undefined;
interface NormalSpan {
  name: string;
  spanId: string;
  parentSpanId: string;
  kind: number;
  status: { code: number; message: string };
  start: string;
  end: string;
  attributes: Record<string, Value>;
  events: { name: string; time: string; attributes: Record<string, Value> }[];
}

const ns = (t: [number, number]): string => String(BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]));
const sorted = (o: Record<string, Value>): Record<string, Value> => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));

/** The SDK's view of a span, in OTLP terms (span kind + 1, nanosecond strings). */
function fromSdk(s: ReadableSpan): NormalSpan {
  return {
    name: s.name,
    spanId: s.spanContext().spanId,
    parentSpanId: s.parentSpanContext?.spanId ?? '',
    kind: s.kind + 1,
    status: { code: s.status.code, message: s.status.message ?? '' },
    start: ns(s.startTime),
    end: ns(s.endTime),
    attributes: sorted(s.attributes as Record<string, Value>),
    events: s.events.map((e) => ({ name: e.name, time: ns(e.time), attributes: sorted((e.attributes ?? {}) as Record<string, Value>) })),
  };
}

type OtlpValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean; arrayValue?: { values?: OtlpValue[] } };
const otlpValue = (v: OtlpValue): Value =>
  v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.doubleValue ?? v.boolValue ?? v.arrayValue?.values?.map(otlpValue) ?? [];
const otlpAttrs = (a: { key: string; value: OtlpValue }[] | undefined): Record<string, Value> => sorted(Object.fromEntries((a ?? []).map((x) => [x.key, otlpValue(x.value)])));
/** Jaeger's ids: hex (OTLP/JSON) or base64 (protobuf JSON mapping); normalised to hex. */
const hex = (id: string | undefined): string => (!id ? '' : /^[0-9a-f]+$/.test(id) ? id : Buffer.from(id, 'base64').toString('hex'));

interface OtlpSpan {
  name: string;
  spanId: string;
  parentSpanId?: string;
  kind?: number | string;
  status?: { code?: number | string; message?: string };
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: { key: string; value: OtlpValue }[];
  events?: { name: string; timeUnixNano: string; attributes?: { key: string; value: OtlpValue }[] }[];
}
const KINDS: Record<string, number> = { SPAN_KIND_INTERNAL: 1, SPAN_KIND_SERVER: 2, SPAN_KIND_CLIENT: 3, SPAN_KIND_PRODUCER: 4, SPAN_KIND_CONSUMER: 5 };
const STATUS: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

function fromJaeger(s: OtlpSpan): NormalSpan {
  return {
    name: s.name,
    spanId: hex(s.spanId),
    parentSpanId: hex(s.parentSpanId),
    kind: typeof s.kind === 'string' ? KINDS[s.kind]! : (s.kind ?? 0),
    status: { code: typeof s.status?.code === 'string' ? STATUS[s.status.code]! : (s.status?.code ?? 0), message: s.status?.message ?? '' },
    start: String(s.startTimeUnixNano),
    end: String(s.endTimeUnixNano),
    attributes: otlpAttrs(s.attributes),
    events: (s.events ?? []).map((e) => ({ name: e.name, time: String(e.timeUnixNano), attributes: otlpAttrs(e.attributes) })),
  };
}

describe.skipIf(tools.skip)('a failover request: SDK → collector (shipped config) → Jaeger v2 → query API', () => {
  let jaeger: Jaeger;
  let collector: Collector;
  let server: FaultServer;
  let provider: TracerProvider;
  const memory = new InMemorySpanExporter();
  let sdkSpans: NormalSpan[] = [];
  let stored: { resource: Record<string, Value>; spans: NormalSpan[] } = { resource: {}, spans: [] };
  let traceId = '';

  beforeAll(async () => {
    tools.path('jaeger');
    tools.path('otelcol-bulwark');
    jaeger = await startJaeger();
    // Metrics are not this test's business: their exporter points at a closed port.
    collector = await startCollector({ metricsEndpoint: 'http://127.0.0.1:9/none', tracesEndpoint: jaeger.otlpGrpcEndpoint });
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': SERVICE }),
      spanProcessors: [new SimpleSpanProcessor({ exporter: memory }), new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${collector.otlpHttpUrl}/v1/traces` }) })],
    });
    trace.setGlobalTracerProvider(provider);

    server = await startFaultServer({ seed: 3 });
    server.script({ route: 'primary' }, { then: fault.serverError(503) });
    server.script({ route: 'backup' }, { then: fault.rateLimit({ retryAfterMs: 60_000 }) });
    const { llm } = threeTargetChain(server, { telemetry: true });
    const res = await llm.chat(ask);
    expect(res.attempts.map((a) => `${a.provider}/${a.model}:${a.kind}:${a.errorType ?? 'ok'}`)).toEqual([
      'openai/gpt-4o:initial:server_error',
      'openai/gpt-4o:retry:server_error',
      'openai/gpt-4o:retry:server_error',
      'anthropic/claude-sonnet-4-6:fallback:rate_limited',
      'openai/llama3.1:fallback:ok',
    ]);
    await llm.close();
    await provider.forceFlush();

    sdkSpans = memory.getFinishedSpans().map(fromSdk);
    traceId = memory.getFinishedSpans()[0]!.spanContext().traceId;
    // Poll the query API until the whole trace is stored. raw_traces: the spans as stored, without
    // the query service's adjusters (its clock-skew adjuster adds a warning attribute and may shift a
    // child that starts in the same millisecond as its parent, which is the query's view, not storage).
    const deadline = Date.now() + 20_000;
    for (;;) {
      const res = await fetch(`${jaeger.queryUrl}/api/v3/traces/${traceId}?raw_traces=true`);
      if (res.ok) {
        const body = (await res.json()) as { result?: { resourceSpans?: { resource?: { attributes?: { key: string; value: OtlpValue }[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[] } };
        const rs = body.result?.resourceSpans ?? [];
        const spans = rs.flatMap((r) => (r.scopeSpans ?? []).flatMap((s) => s.spans ?? [])).map(fromJaeger);
        stored = { resource: otlpAttrs(rs[0]?.resource?.attributes), spans };
        if (spans.length >= sdkSpans.length) break;
      }
      if (Date.now() > deadline) throw new Error(`Jaeger has ${stored.spans.length} of ${sdkSpans.length} spans of trace ${traceId}:\n${jaeger.process.logs().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 60_000);

  afterAll(async () => {
    await provider?.shutdown();
    trace.disable();
    context.disable();
    await server?.close();
    await stopAll();
  });

  it('the SDK produced the failover tree: one request span, five attempt spans under it', () => {
    const roots = sdkSpans.filter((s) => s.parentSpanId === '');
    expect(roots.map((s) => s.name)).toEqual(['bulwark chat support-agent']);
    const attempts = sdkSpans.filter((s) => s.parentSpanId === roots[0]!.spanId);
    expect(attempts.map((s) => s.name)).toEqual(['chat gpt-4o', 'chat gpt-4o', 'chat gpt-4o', 'chat claude-sonnet-4-6', 'chat llama3.1']);
    expect(roots[0]!.events.filter((e) => e.name === 'bulwark.fallback')).toHaveLength(2);
    expect(attempts.flatMap((a) => a.events.map((e) => e.name))).toContain('bulwark.retry.scheduled');
  });

  it('Jaeger stores exactly the spans the SDK produced: ids, parents, kinds, status, times, attributes, events', () => {
    const byId = (a: NormalSpan, b: NormalSpan) => a.spanId.localeCompare(b.spanId);
    expect(stored.spans.length).toBe(sdkSpans.length);
    expect([...stored.spans].sort(byId)).toEqual([...sdkSpans].sort(byId));
  });

  it('with the resource the SDK set', () => {
    expect(stored.resource['service.name']).toBe(SERVICE);
  });
});
