/** The soak's report as text. */
import type { SoakReport } from './soak.js';

export function formatReport(r: SoakReport): string[] {
  const pct = (n: number) => `${((n / r.requests) * 100).toFixed(2)} %`;
  const lines = [
    '',
    `Soak: ${r.requests.toLocaleString('en-US')} requests in ${(r.elapsedMs / 1000).toFixed(1)} s (${Math.round(r.requestsPerSec)} req/s), ` +
      `${r.upstream.attempts.toLocaleString('en-US')} upstream attempts (${r.upstream.httpCalls.toLocaleString('en-US')} HTTP calls by the clients, ` +
      `${r.upstream.serverRequests.toLocaleString('en-US')} seen by the fault server)`,
    `  windows: primary down for requests ${r.windows.primaryDown.join('–')}, secondary hung for ${r.windows.secondaryHung.join('–')}`,
    `  callers: ${r.callerBehaviour.streamed} streamed (${r.callerBehaviour.walkedAway} walked away mid-stream), ${r.callerBehaviour.cancelled} cancelled, ${r.callerBehaviour.critical} critical`,
    '',
    'Answered by tier:',
    ...(['full', 'reduced', 'cached', 'static'] as const).map((t) => `  ${t.padEnd(8)} ${String(r.served[t]).padStart(8)}  ${pct(r.served[t])}`),
    `  ${'error'.padEnd(8)} ${String(r.served.none).padStart(8)}  ${pct(r.served.none)}`,
    '',
    'Typed errors (BulwarkError name:errorType):',
    ...(Object.keys(r.typedErrors).length
      ? Object.entries(r.typedErrors)
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `  ${k.padEnd(40)} ${String(v).padStart(7)}`)
      : ['  none']),
    '',
    `Untyped errors:        ${r.untypedErrors}${r.untypedSamples.length ? ` (${r.untypedSamples.join(' | ')})` : ''}`,
    `Unhandled rejections:  ${r.unhandledRejections}${r.unhandledSamples.length ? ` (${r.unhandledSamples.join(' | ')})` : ''}`,
    `Past their deadline:   ${r.pastDeadline} (still running > ${r.deadlineGraceMs} ms after the deadline fired; longest run-on ${Math.round(r.maxRunAfterDeadlineMs)} ms; ` +
      `wall clock, event-loop lag included: latest finish ${r.maxOvershootMs >= 0 ? '+' : ''}${Math.round(r.maxOvershootMs)} ms from its deadline)`,
    ...r.lateSamples.map((s) => `  ${s}`),
    `Event-loop delay:      p50 ${r.eventLoopDelayMs.p50.toFixed(1)} ms, p99 ${r.eventLoopDelayMs.p99.toFixed(1)} ms, max ${r.eventLoopDelayMs.max.toFixed(1)} ms`,
    '',
    'Caller-side counts against metric counts:',
    ...r.counts.map((c) => {
      const show = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(6));
      return `  ${c.what.padEnd(34)} caller ${show(c.caller).padStart(10)}   metrics ${show(c.metrics).padStart(10)}   ${c.equal ? 'equal' : 'DIFFERENT'}`;
    }),
    '',
    `Memory at the end: RSS ${r.rssMb} MB, heap ${r.heapUsedMb} MB`,
    r.bar.passed ? 'Bar met: 0 unhandled, 0 past the deadline, 0 untyped errors, counts equal.' : `Bar MISSED: ${r.bar.failures.join('; ')}`,
  ];
  return lines;
}
