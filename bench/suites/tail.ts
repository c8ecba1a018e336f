/**
 * 11. The slow tail: one of two pool members answers 10 % of its calls after 3 s. Time to answer
 * (chat) and to first chunk (streams), p50 and p99, for the weighted split and the latency
 * strategy, each with hedging and without, and the extra upstream calls hedging cost, counted by
 * the fault server.
 */
import { createResilientLLM, openaiTarget, pool, type HedgeConfig, type PoolStrategy, type ResilientLLM } from '../../src/index.js';
import type { Latency } from '../../src/testing/index.js';
import { REQUEST, clientFor, type BenchContext } from '../context.js';
import { quantile, sleep } from '../measure.js';
import type { Row, Section } from '../report.js';

/** Both members: about 100 ms; the slow one answers 10 % of its calls after 3 s instead. */
const STEADY: Latency = { kind: 'normal', meanMs: 100, stdDevMs: 10, minMs: 60 };
const SLOW_MS = 3000;
const SLOWING: Latency = { kind: 'mixture', parts: [{ probability: 0.9, latency: STEADY }, { probability: 0.1, latency: SLOW_MS }] };
/** The issue's configuration: after the quickest member's p95, one hedge, at most 5 % more calls. */
const HEDGE_P95: HedgeConfig = { after: 'p95', maxHedges: 1, budgetRatio: 0.05 };
const show = (h: HedgeConfig) => `{ after: ${typeof h.after === 'number' ? h.after : `'${h.after}'`}, maxHedges: ${h.maxHedges}, budgetRatio: ${h.budgetRatio} }`;

interface Variant {
  key: string;
  label: string;
  stream: boolean;
  strategy: PoolStrategy;
  hedge?: HedgeConfig;
}

const VARIANTS: Variant[] = [false, true].flatMap((stream) => {
  const kind = stream ? 'stream' : 'chat';
  return [
    { key: kind, label: `${kind}, weighted 50/50, no hedging`, stream, strategy: 'weighted' as const },
    { key: `${kind}-p95`, label: `${kind}, weighted 50/50, hedged (p95, budget 5 %)`, stream, strategy: 'weighted' as const, hedge: HEDGE_P95 },
    { key: `${kind}-latency`, label: `${kind}, latency strategy, no hedging`, stream, strategy: 'latency' as const },
    { key: `${kind}-latency-p95`, label: `${kind}, latency strategy, hedged (p95, budget 5 %)`, stream, strategy: 'latency' as const, hedge: HEDGE_P95 },
  ];
});

/** One request's times: to the answer's end, and to the first content chunk (streams). */
interface Timing {
  answerMs: number;
  firstChunkMs: number;
  ok: boolean;
}

async function once(llm: ResilientLLM, stream: boolean): Promise<Timing> {
  const t0 = performance.now();
  if (!stream) {
    const r = await llm.chat(REQUEST);
    const ms = performance.now() - t0;
    return { answerMs: ms, firstChunkMs: ms, ok: r.tier === 'full' };
  }
  const s = llm.stream(REQUEST);
  let firstChunkMs = Number.NaN;
  for await (const ev of s) if (ev.type === 'text' && Number.isNaN(firstChunkMs)) firstChunkMs = performance.now() - t0;
  const r = await s.result;
  return { answerMs: performance.now() - t0, firstChunkMs, ok: r.tier === 'full' };
}

/** `total` arrivals at `rate` per second on a fixed schedule, each timed; waits for the last. */
async function schedule(rate: number, total: number, one: () => Promise<Timing>): Promise<Timing[]> {
  const out: Array<Promise<Timing>> = [];
  const startedAt = performance.now();
  for (let i = 0; i < total; i++) {
    const wait = startedAt + (i * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    out.push(one().catch(() => ({ answerMs: Number.NaN, firstChunkMs: Number.NaN, ok: false })));
  }
  return Promise.all(out);
}

interface VariantRun {
  v: Variant;
  timed: Timing[];
  answered: number;
  /** Upstream calls the fault server received, and those on the stalling member's route. */
  calls: number;
  slowingCalls: number;
  /** Calls whose connection Bulwark closed (hedge losers). */
  closed: number;
}

/** One variant on routes of its own: `total` requests at `rate`, the first `warmup` untimed. */
async function runVariant(ctx: BenchContext, v: Variant): Promise<VariantRun> {
  const { server, sizes } = ctx;
  const { tailRate: rate, tailRequests: total, tailWarmup: warmup } = sizes;
  const routes = { steady: `tail-${v.key}/steady`, slowing: `tail-${v.key}/slowing` };
  server.script({ route: routes.steady }, { latency: STEADY });
  server.script({ route: routes.slowing }, { latency: SLOWING });
  const member = (route: string) => openaiTarget({ client: clientFor(ctx, route), model: 'gpt-4o', breakerKey: route });
  const llm = createResilientLLM({
    name: `tail-${v.key}`,
    targets: [pool({ name: 'gpt-4o', strategy: v.strategy, members: [member(routes.slowing), member(routes.steady)] })],
    telemetry: false,
    ...(v.hedge && { hedge: v.hedge }),
  });
  const timings = await schedule(rate, total, () => once(llm, v.stream));
  await llm.close();
  await server.idle({ timeoutMs: 10_000 }).catch(() => undefined);
  const slowingCalls = server.hits({ route: routes.slowing });
  const calls = server.hits({ route: routes.steady }) + slowingCalls;
  const closed = server.requests.filter((r) => (r.route === routes.steady || r.route === routes.slowing) && r.clientClosed).length;
  return { v, timed: timings.slice(warmup), answered: timings.filter((t) => t.ok).length, calls, slowingCalls, closed };
}

export async function tailSuite(ctx: BenchContext): Promise<Section> {
  const { tailRate: rate, tailRequests: total, tailWarmup: warmup } = ctx.sizes;
  ctx.log(`  ${VARIANTS.length} variants one after the other, ${rate} requests/s, ${total} requests each (the first ${warmup} untimed)`);
  // One variant after the other: side by side, eight variants' clients would share this process's
  // event loop, and its delays (not the members') would make the tail.
  const runs: VariantRun[] = [];
  for (const v of VARIANTS) runs.push(await runVariant(ctx, v));

  const rows: Row[] = [];
  for (const { v, timed, answered, calls, slowingCalls, closed } of runs) {
    const name = `tail: ${v.label}`;
    const which = v.stream ? 'firstChunkMs' : 'answerMs';
    const what = v.stream ? 'time to first chunk' : 'time to answer';
    const xs = timed.map((t) => t[which]).filter((x) => Number.isFinite(x));
    const p50 = quantile(xs, 0.5);
    const p99 = quantile(xs, 0.99);
    rows.push(
      { name, metric: `p50 ${what}`, value: p50, unit: 'ms' },
      { name, metric: `p99 ${what}`, value: p99, unit: 'ms' },
      { name, metric: 'p99 / p50', value: p99 / p50, unit: 'x' },
    );
    if (v.stream) {
      const done = timed.map((t) => t.answerMs).filter((x) => Number.isFinite(x));
      rows.push({ name, metric: 'p99 time to answer (stream end)', value: quantile(done, 0.99), unit: 'ms' });
    }
    rows.push(
      { name, metric: 'extra upstream calls', value: ((calls - total) / total) * 100, unit: '%' },
      { name, metric: 'calls cancelled by Bulwark (connection closed)', value: (closed / total) * 100, unit: '%' },
      { name, metric: 'upstream calls to the stalling member', value: (slowingCalls / calls) * 100, unit: '%' },
      { name, metric: 'answered', value: (answered / total) * 100, unit: '%' },
    );
  }
  return {
    title: '11. The slow tail of a two-member pool: routing and hedging',
    how:
      `A pool of two deployments answering in about 100 ms (normal, σ 10 ms); one of them answers 10 % of its calls after ` +
      `${SLOW_MS / 1000} s instead (the fault server's latency mixture, before the first byte). Eight variants, one after the other (side by side, their clients would share one event loop whose delays would make the tail), each on routes of its own: chat and ` +
      "streams, each with the pool's `weighted` strategy (equal weights: a 50/50 split) and with its `latency` strategy (defaults: members scored by the p95 " +
      `of their response times over 60 s, tolerance 0.25, timed-out and hedge-outrun waits counted), each without hedging and with the issue's \`hedge: ${show(HEDGE_P95)}\` ` +
      `on the chain (a hedge goes to the other member; 'p95' is the quickest member's, at least twice its p50). ${rate} requests/s arrive on a fixed schedule, ${total} per variant; ` +
      `the first ${warmup} are not timed (they fill the latency samples and the hedge budget). Time to first chunk is to the first text delta. Extra upstream ` +
      'calls = (calls the fault server received − requests) / requests, over the whole run.',
    rows,
    notes: [
      'Goals (issue 15): p99 ≤ 2 × p50; hedging costs ≤ 5 % extra upstream calls. With the 50/50 split about 5 % of requests land on a slow call, the ' +
        "same share as the hedge budget. In a pool 'p95' waits the quickest member's p95 and at least twice its p50, so the budget goes to stalled calls " +
        'rather than to the healthy spread just past p95; still, a hedged request answers after the delay plus a whole other call (about 3 × p50): ' +
        'hedging alone cannot bring p99 under 2 × p50 while more than 1 % of requests stall.',
      "The latency strategy avoids the stalls instead: the stalling member's p95 is its stall, so it leaves the band once measured and gets no traffic " +
        'until its samples age out of the 60 s window; hedging then covers only what routing has not avoided (the first seconds, a re-measurement). ' +
        "With hedging, a stalled call's wait is cut when the hedge answers (about 3 × p50): the staller then scores about twice the steady member, not " +
        "30 times, and a loaded machine stretching the steady member's own p95 can bring it back into the band for a while.",
      `The run (${Math.round(total / rate)} s) is shorter than the latency window (60 s): once the stalling member is out of the band it is not measured ` +
        'again during the run. In a longer run it is re-measured each minute: it takes traffic again until its p95 shows the stall (at least 5 samples; ' +
        'without hedging a stall is seen only when it ends, 3 s later), a few stalled requests a minute, under 1 % at this rate.',
    ],
  };
}
