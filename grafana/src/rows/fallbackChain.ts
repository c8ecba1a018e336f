import type { RowSpec } from '../panels.js';

export const fallbackChainRow: RowSpec = {
  title: 'Fallback chain',
  panels: [
    {
      kind: 'timeseries',
      title: 'Fallback hops (from → to)',
      queries: ['fallbackHops'],
      unit: 'ops',
      width: 12,
      height: 8,
      description:
        'Hops per second from one target to the next in the chain. A steady stream from the primary means it is ' +
        'failing or its breaker is open; check "Fallback reasons" and the breaker timeline.',
    },
    {
      kind: 'timeseries',
      title: 'Share of traffic served per target',
      queries: ['servedShareByTarget', 'servedShareDegraded'],
      unit: 'percentunit',
      width: 12,
      height: 8,
      stacked: true,
      min: 0,
      description:
        'Which target actually answered, as a share of all requests, stacked with the requests answered from ' +
        'cache, by the static reply, or not at all. Normally the primary serves nearly everything; a growing band ' +
        'for a fallback target or for static/failed is the user-visible impact of an outage.',
    },
    {
      kind: 'timeseries',
      title: 'Fallback reasons',
      queries: ['fallbackReasons'],
      unit: 'ops',
      width: 12,
      height: 8,
      description:
        'Why requests left a target (error type at the target, circuit_open when its breaker was open, ' +
        'budget_exhausted when retries ran out of budget). authentication / permission / not_found need a human: ' +
        'fix the key or model name.',
    },
    {
      kind: 'timeseries',
      title: 'Chain exhausted',
      queries: ['chainExhaustedRequests', 'chainExhaustedStaleServed'],
      unit: 'reqps',
      width: 12,
      height: 8,
      description:
        'Requests for which every target of the chain failed: answered with the static reply, with a stale cache ' +
        'entry, or failed outright (failed also counts caller errors such as bad_request and cancellations). ' +
        'Anything here is user-visible; the "chain exhausted" alert fires on it.',
    },
  ],
};
