import type { RowSpec } from '../panels.js';

export const poolsRow: RowSpec = {
  title: 'Pools',
  panels: [
    {
      kind: 'timeseries',
      title: 'Traffic split across pool members',
      queries: ['poolTrafficByMember'],
      unit: 'ops',
      width: 24,
      height: 8,
      stacked: true,
      min: 0,
      description:
        'Upstream calls per second to each member of each pool (a chain position of interchangeable deployments), ' +
        'stacked per pool: the split the pool strategy makes. A member whose band shrinks to nothing has its ' +
        'breaker open, is slower than the latency band, or costs more than another member; retries on another ' +
        'member count where they were sent.',
    },
  ],
};
