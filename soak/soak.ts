/**
 * The chaos soak: many requests through two three-target chains over the official clients and the
 * fault server, with 30 % random faults of every kind on every target, one target down for a window
 * and another hung for a later one, callers that cancel, walk away from streams or insist on
 * `critical`. It counts, on the caller's side, what every request got, and holds that against the
 * metrics Bulwark emitted.
 *
 * The bar: 0 unhandled rejections, 0 requests past their deadline, 0 untyped errors, caller counts
 * equal to metric counts.
 */
import Anthropic from '@anthropic-ai/sdk';
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode } from '@opentelemetry/core';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, TracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import OpenAI from 'openai';
import {
  BulwarkError,
  anthropicTarget,
  createResilientLLM,
  memoryStore,
  openaiTarget,
  type AttemptRecord,
  type ChatRequest,
  type ChatResult,
  type Message,
  type ResilientLLM,
  type ResilientLLMOptions,
  type Target,
} from '../src/index.js';
import { fault, startFaultServer, type FaultServer, type RandomFault, type Script, type ScriptHandle } from '../src/testing/index.js';
import { createRandom } from '../src/testing/random.js';

export interface SoakOptions {
  /** Logical requests. Default 100 000. */
  requests?: number;
  /**
   * Arrivals per second (open loop). Default 400. Paced arrivals keep time and requests in
   * proportion, so breaker open times and windows mean the same in a short and a long soak; a
   * closed loop would race through thousands of instant static answers while every breaker is open.
   */
  rate?: number;
  /** Most requests in flight; arrivals wait above it. Default 400. */
  maxInFlight?: number;
  seed?: number;
  /** Called about every 5 % of the run. */
  onProgress?: (progress: { done: number; total: number; elapsedMs: number; rssMb: number }) => void;
}

/** One caller-side count against the same count from the emitted metrics. */
export interface CountCheck {
  what: string;
  caller: number;
  metrics: number;
  equal: boolean;
}

export interface SoakReport {
  requests: number;
  elapsedMs: number;
  requestsPerSec: number;
  /** What callers got: a tier, or an error ('none'). */
  served: Record<'full' | 'reduced' | 'cached' | 'static' | 'none', number>;
  outcomes: Record<string, number>;
  typedErrors: Record<string, number>;
  untypedErrors: number;
  untypedSamples: string[];
  unhandledRejections: number;
  unhandledSamples: string[];
  pastDeadline: number;
  /** The first few late requests, described. */
  lateSamples: string[];
  /** Longest a request ran on after its deadline fired (ms). */
  maxRunAfterDeadlineMs: number;
  /** Wall clock: how far past its deadline the latest request finished (ms), event-loop lag included. */
  maxOvershootMs: number;
  deadlineGraceMs: number;
  /** Event-loop delay over the run (ms): how late timers could fire. */
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  counts: CountCheck[];
  upstream: { attempts: number; httpCalls: number; serverRequests: number };
  callerBehaviour: { streamed: number; walkedAway: number; cancelled: number; critical: number };
  windows: { primaryDown: [number, number]; secondaryHung: [number, number] };
  rssMb: number;
  heapUsedMb: number;
  bar: { passed: boolean; failures: string[] };
}

const TOTAL_MS = 2000;
const SHORT_TOTAL_MS = 800;
/**
 * A request is late when it is still running this long after its deadline fired. "Fired" is read
 * from a caller-side timer with the same deadline, so event-loop lag (which delays Bulwark's timer
 * and the caller's alike, and is reported on its own) does not count against the library; the raw
 * wall-clock overshoot is reported too.
 */
const DEADLINE_GRACE_MS = 100;

/**
 * 30 % of calls, every fault kind the server has, weighted toward the common ones. The faults that
 * open a breaker at once (401, 403, 404) are rare on purpose: at a few hundred calls a second a
 * higher rate keeps every breaker open and the soak would test little beyond the static reply.
 */
export const CHAOS: RandomFault[] = [
  { probability: 0.05, fault: fault.rateLimit({ retryAfterMs: 40 }) },
  { probability: 0.015, fault: fault.rateLimit({ retryAfterSeconds: 5 }) },
  { probability: 0.01, fault: fault.rateLimit() },
  { probability: 0.0464, fault: fault.serverError(500) },
  { probability: 0.015, fault: fault.serverError(502) },
  { probability: 0.015, fault: fault.serverError(503) },
  { probability: 0.01, fault: fault.serverError(504) },
  { probability: 0.03, fault: fault.overloaded() },
  { probability: 0.02, fault: fault.reset() },
  { probability: 0.015, fault: fault.malformedJson() },
  { probability: 0.012, fault: fault.streamCut() },
  { probability: 0.005, fault: fault.streamCut({ mode: 'stall', afterChunks: 3 }) },
  { probability: 0.015, fault: fault.streamError() },
  { probability: 0.01, fault: fault.slowFirstByte(1200) },
  { probability: 0.01, fault: fault.hang() },
  { probability: 0.0002, fault: fault.authentication() },
  { probability: 0.0002, fault: fault.permissionDenied() },
  { probability: 0.0002, fault: fault.modelNotFound() },
  { probability: 0.005, fault: fault.badRequest() },
  { probability: 0.003, fault: fault.unprocessable() },
  { probability: 0.005, fault: fault.contextLength() },
  { probability: 0.005, fault: fault.contentFilter() },
  { probability: 0.003, fault: fault.httpError(418, { error: { message: 'I am a teapot', type: 'teapot' } }) },
];

const ROUTES = ['alpha', 'beta', 'gamma'] as const;

function seededRandom(seed: number): () => number {
  const source = createRandom(seed);
  return () => source.next();
}

// ------------------------------------------------------------------------------ telemetry in memory

class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

const noopSpanExporter: SpanExporter = {
  export: (_spans: ReadableSpan[], done) => done({ code: ExportResultCode.SUCCESS }),
  shutdown: async () => {},
};

interface Telemetry {
  sum(metric: string, where?: (attributes: Record<string, unknown>) => boolean): Promise<number>;
  bySeries(metric: string, key: string, where?: (attributes: Record<string, unknown>) => boolean): Promise<Record<string, number>>;
  shutdown(): Promise<void>;
}

function startInMemoryTelemetry(): Telemetry {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.disable();
  context.setGlobalContextManager(contextManager);
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const tracerProvider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter: noopSpanExporter })] });
  metrics.disable();
  trace.disable();
  metrics.setGlobalMeterProvider(meterProvider);
  trace.setGlobalTracerProvider(tracerProvider);

  const points = async (metric: string) => {
    const { resourceMetrics } = await reader.collect();
    const found = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === metric);
    return (found?.dataPoints ?? []) as Array<{ attributes: Record<string, unknown>; value: unknown }>;
  };
  return {
    async sum(metric, where) {
      let total = 0;
      for (const p of await points(metric)) if (!where || where(p.attributes)) total += p.value as number;
      return total;
    },
    async bySeries(metric, key, where) {
      const out: Record<string, number> = {};
      for (const p of await points(metric)) {
        if (where && !where(p.attributes)) continue;
        const k = String(p.attributes[key]);
        out[k] = (out[k] ?? 0) + (p.value as number);
      }
      return out;
    },
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      metrics.disable();
      trace.disable();
      context.disable();
    },
  };
}

// ------------------------------------------------------------------------------------- the chains

function chainOptions(name: string, targets: Target[], midStream: 'error' | 'restart'): ResilientLLMOptions {
  return {
    name,
    targets,
    retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 200, maxRetryAfterMs: 300 },
    timeouts: { attemptMs: 600, firstChunkMs: 300, idleChunkMs: 300, totalMs: TOTAL_MS },
    breaker: { consecutiveFailures: 8, failureRate: 0.6, windowMs: 5000, minCalls: 20, openMs: 1000, halfOpenProbes: 2, successThreshold: 2 },
    cache: { store: memoryStore({ maxEntries: 2000 }), mode: 'on-failure' },
    degrade: { staticReply: 'The assistant is temporarily unavailable.' },
    midStream,
  };
}

function buildTargets(server: FaultServer, prefix: string, fetchCounter: typeof fetch): Target[] {
  // logLevel 'off': the Anthropic SDK logs every malformed SSE event it skips ("Could not parse
  // message into JSON"), which the chaos mix produces by design.
  const opts = { apiKey: 'sk-soak', fetch: fetchCounter, logLevel: 'off' as const };
  return [
    openaiTarget({ client: new OpenAI({ ...opts, baseURL: server.baseURL('openai', `${prefix}/${ROUTES[0]}`) }), model: 'gpt-4o', breakerKey: `${prefix}/primary` }),
    anthropicTarget({ client: new Anthropic({ ...opts, baseURL: server.baseURL('anthropic', `${prefix}/${ROUTES[1]}`) }), model: 'claude-haiku-4-5', breakerKey: `${prefix}/secondary` }),
    openaiTarget({
      client: new OpenAI({ ...opts, baseURL: server.baseURL('openai', `${prefix}/${ROUTES[2]}`) }),
      model: 'gpt-4o-mini',
      tier: 'reduced',
      breakerKey: `${prefix}/reduced`,
    }),
  ];
}

// ---------------------------------------------------------------------------------- the workload

const PROMPTS = Array.from({ length: 300 }, (_, i) => `Question ${i}: what should I do about issue #${(i * 7919) % 1000}?`);
const TOOLS = [{ name: 'lookup', description: 'Look something up', parameters: { type: 'object', properties: { q: { type: 'string' } } } }];

function requestFor(i: number, random: () => number): ChatRequest {
  const messages: Message[] = [
    { role: 'system', content: 'You are a helpful agent.' },
    { role: 'user', content: PROMPTS[Math.floor(random() * PROMPTS.length)]! },
  ];
  const withTools = random() < 0.25;
  if (withTools && random() < 0.5) {
    // The middle of a tool loop: the conversion code runs on every hop.
    messages.push({ role: 'assistant', content: null, toolCalls: [{ id: `call_${i}`, name: 'lookup', arguments: '{"q":"status"}' }] });
    messages.push({ role: 'tool', toolCallId: `call_${i}`, content: '{"status":"ok"}' });
  }
  return { messages, ...(withTools && { tools: TOOLS }), maxTokens: 200, partition: `tenant-${i % 8}` };
}

interface Settled {
  result?: ChatResult;
  error?: unknown;
}

const outcomeOf = (r: ChatResult): string =>
  r.tier === 'cached' ? 'cached' : r.tier === 'static' ? 'static' : r.fallbackUsed ? 'success_via_fallback' : r.attempts.length > 1 ? 'success_after_retry' : 'success';

const bump = (map: Record<string, number>, key: string, by = 1) => {
  map[key] = (map[key] ?? 0) + by;
};

const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;

/** Caller-side books of one run: what every request got, counted from what the caller received. */
class Books {
  readonly served: SoakReport['served'] = { full: 0, reduced: 0, cached: 0, static: 0, none: 0 };
  readonly outcomes: Record<string, number> = {};
  readonly typedErrors: Record<string, number> = {};
  readonly byChain: Record<string, number> = {};
  readonly untypedSamples: string[] = [];
  readonly lateSamples: string[] = [];
  readonly behaviour = { streamed: 0, walkedAway: 0, cancelled: 0, critical: 0 };
  untyped = 0;
  attempts = 0;
  retries = 0;
  costUsd = 0;
  pastDeadline = 0;
  maxOvershootMs = Number.NEGATIVE_INFINITY;
  maxRunAfterDeadlineMs = 0;

  settle(chain: string, settled: Settled): void {
    bump(this.byChain, chain);
    if (settled.result) {
      this.served[settled.result.tier]++;
      bump(this.outcomes, outcomeOf(settled.result));
      this.#attempts(settled.result.attempts);
    } else if (settled.error instanceof BulwarkError) {
      this.served.none++;
      bump(this.outcomes, 'failed');
      bump(this.typedErrors, `${settled.error.name}:${settled.error.errorType}`);
      this.#attempts(settled.error.attempts);
    } else {
      this.served.none++;
      bump(this.outcomes, 'failed');
      this.untyped++;
      if (this.untypedSamples.length < 5) this.untypedSamples.push(String(settled.error));
    }
  }

  #attempts(list: readonly AttemptRecord[]): void {
    this.attempts += list.length;
    let previous: AttemptRecord | undefined;
    for (const a of list) {
      // A retry counts when it is sent: an attempt right after a backoff wait on the same target
      // (a scheduled retry that the deadline or the breaker stopped made no upstream call).
      if (previous?.delayMs !== undefined && previous.targetIndex === a.targetIndex) this.retries++;
      this.costUsd += a.costUsd ?? 0;
      previous = a;
    }
  }

  /** `runAfterMs`: how long the request ran on after its deadline fired; `overshootMs`: wall clock past it. */
  deadline(runAfterMs: number, overshootMs: number, describe: () => string): void {
    if (overshootMs > this.maxOvershootMs) this.maxOvershootMs = overshootMs;
    if (runAfterMs > this.maxRunAfterDeadlineMs) this.maxRunAfterDeadlineMs = runAfterMs;
    if (runAfterMs <= DEADLINE_GRACE_MS) return;
    this.pastDeadline++;
    if (this.lateSamples.length < 5) this.lateSamples.push(describe());
  }
}

/** Starts `total` calls of `one` at `rate` per second (open loop), at most `maxInFlight` at once. */
function paced(total: number, rate: number, maxInFlight: number, one: (i: number) => Promise<void>, onDone?: (done: number) => void): Promise<void> {
  if (total === 0) return Promise.resolve();
  const startedAt = performance.now();
  let next = 0;
  let done = 0;
  let inFlight = 0;
  return new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - startedAt) / 1000) * rate) + 1);
      while (next < due && inFlight < maxInFlight) {
        inFlight++;
        void one(next++).finally(() => {
          inFlight--;
          done++;
          onDone?.(done);
          if (done === total) resolve();
        });
      }
      if (next >= total) clearInterval(timer);
    }, 10);
  });
}

const describeAttempts = (list: readonly AttemptRecord[]) =>
  list.map((a) => `${a.provider}:${a.kind}:${a.errorType ?? 'ok'}:${Math.round(a.durationMs)}ms${a.delayMs !== undefined ? `+${Math.round(a.delayMs)}` : ''}`).join(' ');

export async function runSoak(options: SoakOptions = {}): Promise<SoakReport> {
  const total = options.requests ?? 100_000;
  const rate = options.rate ?? 400;
  const maxInFlight = options.maxInFlight ?? 400;
  const seed = options.seed ?? 11;
  const random = seededRandom(seed ^ 0x5bd1e995);

  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);

  const telemetry = startInMemoryTelemetry();
  const server = await startFaultServer({ seed, maxRecordedRequests: 1000, latency: { kind: 'uniform', minMs: 0, maxMs: 4 }, defaultReply: { text: 'A short answer in a few words.', chunkDelayMs: 1 } });
  let httpCalls = 0;
  let serverRequests = 0;
  const countingFetch: typeof fetch = (input, init) => {
    httpCalls++;
    return fetch(input, init);
  };

  // Every route of every chain gets the chaos mix; `prefix` separates the chains' routes.
  const chaos: Script = { random: CHAOS };
  const prefixes = ['warm-a', 'warm-b', 'a', 'b'];
  const install = () => {
    for (const p of prefixes) for (const r of ROUTES) server.script({ route: `${p}/${r}` }, chaos);
  };
  install();

  // Warm-up on chains of their own (excluded from every count): the first requests of a process
  // load and compile modules and would make the event loop late for reasons no request controls.
  const warmup = [
    createResilientLLM(chainOptions('soak-warmup-error', buildTargets(server, 'warm-a', fetch), 'error')),
    createResilientLLM(chainOptions('soak-warmup-restart', buildTargets(server, 'warm-b', fetch), 'restart')),
  ];
  const chains = [
    createResilientLLM(chainOptions('soak-error', buildTargets(server, 'a', countingFetch), 'error')),
    createResilientLLM(chainOptions('soak-restart', buildTargets(server, 'b', countingFetch), 'restart')),
  ];
  const soakChains = new Set(chains.map((c) => c.name));

  // Windows, by request count: the primary down, later the secondary hung (more specific scripts win).
  const windows = {
    primaryDown: [Math.floor(total * 0.25), Math.floor(total * 0.45)] as [number, number],
    secondaryHung: [Math.floor(total * 0.55), Math.floor(total * 0.75)] as [number, number],
  };
  let downHandles: ScriptHandle[] = [];
  let hungHandles: ScriptHandle[] = [];
  const down = () => ['a', 'b'].map((p) => server.script({ route: `${p}/${ROUTES[0]}`, provider: 'openai' }, { then: fault.serverError(503) }));
  const hung = () => ['a', 'b'].map((p) => server.script({ route: `${p}/${ROUTES[1]}`, provider: 'anthropic' }, { then: fault.hang() }));
  const onStart = (i: number) => {
    if (i === windows.primaryDown[0]) downHandles = down();
    if (i === windows.primaryDown[1]) for (const h of downHandles) h.remove();
    if (i === windows.secondaryHung[0]) hungHandles = hung();
    if (i === windows.secondaryHung[1]) for (const h of hungHandles) h.remove();
  };

  const one = async (books: Books, pair: ResilientLLM[], i: number): Promise<void> => {
    const llm = pair[i % 2]!;
    const request = requestFor(i, random);
    const totalMs = random() < 0.1 ? SHORT_TOTAL_MS : TOTAL_MS;
    if (totalMs !== TOTAL_MS) request.totalTimeoutMs = totalMs;
    if (random() < 0.02) {
      request.critical = true;
      books.behaviour.critical++;
    }
    let cancelTimer: NodeJS.Timeout | undefined;
    if (random() < 0.01) {
      const controller = new AbortController();
      request.signal = controller.signal;
      cancelTimer = setTimeout(() => controller.abort(), Math.floor(random() * 300));
      books.behaviour.cancelled++;
    }
    const streamed = random() < 0.4;
    const walkAway = streamed && random() < 0.05;
    const started = performance.now();
    let deadlineFiredAt: number | undefined;
    const deadlineTimer = setTimeout(() => (deadlineFiredAt = performance.now()), totalMs);
    const settled: Settled = {};
    try {
      if (!streamed) settled.result = await llm.chat(request);
      else {
        books.behaviour.streamed++;
        const stream = llm.stream(request);
        try {
          for await (const event of stream) {
            if (walkAway && event.type === 'text') {
              books.behaviour.walkedAway++;
              break;
            }
          }
        } catch {
          // The same error rejects `result`, read below.
        }
        settled.result = await stream.result;
      }
    } catch (error) {
      settled.error = error;
    } finally {
      clearTimeout(cancelTimer);
      clearTimeout(deadlineTimer);
    }
    const endedAt = performance.now();
    const tookMs = endedAt - started;
    books.deadline(deadlineFiredAt === undefined ? 0 : endedAt - deadlineFiredAt, tookMs - totalMs, () => {
      const attempts = settled.result?.attempts ?? (settled.error instanceof BulwarkError ? settled.error.attempts : []);
      const kind = streamed ? (walkAway ? 'stream (walked away)' : 'stream') : 'chat';
      const got = settled.result ? `tier ${settled.result.tier}` : String(settled.error);
      return `#${i} ${kind}${request.critical ? ' critical' : ''}${request.signal ? ' cancellable' : ''}: deadline ${totalMs} ms, took ${Math.round(tookMs)} ms → ${got}; attempts ${describeAttempts(attempts)}`;
    });
    books.settle(llm.name, settled);
  };

  await paced(Math.min(400, total), 200, maxInFlight, (i) => one(new Books(), warmup, i));
  for (const c of warmup) await c.close();
  await server.idle({ timeoutMs: 5000 }).catch(() => undefined);
  server.reset(); // the count of upstream requests starts with the soak proper
  install();

  const books = new Books();
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const startedAt = performance.now();
  const step = Math.max(1, Math.floor(total / 20));
  await paced(
    total,
    rate,
    maxInFlight,
    (i) => {
      onStart(i);
      return one(books, chains, i);
    },
    (done) => {
      if (options.onProgress && done % step === 0) options.onProgress({ done, total, elapsedMs: performance.now() - startedAt, rssMb: mb(process.memoryUsage().rss) });
    },
  );
  const elapsedMs = performance.now() - startedAt;
  loopDelay.disable();

  for (const c of chains) await c.close();
  // The request log keeps only the newest entries (maxRecordedRequests); hits() counts them all.
  serverRequests += server.hits();
  await server.close();
  await new Promise((resolve) => setImmediate(resolve));
  process.off('unhandledRejection', onUnhandled);

  // Caller-side against metrics (the warm-up chains' series left out).
  const ofSoak = (a: Record<string, unknown>) => soakChains.has(String(a['bulwark.chain']));
  const metricTiers = await telemetry.bySeries('bulwark.requests', 'bulwark.tier', ofSoak);
  const metricOutcomes = await telemetry.bySeries('bulwark.requests', 'bulwark.outcome', ofSoak);
  const metricChains = await telemetry.bySeries('bulwark.requests', 'bulwark.chain', ofSoak);
  const check = (what: string, caller: number, fromMetrics: number, tolerance = 0): CountCheck => ({
    what,
    caller,
    metrics: fromMetrics,
    equal: Math.abs(caller - fromMetrics) <= tolerance,
  });
  const counts: CountCheck[] = [
    check('requests', total, await telemetry.sum('bulwark.requests', ofSoak)),
    ...(['full', 'reduced', 'cached', 'static', 'none'] as const).map((t) => check(`requests tier=${t}`, books.served[t], metricTiers[t] ?? 0)),
    ...['success', 'success_after_retry', 'success_via_fallback', 'cached', 'static', 'failed'].map((o) =>
      check(`requests outcome=${o}`, books.outcomes[o] ?? 0, metricOutcomes[o] ?? 0),
    ),
    ...[...soakChains].map((c) => check(`requests chain=${c}`, books.byChain[c] ?? 0, metricChains[c] ?? 0)),
    check('upstream attempts', books.attempts, await telemetry.sum('bulwark.attempts', ofSoak)),
    check('retries', books.retries, await telemetry.sum('bulwark.retries', ofSoak)),
    check('cost (USD)', books.costUsd, await telemetry.sum('bulwark.cost', ofSoak), Math.max(1e-9, books.costUsd * 1e-9)),
  ];
  await telemetry.shutdown();

  const memory = process.memoryUsage();
  const failures: string[] = [];
  if (unhandled.length > 0) failures.push(`${unhandled.length} unhandled rejection(s)`);
  if (books.pastDeadline > 0) failures.push(`${books.pastDeadline} request(s) still running more than ${DEADLINE_GRACE_MS} ms after their deadline fired`);
  if (books.untyped > 0) failures.push(`${books.untyped} error(s) that are not BulwarkError`);
  for (const c of counts) if (!c.equal) failures.push(`${c.what}: callers counted ${c.caller}, metrics say ${c.metrics}`);

  return {
    requests: total,
    elapsedMs,
    requestsPerSec: total / (elapsedMs / 1000),
    served: books.served,
    outcomes: books.outcomes,
    typedErrors: books.typedErrors,
    untypedErrors: books.untyped,
    untypedSamples: books.untypedSamples,
    unhandledRejections: unhandled.length,
    unhandledSamples: unhandled.slice(0, 5).map(String),
    pastDeadline: books.pastDeadline,
    lateSamples: books.lateSamples,
    maxRunAfterDeadlineMs: books.maxRunAfterDeadlineMs,
    maxOvershootMs: books.maxOvershootMs,
    deadlineGraceMs: DEADLINE_GRACE_MS,
    eventLoopDelayMs: { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
    counts,
    upstream: { attempts: books.attempts, httpCalls, serverRequests },
    callerBehaviour: books.behaviour,
    windows,
    rssMb: mb(memory.rss),
    heapUsedMb: mb(memory.heapUsed),
    bar: { passed: failures.length === 0, failures },
  };
}
