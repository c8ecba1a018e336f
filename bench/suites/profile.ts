/**
 * 6b. Profile notes: where the pipeline's CPU time goes (a sampling CPU profile of the throughput
 * scenario, telemetry on and off, each in a fresh process), next to the memory breakdown of
 * section 6, and the notes of the hot-path work (issue 17) when they are in bench/results.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BenchContext } from '../context.js';
import { COMPILED, REPO_ROOT } from '../paths.js';
import type { Row, Section } from '../report.js';

const run = promisify(execFile);

interface ChildReport {
  mode: 'on' | 'off';
  total: number;
  requestsPerSec: number;
  samples: number;
  file: string;
  functions: Array<{ name: string; selfPercent: number }>;
  areas: Array<{ name: string; selfPercent: number }>;
}

/** Notes kept next to the results (written by hand by whoever profiles the hot path). */
const NOTES = ['profile-notes.md', 'profile-before.md'];

export async function profileSuite(ctx: BenchContext): Promise<Section> {
  const n = ctx.sizes.profileRequests;
  const warmup = Math.min(20_000, n);
  const child = fileURLToPath(new URL(COMPILED ? '../profileChild.js' : '../profileChild.ts', import.meta.url));
  const rows: Row[] = [];
  const notes: string[] = [];
  for (const mode of ['on', 'off'] as const) {
    const args = [...(COMPILED ? [] : ['--import', 'tsx']), child, mode, String(n), String(warmup)];
    const { stdout } = await run(process.execPath, args, { cwd: REPO_ROOT, maxBuffer: 16 * 2 ** 20 });
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildReport;
    for (const a of report.areas) rows.push({ name: `CPU, telemetry ${mode}, by area: ${a.name}`, metric: 'self time', value: a.selfPercent, unit: '%' });
    for (const f of report.functions.slice(0, 10)) rows.push({ name: `CPU, telemetry ${mode}: \`${f.name}\``, metric: 'self time', value: f.selfPercent, unit: '%' });
    notes.push(
      `Telemetry ${mode}: ${report.samples.toLocaleString('en-US')} samples over ${report.total.toLocaleString('en-US')} requests ` +
        `(${Math.round(report.requestsPerSec).toLocaleString('en-US')} req/s under the profiler); the full profile was written to \`${report.file}\` (open it in Chrome DevTools → Performance).`,
    );
  }
  const dir = path.join(REPO_ROOT, 'bench', 'results');
  for (const file of NOTES) if (existsSync(path.join(dir, file))) notes.push(`See [\`${file}\`](${file}).`);
  return {
    title: '6b. Profile notes: pipeline CPU profile',
    how:
      `The pipeline scenario of section 5 (three in-process fake providers, 64 concurrent callers, one event loop) in a fresh process per mode, warmed up with ` +
      `${warmup.toLocaleString('en-US')} requests, then ${n.toLocaleString('en-US')} requests under V8's sampling CPU profiler (inspector Profiler domain, 100 µs interval). Self time per ` +
      'function (file:line of the compiled JavaScript) and per area, as a share of all samples; "(garbage collector)" is V8\'s collection time. The memory ' +
      'breakdown (heap reserved vs in use, new/old/code space, external, array buffers, malloced, the rest) is in section 6.',
    rows,
    notes,
  };
}
