/**
 * Run by the memory suite in a fresh process, with no Node or V8 flags (compiled:
 * `node node_modules/.cache/bulwark-bench/bench/memoryChild.js N`): N requests from 64 concurrent
 * callers through a three-target chain of fake providers with telemetry on, every prompt unique (so
 * the bounded cache fills and evicts: every answer is a new cache entry), 100 partitions, the primary
 * failing in bursts (so breakers open, probe and close, and retries and hops happen). Prints one JSON
 * line with memory at checkpoints: RSS as the running process has it, then the breakdown after a full
 * GC (forced through `vm.measureMemory`, which needs no flag).
 *
 * Options (for explaining the figure; the suite's headline uses the defaults):
 *   --telemetry on|off   (default on)      --failures on|off   (default on)
 *   --prompts unique|repeated   (default unique; repeated: 5 000 distinct prompts, as the throughput suite)
 */
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import { createResilientLLM, memoryStore } from '../src/index.js';
import { fakeTargets } from './fakeProvider.js';
import { memoryBreakdown, type MemoryBreakdown } from './memoryBreakdown.js';
import { startBenchTelemetry } from './telemetry.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    telemetry: { type: 'string', default: 'on' },
    failures: { type: 'string', default: 'on' },
    prompts: { type: 'string', default: 'unique' },
  },
});
const total = Number(positionals[0] ?? 1_000_000);
const onOff = (name: string, value: string) => {
  if (value !== 'on' && value !== 'off') throw new Error(`--${name} must be on or off, got ${value}`);
  return value === 'on';
};
const telemetryOn = onOff('telemetry', values.telemetry);
const failures = onOff('failures', values.failures);
if (values.prompts !== 'unique' && values.prompts !== 'repeated') throw new Error(`--prompts must be unique or repeated, got ${values.prompts}`);
const uniquePrompts = values.prompts === 'unique';
// vm.measureMemory is marked experimental; its warning would only clutter the parent's stderr.
process.removeAllListeners('warning');

const telemetry = telemetryOn ? startBenchTelemetry() : undefined;
const { targets, primary } = fakeTargets();
let transitions = 0;
const llm = createResilientLLM({
  name: 'memory',
  targets,
  retry: { baseDelayMs: 1, maxDelayMs: 5 },
  breaker: { openMs: 20 },
  cache: { store: memoryStore({ maxEntries: 10_000 }) },
  observers: [{ onBreakerTransition: () => void transitions++ }],
  ...(!telemetryOn && { telemetry: false }),
});

/** What the young generation did since the previous checkpoint (v8.GCProfiler: no flag). */
export interface ScavengeStats {
  scavenges: number;
  /** Bytes that survived scavenges (copied within new space or promoted to old space), per request. */
  survivedBytesPerRequest: number;
  /** Of them, promoted to old space, per request. */
  promotedBytesPerRequest: number;
  /** New space's capacity after the last scavenge, MB. */
  newSpaceMb: number;
}

export type MemorySample = { requests: number; rssRunningMb: number; young: ScavengeStats } & MemoryBreakdown;

const usedOf = (stats: v8.GCProfilerResult['statistics'][number]['beforeGC'], space: string) =>
  stats.heapSpaceStatistics.find((s) => s.spaceName === space)?.spaceUsedSize ?? 0;

function scavengeStats(result: v8.GCProfilerResult | undefined, requests: number): ScavengeStats {
  let scavenges = 0;
  let survived = 0;
  let promoted = 0;
  let newSpace = 0;
  for (const gc of result?.statistics ?? []) {
    if (gc.gcType !== 'Scavenge') continue;
    scavenges++;
    const promotedHere = Math.max(0, usedOf(gc.afterGC, 'old_space') - usedOf(gc.beforeGC, 'old_space'));
    promoted += promotedHere;
    survived += promotedHere + usedOf(gc.afterGC, 'new_space');
    newSpace = gc.afterGC.heapSpaceStatistics.find((s) => s.spaceName === 'new_space')?.spaceSize ?? newSpace;
  }
  return {
    scavenges,
    survivedBytesPerRequest: requests > 0 ? survived / requests : 0,
    promotedBytesPerRequest: requests > 0 ? promoted / requests : 0,
    newSpaceMb: newSpace / 2 ** 20,
  };
}

const samples: MemorySample[] = [];
let profiler = new v8.GCProfiler();
profiler.start();
let lastSampled = 0;
/** RSS as the running process has it, then a full GC (an eager measurement collects first) and the breakdown. */
async function sample(requests: number): Promise<void> {
  const rssRunningMb = process.memoryUsage.rss() / 2 ** 20;
  const young = scavengeStats(profiler.stop(), requests - lastSampled);
  lastSampled = requests;
  await vm.measureMemory({ mode: 'summary', execution: 'eager' });
  samples.push({ requests, rssRunningMb, young, ...memoryBreakdown() });
  profiler = new v8.GCProfiler();
  profiler.start();
}
let gate = Promise.resolve();

const warmup = Math.min(10_000, Math.floor(total / 10));
const checkpoints = new Set(
  [warmup, Math.floor(total / 10), Math.floor(total / 4), Math.floor(total / 2), Math.floor((total * 3) / 4), total].filter((n) => n > 0),
);
const served: Record<string, number> = {};
let next = 0;
let done = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: 64 }, async () => {
    while (next < total) {
      // While a checkpoint is read, no caller starts a request: the heap is read with nothing allocating.
      await gate;
      if (next >= total) break;
      const i = next++;
      // Bursts of primary failures: 400 of every 25 000 requests.
      primary.failing = failures && i % 25_000 < 400;
      const prompt = uniquePrompts ? `question ${i}` : `question ${i % 5000}`;
      const r = await llm.chat({ messages: [{ role: 'user', content: prompt }], maxTokens: 64, partition: `tenant-${i % 100}` });
      served[r.tier] = (served[r.tier] ?? 0) + 1;
      done++;
      if (checkpoints.delete(done)) gate = sample(done);
      // The fakes answer without I/O: let timers (span batcher, metric reader, breakers) run.
      if (i % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }),
);
await gate;
profiler.stop();
const elapsedMs = performance.now() - started;
await llm.close();
await telemetry?.shutdown();
process.stdout.write(`${JSON.stringify({ total, elapsedMs, samples, transitions, served, options: values })}\n`);
