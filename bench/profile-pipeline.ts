/**
 * A focused profile of the in-process pipeline (issue 17): where the time and the memory of one
 * request go, with telemetry on (the real SDK, registered globally as in bench/telemetry.ts) and off.
 * `npm run bench`'s section 5 runs it compiled, one fresh process per mode (bench/suites/throughput.ts);
 * by hand (tsx doubles the pipeline's own cost, so compile it):
 *
 *   node node_modules/typescript/bin/tsc -p bench/tsconfig.json
 *   node --expose-gc node_modules/.cache/bulwark-bench/bench/profile-pipeline.js [--telemetry on|off] [--requests N]
 *   node --expose-gc --cpu-prof --cpu-prof-dir=/tmp/prof node_modules/.cache/bulwark-bench/bench/profile-pipeline.js --only throughput
 *
 * Memory is only meaningful in a process of its own per mode (`--telemetry on --only memory`): the
 * heap spaces V8 grew for one mode stay grown for the next.
 *
 * It prints one JSON line per measurement:
 * - `percall`: one call at a time, p50 / p99 of the pipeline's added cost against the fake adapter itself (µs);
 * - `throughput`: requests per second from 64 concurrent callers on one event loop, as the throughput suite drives it,
 *   and the process CPU time per request (steadier than wall time on a shared machine);
 * - `alloc`: bytes allocated per request (summed across GCs with v8.GCProfiler), scavenges per 10k requests;
 * - `allocsites` (not in the default set): a sampling allocation profile of 50k requests that keeps objects the
 *   scavenger collected (the garbage is the point), written to --heap-profile, and the top allocating functions;
 * - `bare` (not in the default set): the same 64 callers calling the fake adapter itself, no Bulwark at all — the
 *   harness's own ceiling (req/s, CPU per request), against which the pipeline's rates are read;
 * - `sdkfloor` (not in the default set): the OpenTelemetry SDK's own work for one answered request as the contract
 *   has it — a request span and an attempt span with their ~25 attributes, two context switches, four histogram
 *   records and one add per counter series — with every attribute object pre-built, no Bulwark code at all, in a
 *   loop (µs of wall time and of process CPU per request);
 * - `floorpipeline` (not in the default set): the same SDK work inside the pipeline, as the only observer of a
 *   telemetry-off client: CPU µs and bytes per request to set against `throughput` and `alloc` with telemetry on
 *   (what Bulwark's observer costs above the same SDK calls made in the same place);
 * - `memory`: after N requests and a forced GC, process.memoryUsage() and every V8 heap space (size / used),
 *   at checkpoints — the breakdown of RSS into heap total vs used, new space, code space, external.
 */
import { writeFileSync } from 'node:fs';
import { context, metrics, SpanKind, trace, type Attributes } from '@opentelemetry/api';
import { Session } from 'node:inspector/promises';
import v8 from 'node:v8';
import { parseArgs } from 'node:util';
import { createResilientLLM, type ChatRequest, type EngineObserver, type ResilientLLM } from '../src/index.js';
import { drivePipeline as drive, fakeAdapter, fakeTargets, yieldToLoop } from './fakeProvider.js';
import { quantile, median } from './measure.js';
import { startBenchTelemetry } from './telemetry.js';

const { values } = parseArgs({
  options: {
    telemetry: { type: 'string', default: 'both' },
    only: { type: 'string' },
    requests: { type: 'string', default: '200000' },
    trials: { type: 'string', default: '5' },
    'memory-requests': { type: 'string', default: '1000000' },
    /** Requests before any measure (JIT, caches, pre-created series), calls per percall trial, requests of `alloc`. */
    warmup: { type: 'string', default: '20000' },
    'percall-iterations': { type: 'string', default: '20000' },
    'alloc-requests': { type: 'string', default: '100000' },
    'floor-iterations': { type: 'string', default: '50000' },
    /** Where `allocsites` writes the sampled allocation profile (open it in Chrome DevTools → Memory). */
    'heap-profile': { type: 'string', default: 'pipeline.heapprofile' },
  },
});
const modes = values.telemetry === 'both' ? (['on', 'off'] as const) : ([values.telemetry] as Array<'on' | 'off'>);
const only = new Set((values.only ?? 'percall,throughput,alloc,memory').split(','));
const requests = Number(values.requests);
const trials = Number(values.trials);
const memoryRequests = Number(values['memory-requests']);
const warmup = Number(values.warmup);
const percallIterations = Number(values['percall-iterations']);
const allocRequests = Number(values['alloc-requests']);
const floorIterations = Number(values['floor-iterations']);
const MB = 2 ** 20;
const gc = (globalThis as { gc?: () => void }).gc;
const print = (record: object) => process.stdout.write(`${JSON.stringify(record)}\n`);

const telemetry = startBenchTelemetry();
const client = (mode: 'on' | 'off') =>
  createResilientLLM({ name: `profile-${mode}`, targets: fakeTargets().targets, ...(mode === 'off' && { telemetry: false }) });
const REQUEST: ChatRequest = { messages: [{ role: 'user', content: 'Say hello in five words.' }], maxTokens: 64 };

async function perCall(llm: ResilientLLM, iterations: number): Promise<{ p50: number; p99: number }> {
  const direct = fakeAdapter('openai', 'gpt-4o');
  const signal = new AbortController().signal;
  const p50s: number[] = [];
  const p99s: number[] = [];
  for (let t = 0; t < trials; t++) {
    const pipeline: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < iterations; i++) {
      let t0 = performance.now();
      await direct.chat(REQUEST, { signal });
      bare.push(performance.now() - t0);
      t0 = performance.now();
      await llm.chat(REQUEST);
      pipeline.push(performance.now() - t0);
    }
    p50s.push((quantile(pipeline, 0.5) - quantile(bare, 0.5)) * 1000);
    p99s.push((quantile(pipeline, 0.99) - quantile(bare, 0.99)) * 1000);
  }
  return { p50: median(p50s), p99: median(p99s) };
}

/** Bytes allocated per request: every GC's "used before" minus the previous GC's "used after". */
async function allocation(llm: ResilientLLM, total: number) {
  gc?.();
  const profiler = new v8.GCProfiler();
  const before = v8.getHeapStatistics().used_heap_size;
  profiler.start();
  await drive(llm, total);
  const after = v8.getHeapStatistics().used_heap_size;
  const report = profiler.stop();
  let allocated = 0;
  let last = before;
  let scavenges = 0;
  for (const s of report?.statistics ?? []) {
    allocated += Math.max(0, s.beforeGC.heapStatistics.usedHeapSize - last);
    last = s.afterGC.heapStatistics.usedHeapSize;
    if (s.gcType === 'Scavenge') scavenges++;
  }
  allocated += Math.max(0, after - last);
  return { bytesPerRequest: Math.round(allocated / total), scavengesPer10k: Math.round((scavenges / total) * 10_000 * 10) / 10 };
}

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

/** Where the garbage comes from: allocation sites by bytes, collected objects included. */
async function allocationSites(llm: ResilientLLM, total: number) {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 512,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  await drive(llm, total);
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: SamplingNode } };
  session.disconnect();
  writeFileSync(values['heap-profile']!, JSON.stringify(profile));
  const bySite = new Map<string, number>();
  const visit = (node: SamplingNode) => {
    const f = node.callFrame;
    const site = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(node_modules|bulwark-bench)\//, '')}:${f.lineNumber + 1}`;
    bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    for (const child of node.children) visit(child);
  };
  visit(profile.head);
  const sum = [...bySite.values()].reduce((a, b) => a + b, 0);
  const top = [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 30);
  return { bytesPerRequest: Math.round(sum / total), top: top.map(([site, bytes]) => `${Math.round(bytes / total)} B/req ${site}`) };
}

/** Requests per second from 64 callers, and the process CPU time per request (median of `trials` runs). */
async function throughput(llm: Pick<ResilientLLM, 'chat'>) {
  const rates: number[] = [];
  const cpu: number[] = [];
  for (let t = 0; t < trials; t++) {
    const before = process.cpuUsage();
    rates.push(await drive(llm, requests));
    const used = process.cpuUsage(before);
    cpu.push((used.user + used.system) / requests);
  }
  return { reqPerSec: Math.round(median(rates)), runs: rates.map(Math.round), cpuUsPerRequest: +median(cpu).toFixed(2) };
}

/**
 * The SDK's floor as an observer: for one answered request, exactly the OpenTelemetry work the contract
 * asks for — the request and attempt spans with their attributes, two context switches, four histogram
 * records, the counters (one add per event, or none: summed per series as Bulwark does) — with every
 * attribute object pre-built and no Bulwark code. `sdkfloor` drives its hooks in a loop; `floorpipeline`
 * hands it to a telemetry-off client, so the same work runs inside the pipeline where Bulwark's own
 * observer runs (with the same fan-out around it).
 */
function floorObserver(withCounters: boolean): EngineObserver {
  const tracer = trace.getTracer('floor');
  const meter = metrics.getMeter('floor');
  const [duration, tokens, requestDuration] = ['a', 'b', 'c'].map((n) => meter.createHistogram(`floor.${n}`));
  const [attempts, cost, requestsCounter] = ['a', 'b', 'c'].map((n) => meter.createCounter(`floor.${n}`));
  const op: Attributes = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o' };
  const tokIn = { ...op, 'gen_ai.token.type': 'input' };
  const tokOut = { ...op, 'gen_ai.token.type': 'output' };
  const series: Attributes = { 'bulwark.chain': 'c', 'bulwark.outcome': 'success', 'bulwark.tier': 'full' };
  return {
    onRequestStart() {
      const parent = context.active();
      const span = tracer.startSpan('chat c', { kind: SpanKind.INTERNAL, attributes: { 'gen_ai.operation.name': 'chat', 'bulwark.chain': 'c' } }, parent);
      const ctx = trace.setSpan(parent, span);
      return {
        run: (fn) => context.with(ctx, fn),
        onAttemptStart() {
          const a = tracer.startSpan('chat gpt-4o', { kind: SpanKind.CLIENT, attributes: { ...op } }, ctx);
          a.setAttributes({ 'gen_ai.request.stream': false, 'gen_ai.request.max_tokens': 64 });
          a.setAttributes({ 'bulwark.attempt.number': 1, 'bulwark.attempt.kind': 'initial', 'bulwark.target.index': 0, 'bulwark.breaker': 'openai/gpt-4o' });
          const actx = trace.setSpan(ctx, a);
          return {
            run: (fn) => context.with(actx, fn),
            onEnd() {
              duration!.record(0.001, op, actx);
              tokens!.record(12, tokIn);
              tokens!.record(9, tokOut);
              if (withCounters) {
                attempts!.add(1, series);
                cost!.add(0.0001, series);
              }
              a.setAttributes({ 'gen_ai.response.model': 'gpt-4o', 'gen_ai.response.id': 'resp', 'gen_ai.response.finish_reasons': ['stop'] });
              a.setAttributes({ 'gen_ai.usage.input_tokens': 12, 'gen_ai.usage.output_tokens': 9 });
              a.end();
            },
          };
        },
        onEnd() {
          if (withCounters) requestsCounter!.add(1, series);
          requestDuration!.record(0.001, series, ctx);
          span.setAttributes({ 'bulwark.tier': 'full', 'bulwark.outcome': 'success', 'bulwark.attempts': 1, 'bulwark.retries': 0, 'bulwark.fallback.hops': 0 });
          span.setAttributes({ 'bulwark.cost.usd': 0.0001, 'gen_ai.provider.name': 'openai', 'gen_ai.response.model': 'gpt-4o' });
          span.end();
        },
      };
    },
  };
}

/** The SDK's floor in a loop: µs of wall time and of process CPU per request. */
async function sdkFloor(iterations: number) {
  const result: Record<string, number> = {};
  for (const [name, withCounters] of [['perEventCounters', true], ['seriesCounters', false]] as const) {
    const observer = floorObserver(withCounters);
    // The hooks in the order the engine calls them for one answered request.
    const one = () => {
      const request = observer.onRequestStart!(undefined as never)!;
      request.run!(() => {
        const attempt = request.onAttemptStart!(undefined as never)!;
        attempt.run!(() => 0);
        attempt.onEnd!(undefined as never);
      });
      request.onEnd!(undefined as never);
    };
    const runs: number[] = [];
    const cpu: number[] = [];
    for (let t = 0; t < trials; t++) {
      const t0 = performance.now();
      const before = process.cpuUsage();
      for (let i = 0; i < iterations; i++) {
        one();
        if (i % 1000 === 0) await yieldToLoop();
      }
      const used = process.cpuUsage(before);
      runs.push(((performance.now() - t0) / iterations) * 1000);
      cpu.push((used.user + used.system) / iterations);
    }
    result[`${name}Us`] = +median(runs).toFixed(2);
    result[`${name}CpuUs`] = +median(cpu).toFixed(2);
  }
  return result;
}

function memorySnapshot(requestsDone: number) {
  gc?.();
  const m = process.memoryUsage();
  const spaces: Record<string, string> = {};
  for (const s of v8.getHeapSpaceStatistics()) spaces[s.space_name] = `${(s.space_size / MB).toFixed(1)}/${(s.space_used_size / MB).toFixed(1)}`;
  return {
    requests: requestsDone,
    rssMb: +(m.rss / MB).toFixed(1),
    heapTotalMb: +(m.heapTotal / MB).toFixed(1),
    heapUsedMb: +(m.heapUsed / MB).toFixed(1),
    externalMb: +(m.external / MB).toFixed(1),
    arrayBuffersMb: +(m.arrayBuffers / MB).toFixed(1),
    mallocedMb: +(v8.getHeapStatistics().malloced_memory / MB).toFixed(1),
    spacesSizeUsedMb: spaces,
  };
}

if (only.has('sdkfloor')) print({ measure: 'sdkfloor', ...(await sdkFloor(floorIterations)) });
if (only.has('bare')) {
  // The harness alone: the same callers and requests, answered by the fake adapter with no pipeline around it.
  const adapter = fakeAdapter('openai', 'gpt-4o');
  const signal = new AbortController().signal;
  const bare = { chat: (request: ChatRequest) => adapter.chat(request, { signal }) } as unknown as Pick<ResilientLLM, 'chat'>;
  await drive(bare, warmup);
  print({ mode: 'bare', measure: 'throughput', ...(await throughput(bare)) });
}
if (only.has('floorpipeline')) {
  // The floor's SDK work inside the pipeline: a telemetry-off client whose only observer is the floor.
  // Against throughput/alloc `on`, what Bulwark's observer costs above the same SDK work in the same place.
  const llm = createResilientLLM({ name: 'profile-floor', targets: fakeTargets().targets, telemetry: false, observers: [floorObserver(false)] });
  await drive(llm, warmup);
  print({ mode: 'floor', measure: 'floorpipeline', ...(await throughput(llm)), ...(await allocation(llm, allocRequests)) });
  await llm.close();
}

const perMode = ['percall', 'throughput', 'alloc', 'allocsites', 'memory'].some((m) => only.has(m));
for (const mode of perMode ? modes : []) {
  const llm = client(mode);
  await drive(llm, warmup); // warm-up: JIT, caches, pre-created series
  if (only.has('percall')) print({ mode, measure: 'percall', unit: 'µs added', ...(await perCall(llm, percallIterations)) });
  if (only.has('throughput')) print({ mode, measure: 'throughput', ...(await throughput(llm)) });
  if (only.has('alloc')) print({ mode, measure: 'alloc', ...(await allocation(llm, allocRequests)) });
  if (only.has('allocsites')) print({ mode, measure: 'allocsites', ...(await allocationSites(llm, 50_000)) });
  if (only.has('memory')) {
    const checkpoints = [100_000, 250_000, 500_000, 1_000_000].filter((n) => n <= memoryRequests);
    let done = 0;
    for (const n of checkpoints) {
      await drive(llm, n - done);
      done = n;
      print({ mode, measure: 'memory', ...memorySnapshot(done) });
    }
  }
  await llm.close();
}
await telemetry.shutdown();
