/**
 * Service-level objectives of Bulwark chains: the one place their numbers live. `npm run dashboards`
 * generates from this file both the Prometheus rules (prometheus/rules/bulwark-slo.yml: recording
 * rules and multi-window multi-burn-rate alerts) and the dashboard's SLO row, so the two never
 * disagree. To change an objective, the latency threshold or the alert pairs: edit SLO_CONFIG and run
 * `npm run dashboards` (a test fails while the committed files differ from what this code generates).
 *
 * Two SLIs, per service and chain, from the request-level metrics (what the caller of llm.chat /
 * llm.stream experienced, whatever happened upstream):
 * - answered: the request got an answer from a model or from the response cache (outcome success,
 *   success_after_retry, success_via_fallback or cached). Bad: the static reply and failures
 *   (`failed` also counts the caller's own errors — bad_request, cancelled — which the metric does
 *   not tell apart).
 * - full_quality: answered by a live model at tier full or reduced within the latency threshold
 *   (`bulwark_request_duration_seconds_bucket{le=<threshold>}`: the threshold must be a bucket
 *   boundary). Bad: cached, static and failed answers, and answers slower than the threshold.
 *
 * Burn-rate alerts follow the Google SRE workbook ("Alerting on SLOs", multiwindow, multi-burn-rate):
 * a page when the 1 h and the 5 m error ratios both burn the budget 14.4 times faster than
 * sustainable (2 % of a 30-day budget in an hour), a warning when the 6 h and the 30 m ratios both
 * burn it 6 times faster (5 % in six hours). The short window ends the alert soon after the burn does.
 */
import { stringify } from 'yaml';
import { SECONDS_BUCKETS } from '../../src/telemetry/names.js';
import { LABELS as L, METRICS as M } from './telemetryNames.js';

export type SliId = 'answered' | 'full_quality';

export interface BurnRateAlert {
  long: string;
  short: string;
  /** Both windows' burn rates must exceed it. */
  factor: number;
  severity: 'critical' | 'warning';
  /** Alert name suffix. */
  speed: 'FastBurn' | 'SlowBurn';
}

export const SLO_CONFIG = {
  /** The period the error budget is defined over (documentation; the dashboard uses its time range). */
  periodDays: 30,
  /** Seconds; must be a boundary of the seconds histograms (0.01 … 81.92, doubling). */
  latencyThresholdSeconds: 10.24,
  /** Share of requests that must be good. */
  objectives: { answered: 0.995, full_quality: 0.99 } satisfies Record<SliId, number>,
  alerts: [
    { long: '1h', short: '5m', factor: 14.4, severity: 'critical', speed: 'FastBurn' },
    { long: '6h', short: '30m', factor: 6, severity: 'warning', speed: 'SlowBurn' },
  ] satisfies BurnRateAlert[],
} as const;

if (!SECONDS_BUCKETS.includes(SLO_CONFIG.latencyThresholdSeconds)) {
  throw new Error(`SLO latency threshold ${SLO_CONFIG.latencyThresholdSeconds} s is not a bucket boundary (${SECONDS_BUCKETS.join(', ')})`);
}

/** Windows of the recording rules: every window an alert uses. */
export const SLI_WINDOWS: readonly string[] = [...new Set(SLO_CONFIG.alerts.flatMap((a) => [a.short, a.long]))].sort((a, b) => seconds(a) - seconds(b));

function seconds(window: string): number {
  const m = /^(\d+)([mhd])$/.exec(window);
  if (!m) throw new Error(`window ${window}`);
  return Number(m[1]) * { m: 60, h: 3600, d: 86_400 }[m[2] as 'm' | 'h' | 'd'];
}

const ANSWERED_OUTCOMES = ['success', 'success_after_retry', 'success_via_fallback', 'cached'];
const FULL_QUALITY_TIERS = ['full', 'reduced'];

/** Error budget of an objective (1 − objective), rounded so 1 − 0.995 prints as 0.005. */
export function errorBudget(sli: SliId): number {
  return Number((1 - SLO_CONFIG.objectives[sli]).toPrecision(6));
}

function sel(metric: string, matchers: readonly string[]): string {
  return matchers.length === 0 ? metric : `${metric}{${matchers.join(', ')}}`;
}

/**
 * The SLI as good / total over `window`, summed by `by`, the selectors narrowed by `matchers`
 * (the dashboard's filters; none in the rules).
 */
export function sliRatio(sli: SliId, window: string, by: readonly string[], matchers: readonly string[] = []): string {
  const sum = (selector: string) => `sum by (${by.join(', ')}) (rate(${selector}[${window}]))`;
  if (sli === 'answered') {
    return `${sum(sel(M.requests, [...matchers, `${L.outcome}=~"${ANSWERED_OUTCOMES.join('|')}"`]))}\n/\n${sum(sel(M.requests, matchers))}`;
  }
  const le = `le="${SLO_CONFIG.latencyThresholdSeconds}"`;
  return (
    `${sum(sel(`${M.requestDuration}_bucket`, [...matchers, `${L.tier}=~"${FULL_QUALITY_TIERS.join('|')}"`, le]))}` +
    `\n/\n${sum(sel(`${M.requestDuration}_count`, matchers))}`
  );
}

/** Where the rules aggregate: the SLIs hold per service and chain. */
export const SLO_BY = [L.service, L.chain] as const;

export function recordName(sli: SliId, window: string): string {
  return `bulwark:sli_${sli}:ratio_rate${window}`;
}

const TITLE: Record<SliId, string> = { answered: 'Answered', full_quality: 'FullQuality' };
const WHAT: Record<SliId, string> = {
  answered: 'answered (by a model or the cache)',
  full_quality: `answered at full quality (tier full or reduced within ${SLO_CONFIG.latencyThresholdSeconds} s)`,
};
const RUNBOOK: Record<SliId, string> = {
  answered:
    'Users are getting the static reply or errors. Open the Bulwark Overview dashboard: "Chain exhausted" and the breaker timeline show which targets fail; restore one (provider outage, key, quota) or add a target from another provider. Check "Requests by outcome": failed also counts callers\' bad requests and cancellations.',
  full_quality:
    'Answers are degraded or slow. Check "Degradation tiers" (cached/static share) and "p95 latency" against provider latency: a failing primary pushes traffic to fallbacks and stale cache entries, long Retry-After waits and timeouts make answers slow; fix the target or tune timeouts and maxRetryAfterMs.',
};

export interface RuleYaml {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function sloRuleGroups(): { name: string; rules: RuleYaml[] }[] {
  const slis: SliId[] = ['answered', 'full_quality'];
  const recording = slis.flatMap((sli) => SLI_WINDOWS.map((w): RuleYaml => ({ record: recordName(sli, w), expr: sliRatio(sli, w, SLO_BY) })));
  const burn = (sli: SliId, window: string) => `(1 - ${recordName(sli, window)}) / ${errorBudget(sli)}`;
  const alerts = slis.flatMap((sli) =>
    SLO_CONFIG.alerts.map((a): RuleYaml => ({
      alert: `BulwarkSLO${TITLE[sli]}${a.speed}`,
      expr: `${burn(sli, a.long)} > ${a.factor}\nand on (${SLO_BY.join(', ')})\n${burn(sli, a.short)} > ${a.factor}`,
      labels: { severity: a.severity, slo: sli },
      annotations: {
        summary: `Chain {{ $labels.bulwark_chain }} burns its ${sli} error budget {{ $value | printf "%.1f" }}x too fast (${a.long} and ${a.short}) ({{ $labels.service_name }})`,
        description:
          `Over the last ${a.long} and ${a.short} the share of requests not ${WHAT[sli]} used the error budget of the ` +
          `${SLO_CONFIG.objectives[sli] * 100} % objective more than ${a.factor} times faster than ${SLO_CONFIG.periodDays} days allow ` +
          `(${Math.round((a.factor * seconds(a.long) * 100) / (SLO_CONFIG.periodDays * 86_400))} % of the budget in ${a.long}).`,
        runbook: RUNBOOK[sli],
      },
    })),
  );
  return [
    { name: 'bulwark-slo-recording', rules: recording },
    { name: 'bulwark-slo-alerts', rules: alerts },
  ];
}

/** Where the generated rules live (mounted by docker-compose with the other rule files). */
export const SLO_RULES_PATH = 'prometheus/rules/bulwark-slo.yml';

const HEADER = `# Bulwark SLO rules: recording rules bulwark:sli_<sli>:ratio_rate<window> and multi-window multi-burn-rate
# alerts (Google SRE workbook). GENERATED from grafana/src/slo.ts by \`npm run dashboards\`: do not edit by hand;
# change the objectives, the latency threshold or the alert pairs there.
#
# SLIs per service and chain: answered (a model or the cache answered: outcome success, success_after_retry,
# success_via_fallback or cached) and full_quality (tier full or reduced within ${SLO_CONFIG.latencyThresholdSeconds} s, from the request
# duration histogram). Objectives over ${SLO_CONFIG.periodDays} days: ${Object.entries(SLO_CONFIG.objectives).map(([k, v]) => `${k} ${v * 100} %`).join(', ')}.
# A chain with no requests in a window has no ratio (0/0): its alerts stay silent.
# Verified by promtool check rules and the unit tests in prometheus/rules/tests/bulwark-slo.test.yml.
`;

/** The rules file's content. */
export function sloRulesYaml(): string {
  return HEADER + stringify({ groups: sloRuleGroups() }, { lineWidth: 0 });
}
