import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ANNOTATION_PROMQL,
  FILTER_VARIABLES,
  LABELS,
  PROMETHEUS_SERIES_NAMES,
  PROMQL,
  TRACEQL,
  generatedDashboards,
  overviewDashboard,
  overviewPanelDocs,
  promqlQueries,
  stableJson,
  traceqlQueries,
} from '../../grafana/src/index.js';
import { labelNamesIn, metricNamesIn, rangeSelectorsIn } from './promqlNames.js';
import { REPO_ROOT, contractSeriesNames, telemetryContractPath } from './telemetryContract.js';

// Loose JSON shapes: the lint reads the generated JSON the way Grafana will, not the SDK's types.
interface Target {
  refId?: string;
  datasource?: { type?: string; uid?: string };
  expr?: string;
  query?: string;
  legendFormat?: string;
  instant?: boolean;
  exemplar?: boolean;
}
interface PanelJson {
  id?: number;
  type: string;
  title?: string;
  description?: string;
  datasource?: { type?: string; uid?: string };
  gridPos?: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  panels?: PanelJson[];
  fieldConfig?: { defaults?: { unit?: string } };
}
interface DashboardJson {
  uid: string;
  title: string;
  panels: PanelJson[];
  templating: { list: { name: string; type: string; query?: unknown; datasource?: { uid?: string } }[] };
  annotations: { list: { name: string; expr?: string; datasource?: { type?: string; uid?: string } }[] };
}

const PROMETHEUS_DS = { type: 'prometheus', uid: '${datasource}' };
const TEMPO_DS = { type: 'tempo', uid: 'tempo' };

const generated = generatedDashboards();
const dashboards = generated.map(({ path, content }) => ({ path, json: JSON.parse(content) as DashboardJson }));

function allPanels(d: DashboardJson): PanelJson[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}
function contentPanels(d: DashboardJson): PanelJson[] {
  return allPanels(d).filter((p) => p.type !== 'row');
}
function promTargets(d: DashboardJson): { panel: string; target: Target }[] {
  return contentPanels(d).flatMap((p) =>
    (p.targets ?? []).filter((t) => t.datasource?.type === 'prometheus').map((target) => ({ panel: p.title ?? '', target })),
  );
}
function promExprs(d: DashboardJson): string[] {
  return [
    ...promTargets(d).map(({ target }) => target.expr ?? ''),
    ...d.annotations.list.filter((a) => a.datasource?.type === 'prometheus').map((a) => a.expr ?? ''),
  ];
}

describe('generated dashboards', () => {
  it('committed JSON matches what grafana/src generates (run `npm run dashboards` after changing the code)', () => {
    expect(generated.length).toBeGreaterThan(0);
    for (const { path, content } of generated) {
      const committed = readFileSync(resolve(REPO_ROOT, path), 'utf8');
      expect(committed, `${path} is stale`).toBe(content);
    }
  });

  it('generation is deterministic: sorted keys, 2-space indent, trailing newline', () => {
    expect(generatedDashboards()).toEqual(generated);
    for (const { content } of generated) {
      expect(stableJson(JSON.parse(content))).toBe(content);
      expect(content.endsWith('}\n')).toBe(true);
      expect(content.split('\n')[1]).toMatch(/^ {2}"/);
    }
  });

  it('the overview has the promised title, uid and variables', () => {
    const d = overviewDashboard();
    expect(d.title).toBe('Bulwark — Overview');
    expect(d.uid).toBe('bulwark-overview');
    expect(d.templating.list?.map((v) => v.name)).toEqual(['datasource', 'service', 'chain', 'provider', 'model']);
    expect(d.annotations.list?.map((a) => a.name)).toEqual(['Breaker opened']);
  });
});

describe.each(dashboards)('lint $path', ({ json }) => {
  it('uses the templated Prometheus datasource everywhere (Tempo panels use the provisioned tempo uid)', () => {
    const dsVar = json.templating.list.find((v) => v.name === 'datasource');
    expect(dsVar).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const v of json.templating.list.filter((v) => v.type === 'query')) {
      expect(v.datasource, `variable ${v.name}`).toEqual(PROMETHEUS_DS);
    }
    for (const a of json.annotations.list) expect(a.datasource, `annotation ${a.name}`).toEqual(PROMETHEUS_DS);
    for (const p of contentPanels(json)) {
      const ds = p.datasource;
      expect([PROMETHEUS_DS, TEMPO_DS], `panel "${p.title}" datasource`).toContainEqual(ds);
      for (const t of p.targets ?? []) expect(t.datasource, `panel "${p.title}" target ${t.refId}`).toEqual(ds);
    }
  });

  it('shows exemplars exactly on the queries of the histograms that carry them (docs/TELEMETRY.md "Exemplars")', () => {
    const carriers = /\b(gen_ai_client_operation_duration_seconds|gen_ai_client_operation_time_to_first_chunk_seconds|bulwark_request_duration_seconds)_bucket\b/;
    const targets = promTargets(json);
    const withExemplars = targets.filter(({ target }) => target.exemplar === true);
    expect(withExemplars.length).toBeGreaterThanOrEqual(6); // request p95, attempt p50/p95/p99, first chunk p50/p95
    for (const { panel, target } of targets) {
      expect(target.exemplar === true, `panel "${panel}" ${target.expr}`).toBe(carriers.test(target.expr ?? ''));
    }
  });

  it('sets a unit, a title and a description on every panel', () => {
    for (const p of contentPanels(json)) {
      expect(p.title, `panel ${p.id}`).toBeTruthy();
      expect(p.fieldConfig?.defaults?.unit, `unit of "${p.title}"`).toMatch(/\S/);
      expect((p.description ?? '').length, `description of "${p.title}"`).toBeGreaterThan(40);
    }
  });

  it('uses $__rate_interval in rates ($__range only in instant "over the time range" queries)', () => {
    for (const { panel, target } of promTargets(json)) {
      const expr = target.expr ?? '';
      for (const range of rangeSelectorsIn(expr)) {
        expect(['$__rate_interval', '$__range'], `${panel}: ${expr}`).toContain(range);
        if (range === '$__range') expect(target.instant, `${panel}: $__range needs an instant query`).toBe(true);
      }
      for (const call of expr.matchAll(/\b(rate|irate|increase)\(/g)) {
        const rest = expr.slice((call.index ?? 0) + call[0].length);
        expect(rest, `${panel}: ${call[1]}() without a range`).toMatch(/^[^()[\]]*(\{[^}]*\})?\[\$__(rate_interval|range)\]/);
      }
    }
    for (const expr of json.annotations.list.map((a) => a.expr ?? '')) {
      for (const range of rangeSelectorsIn(expr)) expect(range).toBe('$__rate_interval');
    }
  });

  it('gives every Prometheus query a legend format and every panel distinct refIds', () => {
    for (const { panel, target } of promTargets(json)) {
      expect(target.legendFormat, `${panel} ${target.refId}`).toMatch(/\S/);
    }
    for (const p of contentPanels(json)) {
      const refIds = (p.targets ?? []).map((t) => t.refId);
      expect(new Set(refIds).size, `refIds of "${p.title}"`).toBe(refIds.length);
      expect(refIds.length, `"${p.title}" has no query`).toBeGreaterThan(0);
    }
  });

  it('has unique panel ids', () => {
    const ids = allPanels(json).map((p) => p.id);
    expect(ids.every((id) => Number.isInteger(id) && (id ?? 0) > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keeps every panel inside the 24-column grid without overlaps', () => {
    const boxes = allPanels(json).map((p) => ({ title: p.title ?? `#${p.id}`, ...p.gridPos! }));
    for (const b of boxes) {
      expect(Number.isInteger(b.x) && Number.isInteger(b.y) && Number.isInteger(b.w) && Number.isInteger(b.h), b.title).toBe(true);
      expect(b.x, b.title).toBeGreaterThanOrEqual(0);
      expect(b.y, b.title).toBeGreaterThanOrEqual(0);
      expect(b.w, b.title).toBeGreaterThan(0);
      expect(b.h, b.title).toBeGreaterThan(0);
      expect(b.x + b.w, `${b.title} overflows the grid`).toBeLessThanOrEqual(24);
    }
    for (const [i, a] of boxes.entries()) {
      for (const b of boxes.slice(i + 1)) {
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap, `"${a.title}" overlaps "${b.title}"`).toBe(false);
      }
    }
  });

  it('starts with a row and lays rows out full width', () => {
    expect(json.panels[0]?.type).toBe('row');
    for (const row of json.panels.filter((p) => p.type === 'row')) expect(row.gridPos).toMatchObject({ x: 0, w: 24, h: 1 });
  });
});

describe('grafana/provisioning/datasources/datasources.yaml', () => {
  it("links exemplars' trace_id to the provisioned Tempo datasource", () => {
    const yaml = readFileSync(resolve(REPO_ROOT, 'grafana/provisioning/datasources/datasources.yaml'), 'utf8');
    const prometheus = yaml.slice(yaml.indexOf('type: prometheus'), yaml.indexOf('type: tempo'));
    expect(prometheus).toMatch(/exemplarTraceIdDestinations:\s*\n\s*- name: trace_id\s*\n\s*datasourceUid: tempo/);
    expect(yaml).toMatch(/uid: tempo/);
  });
});

describe('query catalog (grafana/src/queries.ts)', () => {
  const overview = dashboards[0]!.json;

  it('is exactly the set of PromQL the dashboard uses', () => {
    const catalog = [...Object.values(PROMQL), ...Object.values(ANNOTATION_PROMQL)].map((q) => q.expr).sort();
    expect(promExprs(overview).sort()).toEqual(catalog);
  });

  it('is exactly the set of TraceQL the dashboard uses', () => {
    const used = contentPanels(overview)
      .flatMap((p) => p.targets ?? [])
      .filter((t) => t.datasource?.type === 'tempo')
      .map((t) => t.query ?? '')
      .sort();
    expect(used).toEqual(Object.values(TRACEQL).map((q) => q.traceql).sort());
  });

  it('expands variables to plain PromQL, keeping $__rate_interval / $__range unless given', () => {
    const raw = promqlQueries();
    expect(raw).toHaveLength(Object.keys(PROMQL).length + Object.keys(ANNOTATION_PROMQL).length);
    for (const q of raw) {
      expect(q.expr.replaceAll('$__rate_interval', '').replaceAll('$__range', ''), q.id).not.toContain('$');
    }
    for (const q of promqlQueries({ rateInterval: '1m', range: '1h' })) expect(q.expr, q.id).not.toContain('$');
    const breaker = promqlQueries().find((q) => q.id === 'panel:breakerState')!;
    expect(breaker.expr).toContain('bulwark_breaker=~"(.*)(/(.*))?"');
    for (const v of FILTER_VARIABLES) expect(v.allValue).toMatch(/^\.[*+]$/);
    for (const q of traceqlQueries()) expect(q.traceql, q.id).not.toContain('$');
  });

  it('documents every panel for the README', () => {
    const docs = overviewPanelDocs();
    expect(docs).toHaveLength(contentPanels(overview).length);
    for (const d of docs) {
      expect(d.description.length, d.title).toBeGreaterThan(40);
      expect(d.queries.length, d.title).toBeGreaterThan(0);
    }
  });
});

describe('telemetry names used by the dashboards', () => {
  const overview = dashboards[0]!.json;
  const known = new Set(PROMETHEUS_SERIES_NAMES);
  const knownLabels = new Set<string>([...Object.values(LABELS), 'le']);

  it('selects only metrics of the telemetry contract', () => {
    const variableMetrics = FILTER_VARIABLES.map((v) => /label_values\(\s*([a-zA-Z_:][\w:]*)/.exec(v.query)?.[1] ?? v.query);
    const used = [...promExprs(overview).flatMap(metricNamesIn), ...variableMetrics];
    expect(used.length).toBeGreaterThan(0);
    for (const name of used) expect(known, `unknown metric ${name}`).toContain(name);
  });

  it('uses only label names of the telemetry contract', () => {
    for (const expr of [...promExprs(overview), ...FILTER_VARIABLES.map((v) => v.query)]) {
      for (const label of labelNamesIn(expr)) expect(knownLabels, `unknown label ${label} in ${expr}`).toContain(label);
    }
  });

  const contract = telemetryContractPath();
  it.skipIf(contract === undefined)('exports the same metric list as TELEMETRY.md', () => {
    expect([...PROMETHEUS_SERIES_NAMES].sort()).toEqual(contractSeriesNames(contract!));
  });
});
