/**
 * A real OpenTelemetry SDK in memory (spans and metrics) plus a small driver that plays the
 * engine's side of the observer seam, so telemetry tests can run the scenarios of DESIGN §1
 * without the engine and assert the exact span tree and metric points.
 */
import { context, type Attributes, type HrTime } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  DataPointType,
  MeterProvider,
  MetricReader,
  type DataPoint,
  type Histogram as HistogramValue,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import type { BreakerTransition, CircuitState } from '../../src/events/breakerTransition.js';
import { BulwarkError } from '../../src/errors/bulwarkError.js';
import type { ErrorType } from '../../src/errors/errorTypes.js';
import { ProviderError } from '../../src/errors/providerError.js';
import type {
  AttemptObserver,
  EngineObserver,
  FallbackReason,
  Outcome,
  RequestInfo,
  RequestObserver,
} from '../../src/events/engineObserver.js';
import type { ChainHealth } from '../../src/health/types.js';
import type { AttemptKind, ChatRequest, ChatResult, ProviderResponse, TargetRef, Tier, Usage } from '../../src/request/types.js';
import { createOtelObserver, type OtelObserverTarget } from '../../src/telemetry/otelObserver.js';

let contextManager: AsyncLocalStorageContextManager | undefined;

/** AsyncLocalStorage context, as the Node SDK installs it. Idempotent. */
export function installContextManager(): void {
  if (contextManager) return;
  contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
}

class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

export interface Sdk {
  exporter: InMemorySpanExporter;
  tracerProvider: TracerProvider;
  meterProvider: MeterProvider;
  reader: CollectingReader;
  collect(): Promise<MetricData[]>;
  spans(): ReadableSpan[];
  shutdown(): Promise<void>;
}

export function createSdk(): Sdk {
  installContextManager();
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    exporter,
    tracerProvider,
    meterProvider,
    reader,
    async collect() {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw new AggregateError(errors, 'metric collection failed');
      return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    },
    spans: () => exporter.getFinishedSpans(),
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

// ------------------------------------------------------------------------------- metric queries

export function metric(all: MetricData[], name: string): MetricData {
  const found = all.find((m) => m.descriptor.name === name);
  if (!found) throw new Error(`metric ${name} not collected (have: ${all.map((m) => m.descriptor.name).join(', ')})`);
  return found;
}

function matches(attrs: Attributes, where: Attributes): boolean {
  return Object.entries(where).every(([k, v]) => (v === undefined ? !(k in attrs) : attrs[k] === v));
}

/** Sum of counter/gauge values whose attributes match `where` (`undefined` = key absent). */
export function sumOf(all: MetricData[], name: string, where: Attributes = {}): number {
  const m = metric(all, name);
  if (m.dataPointType !== DataPointType.SUM && m.dataPointType !== DataPointType.GAUGE) throw new Error(`${name} is not a sum/gauge`);
  return (m.dataPoints as DataPoint<number>[]).filter((p) => matches(p.attributes, where)).reduce((s, p) => s + p.value, 0);
}

/** Points of a sum/gauge metric. */
export function points(all: MetricData[], name: string, where: Attributes = {}): DataPoint<number>[] {
  const m = metric(all, name);
  return (m.dataPoints as DataPoint<number>[]).filter((p) => matches(p.attributes, where));
}

/** Histogram points matching `where`. */
export function histogramPoints(all: MetricData[], name: string, where: Attributes = {}): DataPoint<HistogramValue>[] {
  const m = metric(all, name);
  if (m.dataPointType !== DataPointType.HISTOGRAM) throw new Error(`${name} is not a histogram`);
  return (m.dataPoints as DataPoint<HistogramValue>[]).filter((p) => matches(p.attributes, where));
}

export function histogramCount(all: MetricData[], name: string, where: Attributes = {}): number {
  return histogramPoints(all, name, where).reduce((s, p) => s + p.value.count, 0);
}

export function histogramSum(all: MetricData[], name: string, where: Attributes = {}): number {
  return histogramPoints(all, name, where).reduce((s, p) => s + (p.value.sum ?? 0), 0);
}

// ---------------------------------------------------------------------------------- span queries

export function spanId(span: ReadableSpan): string {
  return span.spanContext().spanId;
}

export function hrMs(t: HrTime): number {
  return t[0] * 1000 + t[1] / 1e6;
}

export function byName(spans: ReadableSpan[], name: string): ReadableSpan[] {
  return spans.filter((s) => s.name === name);
}

export function only(spans: ReadableSpan[], name: string): ReadableSpan {
  const found = byName(spans, name);
  if (found.length !== 1) throw new Error(`expected one span ${name}, found ${found.length}: ${spans.map((s) => s.name).join(', ')}`);
  return found[0]!;
}

// ------------------------------------------------------------------------------- engine driver

export const TARGETS: OtelObserverTarget[] = [
  { index: 0, provider: 'openai', model: 'gpt-4o', breaker: 'openai/gpt-4o' },
  { index: 1, provider: 'anthropic', model: 'claude-sonnet-4-5', breaker: 'anthropic/claude-sonnet-4-5' },
  { index: 2, provider: 'openai', model: 'llama3.1', breaker: 'openai/llama3.1', tier: 'reduced' },
];

export const ref = (index: number): TargetRef => {
  const t = TARGETS[index]!;
  return { provider: t.provider, model: t.model, index };
};

/** A mutable breaker/budget view that the gauges read through `snapshot()`. */
export class FakeHealth {
  states = new Map<string, CircuitState>();
  budgets = new Map<string, number>();
  constructor(readonly chain = 'support-agent') {
    for (const t of TARGETS) {
      this.states.set(t.breaker, 'closed');
      this.budgets.set(t.breaker, 10);
    }
  }
  snapshot = (): ChainHealth => ({
    chain: this.chain,
    forcedTier: 'auto',
    targets: TARGETS.map((t) => ({
      index: t.index,
      provider: t.provider,
      model: t.model,
      tier: t.tier ?? 'full',
      breaker: t.breaker,
      state: this.states.get(t.breaker) ?? 'closed',
      override: 'auto',
      consecutiveFailures: 0,
      failureRate: 0,
      windowCalls: 0,
      latencyMs: null,
      retryBudgetRemaining: this.budgets.get(t.breaker) ?? 0,
      inFlight: 0,
    })),
  });
}

export const REQUEST: ChatRequest = {
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Summarise today' },
  ],
  maxTokens: 256,
  temperature: 0.2,
};

export function response(index: number, usage: Usage = { inputTokens: 120, outputTokens: 40 }): ProviderResponse {
  return { text: 'All quiet.', toolCalls: [], finishReason: 'stop', usage, model: `${ref(index).model}-2025`, responseId: `resp-${index}` };
}

export function providerError(index: number, errorType: ErrorType, extra: { retryAfterMs?: number } = {}): ProviderError {
  const r = ref(index);
  return new ProviderError({ errorType, provider: r.provider, model: r.model, message: `${errorType} from ${r.provider}`, ...extra });
}

/** Drives an observer the way the engine does, keeping the counts the engine would report. */
export class Driver {
  readonly req: RequestObserver | undefined;
  readonly info: RequestInfo;
  attempts = 0;
  retries = 0;
  hops = 0;
  cost = 0;
  private resend = 0;
  private lastTarget = -1;
  current: { observer: AttemptObserver | undefined; info: Parameters<NonNullable<RequestObserver['onAttemptStart']>>[0] } | undefined;

  constructor(
    readonly observer: EngineObserver,
    readonly health: FakeHealth,
    request: ChatRequest = REQUEST,
    stream = false,
    id = 'req-1',
  ) {
    this.info = { id, chain: health.chain, operation: 'chat', stream, request, startedAt: Date.now() };
    this.req = observer.onRequestStart?.(this.info);
  }

  run<T>(fn: () => T): T {
    return this.req?.run ? this.req.run(fn) : fn();
  }

  attempt(index: number, kind: AttemptKind): AttemptObserver | undefined {
    if (index !== this.lastTarget) this.resend = 0;
    this.lastTarget = index;
    this.attempts++;
    const t = TARGETS[index]!;
    const info = {
      request: this.info,
      number: this.attempts,
      kind,
      target: ref(index),
      breaker: t.breaker,
      resendCount: this.resend,
      serverAddress: t.provider === 'openai' ? 'api.openai.com' : 'api.anthropic.com',
      serverPort: 443,
    };
    const observer = this.req?.onAttemptStart?.(info);
    this.current = { observer, info };
    return observer;
  }

  succeed(durationMs = 800, res: ProviderResponse = response(this.lastTarget), costUsd = 0.0007): void {
    this.cost += costUsd;
    this.current?.observer?.onEnd?.({ durationMs, response: res, usage: res.usage, costUsd });
  }

  fail(errorType: ErrorType, durationMs = 300, costUsd = 0, extra: { retryAfterMs?: number; usage?: Usage } = {}): void {
    this.cost += costUsd;
    const end = {
      durationMs,
      error: providerError(this.lastTarget, errorType, extra.retryAfterMs === undefined ? {} : { retryAfterMs: extra.retryAfterMs }),
      costUsd,
      ...(extra.usage ? { usage: extra.usage } : {}),
    };
    this.current?.observer?.onEnd?.(end);
  }

  scheduleRetry(delayMs: number, reason: ErrorType, retryAfterMs?: number): void {
    this.retries++;
    this.resend++;
    const current = this.current!;
    this.req?.onRetryScheduled?.({ attempt: current.info, delayMs, reason, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
  }

  transition(breaker: string, from: CircuitState, to: CircuitState, reason: string, viaAttempt = true): void {
    const t: BreakerTransition = { breaker, from, to, reason, at: Date.now() };
    this.health.states.set(breaker, to);
    if (viaAttempt) this.current?.observer?.onBreakerTransition?.(t);
    this.observer.onBreakerTransition?.(t);
  }

  hop(from: number, to: number, reason: FallbackReason): void {
    this.hops++;
    this.req?.onFallback?.({ from: ref(from), to: ref(to), reason });
  }

  end(outcome: Outcome, tier: Tier | undefined, options: { error?: ErrorType; durationMs?: number; target?: number } = {}): void {
    const durationMs = options.durationMs ?? 1500;
    let result: ChatResult | undefined;
    if (tier !== undefined) {
      const index = options.target ?? this.lastTarget;
      const target: TargetRef = tier === 'cached' || tier === 'static' ? { provider: 'bulwark', model: tier, index: -1 } : ref(index);
      result = {
        text: 'All quiet.',
        toolCalls: [],
        finishReason: 'stop',
        usage: { inputTokens: 120, outputTokens: 40 },
        costUsd: this.cost,
        tier,
        target,
        attempts: [],
        fallbackUsed: this.hops > 0,
        model: target.index >= 0 ? `${target.model}-2025` : tier,
      };
    }
    this.req?.onEnd?.({
      outcome,
      durationMs,
      attempts: this.attempts,
      retries: this.retries,
      hops: this.hops,
      costUsd: this.cost,
      ...(result ? { result } : {}),
      ...(options.error ? { error: new BulwarkError(options.error, `request failed: ${options.error}`) } : {}),
    });
  }
}

export function newObserver(sdk: Sdk, health: FakeHealth, captureContent = false): EngineObserver {
  return createOtelObserver({
    chain: health.chain,
    targets: TARGETS,
    snapshot: health.snapshot,
    captureContent,
    tracer: sdk.tracerProvider.getTracer('bulwark'),
    meter: sdk.meterProvider.getMeter('bulwark'),
  });
}

/**
 * The Bulwark spans as a tree of names, kinds, key attributes and event names (ids, times and costs
 * left out), for comparing the telemetry of two entry points to the same request.
 */
export function bulwarkSpanTree(spans: ReadableSpan[]): unknown {
  const bulwark = spans.filter((s) => s.instrumentationScope.name === 'bulwark');
  const ids = new Set(bulwark.map(spanId));
  const describe = (span: ReadableSpan): unknown => ({
    name: span.name,
    kind: span.kind,
    status: span.status.code,
    attributes: Object.fromEntries(
      Object.entries(span.attributes).filter(([k]) => !/duration|time|_ms$|cost/.test(k) && k !== 'gen_ai.response.id').sort(([a], [b]) => a.localeCompare(b)),
    ),
    events: span.events.map((e) => e.name),
    children: bulwark.filter((c) => c.parentSpanContext?.spanId === spanId(span)).map(describe),
  });
  return bulwark.filter((s) => !ids.has(s.parentSpanContext?.spanId ?? '')).map(describe);
}
