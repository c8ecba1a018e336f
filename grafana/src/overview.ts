/** The "Bulwark — Overview" dashboard: golden signals first, then one row per resilience concern. */
import {
  AnnotationQueryBuilder,
  DashboardBuilder,
  DashboardCursorSync,
  RowBuilder,
  TimePickerBuilder,
  type Dashboard,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { layoutRows } from './layout.js';
import { buildPanel, type RowSpec } from './panels.js';
import { ANNOTATION_PROMQL } from './queries.js';
import { circuitBreakersRow } from './rows/circuitBreakers.js';
import { costAndTokensRow } from './rows/costAndTokens.js';
import { degradationRow } from './rows/degradation.js';
import { fallbackChainRow } from './rows/fallbackChain.js';
import { gatewayRow } from './rows/gateway.js';
import { goldenSignalsRow } from './rows/goldenSignals.js';
import { hedgingRow } from './rows/hedging.js';
import { poolsRow } from './rows/pools.js';
import { providerLatencyRow } from './rows/providerLatency.js';
import { retriesRow } from './rows/retries.js';
import { sloRow } from './rows/slo.js';
import { tenantsRow } from './rows/tenants.js';
import { tracesRow } from './rows/traces.js';
import { FILTER_VARIABLES, PROMETHEUS_DS, datasourceVariable, filterVariable } from './variables.js';

export const OVERVIEW_UID = 'bulwark-overview';
export const OVERVIEW_TITLE = 'Bulwark — Overview';

/** Rows in display order. */
export const OVERVIEW_ROWS: readonly RowSpec[] = [
  goldenSignalsRow,
  sloRow,
  retriesRow,
  fallbackChainRow,
  hedgingRow,
  poolsRow,
  circuitBreakersRow,
  degradationRow,
  costAndTokensRow,
  tenantsRow,
  gatewayRow,
  providerLatencyRow,
  tracesRow,
];

function breakerOpenedAnnotation(): AnnotationQueryBuilder {
  const q = ANNOTATION_PROMQL.breakerOpened;
  return new AnnotationQueryBuilder()
    .name('Breaker opened')
    .datasource(PROMETHEUS_DS)
    .enable(true)
    .hide(false)
    .iconColor('red')
    .expr(q.expr)
    .titleFormat(q.legend)
    .textFormat('service {{service_name}}')
    .tagKeys('bulwark_chain,bulwark_breaker')
    .useValueForTime(false);
}

export function overviewDashboard(): Dashboard {
  const builder = new DashboardBuilder(OVERVIEW_TITLE)
    .uid(OVERVIEW_UID)
    .description(
      'Resilience of LLM calls made through Bulwark: requests, retries, fallbacks, circuit breakers, degradation, ' +
        'cost and provider health. Generated from grafana/src (npm run dashboards); do not edit the JSON by hand.',
    )
    .tags(['bulwark', 'llm', 'resilience'])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .refresh('30s')
    .timepicker(new TimePickerBuilder().refreshIntervals(['10s', '30s', '1m', '5m', '15m', '1h']))
    .withVariable(datasourceVariable())
    .annotation(breakerOpenedAnnotation());
  for (const v of FILTER_VARIABLES) builder.withVariable(filterVariable(v));

  for (const placed of layoutRows(OVERVIEW_ROWS)) {
    builder.withRow(new RowBuilder(placed.row.title).id(placed.id).gridPos(placed.gridPos).collapsed(false));
    for (const p of placed.panels) builder.withPanel(buildPanel(p.spec, p.id, p.gridPos));
  }
  const dashboard = builder.build();
  // The SDK defaults annotation toggles into the controls menu; keep "Breaker opened" visible on the dashboard.
  for (const annotation of dashboard.annotations.list ?? []) delete annotation.placement;
  return dashboard;
}
