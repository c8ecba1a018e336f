import type { RowSpec } from '../panels.js';

export const degradationRow: RowSpec = {
  title: 'Degradation and cache',
  panels: [
    {
      kind: 'timeseries',
      title: 'Degradation tiers',
      queries: ['tierShare'],
      unit: 'percentunit',
      width: 8,
      height: 8,
      stacked: true,
      min: 0,
      description:
        'Share of requests by the tier of the answer: full (primary model), reduced (after a hop, or a target ' +
        'marked reduced), cached, static. Anything but full is a degraded experience; a rising static share means ' +
        'users are getting the canned reply — treat it as an outage.',
    },
    {
      kind: 'timeseries',
      title: 'Requests by outcome',
      queries: ['requestsByOutcome'],
      unit: 'reqps',
      width: 8,
      height: 8,
      stacked: true,
      description:
        'Requests per second by outcome: success (first attempt), success_after_retry, success_via_fallback, ' +
        'cached, static, failed. Shows how each request was rescued, or not.',
    },
    {
      kind: 'timeseries',
      title: 'Cache hit ratio',
      queries: ['cacheHitRatio', 'cacheStaleServedRatio'],
      unit: 'percentunit',
      width: 8,
      height: 8,
      min: 0,
      max: 1,
      description:
        'Share of cache lookups that hit, and that served a stale entry because the chain was exhausted. Empty ' +
        'when the chain has no cache. A falling hit ratio raises cost and load; stale served means the cache is ' +
        'absorbing an outage.',
    },
  ],
};
