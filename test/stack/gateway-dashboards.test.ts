/**
 * The dashboard's Gateway row on real data: a gateway (the official clients against it, the fault server behind
 * it) → startTelemetry()'s OTLP exporter → the real collector with the shipped config → VictoriaMetrics. Every
 * gateway panel query returns data over the window of the traffic, and the values equal what was sent: requests by
 * route and status (the counts under them exactly what was sent), the 5xx share the 502s' share of those rates.
 * (VictoriaMetrics' rate() does not extrapolate: series that began at different moments of the window have rates
 * that are not in the counts' proportions, so rates are compared with rates, and counts with increase().)
 *
 * Needs `victoria-metrics-prod` and `otelcol-bulwark` (scripts/install-tools.sh): skipped loudly on a developer
 * machine without them, a failure under CI=true.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promqlQueries, PROMQL, type NamedPromQuery } from '../../grafana/src/queries.js';
import { startTelemetry, type TelemetryHandle } from '../../src/otel/index.js';
import { fault, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { systemClock } from '../../src/time/clock.js';
import { KEY_A, startTestGateway, type TestGateway } from '../gateway/setup.js';
import { startCollector, startVictoriaMetrics, stopAll, type Collector, type VictoriaMetrics } from '../support/processes.js';
import { needTools } from '../support/tools.js';

const tools = needTools('victoria-metrics-prod', 'otelcol-bulwark');
const SERVICE = 'bulwark-gateway-e2e';
const GATEWAY_PANELS = Object.keys(PROMQL).filter((id) => id.startsWith('gateway')) as (keyof typeof PROMQL)[];
const ask = { model: 'support-agent', max_tokens: 50, messages: [{ role: 'user' as const, content: 'Hi' }] };

describe.skipIf(tools.skip)('gateway → SDK → collector → VictoriaMetrics: the Gateway row', () => {
  let vm: VictoriaMetrics;
  let collector: Collector;
  let telemetry: TelemetryHandle | undefined;
  let server: FaultServer | undefined;
  let gw: TestGateway | undefined;
  let queries: NamedPromQuery[] = [];
  let from = 0;
  let at = 0;

  beforeAll(async () => {
    tools.path('victoria-metrics-prod');
    tools.path('otelcol-bulwark');
    vm = await startVictoriaMetrics();
    collector = await startCollector({ metricsEndpoint: vm.otlpUrl });
    telemetry = await startTelemetry({ endpoint: collector.otlpHttpUrl, serviceName: SERVICE, environment: 'e2e', metricExportIntervalMs: 600_000, exportTimeoutMs: 5_000 });
    server = await startFaultServer({ seed: 1418 });
    gw = await startTestGateway(server, { clock: systemClock });
    from = Date.now() / 1000 - 1;

    // 6 answered and 2 refused for their key on /v1/chat/completions, 2 exhausted (502); 3 answered on /v1/messages.
    server.script({ route: 'primary' }, { sequence: Array.from({ length: 6 }, () => fault.ok({ text: 'ok' })), then: fault.serverError(500) });
    server.script({ route: 'backup' }, { then: fault.serverError(500) });
    const openai = gw.openai();
    for (let i = 0; i < 6; i++) await openai.chat.completions.create({ ...ask, messages: [{ role: 'user', content: `question ${i}` }] });
    for (let i = 0; i < 2; i++) await gw.openai('not-a-key').chat.completions.create(ask).catch(() => undefined);
    for (let i = 0; i < 2; i++) await openai.chat.completions.create({ ...ask, messages: [{ role: 'user', content: `unanswered ${i}` }] }).catch(() => undefined);
    server.reset();
    server.script({ route: 'primary' }, { then: fault.ok({ text: 'ok' }) });
    const anthropic = gw.anthropic(KEY_A);
    for (let i = 0; i < 3; i++) await anthropic.messages.create({ ...ask, messages: [{ role: 'user', content: `message ${i}` }] });
    await gw.entry(12);

    await telemetry.forceFlush();
    await vm.waitForQuery(`sum(http_server_request_duration_seconds_count{service_name="${SERVICE}"}) == 13`, { timeoutMs: 20_000 });
    at = Date.now() / 1000;
    const window = `${Math.ceil((at - from) * 1000)}ms`;
    queries = promqlQueries({ rateInterval: window, range: window });
  }, 90_000);

  afterAll(async () => {
    await gw?.gateway.close({ drainMs: 0 });
    await telemetry?.shutdown();
    await server?.close();
    await stopAll();
  });

  const run = (id: keyof typeof PROMQL) => vm.query(queries.find((q) => q.id === `panel:${id}`)!.expr, at);

  it.each(GATEWAY_PANELS)('%s returns data', async (id) => {
    const q = queries.find((x) => x.id === `panel:${id}`)!;
    const r = await vm.query(q.expr, at);
    expect(r.length, q.expr).toBeGreaterThan(0);
    for (const s of r) expect(Number.isFinite(Number(s.value[1])), JSON.stringify(s)).toBe(true);
  });

  const key = (s: { metric: Record<string, string> }) => `${s.metric['http_route']} ${s.metric['http_response_status_code']}`;

  it('requests by route and status: one series per route and status sent, counting exactly the requests sent', async () => {
    const r = await run('gatewayRequestsByStatus');
    expect(r.map(key).sort()).toEqual(['/v1/chat/completions 200', '/v1/chat/completions 401', '/v1/chat/completions 502', '/v1/messages 200']);
    for (const s of r) expect(Number(s.value[1]), key(s)).toBeGreaterThan(0);
    const window = `${Math.ceil((at - from) * 1000)}ms`;
    const counts = await vm.query(`sum by (http_route, http_response_status_code) (increase(http_server_request_duration_seconds_count{service_name="${SERVICE}"}[${window}]))`, at);
    expect(Object.fromEntries(counts.map((s) => [key(s), Math.round(Number(s.value[1]) * 1e9) / 1e9]))).toEqual({
      '/v1/chat/completions 200': 6,
      '/v1/chat/completions 401': 2,
      '/v1/chat/completions 502': 2,
      '/v1/messages 200': 3,
    });
  });

  it('the 5xx share is the 502s over every request, as the panel above rates them', async () => {
    const rates = Object.fromEntries((await run('gatewayRequestsByStatus')).map((s) => [key(s), Number(s.value[1])]));
    const [share] = await run('gatewayServerErrorRatio');
    const total = Object.values(rates).reduce((a, b) => a + b, 0);
    expect(Number(share!.value[1])).toBeCloseTo(rates['/v1/chat/completions 502']! / total, 12);
  });

  it('p95 duration per route', async () => {
    const r = await run('gatewayDurationP95');
    expect(r.map((s) => s.metric['http_route']).sort()).toEqual(['/v1/chat/completions', '/v1/messages']);
  });
});
