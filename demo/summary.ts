/**
 * The end-of-run summary: each phase by name, what the providers did, what the layer did about it,
 * and what the callers got.
 */
import { percentile, type PhaseCounts, type Served } from './stats.js';
import { fmt } from './view.js';
import type { DemoReport, PhaseReport } from './workload.js';

const sum = (record: Record<string, number>) => Object.values(record).reduce((a, b) => a + b, 0);
const plural = (n: number, one: string, many = `${one}s`) => `${fmt.int(n)} ${n === 1 ? one : many}`;

function served(counts: PhaseCounts): string {
  const n = counts.requests;
  if (n === 0) return 'no requests finished';
  const order: Served[] = ['full', 'reduced', 'cached', 'static', 'failed'];
  const parts = order.filter((t) => counts.served[t] > 0).map((t) => `${t} ${fmt.pct(counts.served[t] / n)}`);
  const answered = (n - counts.served.failed) / n;
  return `answered ${fmt.pct(answered)} (${parts.join(', ')})`;
}

/** What the layer did in a phase, most telling first. */
export function layerActions(counts: PhaseCounts, timing: { maxRetryAfterMs: number; attemptMs: number; firstChunkMs: number }): string[] {
  const out: string[] = [];
  const waits = counts.retryAfterWaits;
  const backoffRetries = counts.retries - waits.length;
  if (waits.length > 0) out.push(`waited out the provider's Retry-After ${plural(waits.length, 'time')} (median ${fmt.ms(percentile(waits, 50))}) before retrying`);
  if (backoffRetries > 0) out.push(`retried ${plural(backoffRetries, 'failed call')} after a full-jitter backoff`);
  if (counts.retryAfterAboveCap > 0) {
    out.push(`sent ${plural(counts.retryAfterAboveCap, 'request')} whose Retry-After exceeded the ${fmt.sec(timing.maxRetryAfterMs)} cap straight to the next target`);
  }
  const budget = counts.hops['budget_exhausted'] ?? 0;
  if (budget > 0) out.push(`refused ${plural(budget, 'retry', 'retries')} once the retry budget was spent, hopping instead`);
  const timeouts = counts.failedAttempts['timeout'] ?? 0;
  if (timeouts > 0) out.push(`cut ${plural(timeouts, 'hung call')} at the first-chunk (${fmt.sec(timing.firstChunkMs)}) or attempt (${fmt.sec(timing.attemptMs)}) timeout`);
  for (const t of counts.transitions) {
    if (t.to === 'open' && t.from === 'closed') out.push(`opened breaker ${t.breaker} at ${fmt.sec(t.atMs)} (${t.reason.replaceAll('_', ' ')})`);
  }
  const rejected = sum(counts.circuitRejections);
  if (rejected > 0) {
    const by = Object.entries(counts.circuitRejections)
      .map(([k, v]) => `${k} ×${fmt.int(v)}`)
      .join(', ');
    out.push(`skipped open breakers ${plural(rejected, 'time')} without calling the provider (${by})`);
  }
  if (counts.probes.failed > 0) out.push(`sent ${plural(counts.probes.failed, 'half-open probe')} that failed (breaker reopened each time)`);
  for (const t of counts.transitions) {
    if (t.to === 'closed' && t.from === 'half_open') out.push(`closed breaker ${t.breaker} at ${fmt.sec(t.atMs)} after successful probes`);
  }
  const hops = sum(counts.hops);
  if (hops > 0) {
    const to = Object.entries(counts.hopsTo)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `→ ${k} ×${fmt.int(v)}`)
      .join(', ');
    out.push(`made ${plural(hops, 'fallback hop')} (${to})`);
  }
  const cached = counts.served.cached;
  const statics = counts.served.static;
  if (cached + statics > 0) out.push(`degraded ${plural(cached + statics, 'request')} when no target could answer: ${fmt.int(cached)} stale cached, ${fmt.int(statics)} static`);
  if (out.length === 0) out.push('stayed out of the way: every request answered by the primary on the first call');
  return out;
}

function phaseBlock(p: PhaseReport, index: number, report: DemoReport): string[] {
  const c = p.counts;
  const head = `${index + 1}. ${p.phase.title} (${fmt.sec(p.startMs)}–${fmt.sec(p.endMs)}): ${p.phase.happening}.`;
  const failed = Object.entries(c.failedAttempts)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ×${fmt.int(v)}`)
    .join(', ');
  const upstream = `${plural(c.attempts, 'upstream call')}${failed ? `, failed: ${failed}` : ', none failed'}`;
  const perOk = c.modelAnswered ? c.costUsd / c.modelAnswered : Number.NaN;
  const result =
    `${plural(c.requests, 'request')}: ${served(c)}; p95 ${fmt.ms(percentile(c.latenciesMs, 95))}; ${fmt.usd(perOk)} per successful request` +
    (sum(c.errors) > 0 ? `; errors to callers: ${Object.entries(c.errors).map(([k, v]) => `${k} ×${v}`).join(', ')}` : '');
  return [
    head,
    `   providers: ${upstream}`,
    `   the layer: ${layerActions(c, report.info.timing).join('; ')}`,
    `   callers:   ${result}`,
  ];
}

export function summarize(report: DemoReport): string[] {
  const t = report.totals;
  const lines = [
    '',
    `Summary — ${fmt.sec(report.elapsedMs)}${report.interrupted ? ' (interrupted)' : ''}, ${plural(t.requests, 'request')} in ${plural(report.conversations, 'conversation')} ` +
      `(${fmt.int(t.streamed)} streamed, ${fmt.int(t.withTools)} tool-call turns answered by the agent, ` +
        `${fmt.int(t.structured)} ticket records as schema-valid JSON, ${fmt.int(t.withImage)} conversations with a screenshot)`,
    '',
  ];
  report.phases.forEach((p, i) => lines.push(...phaseBlock(p, i, report), ''));
  const perOk = t.modelAnswered ? t.costUsd / t.modelAnswered : Number.NaN;
  const retryRate = t.requests ? t.retries / t.requests : 0;
  lines.push(
    `Overall: ${served(t)}; retry rate ${fmt.pct(retryRate)}; ${plural(t.attempts, 'upstream call')} for ${plural(t.requests, 'request')} ` +
      `(${(t.requests ? t.attempts / t.requests : 0).toFixed(2)} per request); spend ${fmt.usd(t.costUsd)}, ${fmt.usd(perOk)} per successful request; ` +
      `p95 ${fmt.ms(percentile(t.latenciesMs, 95))}`,
    `Breaker transitions: ${report.transitions.length ? report.transitions.map((x) => `${fmt.sec(x.atMs)} ${x.breaker} ${x.from}→${x.to}`).join(', ') : 'none'}`,
    `Errors thrown to callers: ${sum(t.errors) ? Object.entries(t.errors).map(([k, v]) => `${k} ×${v}`).join(', ') : 'none'}; unhandled rejections: ${report.unhandledRejections.length}`,
  );
  return lines;
}
