/** 6. Memory: RSS and heap after a million requests, measured in a fresh process. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BenchContext } from '../context.js';
import { describeBreakdown, type MemoryBreakdown } from '../memoryBreakdown.js';
import { COMPILED, REPO_ROOT } from '../paths.js';
import type { Section } from '../report.js';

const run = promisify(execFile);

interface ChildReport {
  total: number;
  elapsedMs: number;
  samples: Array<{ requests: number } & MemoryBreakdown>;
  transitions: number;
  served: Record<string, number>;
}

export async function memorySuite(ctx: BenchContext): Promise<Section> {
  const n = ctx.sizes.memoryRequests;
  // The child runs the same build as this process: compiled JavaScript, or the sources under tsx.
  const child = fileURLToPath(new URL(COMPILED ? '../memoryChild.js' : '../memoryChild.ts', import.meta.url));
  const args = COMPILED ? ['--expose-gc', child, String(n)] : ['--expose-gc', '--import', 'tsx', child, String(n)];
  const { stdout } = await run(process.execPath, args, { cwd: REPO_ROOT, maxBuffer: 16 * 2 ** 20 });
  const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildReport;
  const first = report.samples[0]!;
  const quarter = report.samples.find((s) => s.requests >= n / 4) ?? first;
  const last = report.samples.at(-1)!;
  const label = `after ${n.toLocaleString('en-US')} requests`;
  const served = Object.entries(report.served)
    .map(([tier, count]) => `${tier} ${count.toLocaleString('en-US')}`)
    .join(', ');
  return {
    title: '6. Memory',
    how:
      `A fresh process (\`--expose-gc\`) sends ${n.toLocaleString('en-US')} requests from 64 concurrent callers through a three-target chain of in-process fake ` +
      'providers with telemetry on (real SDK, no-op exporters); every prompt is unique, so the bounded cache (10 000 entries) fills and evicts; the primary ' +
      'fails in bursts so breakers open, probe and close. Memory is read after a forced GC.',
    rows: [
      { name: `memory ${label}`, metric: 'rss', value: last.rssMb, unit: 'MB' },
      { name: `memory ${label}`, metric: 'heap used', value: last.heapUsedMb, unit: 'MB' },
      { name: `memory after ${first.requests.toLocaleString('en-US')} requests (warm)`, metric: 'rss', value: first.rssMb, unit: 'MB' },
      { name: `memory after ${first.requests.toLocaleString('en-US')} requests (warm)`, metric: 'heap used', value: first.heapUsedMb, unit: 'MB' },
      { name: `memory growth from ${quarter.requests.toLocaleString('en-US')} to ${n.toLocaleString('en-US')} requests`, metric: 'heap used', value: last.heapUsedMb - quarter.heapUsedMb, unit: 'MB' },
      { name: `memory growth from ${quarter.requests.toLocaleString('en-US')} to ${n.toLocaleString('en-US')} requests`, metric: 'rss', value: last.rssMb - quarter.rssMb, unit: 'MB' },
      { name: `memory ${label}`, metric: 'heap total (reserved)', value: last.heapTotalMb, unit: 'MB' },
      { name: `memory ${label}`, metric: 'new space (young generation)', value: last.spaces.new_space?.sizeMb ?? Number.NaN, unit: 'MB' },
      { name: `memory ${label}`, metric: 'old space', value: last.spaces.old_space?.sizeMb ?? Number.NaN, unit: 'MB' },
      { name: `memory ${label}`, metric: 'code space', value: last.spaces.code_space?.sizeMb ?? Number.NaN, unit: 'MB' },
      { name: `memory ${label}`, metric: 'external', value: last.externalMb, unit: 'MB' },
      { name: `memory ${label}`, metric: 'array buffers', value: last.arrayBuffersMb, unit: 'MB' },
      { name: `memory ${label}`, metric: 'V8 malloced', value: last.mallocedMb, unit: 'MB' },
    ],
    notes: [
      `After GC at each checkpoint (requests → heap used / RSS): ${report.samples.map((s) => `${s.requests.toLocaleString('en-US')} → ${s.heapUsedMb.toFixed(1)} / ${Math.round(s.rssMb)} MB`).join(', ')}.`,
      `Where the memory is ${label}, after GC: ${describeBreakdown(last)}.`,
      `The same ${`after ${first.requests.toLocaleString('en-US')} requests`}: ${describeBreakdown(first)}.`,
      `${report.transitions} breaker transitions during the run; served: ${served}; ${Math.round(report.total / (report.elapsedMs / 1000)).toLocaleString('en-US')} requests/s.`,
    ],
  };
}
