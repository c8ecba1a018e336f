import type { RowSpec, StatSpec } from '../panels.js';
import { SLO_CONFIG } from '../slo.js';

const { objectives, latencyThresholdSeconds: threshold, periodDays } = SLO_CONFIG;
const pct = (x: number) => `${Number((x * 100).toPrecision(6))} %`;
const DEFINITIONS =
  `Answered: a model or the cache answered (not the static reply, not an error); objective ${pct(objectives.answered)}. ` +
  `Full quality: tier full or reduced within ${threshold} s; objective ${pct(objectives.full_quality)}. ` +
  'Objectives and threshold: grafana/src/slo.ts (the rules in prometheus/rules/bulwark-slo.yml are generated from it).';

/** An error-budget-remaining stat: red when spent, orange when under a quarter is left. */
function budgetRemaining(sli: string, query: 'errorBudgetAnswered' | 'errorBudgetFullQuality', meaning: string): StatSpec {
  return {
    kind: 'stat',
    title: `Error budget remaining: ${sli}`,
    query,
    unit: 'percentunit',
    width: 4,
    height: 8,
    decimals: 1,
    thresholds: [
      { value: null, color: 'red' },
      { value: 0, color: 'orange' },
      { value: 0.25, color: 'green' },
    ],
    description: meaning + DEFINITIONS,
  };
}

export const sloRow: RowSpec = {
  title: 'SLOs',
  panels: [
    {
      kind: 'timeseries',
      title: 'SLIs: answered and answered at full quality',
      queries: ['sliAnswered', 'sliFullQuality'],
      unit: 'percentunit',
      width: 8,
      height: 8,
      max: 1,
      description:
        'Share of requests that were good per interval, per chain. A dip below the objective spends error budget; ' +
        'the burn-rate panel says how fast. ' +
        DEFINITIONS,
    },
    {
      kind: 'timeseries',
      title: 'Error budget burn rate',
      queries: ['burnRateAnswered', 'burnRateFullQuality'],
      unit: 'short',
      width: 8,
      height: 8,
      min: 0,
      description:
        `How many times faster than sustainable the budget burns (1 = it lasts exactly ${periodDays} days). The alerts ` +
        'page at 14.4 over both 1 h and 5 m and warn at 6 over both 6 h and 30 m (SRE workbook multi-window ' +
        'multi-burn-rate). ' +
        DEFINITIONS,
    },
    budgetRemaining(
      'answered',
      'errorBudgetAnswered',
      `Share of the answered error budget left over the selected time range (set it to ${periodDays} days for the ` +
        'SLO period): 1 − (bad share ÷ budget). Below 0 the objective is missed for that range: freeze risky changes ' +
        'and restore the failing targets. ',
    ),
    budgetRemaining(
      'full quality',
      'errorBudgetFullQuality',
      `Share of the full-quality error budget left over the selected time range (set it to ${periodDays} days for ` +
        'the SLO period). Spent by cached and static answers, failures and answers slower than the threshold. ',
    ),
  ],
};
