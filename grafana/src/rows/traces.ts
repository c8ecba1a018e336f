import type { RowSpec } from '../panels.js';

const TRACE_TABLE = { kind: 'traces', unit: 'ms', width: 12, height: 8 } as const;

export const tracesRow: RowSpec = {
  title: 'Traces',
  panels: [
    {
      ...TRACE_TABLE,
      title: 'Requests that retried',
      query: 'retriedRequests',
      description:
        'Recent traces (Tempo) whose logical request span has bulwark.retries > 0. Open one to see each attempt ' +
        'span, its error.type and the bulwark.retry.scheduled events with the chosen delay.',
    },
    {
      ...TRACE_TABLE,
      title: 'Requests that fell back',
      query: 'fellBackRequests',
      description:
        'Recent traces with bulwark.fallback.hops > 0. The bulwark.fallback events on the request span give ' +
        'from, to and reason for every hop.',
    },
    {
      ...TRACE_TABLE,
      title: 'Requests short-circuited by a breaker',
      query: 'shortCircuitedRequests',
      description:
        'Recent traces with a bulwark.circuit.rejected event: a target was skipped because its breaker was open. ' +
        'Use them to confirm which target was skipped and where the request was served instead.',
    },
    {
      ...TRACE_TABLE,
      title: 'Degraded or failed requests',
      query: 'degradedRequests',
      description:
        'Recent traces whose outcome was static or failed: every target was tried or skipped. The attempt spans ' +
        'show why each one failed.',
    },
  ],
};
