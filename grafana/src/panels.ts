/**
 * Panel specs (what a row declares) and their translation into grafana-foundation-sdk builders.
 * Rows say *what* to show; this file owns *how* each kind of panel is configured, so every panel of a kind
 * looks and behaves the same.
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import {
  BigValueColorMode,
  BigValueGraphMode,
  GraphDrawStyle,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  SortOrder,
  StackingConfigBuilder,
  StackingMode,
  TooltipDisplayMode,
  VisibilityMode,
  VizLegendOptionsBuilder,
  VizTooltipOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import {
  MappingType,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  type GridPos,
  type Panel,
  type Threshold,
  type ValueMapping,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder as PromQueryBuilder, QueryEditorMode } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as StateTimelinePanelBuilder } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as TablePanelBuilder } from '@grafana/grafana-foundation-sdk/table';
import { DataqueryBuilder as TempoQueryBuilder, SearchTableType } from '@grafana/grafana-foundation-sdk/tempo';
import { PanelBuilder as TimeSeriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { PROMQL, TRACEQL, type PromQuery, type PromQueryId, type TraceQueryId } from './queries.js';
import { PROMETHEUS_DS, TEMPO_DS } from './variables.js';

interface PanelBase {
  title: string;
  /** What the panel means and what to do about it. Shown in Grafana's panel info and reused by the README. */
  description: string;
  /** Grafana unit id (reqps, percentunit, currencyUSD, s, short, ops, …). */
  unit: string;
  /** Width in grid columns (of 24) and height in grid rows. */
  width: number;
  height: number;
}

export interface StatSpec extends PanelBase {
  kind: 'stat';
  query: PromQueryId;
  /** Threshold steps, lowest first; the first step's value is ignored (base). */
  thresholds: readonly Threshold[];
  decimals?: number;
}

export interface TimeSeriesSpec extends PanelBase {
  kind: 'timeseries';
  queries: readonly PromQueryId[];
  /** Stack series (for shares that add up to the whole). */
  stacked?: boolean;
  /** Draw bars (for counts per interval). */
  bars?: boolean;
  min?: number;
  max?: number;
}

export interface StateTimelineSpec extends PanelBase {
  kind: 'statetimeline';
  query: PromQueryId;
  mappings: readonly ValueMapping[];
}

export interface TraceTableSpec extends PanelBase {
  kind: 'traces';
  query: TraceQueryId;
}

export type PanelSpec = StatSpec | TimeSeriesSpec | StateTimelineSpec | TraceTableSpec;

export interface RowSpec {
  title: string;
  panels: readonly PanelSpec[];
}

const REF_IDS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function promTarget(id: PromQueryId, index: number): PromQueryBuilder {
  const q: PromQuery = PROMQL[id];
  const target = new PromQueryBuilder()
    .refId(REF_IDS.charAt(index))
    .datasource(PROMETHEUS_DS)
    .editorMode(QueryEditorMode.Code)
    .expr(q.expr)
    .legendFormat(q.legend);
  if (q.exemplars === true) target.exemplar(true);
  return q.instant === true ? target.instant() : target.range();
}

function isInstant(id: PromQueryId): boolean {
  const q: PromQuery = PROMQL[id];
  return q.instant === true;
}

function thresholds(steps: readonly Threshold[]): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([...steps]);
}

/** Neutral thresholds for panels whose colour carries no meaning. */
const NEUTRAL: readonly Threshold[] = [{ value: null, color: 'green' }];

function legend(): VizLegendOptionsBuilder {
  return new VizLegendOptionsBuilder()
    .showLegend(true)
    .displayMode(LegendDisplayMode.List)
    .placement(LegendPlacement.Bottom)
    .calcs([]);
}

function tooltip(): VizTooltipOptionsBuilder {
  return new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending);
}

export function buildPanel(spec: PanelSpec, id: number, gridPos: GridPos): cog.Builder<Panel> {
  switch (spec.kind) {
    case 'stat': {
      const panel = new StatPanelBuilder()
        .id(id)
        .gridPos(gridPos)
        .title(spec.title)
        .description(spec.description)
        .datasource(PROMETHEUS_DS)
        .unit(spec.unit)
        .withTarget(promTarget(spec.query, 0))
        .thresholds(thresholds(spec.thresholds))
        .colorMode(BigValueColorMode.Value)
        .graphMode(isInstant(spec.query) ? BigValueGraphMode.None : BigValueGraphMode.Area)
        .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
        .noValue('no data');
      return spec.decimals === undefined ? panel : panel.decimals(spec.decimals);
    }
    case 'timeseries': {
      let panel = new TimeSeriesPanelBuilder()
        .id(id)
        .gridPos(gridPos)
        .title(spec.title)
        .description(spec.description)
        .datasource(PROMETHEUS_DS)
        .unit(spec.unit)
        .targets(spec.queries.map((q, i) => promTarget(q, i)))
        .thresholds(thresholds(NEUTRAL))
        .legend(legend())
        .tooltip(tooltip())
        .lineWidth(1)
        .fillOpacity(spec.stacked ? 40 : 10)
        .showPoints(VisibilityMode.Never)
        .spanNulls(false);
      if (spec.stacked) panel = panel.stacking(new StackingConfigBuilder().mode(StackingMode.Normal).group('A'));
      if (spec.bars) panel = panel.drawStyle(GraphDrawStyle.Bars).fillOpacity(80);
      if (spec.min !== undefined) panel = panel.min(spec.min);
      if (spec.max !== undefined) panel = panel.max(spec.max);
      return panel;
    }
    case 'statetimeline':
      return new StateTimelinePanelBuilder()
        .id(id)
        .gridPos(gridPos)
        .title(spec.title)
        .description(spec.description)
        .datasource(PROMETHEUS_DS)
        .unit(spec.unit)
        .withTarget(promTarget(spec.query, 0))
        .mappings([...spec.mappings])
        .thresholds(thresholds(NEUTRAL))
        .showValue(VisibilityMode.Never)
        .mergeValues(true)
        .rowHeight(0.9)
        .fillOpacity(80)
        .legend(legend())
        .tooltip(tooltip());
    case 'traces': {
      const q = TRACEQL[spec.query];
      return new TablePanelBuilder()
        .id(id)
        .gridPos(gridPos)
        .title(spec.title)
        .description(spec.description)
        .datasource(TEMPO_DS)
        .unit(spec.unit)
        .withTarget(
          new TempoQueryBuilder()
            .refId('A')
            .datasource(TEMPO_DS)
            .queryType('traceql')
            .query(q.traceql)
            .limit(q.limit)
            .tableType(SearchTableType.Traces),
        )
        .thresholds(thresholds(NEUTRAL));
    }
  }
}

/** Value mapping for a numeric state: value → text and colour. */
export function stateMappings(states: readonly { value: number; text: string; color: string }[]): ValueMapping[] {
  return [
    {
      type: MappingType.ValueToText,
      options: Object.fromEntries(
        states.map((s, index) => [String(s.value), { text: s.text, color: s.color, index }]),
      ),
    },
  ];
}
