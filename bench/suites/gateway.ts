/**
 * 9. The Bulwark gateway (issue 14) in a process of its own, against the direct official client and
 * the Portkey gateway on the same fault server: the latency it adds; the request rate and the number
 * of open streams at which its p99 added latency stays under 5 ms; its RSS with open streams.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { fault } from '../../src/testing/index.js';
import { PARAMS, clientFor, customHost, type BenchContext } from '../context.js';
import { compare, openLoop, sleep, type Variant } from '../measure.js';
import { COMPILED, REPO_ROOT } from '../paths.js';
import type { Row, Section } from '../report.js';

/** Goal of issue 14 for the sustained rate and the open streams: p99 added under this. */
const P99_BUDGET_MS = 5;

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return line ? Number(line.split(/\s+/)[1]) / 1024 : Number.NaN;
}

async function startGatewayChild(upstream: string, streamUpstream: string): Promise<{ child: ChildProcess; url: string; key: string }> {
  const script = fileURLToPath(new URL(COMPILED ? '../gatewayChild.js' : '../gatewayChild.ts', import.meta.url));
  // The access log goes to stdout, which is discarded (written, as in production, but not kept).
  const child = fork(script, [upstream, streamUpstream], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: COMPILED ? [] : ['--import', 'tsx'] });
  process.once('exit', () => child.kill('SIGKILL'));
  const [message] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => Promise.reject(new Error(`the gateway process exited with code ${String(code)}`))),
  ])) as [{ url: string; key: string }];
  return { child, ...message };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await Promise.race([once(child, 'exit'), sleep(5000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

export async function gatewaySuite(ctx: BenchContext): Promise<Section> {
  const title = '9. Bulwark gateway: overhead, sustained rate, open streams, RSS';
  const { server, sizes } = ctx;
  const { child, url, key } = await startGatewayChild(server.baseURL('openai', 'gw-up'), server.baseURL('openai', 'gw-stream'));
  try {
    const direct = clientFor(ctx, 'gw-up');
    const viaGateway = new OpenAI({ apiKey: key, baseURL: `${url}/v1`, maxRetries: 0 });
    const variants: Variant[] = [
      { name: 'direct', call: () => direct.chat.completions.create(PARAMS) },
      { name: 'bulwark', call: () => viaGateway.chat.completions.create(PARAMS) },
    ];
    const portkey = ctx.gateway && clientFor(ctx, 'gw-up', { baseURL: `${ctx.gateway.url}/v1`, defaultHeaders: ctx.gateway.fallbackHeader([customHost(ctx, 'gw-up')]) });
    if (portkey) variants.push({ name: 'portkey', call: () => portkey.chat.completions.create(PARAMS) });
    try {
      await viaGateway.chat.completions.create(PARAMS);
    } catch (error) {
      return { title, how: 'Not measured.', rows: [], notes: [`The gateway did not answer a chat completion: ${error instanceof Error ? error.message : String(error)}`] };
    }
    const rssIdle = rssMb(child.pid!);
    const c = await compare(variants, {
      baseline: 'direct',
      trials: sizes.trials,
      iterations: Math.ceil(sizes.iterations / 2),
      warmup: sizes.warmup,
      betweenTrials: () => server.reset(),
    });
    const rows: Row[] = [
      { name: 'direct official client (gateway baseline)', metric: 'p50', value: c.p50.get('direct')!, unit: 'ms' },
      { name: 'direct official client (gateway baseline)', metric: 'p99', value: c.p99.get('direct')!, unit: 'ms' },
      { name: 'Bulwark gateway overhead', metric: 'p50 added', value: c.added('bulwark', 'p50'), unit: 'ms' },
      { name: 'Bulwark gateway overhead', metric: 'p99 added', value: c.added('bulwark', 'p99'), unit: 'ms' },
      { name: 'Bulwark gateway overhead', metric: 'p50 ratio', value: c.ratio('bulwark', 'p50'), unit: 'x' },
    ];
    if (ctx.gateway) {
      rows.push(
        { name: 'Portkey gateway overhead (same run)', metric: 'p50 added', value: c.added('portkey', 'p50'), unit: 'ms' },
        { name: 'Portkey gateway overhead (same run)', metric: 'p99 added', value: c.added('portkey', 'p99'), unit: 'ms' },
        { name: 'Bulwark gateway minus Portkey gateway', metric: 'p50', value: c.perTrial((t) => t.get('bulwark')!.p50 - t.get('portkey')!.p50), unit: 'ms' },
      );
    }

    // Sustained rate: open-loop arrivals, direct then through the gateway, step by step until the
    // gateway's p99 exceeds the direct call's by the budget or it falls behind the schedule.
    const notes: string[] = [];
    let sustained = 0;
    for (const rate of sizes.gatewayRates) {
      server.reset();
      const one = (client: OpenAI) => async () => {
        await client.chat.completions.create(PARAMS);
        return true;
      };
      const d = await openLoop(rate, sizes.gatewayStepMs, one(direct));
      const g = await openLoop(rate, sizes.gatewayStepMs, one(viaGateway));
      const p = portkey && (await openLoop(rate, sizes.gatewayStepMs, one(portkey)));
      const added = g.p99 - d.p99;
      const keptUp = g.answered === g.total && g.elapsedMs < sizes.gatewayStepMs * 1.25 + 100;
      rows.push({ name: `gateway at ${rate.toLocaleString('en-US')} requests/s`, metric: 'p99 added', value: added, unit: 'ms' });
      if (p) rows.push({ name: `Portkey gateway at ${rate.toLocaleString('en-US')} requests/s`, metric: 'p99 added', value: p.p99 - d.p99, unit: 'ms' });
      notes.push(
        `${rate.toLocaleString('en-US')} requests/s for ${sizes.gatewayStepMs / 1000} s: direct p50 / p99 ${d.p50.toFixed(2)} / ${d.p99.toFixed(2)} ms, through the gateway ` +
          `${g.p50.toFixed(2)} / ${g.p99.toFixed(2)} ms, ${g.answered} of ${g.total} answered, last answer after ${(g.elapsedMs / 1000).toFixed(2)} s` +
          `${p ? `; through Portkey ${p.p50.toFixed(2)} / ${p.p99.toFixed(2)} ms, ${p.answered} of ${p.total} answered` : ''}` +
          `${d.elapsedMs > sizes.gatewayStepMs * 1.25 + 100 ? ' (the load generator itself fell behind: the direct run took ' + (d.elapsedMs / 1000).toFixed(2) + ' s)' : ''}.`,
      );
      if (added >= P99_BUDGET_MS || !keptUp) break;
      sustained = rate;
    }
    rows.push({ name: `gateway: highest rate tried with p99 added < ${P99_BUDGET_MS} ms`, metric: 'requests per second', value: sustained, unit: 'req/s' });

    // Open streams: streams held open through the gateway (one chunk a second upstream), growing step
    // by step; at each step the added latency of plain calls and the gateway's RSS.
    server.reset();
    server.script({ route: 'gw-stream' }, { then: fault.ok({ text: 'word '.repeat(600).trim(), chunkDelayMs: 1000 }) });
    const aborter = new AbortController();
    const open: Array<Promise<void>> = [];
    let held = 0;
    let streamsUnder = 0;
    let allUnder = true;
    for (const target of sizes.gatewayStreams) {
      const opening: Array<Promise<void>> = [];
      for (; held < target; held++) {
        let firstChunk!: () => void;
        opening.push(new Promise<void>((resolve) => (firstChunk = resolve)));
        open.push(
          (async () => {
            try {
              const stream = await viaGateway.chat.completions.create({ ...PARAMS, model: 'slow-stream', stream: true }, { signal: aborter.signal });
              for await (const _ of stream) firstChunk();
            } catch {
              // aborted at the end
            } finally {
              firstChunk();
            }
          })(),
        );
      }
      await Promise.all(opening);
      const s = await compare(variants.slice(0, 2), { baseline: 'direct', trials: Math.min(3, sizes.trials), iterations: Math.ceil(sizes.iterations / 5), warmup: Math.ceil(sizes.warmup / 5) });
      const p99Added = s.added('bulwark', 'p99');
      const rss = rssMb(child.pid!);
      rows.push(
        { name: `gateway with ${target.toLocaleString('en-US')} open streams`, metric: 'p50 added', value: s.added('bulwark', 'p50'), unit: 'ms' },
        { name: `gateway with ${target.toLocaleString('en-US')} open streams`, metric: 'p99 added', value: p99Added, unit: 'ms' },
        { name: `gateway with ${target.toLocaleString('en-US')} open streams`, metric: 'rss', value: rss, unit: 'MB' },
      );
      if (allUnder && p99Added < P99_BUDGET_MS) streamsUnder = target;
      else allUnder = false;
    }
    aborter.abort();
    await Promise.all(open);
    rows.push({ name: `gateway: most open streams tried with p99 added < ${P99_BUDGET_MS} ms`, metric: 'streams', value: streamsUnder, unit: 'streams' });
    rows.push({ name: 'gateway process, idle after start', metric: 'rss', value: rssIdle, unit: 'MB' });

    return {
      title,
      how:
        '`createGateway` in its own Node process (as deployed): one chain with the default config (cache on failure, breakers, budgets) whose target is the official ' +
        '`openai` client on a fault-server route, telemetry on with the real SDK (no-op exporters), the JSON access log on; called by the official `openai` client ' +
        `with a gateway key. Overhead: direct, through the Bulwark gateway and through the Portkey gateway (section 4) on the same route, interleaved call by call, ` +
        `${sizes.trials} trials × ${Math.ceil(sizes.iterations / 2)} calls per variant; goal ≤ 0.3 ms added at p50. Sustained rate: open-loop arrivals for ` +
        `${sizes.gatewayStepMs / 1000} s per step (${sizes.gatewayRates.join(', ')} requests/s), direct, then through the gateway, then through Portkey; p99 added = p99 through the gateway − p99 direct at ` +
        `the same rate; the steps stop at the first rate over ${P99_BUDGET_MS} ms or where the gateway fell behind. Open streams: streaming requests held open through ` +
        `the gateway (one chunk a second), ${sizes.gatewayStreams.join(' → ')}; at each step plain calls direct vs through the gateway (interleaved) and the gateway's RSS ` +
        '(/proc/PID/status). The load generator, the fault server and (for the streams) every client connection live in the benchmark process on the same 2 cores.',
      rows,
      notes,
    };
  } finally {
    await stopChild(child);
  }
}
