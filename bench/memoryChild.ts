/**
 * Run by the memory suite in a fresh process (`node --expose-gc --import tsx bench/memoryChild.ts N`):
 * N requests through a three-target chain of fake providers with telemetry on, every prompt unique
 * (so the bounded cache fills and evicts), the primary failing in bursts (so breakers open, probe and
 * close, and retries and hops happen). Prints one JSON line with memory after GC at checkpoints.
 */
import { createResilientLLM, memoryStore } from '../src/index.js';
import { fakeTargets } from './fakeProvider.js';
import { memoryBreakdown, type MemoryBreakdown } from './memoryBreakdown.js';
import { startBenchTelemetry } from './telemetry.js';

const total = Number(process.argv[2] ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const telemetry = startBenchTelemetry();
const { targets, primary } = fakeTargets();
let transitions = 0;
const llm = createResilientLLM({
  name: 'memory',
  targets,
  retry: { baseDelayMs: 1, maxDelayMs: 5 },
  breaker: { openMs: 20 },
  cache: { store: memoryStore({ maxEntries: 10_000 }) },
  observers: [{ onBreakerTransition: () => void transitions++ }],
});

const samples: Array<{ requests: number } & MemoryBreakdown> = [];
const sample = (requests: number) => {
  gc();
  samples.push({ requests, ...memoryBreakdown() });
};

const warmup = Math.min(10_000, Math.floor(total / 10));
const checkpoints = new Set([warmup, Math.floor(total / 4), Math.floor(total / 2), Math.floor((total * 3) / 4), total]);
const served: Record<string, number> = {};
let next = 0;
let done = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: 64 }, async () => {
    while (next < total) {
      const i = next++;
      // Bursts of primary failures: 400 of every 25 000 requests.
      primary.failing = i % 25_000 < 400;
      const r = await llm.chat({ messages: [{ role: 'user', content: `question ${i}` }], maxTokens: 64, partition: `tenant-${i % 100}` });
      served[r.tier] = (served[r.tier] ?? 0) + 1;
      done++;
      if (checkpoints.delete(done)) sample(done);
      // The fakes answer without I/O: let timers (span batcher, metric reader, breakers) run.
      if (i % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }),
);
const elapsedMs = performance.now() - started;
await llm.close();
await telemetry.shutdown();
process.stdout.write(`${JSON.stringify({ total, elapsedMs, samples, transitions, served })}\n`);
