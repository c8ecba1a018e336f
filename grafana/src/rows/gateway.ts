import type { RowSpec } from '../panels.js';

export const gatewayRow: RowSpec = {
  title: 'Gateway',
  panels: [
    {
      kind: 'timeseries',
      title: 'Gateway requests by route and status',
      queries: ['gatewayRequestsByStatus'],
      unit: 'reqps',
      width: 8,
      height: 8,
      description:
        'HTTP requests per second the gateway answered, by route and status (http.server.request.duration). 401: a ' +
        'missing or wrong gateway key; 413: a body over the limit; 429: a client over its rpm or spend limit, or every ' +
        'target rate-limited; 404 on /v1/*: an unknown model alias. 499: the client left before the answer.',
    },
    {
      kind: 'timeseries',
      title: 'Gateway 5xx share',
      queries: ['gatewayServerErrorRatio'],
      unit: 'percentunit',
      width: 8,
      height: 8,
      min: 0,
      description:
        'Share of gateway requests answered with a 5xx: the chain was exhausted (502, 503, 504) or the gateway failed ' +
        '(500). The chain rows above say why; the access log names the client and model alias of each.',
    },
    {
      kind: 'timeseries',
      title: 'Gateway p95 duration by route',
      queries: ['gatewayDurationP95'],
      unit: 's',
      width: 8,
      height: 8,
      description:
        "95th percentile of the gateway's request duration by route, until the response is sent (a stream's whole " +
        'length). Compare with "Request duration" above: the difference is time in the gateway and on the wire.',
    },
  ],
};
