import type { RowSpec } from '../panels.js';

export const providerLatencyRow: RowSpec = {
  title: 'Provider latency and errors',
  panels: [
    {
      kind: 'timeseries',
      title: 'Attempt latency p50 / p95 / p99',
      queries: ['attemptLatencyP50', 'attemptLatencyP95', 'attemptLatencyP99'],
      unit: 's',
      width: 8,
      height: 8,
      description:
        'Duration of single upstream calls (gen_ai.client.operation.duration) by provider and model, failed calls ' +
        'included. A p99 close to the attempt timeout means calls are being cut: raise timeouts.attemptMs or ' +
        'expect timeouts to drive fallbacks.',
    },
    {
      kind: 'timeseries',
      title: 'Time to first chunk p50 / p95',
      queries: ['timeToFirstChunkP50', 'timeToFirstChunkP95'],
      unit: 's',
      width: 8,
      height: 8,
      description:
        'Streaming only: time until the first chunk arrived, by provider and model. This is what users feel as ' +
        '"thinking" time; a hung provider shows here first, and timeouts.firstChunkMs bounds it.',
    },
    {
      kind: 'timeseries',
      title: 'Errors by type',
      queries: ['errorsByType'],
      unit: 'ops',
      width: 8,
      height: 8,
      description:
        'Failed upstream attempts per second by provider and error.type. rate_limited: quota; server_error / ' +
        'overloaded / connection / timeout: provider health; authentication / permission / not_found: ' +
        'configuration — these never heal by themselves (the auth alert fires).',
    },
  ],
};
