import type { RowSpec } from '../panels.js';

export const retriesRow: RowSpec = {
  title: 'Retries',
  panels: [
    {
      kind: 'timeseries',
      title: 'Retries by provider and error type',
      queries: ['retriesByProviderAndError'],
      unit: 'ops',
      width: 8,
      height: 8,
      description:
        'Same-target retries per second, by provider and the error that caused them. rate_limited: the provider is ' +
        'throttling — check quotas or spread load. server_error / overloaded / connection: the provider is ' +
        'unhealthy — the breaker and fallback should take over.',
    },
    {
      kind: 'timeseries',
      title: 'Retry outcomes: succeeded vs exhausted',
      queries: ['retrySucceeded', 'retryFailed', 'retryBudgetExhausted'],
      unit: 'ops',
      width: 8,
      height: 8,
      description:
        'Retry attempts per second that succeeded (the request was rescued at the same target) versus retry ' +
        'attempts that failed (followed by another retry, or the target was given up), and hops caused by the ' +
        'retry budget running out. Mostly failures means retries only add latency and cost: the target is down, ' +
        'so lower maxAttempts or let the breaker open sooner.',
    },
    {
      kind: 'timeseries',
      title: 'Backoff: wait outside upstream calls',
      queries: ['backoffWaitPerRequest'],
      unit: 's',
      width: 8,
      height: 8,
      min: 0,
      description:
        'Average seconds per request spent between upstream calls — backoff with jitter and Retry-After waits ' +
        '(plus cache lookups): request time minus attempt time. Per service only (attempt metrics carry no chain). ' +
        'High values with a low retry rate point to long Retry-After headers; consider a lower maxRetryAfterMs so ' +
        'Bulwark moves to the next target instead of waiting.',
    },
  ],
};
