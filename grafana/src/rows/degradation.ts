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
    {
      kind: 'timeseries',
      title: 'Store errors',
      queries: ['storeErrors'],
      unit: 'ops',
      width: 12,
      height: 8,
      min: 0,
      description:
        'Failed calls per second to the cache store or the shared-state store (Redis), by operation and error type. ' +
        'Requests go on with local state, so users see nothing, but breakers and budgets stop being shared ' +
        'across processes and the cache stops serving: timeout/unavailable mean the store is down or slow.',
    },
    {
      kind: 'timeseries',
      title: 'Telemetry errors',
      queries: ['telemetryErrors'],
      unit: 'ops',
      width: 12,
      height: 8,
      min: 0,
      description:
        "Failures of Bulwark's own telemetry per second, by stage: attributes_hook means the telemetry.attributes " +
        'hook threw or returned keys outside app. or non-primitive values (those requests carry no caller ' +
        'attributes); health_snapshot means the breaker gauges could not be read. Requests are never affected.',
    },
  ],
};
