/**
 * 5. Throughput of the pipeline with an in-process fake provider (no network), telemetry on and off; the
 * per-call cost of the pipeline itself, timed one call at a time against calling the fake directly; the CPU
 * time and the bytes allocated per request; and two floors measured in the same run: the harness alone (the
 * same callers answered by the fake adapter, no Bulwark) and the OpenTelemetry SDK's own work for one answered
 * request (no Bulwark code). Each mode runs compiled in a fresh process of its own (bench/profile-pipeline.ts),
 * as in a user's service, not in the benchmark process that has run every other suite.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BenchContext } from '../context.js';
import { COMPILED, REPO_ROOT } from '../paths.js';
import type { Row, Section } from '../report.js';

const run = promisify(execFile);

interface Line {
  mode?: 'on' | 'off' | 'bare';
  measure: string;
  [field: string]: unknown;
}

/** One fresh process of bench/profile-pipeline.ts; its JSON lines. */
async function profilePipeline(args: string[]): Promise<Line[]> {
  const child = fileURLToPath(new URL(COMPILED ? '../profile-pipeline.js' : '../profile-pipeline.ts', import.meta.url));
  const { stdout } = await run(process.execPath, [...(COMPILED ? [] : ['--import', 'tsx']), child, ...args], { cwd: REPO_ROOT, maxBuffer: 16 * 2 ** 20 });
  return stdout
    .trim()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Line);
}

export async function throughputSuite(ctx: BenchContext): Promise<Section> {
  const { sizes } = ctx;
  const trials = Math.min(3, sizes.trials);
  const requests = sizes.throughputRequests;
  const common = [
    '--trials', String(trials),
    '--requests', String(requests),
    '--warmup', String(Math.ceil(requests / 10)),
    '--percall-iterations', String(sizes.inProcessIterations),
    '--alloc-requests', String(Math.ceil(requests / 2)),
    '--floor-iterations', String(Math.ceil(requests / 4)),
  ];
  const lines: Line[] = [];
  for (const mode of ['on', 'off'] as const) lines.push(...(await profilePipeline(['--telemetry', mode, '--only', 'percall,throughput,alloc', ...common])));
  lines.push(...(await profilePipeline(['--telemetry', 'on', '--only', 'bare,sdkfloor', ...common])));
  /** A figure profile-pipeline printed: `mode` undefined for the SDK floor (a line without a mode). */
  const figure = (mode: Line['mode'], measure: string, field: string): number => {
    const value = lines.find((l) => l.mode === mode && l.measure === measure)?.[field];
    if (typeof value !== 'number') throw new Error(`throughput: profile-pipeline printed no ${measure}.${field} for ${mode ?? 'the SDK floor'}`);
    return value;
  };
  const rows: Row[] = [];
  for (const mode of ['on', 'off'] as const) {
    rows.push(
      { name: `throughput, telemetry ${mode}`, metric: 'requests per second', value: figure(mode, 'throughput', 'reqPerSec'), unit: 'req/s' },
      { name: `throughput, telemetry ${mode}`, metric: 'CPU per request', value: figure(mode, 'throughput', 'cpuUsPerRequest'), unit: 'µs' },
      { name: `throughput, telemetry ${mode}`, metric: 'bytes allocated per request', value: figure(mode, 'alloc', 'bytesPerRequest') / 1024, unit: 'KB' },
      { name: `pipeline cost per call, telemetry ${mode}`, metric: 'p50 added', value: figure(mode, 'percall', 'p50'), unit: 'µs' },
      { name: `pipeline cost per call, telemetry ${mode}`, metric: 'p99 added', value: figure(mode, 'percall', 'p99'), unit: 'µs' },
    );
  }
  const harness = 'floor: the harness alone (fake adapter, no Bulwark)';
  const sdk = 'floor: the OpenTelemetry SDK alone, one answered request';
  rows.push(
    { name: harness, metric: 'requests per second', value: figure('bare', 'throughput', 'reqPerSec'), unit: 'req/s' },
    { name: harness, metric: 'CPU per request', value: figure('bare', 'throughput', 'cpuUsPerRequest'), unit: 'µs' },
    { name: sdk, metric: 'CPU per request', value: figure(undefined, 'sdkfloor', 'seriesCountersCpuUs'), unit: 'µs' },
    { name: sdk, metric: 'wall time per request', value: figure(undefined, 'sdkfloor', 'seriesCountersUs'), unit: 'µs' },
  );
  const runs = (mode: Line['mode']) =>
    ((lines.find((l) => l.mode === mode && l.measure === 'throughput')?.runs ?? []) as number[]).map((r) => r.toLocaleString('en-US')).join(', ');
  return {
    title: '5. Pipeline throughput (in-process fake provider)',
    how:
      'A three-target chain of in-process fake providers that answer at once (default config: cache on failure, breakers, budgets), each telemetry mode ' +
      'compiled in a fresh Node process of its own with no flags (bench/profile-pipeline.ts; telemetry on is the real SDK registered globally with the ' +
      `batch span processor and the periodic metric reader, no-op exporters). Throughput: ${requests.toLocaleString('en-US')} requests from 64 concurrent ` +
      `callers on one event loop (5,000 distinct prompts), median of ${trials} runs after ${Math.ceil(requests / 10).toLocaleString('en-US')} warm-up requests; CPU per request is ` +
      'process.cpuUsage() (user + system, GC threads included) over those runs; bytes allocated per request from v8.GCProfiler. Per call: one call at a time, ' +
      `against calling the fake adapter directly, ${sizes.inProcessIterations.toLocaleString('en-US')} calls × ${trials} trials. Floors in the same run: the same ` +
      "callers answered by the fake adapter with no pipeline (the harness's own ceiling), and the SDK's work the telemetry contract asks for one answered request " +
      '(request and attempt spans with their attributes, two context switches, four histogram records, counters summed per series as Bulwark does) with every ' +
      'attribute object pre-built and no Bulwark code. For scale: 60,000 req/s on one core is a budget of 16.7 µs CPU per request, 150,000 req/s of 6.7 µs.',
    rows,
    notes: [`Runs (req/s): telemetry on ${runs('on')}; off ${runs('off')}; the harness alone ${runs('bare')}.`],
  };
}
