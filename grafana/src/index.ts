/**
 * Bulwark's Grafana dashboards as code. `npm run dashboards` writes `generatedDashboards()` to
 * grafana/dashboards/; test/dashboards checks the committed JSON never drifts from this code.
 */
import { layoutRows } from './layout.js';
import { OVERVIEW_ROWS, overviewDashboard } from './overview.js';
import { PROMQL, TRACEQL } from './queries.js';
import { SLO_RULES_PATH, sloRulesYaml } from './slo.js';
import { stableJson } from './stableJson.js';

export { overviewDashboard, OVERVIEW_ROWS, OVERVIEW_TITLE, OVERVIEW_UID } from './overview.js';
export {
  ANNOTATION_PROMQL,
  PROMQL,
  TRACEQL,
  expandVariables,
  promqlQueries,
  traceqlQueries,
  type ExpandOptions,
  type NamedPromQuery,
} from './queries.js';
export { LABELS, METRICS, PROMETHEUS_SERIES_NAMES } from './telemetryNames.js';
export { FILTER_VARIABLES } from './variables.js';
export { stableJson } from './stableJson.js';
export { SLO_CONFIG, SLO_RULES_PATH, sloRulesYaml } from './slo.js';

/** Dashboard files, relative to the repository root. */
export const DASHBOARDS_DIR = 'grafana/dashboards';

export interface GeneratedDashboard {
  /** Path relative to the repository root. */
  path: string;
  content: string;
}

export function generatedDashboards(): GeneratedDashboard[] {
  return [{ path: `${DASHBOARDS_DIR}/bulwark-overview.json`, content: stableJson(overviewDashboard()) }];
}

/** Generated Prometheus rule files (the SLO rules), relative to the repository root. */
export function generatedRuleFiles(): GeneratedDashboard[] {
  return [{ path: SLO_RULES_PATH, content: sloRulesYaml() }];
}

export interface PanelDoc {
  row: string;
  title: string;
  description: string;
  unit: string;
  /** PromQL expressions or TraceQL searches, with Grafana variables. */
  queries: string[];
}

/** Every panel's title, description, unit and queries, in display order — the README's panel reference. */
export function overviewPanelDocs(): PanelDoc[] {
  return layoutRows(OVERVIEW_ROWS).flatMap(({ row, panels }) =>
    panels.map(({ spec }) => ({
      row: row.title,
      title: spec.title,
      description: spec.description,
      unit: spec.unit,
      queries:
        spec.kind === 'traces'
          ? [TRACEQL[spec.query].traceql]
          : (spec.kind === 'timeseries' ? spec.queries : [spec.query]).map((id) => PROMQL[id].expr),
    })),
  );
}
