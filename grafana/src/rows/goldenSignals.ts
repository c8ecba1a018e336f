import type { RowSpec } from '../panels.js';

const STAT = { kind: 'stat', width: 3, height: 4 } as const;

export const goldenSignalsRow: RowSpec = {
  title: 'Golden signals',
  panels: [
    {
      ...STAT,
      title: 'Requests/s',
      query: 'requestsPerSecond',
      unit: 'reqps',
      thresholds: [{ value: null, color: 'blue' }],
      description:
        'Logical requests per second (one per llm.chat / llm.stream call, however many attempts it took), for the ' +
        'selected services and chains. A sudden drop with no deploy usually means the callers stopped calling, not ' +
        'that Bulwark failed: check the callers. Provider and model filters do not apply.',
    },
    {
      ...STAT,
      title: 'End-to-end success',
      query: 'endToEndSuccessRatio',
      unit: 'percentunit',
      decimals: 2,
      thresholds: [
        { value: null, color: 'red' },
        { value: 0.95, color: 'yellow' },
        { value: 0.99, color: 'green' },
      ],
      description:
        'Share of requests answered by a live model call: outcome success, success_after_retry or ' +
        'success_via_fallback. Cached and static (degraded) answers are not counted as success. Below 99 %: look ' +
        'at "Chain exhausted" and the breaker timeline to see which targets are failing.',
    },
    {
      ...STAT,
      title: 'First-attempt success',
      query: 'firstAttemptSuccessRatio',
      unit: 'percentunit',
      decimals: 2,
      thresholds: [
        { value: null, color: 'red' },
        { value: 0.9, color: 'yellow' },
        { value: 0.98, color: 'green' },
      ],
      description:
        'Share of initial attempts (the first call of each request, at the chain\'s first available target) that ' +
        'succeeded. The gap to end-to-end success is what retries and fallbacks are rescuing; a falling value with ' +
        'steady end-to-end success means the primary provider is degrading while Bulwark is hiding it.',
    },
    {
      ...STAT,
      title: 'Retry rate',
      query: 'retryRate',
      unit: 'percentunit',
      decimals: 1,
      thresholds: [
        { value: null, color: 'green' },
        { value: 0.1, color: 'yellow' },
        { value: 0.2, color: 'red' },
      ],
      description:
        'Retries per logical request. Each retry is an extra upstream call (latency and often cost). Above 20 % ' +
        'the "retry storm" alert fires: check "Retries by provider and error type" and whether the retry budget ' +
        'is capping the amplification.',
    },
    {
      ...STAT,
      title: 'Fallback activation',
      query: 'fallbackActivationRatio',
      unit: 'percentunit',
      decimals: 1,
      thresholds: [
        { value: null, color: 'green' },
        { value: 0.05, color: 'yellow' },
        { value: 0.1, color: 'red' },
      ],
      description:
        'Share of requests answered by a fallback target (outcome success_via_fallback) rather than the primary. ' +
        'Sustained above 10 % the "sustained fallback" alert fires: the primary is unhealthy or its breaker is ' +
        'open; users may be getting a different (often smaller) model.',
    },
    {
      ...STAT,
      title: 'Cost per successful request',
      query: 'costPerSuccessfulRequest',
      unit: 'currencyUSD',
      decimals: 4,
      thresholds: [{ value: null, color: 'blue' }],
      description:
        'All spend over the selected time range (failed and retried attempts included) divided by the requests ' +
        'answered by a live model call (success, success_after_retry, success_via_fallback; cached and static ' +
        'answers are excluded because they cost nothing and would hide waste). Rising with flat traffic: see ' +
        '"Wasted spend on failed attempts".',
    },
    {
      ...STAT,
      title: 'Open breakers',
      query: 'openBreakers',
      unit: 'short',
      decimals: 0,
      thresholds: [
        { value: null, color: 'green' },
        { value: 1, color: 'red' },
      ],
      description:
        'Number of circuit breakers currently open (their target receives no traffic). Any non-zero value: find ' +
        'the breaker in the state timeline and check that provider\'s errors. Counted per chain and breaker: two ' +
        'chains that use the same target each have their own breaker (unless they share state).',
    },
    {
      ...STAT,
      title: 'p95 latency',
      query: 'requestLatencyP95',
      unit: 's',
      decimals: 2,
      thresholds: [{ value: null, color: 'blue' }],
      description:
        '95th percentile of end-to-end request duration (cache lookup, every attempt, backoff waits and hops). ' +
        'Compare with provider attempt latency: a large gap means time is going into retries and backoff.',
    },
  ],
};
