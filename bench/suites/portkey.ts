/**
 * 4. The Portkey gateway on the same fault server: the latency it adds on the happy path, and the
 * time a request takes when the first target fails and the second answers, next to Bulwark's.
 */
import { createResilientLLM, openaiTarget } from '../../src/index.js';
import { fault } from '../../src/testing/index.js';
import { PARAMS, REQUEST, clientFor, customHost, type BenchContext } from '../context.js';
import { compare } from '../measure.js';
import type { Section } from '../report.js';

export async function portkeySuite(ctx: BenchContext): Promise<Section> {
  const title = '4. Portkey gateway: overhead and failover time';
  if (!ctx.gateway) return { title, how: 'Not measured.', rows: [], notes: [`The gateway did not start: ${ctx.gatewayError ?? 'unknown error'}`] };
  const { server, sizes, gateway } = ctx;
  const script = () => server.script({ route: 'pk-down' }, { then: fault.serverError(503) });
  script();

  const direct = clientFor(ctx, 'pk-up');
  const throughGateway = clientFor(ctx, 'pk-up', { baseURL: `${gateway.url}/v1`, defaultHeaders: gateway.fallbackHeader([customHost(ctx, 'pk-up')]) });
  const gatewayFailover = clientFor(ctx, 'pk-up', {
    baseURL: `${gateway.url}/v1`,
    defaultHeaders: gateway.fallbackHeader([customHost(ctx, 'pk-down'), customHost(ctx, 'pk-up')]),
  });
  const bulwark = createResilientLLM({
    name: 'pk-failover',
    targets: [openaiTarget({ client: clientFor(ctx, 'pk-down'), model: 'gpt-4o' }), openaiTarget({ client: direct, model: 'gpt-4o-mini' })],
    retry: { maxAttempts: 1 },
    cache: false,
  });
  bulwark.forceBreaker(0, 'closed'); // every request pays the failed call, as through the gateway

  let answeredBySecond = 0;
  let failoverCalls = 0;
  const c = await compare(
    [
      { name: 'direct', call: () => direct.chat.completions.create(PARAMS) },
      { name: 'gateway', call: () => throughGateway.chat.completions.create(PARAMS) },
      {
        name: 'gateway-failover',
        call: async () => {
          failoverCalls++;
          const { response } = await gatewayFailover.chat.completions.create(PARAMS).withResponse();
          if (response.headers.get('x-portkey-last-used-option-index') === 'config.targets[1]') answeredBySecond++;
        },
      },
      { name: 'bulwark-failover', call: () => bulwark.chat(REQUEST) },
    ],
    {
      baseline: 'direct',
      trials: Math.max(1, Math.ceil(sizes.trials / 2)),
      iterations: Math.ceil(sizes.iterations / 3),
      warmup: Math.ceil(sizes.warmup / 3),
      betweenTrials: () => {
        server.reset();
        script();
      },
    },
  );
  await bulwark.close();

  return {
    title,
    how:
      '@portkey-ai/gateway 1.15.2 from npm, started locally (`build/start-server.js --headless`, its own Node process) and sent OpenAI-format requests by the ' +
      'official client with an `x-portkey-config` header. Overhead: one target, the healthy route. Failover: targets [503 route, healthy route], fallback on ' +
      '429/5xx, no retries; Bulwark on the same two routes with `retry.maxAttempts: 1` (telemetry on, breaker pinned closed so every request pays the failed call).',
    rows: [
      { name: 'Portkey gateway overhead', metric: 'p50 added', value: c.added('gateway', 'p50'), unit: 'ms' },
      { name: 'Portkey gateway overhead', metric: 'p99 added', value: c.added('gateway', 'p99'), unit: 'ms' },
      { name: 'Portkey gateway overhead', metric: 'p50 ratio', value: c.ratio('gateway', 'p50'), unit: 'x' },
      { name: 'failover time: Portkey gateway (1 fallback)', metric: 'p50', value: c.p50.get('gateway-failover')!, unit: 'ms' },
      { name: 'failover time: Portkey gateway (1 fallback)', metric: 'p99', value: c.p99.get('gateway-failover')!, unit: 'ms' },
      { name: 'failover time: Bulwark (1 hop, no retries)', metric: 'p50', value: c.p50.get('bulwark-failover')!, unit: 'ms' },
      { name: 'failover time: Bulwark (1 hop, no retries)', metric: 'p99', value: c.p99.get('bulwark-failover')!, unit: 'ms' },
      { name: 'healthy call, direct (reference)', metric: 'p50', value: c.p50.get('direct')!, unit: 'ms' },
    ],
    notes: [`The gateway's \`x-portkey-last-used-option-index\` header named the second target on ${answeredBySecond} of ${failoverCalls} failover requests.`],
  };
}
