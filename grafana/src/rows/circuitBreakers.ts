import { stateMappings, type RowSpec } from '../panels.js';

export const BREAKER_STATES = [
  { value: 0, text: 'closed', color: 'green' },
  { value: 1, text: 'half_open', color: 'yellow' },
  { value: 2, text: 'open', color: 'red' },
] as const;

const BREAKER_SCOPE =
  'Filtered by service, chain, provider and model; one series per chain and breaker (two chains that use the same ' +
  'target each have their own breaker unless they share state).';

export const circuitBreakersRow: RowSpec = {
  title: 'Circuit breakers',
  panels: [
    {
      kind: 'statetimeline',
      title: 'Breaker state',
      query: 'breakerState',
      unit: 'none',
      width: 24,
      height: 8,
      mappings: stateMappings(BREAKER_STATES),
      description:
        'State of every circuit breaker over time: green closed (traffic flows), yellow half-open (probing with a ' +
        'few calls), red open (target skipped, requests go to the next target). Long red: the provider is down or ' +
        'the key is bad (see errors by type). Red/green striping: the breaker is flapping — widen its window or ' +
        'raise minCalls. ' +
        BREAKER_SCOPE,
    },
    {
      kind: 'timeseries',
      title: 'Breaker transitions',
      queries: ['breakerTransitions'],
      unit: 'short',
      width: 8,
      height: 8,
      bars: true,
      description:
        'State changes per interval, by breaker and new state, from the transitions counter — an open that lasted ' +
        'less than a scrape interval still shows here even if the state timeline missed it. ' +
        BREAKER_SCOPE,
    },
    {
      kind: 'timeseries',
      title: 'Short-circuited calls',
      queries: ['shortCircuitedCalls'],
      unit: 'ops',
      width: 8,
      height: 8,
      description:
        'Calls per second rejected by an open breaker without reaching the provider (they move to the next ' +
        'target). This is the load the breaker is shedding from a failing provider. ' +
        BREAKER_SCOPE,
    },
    {
      kind: 'timeseries',
      title: 'Retry budget remaining',
      queries: ['retryBudgetRemaining'],
      unit: 'short',
      width: 8,
      height: 8,
      min: 0,
      description:
        'Retries each target may still spend (the budget caps retries at about 10 % of requests). At zero, ' +
        'failing calls go straight to the next target instead of retrying: expected during an outage, a sign of a ' +
        'too-small budget if it happens with a healthy provider. ' +
        BREAKER_SCOPE,
    },
    {
      kind: 'timeseries',
      title: 'Limit headroom',
      queries: ['limitHeadroom', 'limitedSkips'],
      unit: 'short',
      width: 24,
      height: 8,
      min: 0,
      description:
        'What each target may still take before one of its limits: requests or tokens left in its 60 s window and ' +
        'free concurrent slots (local: its own `limits`, fleet-wide with shared state), and what its provider\'s ' +
        'rate-limit headers last said was left (provider). Near zero, Bulwark moves traffic to its peers before the ' +
        'provider answers 429; the "skipped (limited)" lines are requests per second that went elsewhere because of ' +
        'it. Sustained: raise the quota and the limits, or add a deployment. ' +
        BREAKER_SCOPE,
    },
  ],
};
