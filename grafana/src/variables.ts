/**
 * Template variables of the Bulwark dashboards and the PromQL matchers that use them.
 *
 * Every filter variable is multi-select with an "All" option whose value is the regex `.*`, so a query with
 * "All" selected is exactly the query with `=~".*"` matchers — which is also how `promqlQueries()` expands them
 * for tests that evaluate the queries against a real PromQL engine.
 */
import {
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  VariableHide,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { LABELS as L, METRICS as M } from './telemetryNames.js';

/** Datasource references. Prometheus is always the templated variable; Tempo is the provisioned uid. */
export const PROMETHEUS_DS = { type: 'prometheus', uid: '${datasource}' } as const;
export const TEMPO_DS = { type: 'tempo', uid: 'tempo' } as const;
/** uid of the provisioned Prometheus datasource, the variable's default. */
export const DEFAULT_PROMETHEUS_UID = 'prometheus';

export interface FilterVariable {
  name: 'service' | 'chain' | 'provider' | 'model';
  label: string;
  description: string;
  /** `label_values(...)` query run against the Prometheus datasource. */
  query: string;
  /** Value used when "All" is selected: a regex that matches every value. */
  allValue: string;
}

export const FILTER_VARIABLES: readonly FilterVariable[] = [
  {
    name: 'service',
    label: 'Service',
    description: 'OpenTelemetry service.name of the application using Bulwark (promoted to the service_name label).',
    query: `label_values(${M.requests}, ${L.service})`,
    allValue: '.*',
  },
  {
    name: 'chain',
    label: 'Chain',
    description: 'Bulwark chain (the `name` given to createResilientLLM).',
    query: `label_values(${M.requests}{${L.service}=~"$service"}, ${L.chain})`,
    allValue: '.*',
  },
  {
    name: 'provider',
    label: 'Provider',
    description: 'Upstream provider (gen_ai.provider.name). Applies to per-target panels; request-level panels ignore it.',
    query: `label_values(${M.attempts}{${L.service}=~"$service", ${L.chain}=~"$chain"}, ${L.provider})`,
    allValue: '.*',
  },
  {
    name: 'model',
    label: 'Model',
    description: 'Requested model (gen_ai.request.model). Applies to per-target panels; request-level panels ignore it.',
    query: `label_values(${M.attempts}{${L.service}=~"$service", ${L.chain}=~"$chain", ${L.provider}=~"$provider"}, ${L.model})`,
    allValue: '.*',
  },
];

/** PromQL label matchers driven by the variables. */
export const MATCH = {
  service: `${L.service}=~"$service"`,
  chain: `${L.chain}=~"$chain"`,
  provider: `${L.provider}=~"$provider"`,
  model: `${L.model}=~"$model"`,
  /**
   * Breakers are named `provider/model`, or by the user's own key (often just the provider) when a breaker is
   * shared per provider. `($provider)(/($model))?` keeps both shapes: with All selected it matches every breaker,
   * with a provider selected it keeps that provider's per-model breakers and its shared one.
   */
  breaker: `${L.breaker}=~"($provider)(/($model))?"`,
} as const;

export function datasourceVariable(): DatasourceVariableBuilder {
  return new DatasourceVariableBuilder('datasource')
    .label('Prometheus')
    .description('Prometheus-compatible datasource holding Bulwark metrics.')
    .type('prometheus')
    .current({ selected: true, text: 'Prometheus', value: DEFAULT_PROMETHEUS_UID })
    .hide(VariableHide.DontHide);
}

export function filterVariable(v: FilterVariable): QueryVariableBuilder {
  return new QueryVariableBuilder(v.name)
    .label(v.label)
    .description(v.description)
    .datasource(PROMETHEUS_DS)
    .query(v.query)
    .definition(v.query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue(v.allValue)
    .current({ selected: true, text: 'All', value: '$__all' });
}
