/** 6. Memory: RSS after a million requests, measured in a fresh process with no flags, and where it goes. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BenchContext } from '../context.js';
import type { MemorySample } from '../memoryChild.js';
import { describeBreakdown, unaccountedMb } from '../memoryBreakdown.js';
import { COMPILED, REPO_ROOT } from '../paths.js';
import type { Row, Section } from '../report.js';

const run = promisify(execFile);

interface ChildReport {
  total: number;
  elapsedMs: number;
  samples: MemorySample[];
  transitions: number;
  served: Record<string, number>;
}

const count = (n: number) => n.toLocaleString('en-US');

export async function memorySuite(ctx: BenchContext): Promise<Section> {
  const n = ctx.sizes.memoryRequests;
  // The child runs the same build as this process: compiled JavaScript as users deploy it (`npm run bench`), with
  // no Node or V8 flag; only a run from the sources (`tsx bench/main.ts`) starts it under tsx, and says so.
  const child = fileURLToPath(new URL(COMPILED ? '../memoryChild.js' : '../memoryChild.ts', import.meta.url));
  const runChild = async (...options: string[]): Promise<ChildReport> => {
    const args = COMPILED ? [child, String(n), ...options] : ['--import', 'tsx', child, String(n), ...options];
    const { stdout } = await run(process.execPath, args, { cwd: REPO_ROOT, maxBuffer: 16 * 2 ** 20 });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildReport;
  };
  const report = await runChild();
  // For contrast, the pipeline alone: 5 000 repeated prompts (no new cache entry per answer), telemetry off, no failures.
  const plain = await runChild('--prompts', 'repeated', '--telemetry', 'off', '--failures', 'off');
  const first = report.samples[0]!;
  const tenth = report.samples.find((s) => s.requests >= n / 10) ?? first;
  const last = report.samples.at(-1)!;
  const at = (s: MemorySample) => `memory after ${count(s.requests)} requests`;
  const space = (s: MemorySample, name: string) => s.spaces[name]?.physicalMb ?? Number.NaN;
  // Bytes surviving scavenges from the 10 % checkpoint on: what keeps the young generation growing.
  const steady = report.samples.filter((s) => s.requests > tenth.requests);
  const steadyRequests = steady.reduce((sum, s, i) => sum + s.requests - (i === 0 ? tenth.requests : steady[i - 1]!.requests), 0);
  const perRequest = (pick: (s: MemorySample) => number) =>
    steadyRequests === 0 ? Number.NaN : steady.reduce((sum, s, i) => sum + pick(s) * (s.requests - (i === 0 ? tenth.requests : steady[i - 1]!.requests)), 0) / steadyRequests;
  const served = Object.entries(report.served)
    .map(([tier, c]) => `${tier} ${count(c)}`)
    .join(', ');
  const rows: Row[] = [
    ...report.samples.map((s): Row => ({ name: at(s), metric: 'rss', value: s.rssRunningMb, unit: 'MB' })),
    { name: `memory growth from ${count(tenth.requests)} to ${count(n)} requests`, metric: 'rss', value: last.rssRunningMb - tenth.rssRunningMb, unit: 'MB' },
    { name: `memory growth from ${count(tenth.requests)} to ${count(n)} requests`, metric: 'heap used (after GC)', value: last.heapUsedMb - tenth.heapUsedMb, unit: 'MB' },
    { name: at(last), metric: 'heap used (after GC)', value: last.heapUsedMb, unit: 'MB' },
    { name: at(last), metric: 'V8 heap committed', value: last.heapPhysicalMb, unit: 'MB' },
    { name: at(last), metric: 'new space (young generation)', value: space(last, 'new_space'), unit: 'MB' },
    { name: at(last), metric: 'old space', value: space(last, 'old_space'), unit: 'MB' },
    { name: at(last), metric: 'code space', value: space(last, 'code_space'), unit: 'MB' },
    { name: at(last), metric: "Node's binary and libraries (file-backed)", value: last.fileBackedMb ?? Number.NaN, unit: 'MB' },
    { name: at(last), metric: 'external + V8 malloced', value: last.externalMb + last.mallocedMb, unit: 'MB' },
    { name: at(last), metric: 'the rest (pages kept mapped, allocator)', value: unaccountedMb(last), unit: 'MB' },
    { name: `young generation from ${count(tenth.requests)} to ${count(n)} requests`, metric: 'bytes surviving scavenges per request', value: perRequest((s) => s.young.survivedBytesPerRequest), unit: 'B' },
    { name: `young generation from ${count(tenth.requests)} to ${count(n)} requests`, metric: 'bytes promoted per request', value: perRequest((s) => s.young.promotedBytesPerRequest), unit: 'B' },
    ...[plain.samples.find((s) => s.requests >= n / 10) ?? plain.samples[0]!, plain.samples.at(-1)!].map(
      (s): Row => ({ name: `${at(s)}, repeated prompts, telemetry off, no failures`, metric: 'rss', value: s.rssRunningMb, unit: 'MB' }),
    ),
    {
      name: `young generation, repeated prompts, telemetry off, no failures`,
      metric: 'bytes surviving scavenges per request',
      value: plain.samples.at(-1)!.young.survivedBytesPerRequest,
      unit: 'B',
    },
  ];
  const checkpoint = (s: MemorySample) =>
    `${count(s.requests)} → RSS ${Math.round(s.rssRunningMb)} MB (after GC ${Math.round(s.rssMb)}), heap in use ${s.heapUsedMb.toFixed(1)} MB, ` +
    `new space ${Math.round(s.young.newSpaceMb)} MB, ${Math.round(s.young.survivedBytesPerRequest)} B/request surviving scavenges`;
  return {
    title: '6. Memory',
    how:
      `A fresh process${COMPILED ? ' running the compiled JavaScript with no Node or V8 flag' : ' running the sources under tsx (not what users run: `npm run bench` runs the compiled code)'} ` +
      `sends ${count(n)} requests from 64 concurrent callers through a three-target chain of in-process fake providers with telemetry on (real SDK, no-op ` +
      'exporters); every prompt is unique, so the bounded cache (10 000 entries) fills and evicts and every answer is a new cache entry; 100 partitions; ' +
      'the primary fails in bursts so breakers open, probe and close, and retries and hops happen. RSS is read at each checkpoint as the running process ' +
      'has it; the breakdown follows a full GC (`vm.measureMemory` with eager execution, which needs no flag). Scavenge survival comes from `v8.GCProfiler`: ' +
      'V8 grows the young generation (up to 2 × 64 MB here) whenever the bytes surviving scavenges since its last growth exceed its size, and does not ' +
      'shrink it while the allocation rate stays high, so steady survival per request is what sets RSS under sustained load.',
    rows,
    notes: [
      `At each checkpoint (requests → RSS, heap in use after GC, young generation): ${report.samples.map(checkpoint).join('; ')}.`,
      `Where the memory is ${at(last).replace('memory ', '')}, after GC: ${describeBreakdown(last)}.`,
      `The same after ${count(tenth.requests)} requests: ${describeBreakdown(tenth)}.`,
      `${report.transitions} breaker transitions during the run; served: ${served}; ${count(Math.round(report.total / (report.elapsedMs / 1000)))} requests/s.`,
      `For contrast, the same chain with 5 000 repeated prompts, telemetry off and no failures (what the pipeline alone keeps): ${plain.samples.map(checkpoint).join('; ')}.`,
    ],
  };
}
