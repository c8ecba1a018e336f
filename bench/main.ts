/**
 * The benchmark proper (bench/run.ts compiles it and runs it with Node): Bulwark side by side with
 * the direct official client and its peers, in one run on one machine, results to
 * bench/results/latest.json (rows) and bench/results/latest.md (table).
 *
 *   npm run bench                       # full run (~3 min), writes bench/results/
 *   npm run bench -- --smoke            # tiny sizes, every suite once; writes to a temp dir (CI)
 *   npm run bench -- --only overhead,failover --out /tmp/b
 *
 * Suites: overhead, failover, amplification, portkey, throughput, memory, aisdk, fronts. Nothing here judges a
 * timing: the benchmark reports.
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startFaultServer } from '../src/testing/index.js';
import { FULL, SMOKE, type BenchContext } from './context.js';
import { COMPILED, REPO_ROOT } from './paths.js';
import { startPortkeyGateway, type PortkeyGateway } from './portkeyGateway.js';
import { writeResults, type Section } from './report.js';
import { aiSdkSuite } from './suites/aiSdk.js';
import { amplificationSuite } from './suites/amplification.js';
import { failoverSuite } from './suites/failover.js';
import { frontsSuite } from './suites/fronts.js';
import { memorySuite } from './suites/memory.js';
import { overheadSuite } from './suites/overhead.js';
import { portkeySuite } from './suites/portkey.js';
import { throughputSuite } from './suites/throughput.js';
import { startBenchTelemetry } from './telemetry.js';

const SUITES = {
  overhead: overheadSuite,
  failover: failoverSuite,
  amplification: amplificationSuite,
  portkey: portkeySuite,
  throughput: throughputSuite,
  memory: memorySuite,
  aisdk: aiSdkSuite,
  fronts: frontsSuite,
} as const;
type SuiteName = keyof typeof SUITES;

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string' },
  },
});
const smoke = values.smoke;
const only = values.only?.split(',').map((s) => s.trim()) ?? Object.keys(SUITES);
for (const name of only) if (!(name in SUITES)) throw new Error(`unknown suite '${name}' (known: ${Object.keys(SUITES).join(', ')})`);
const outDir = values.out ?? (smoke ? path.join(os.tmpdir(), 'bulwark-bench-smoke') : path.join(REPO_ROOT, 'bench', 'results'));
if (!COMPILED) process.stdout.write('Note: running from source under tsx; `npm run bench` runs the compiled code, which is what users run.\n');
const log = (line: string) => process.stdout.write(`${line}\n`);

const started = performance.now();
// Telemetry "on" means an application's SDK is registered; "off" variants use `telemetry: false`.
const telemetry = startBenchTelemetry();
const server = await startFaultServer({ seed: 1 });
let gateway: PortkeyGateway | undefined;
let gatewayError: string | undefined;
if (only.includes('amplification') || only.includes('portkey')) {
  try {
    gateway = await startPortkeyGateway();
    log(`Portkey gateway listening on ${gateway.url}`);
  } catch (error) {
    gatewayError = error instanceof Error ? error.message : String(error);
    log(`Portkey gateway unavailable: ${gatewayError}`);
  }
}
const ctx: BenchContext = { smoke, sizes: smoke ? SMOKE : FULL, server, gateway, gatewayError, log };

const sections: Section[] = [];
try {
  for (const name of only as SuiteName[]) {
    const t0 = performance.now();
    log(`${name}…`);
    server.reset();
    const section = await SUITES[name](ctx);
    sections.push(section);
    for (const r of section.rows) log(`  ${r.name} — ${r.metric}: ${Number.isFinite(r.value) ? Number(r.value.toPrecision(4)) : r.value} ${r.unit}`);
    log(`  (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
} finally {
  await gateway?.close();
  await server.close();
  await telemetry.shutdown();
}

const durationSec = (performance.now() - started) / 1000;
const command = `npm run bench${smoke ? ' -- --smoke' : ''}${values.only ? ` -- --only ${values.only}` : ''}`;
const files = await writeResults(outDir, sections, { date: new Date().toISOString().slice(0, 10), command, smoke, durationSec });
log(`Wrote ${files.json} and ${files.md} (${durationSec.toFixed(0)} s)`);
