/**
 * Run by the profile suite in a fresh process (`node bench/profileChild.js on|off N [warm-up]`): the pipeline
 * scenario of the throughput suite (three fake providers that answer at once, 64 concurrent
 * callers, one event loop), warmed up, then N requests under V8's sampling CPU profiler (the
 * inspector's Profiler domain, 100 µs interval). Prints one JSON line: the profile's self time
 * aggregated per function and per area, and where the full .cpuprofile was written.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { createResilientLLM } from '../src/index.js';
import { drivePipeline as drive, fakeTargets } from './fakeProvider.js';
import { startBenchTelemetry } from './telemetry.js';

const mode = process.argv[2] === 'off' ? 'off' : 'on';
const total = Number(process.argv[3] ?? 100_000);
const warmup = Number(process.argv[4] ?? 20_000);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

const telemetry = mode === 'on' ? startBenchTelemetry() : undefined;
const llm = createResilientLLM({ name: `profile-${mode}`, targets: fakeTargets().targets, ...(mode === 'off' && { telemetry: false }) });

/** `src/telemetry/otelObserver.js`, `@opentelemetry/sdk-trace/build/src/Span.js`, `node:internal/…`. */
function shortUrl(url: string): string {
  const inBuild = url.match(/bulwark-bench\/(.*)$/);
  if (inBuild) return inBuild[1]!;
  const inModules = url.match(/.*node_modules\/(.*)$/);
  if (inModules) return inModules[1]!;
  return url.replace(/^file:\/\//, '');
}

function area(node: ProfileNode): string {
  const { functionName, url } = node.callFrame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native / V8 builtins)';
  const file = shortUrl(url);
  const src = file.match(/^src\/(?:([^/]+)\/)?/);
  if (src) return src[1] ? `bulwark src/${src[1]}` : 'bulwark src/*.js (entry points)';
  if (file.startsWith('bench/')) return 'benchmark harness';
  const pkg = file.match(/^(@[^/]+\/[^/]+|[^/]+)\//);
  if (url.includes('node_modules') && pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node internals';
  return file;
}

await drive(llm, warmup); // warm-up: JIT, caches, pre-created series
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 100 });
await session.post('Profiler.start');
const rate = await drive(llm, total);
const { profile } = (await session.post('Profiler.stop')) as { profile: { nodes: ProfileNode[] } };
session.disconnect();
await llm.close();
await telemetry?.shutdown();

const file = path.join(os.tmpdir(), `bulwark-pipeline-telemetry-${mode}.cpuprofile`);
writeFileSync(file, JSON.stringify(profile));
const hits = profile.nodes.reduce((sum, n) => sum + (n.hitCount ?? 0), 0);
const byFunction = new Map<string, number>();
const byArea = new Map<string, number>();
for (const node of profile.nodes) {
  const count = node.hitCount ?? 0;
  if (!count) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const fn = url ? `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}` : functionName || '(anonymous)';
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + count);
  const a = area(node);
  byArea.set(a, (byArea.get(a) ?? 0) + count);
}
const top = (m: Map<string, number>, n: number) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, count]) => ({ name, selfPercent: (count / hits) * 100 }));
process.stdout.write(`${JSON.stringify({ mode, total, warmup, requestsPerSec: rate, samples: hits, file, functions: top(byFunction, 15), areas: top(byArea, 10) })}\n`);
