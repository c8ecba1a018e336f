/**
 * The benchmark proper (bench/run.ts compiles it and runs it with Node): Bulwark side by side with
 * the direct official client and its peers, in one run on one machine, results to
 * bench/results/latest.json (rows) and bench/results/latest.md (table).
 *
 *   npm run bench                       # full run (~3 min), writes bench/results/
 *   npm run bench -- --smoke            # tiny sizes, every suite once; writes to a temp dir (CI)
 *   npm run bench -- --only overhead,failover --out /tmp/b
 *   npm run bench -- --peers litellm    # also LiteLLM (Python venv, pinned; skipped with a reason without Python)
 *
 * Suites: overhead, failover, amplification, portkey, litellm, throughput, memory, profile, aisdk, fronts, gateway, ratelimits,
 * tail. The litellm suite and LiteLLM's amplification and ratelimits contenders run only with `--peers litellm` (never in the
 * smoke run of CI).
 * Nothing here judges a timing: the benchmark reports.
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startFaultServer } from '../src/testing/index.js';
import { FULL, SMOKE, type BenchContext } from './context.js';
import { COMPILED, REPO_ROOT } from './paths.js';
import { startLiteLLMPeer, type LiteLLMPeer } from './litellmPeer.js';
import { startPortkeyGateway, type PortkeyGateway } from './portkeyGateway.js';
import { writeResults, type Section } from './report.js';
import { aiSdkSuite } from './suites/aiSdk.js';
import { amplificationSuite } from './suites/amplification.js';
import { failoverSuite } from './suites/failover.js';
import { frontsSuite } from './suites/fronts.js';
import { gatewaySuite } from './suites/gateway.js';
import { litellmSuite } from './suites/litellm.js';
import { memorySuite } from './suites/memory.js';
import { overheadSuite } from './suites/overhead.js';
import { portkeySuite } from './suites/portkey.js';
import { profileSuite } from './suites/profile.js';
import { rateLimitsSuite } from './suites/rateLimits.js';
import { tailSuite } from './suites/tail.js';
import { throughputSuite } from './suites/throughput.js';
import { startBenchTelemetry } from './telemetry.js';

const SUITES = {
  overhead: overheadSuite,
  failover: failoverSuite,
  amplification: amplificationSuite,
  portkey: portkeySuite,
  litellm: litellmSuite,
  throughput: throughputSuite,
  memory: memorySuite,
  profile: profileSuite,
  aisdk: aiSdkSuite,
  fronts: frontsSuite,
  gateway: gatewaySuite,
  ratelimits: rateLimitsSuite,
  tail: tailSuite,
} as const;
type SuiteName = keyof typeof SUITES;

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string' },
    peers: { type: 'string' },
  },
});
const smoke = values.smoke;
const PEERS = ['litellm'] as const;
const peers = values.peers?.split(',').map((s) => s.trim()).filter(Boolean) ?? [];
for (const name of peers) if (!(PEERS as readonly string[]).includes(name)) throw new Error(`unknown peer '${name}' (known: ${PEERS.join(', ')})`);
const only = values.only?.split(',').map((s) => s.trim()) ?? Object.keys(SUITES).filter((name) => !(PEERS as readonly string[]).includes(name) || peers.includes(name));
for (const name of only) if (!(name in SUITES)) throw new Error(`unknown suite '${name}' (known: ${Object.keys(SUITES).join(', ')})`);
const wantsLiteLLM = peers.includes('litellm') || only.includes('litellm');
const outDir = values.out ?? (smoke ? path.join(os.tmpdir(), 'bulwark-bench-smoke') : path.join(REPO_ROOT, 'bench', 'results'));
if (!COMPILED) process.stdout.write('Note: running from source under tsx; `npm run bench` runs the compiled code, which is what users run.\n');
const log = (line: string) => process.stdout.write(`${line}\n`);

const started = performance.now();
const loadAtStart = os.loadavg()[0]!;
// Telemetry "on" means an application's SDK is registered; "off" variants use `telemetry: false`.
const telemetry = startBenchTelemetry();
const server = await startFaultServer({ seed: 1 });
let gateway: PortkeyGateway | undefined;
let gatewayError: string | undefined;
if (only.includes('amplification') || only.includes('portkey') || only.includes('gateway')) {
  try {
    gateway = await startPortkeyGateway();
    log(`Portkey gateway listening on ${gateway.url}`);
  } catch (error) {
    gatewayError = error instanceof Error ? error.message : String(error);
    log(`Portkey gateway unavailable: ${gatewayError}`);
  }
}
let litellm: LiteLLMPeer | undefined;
let litellmError: string | undefined;
if (wantsLiteLLM && (only.includes('litellm') || only.includes('amplification') || only.includes('ratelimits'))) {
  try {
    litellm = await startLiteLLMPeer(log);
    log(`LiteLLM peer ready: ${litellm.versions}`);
  } catch (error) {
    litellmError = error instanceof Error ? error.message : String(error);
    log(`LiteLLM peer skipped: ${litellmError}`);
  }
}
const ctx: BenchContext = { smoke, sizes: smoke ? SMOKE : FULL, server, gateway, gatewayError, litellm, litellmError, log };

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
const args = [smoke ? '--smoke' : '', values.only ? `--only ${values.only}` : '', values.peers ? `--peers ${values.peers}` : ''].filter(Boolean);
const command = `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;
const files = await writeResults(outDir, sections, {
  date: new Date().toISOString().slice(0, 10),
  command,
  smoke,
  durationSec,
  load: { start: loadAtStart, end: os.loadavg()[0]! },
});
log(`Wrote ${files.json} and ${files.md} (${durationSec.toFixed(0)} s)`);
