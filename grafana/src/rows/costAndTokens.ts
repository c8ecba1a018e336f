import type { RowSpec } from '../panels.js';

export const costAndTokensRow: RowSpec = {
  title: 'Cost and tokens',
  panels: [
    {
      kind: 'timeseries',
      title: 'Spend per hour by model',
      queries: ['spendPerHourByModel'],
      unit: 'currencyUSD',
      width: 7,
      height: 8,
      stacked: true,
      description:
        'Spend rate in USD per hour by provider and model, every attempt included, priced from token usage. A jump ' +
        'during an outage usually means traffic moved to a more expensive fallback model.',
    },
    {
      kind: 'timeseries',
      title: 'Wasted spend on failed attempts',
      queries: ['wastedSpendPerHour'],
      unit: 'currencyUSD',
      width: 7,
      height: 8,
      stacked: true,
      description:
        'USD per hour spent on attempts that did not produce the answer (timeouts after tokens were generated, ' +
        'malformed responses, streams cut mid-way). Persistent waste on one model: tighten its timeouts or retry ' +
        'policy.',
    },
    {
      kind: 'stat',
      title: 'Wasted share',
      query: 'wastedSpendShare',
      unit: 'percentunit',
      width: 3,
      height: 8,
      decimals: 1,
      thresholds: [
        { value: null, color: 'green' },
        { value: 0.05, color: 'yellow' },
        { value: 0.15, color: 'red' },
      ],
      description:
        'Share of all spend over the selected time range that went to failed attempts. Above a few percent, ' +
        'retries and timeouts are costing real money.',
    },
    {
      kind: 'timeseries',
      title: 'Tokens by type',
      queries: ['tokensByType'],
      unit: 'short',
      width: 7,
      height: 8,
      stacked: true,
      description:
        'Tokens per second by model and type (input/output), from gen_ai.client.token.usage. Input growing faster ' +
        'than requests means prompts are getting longer (context bloat).',
    },
    {
      kind: 'timeseries',
      title: 'Prompt-cache and reasoning tokens',
      queries: ['cacheAndReasoningTokens'],
      unit: 'short',
      width: 12,
      height: 8,
      description:
        'Tokens per second read from and written to the providers\' prompt caches (parts of input) and spent on ' +
        'reasoning (part of output), by model. Each is priced at its own rate in the spend panels: cache reads ' +
        'at a discount, cache writes at a premium on Anthropic. Writes that never turn into reads are pure cost.',
    },
    {
      kind: 'timeseries',
      title: 'Prompt-cache hit ratio',
      queries: ['promptCacheHitRatio'],
      unit: 'percentunit',
      width: 12,
      height: 8,
      description:
        'Share of input tokens served from the provider\'s prompt cache, by model. A drop after a deploy usually ' +
        'means the prompt prefix changed (a timestamp or a reordered tool list before the cacheControl breakpoint); ' +
        'after a hop to another provider the cache starts cold.',
    },
  ],
};
