import type { RowSpec } from '../panels.js';

export const hedgingRow: RowSpec = {
  title: 'Hedged requests',
  panels: [
    {
      kind: 'timeseries',
      title: 'Hedge win rate',
      queries: ['hedgeWinRate'],
      unit: 'percentunit',
      width: 8,
      height: 8,
      min: 0,
      max: 1,
      description:
        'Share of hedged calls whose answer was used (outcome won): the next target answered before the slow one. ' +
        'Near 0 the hedge delay (hedge.after) is too short and hedges only add load; a high rate with many hedges ' +
        'means a target is slow far more often than the delay assumes.',
    },
    {
      kind: 'timeseries',
      title: 'Hedges by outcome',
      queries: ['hedgesByOutcome'],
      unit: 'ops',
      width: 8,
      height: 8,
      description:
        'Hedged calls per second: won (its answer was used), lost (another call answered first, or the hedge failed) ' +
        'and cancelled (the caller cancelled or the deadline passed before any answer). Losers are cancelled: their ' +
        'connections close and they never count against a breaker.',
    },
    {
      kind: 'timeseries',
      title: 'Hedges per request',
      queries: ['hedgesPerRequest'],
      unit: 'percentunit',
      width: 8,
      height: 8,
      min: 0,
      description:
        'Extra upstream calls hedging costs, as a share of requests. Bounded by hedge.budgetRatio (default 5 %): ' +
        'when the budget is spent, slow requests are not hedged until traffic pays it back.',
    },
  ],
};
