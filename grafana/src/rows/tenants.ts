import type { RowSpec } from '../panels.js';

const OPT_IN =
  'Needs the opt-in telemetry.attributes hook returning app.tenant; requests without it, and tenants beyond the ' +
  'attributeLimit cap (otel_metric_overflow="true"), are not shown here but are counted everywhere else.';

export const tenantsRow: RowSpec = {
  title: 'Tenants',
  panels: [
    {
      kind: 'timeseries',
      title: 'Spend per hour by tenant',
      queries: ['tenantSpendPerHour'],
      unit: 'currencyUSD',
      width: 8,
      height: 8,
      min: 0,
      description:
        'Spend rate in USD per hour by tenant (app.tenant), every attempt included, failed ones too. A tenant ' +
        'whose spend jumps without more traffic is sending longer prompts or landing on a pricier fallback. ' +
        OPT_IN,
    },
    {
      kind: 'timeseries',
      title: 'Cost per successful request by tenant',
      queries: ['tenantCostPerSuccessfulRequest'],
      unit: 'currencyUSD',
      width: 8,
      height: 8,
      min: 0,
      description:
        'All spend of a tenant divided by its requests answered by a live model call, per interval (tenants ' +
        'without a successful request in the interval are left out). The unit economics of each customer: compare ' +
        'with what the tenant pays. ' +
        OPT_IN,
    },
    {
      kind: 'timeseries',
      title: 'Degraded share by tenant',
      queries: ['tenantDegradedShare'],
      unit: 'percentunit',
      width: 8,
      height: 8,
      min: 0,
      max: 1,
      description:
        "Share of a tenant's requests answered from cache, by the static reply, or not at all. One tenant far " +
        'above the others points at its own traffic (context length, content filters, bad requests) rather than a ' +
        'provider outage. ' +
        OPT_IN,
    },
    {
      kind: 'stat',
      title: 'Top 10 tenants by spend',
      query: 'tenantTopSpend',
      unit: 'currencyUSD',
      width: 24,
      height: 5,
      thresholds: [{ value: null, color: 'green' }],
      decimals: 4,
      description:
        'The ten tenants with the highest spend over the selected time range, failed attempts included. ' + OPT_IN,
    },
  ],
};
