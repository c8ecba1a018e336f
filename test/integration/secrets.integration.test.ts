/**
 * The secret scan: recognizable API keys go into the official clients, providers echo them back
 * in error bodies (worst case), and nothing Bulwark exports — span names, attributes, events,
 * status messages, metric attributes, thrown errors, console output — may contain them.
 */
import { metrics, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fault, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { createSdk, type Sdk } from '../telemetry/harness.js';
import { ANTHROPIC_KEY, OPENAI_KEY, ask, threeTargetChain } from './setup.js';

const SECRETS = [OPENAI_KEY, ANTHROPIC_KEY, 'INTEGRATION-SECRET'];

let server: FaultServer;
let sdk: Sdk;
const logged: string[] = [];

beforeAll(async () => {
  server = await startFaultServer({ seed: 3 });
  sdk = createSdk();
  metrics.setGlobalMeterProvider(sdk.meterProvider);
  trace.setGlobalTracerProvider(sdk.tracerProvider);
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void logged.push(args.map((a) => (a instanceof Error ? `${a.message} ${a.stack}` : JSON.stringify(a))).join(' ')));
  }
});
afterAll(async () => {
  vi.restoreAllMocks();
  await sdk.shutdown();
  metrics.disable();
  trace.disable();
  await server.close();
});

function serializeError(e: unknown): string {
  const seen = new Set<unknown>();
  const walk = (v: unknown): unknown => {
    if (v instanceof Error) {
      if (seen.has(v)) return '[cycle]';
      seen.add(v);
      return { name: v.name, message: v.message, stack: v.stack, ...Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)])), cause: walk(v.cause) };
    }
    return v;
  };
  return JSON.stringify(walk(e));
}

describe('no exported signal holds an API key', () => {
  it('survives every scenario with keys echoed back by the providers', async () => {
    const thrown: string[] = [];
    const received: string[] = [];
    const nextScenario = () => {
      received.push(JSON.stringify(server.requests.map((r) => r.headers)));
      server.reset();
    };
    const echo = (key: string) => ({ error: { message: `Incorrect API key provided: ${key}`, type: 'invalid_request_error', code: 'invalid_api_key', param: null } });
    const anthropicEcho = (key: string) => ({ type: 'error', error: { type: 'authentication_error', message: `invalid x-api-key: ${key}` } });

    const { llm } = threeTargetChain(server, { telemetry: true, captureContent: true, retry: { maxAttempts: 2 }, degrade: { staticReply: 'static' }, midStream: 'restart' });
    server.script({ route: 'primary' }, { sequence: [fault.httpError(401, echo(OPENAI_KEY)), fault.rateLimit({ retryAfterMs: 10 }), fault.serverError(500)] });
    server.script({ route: 'backup' }, { sequence: [fault.httpError(401, anthropicEcho(ANTHROPIC_KEY))] });
    await llm.chat(ask).catch((e: unknown) => thrown.push(serializeError(e)));
    await llm.chat({ ...ask, critical: true }).catch((e: unknown) => thrown.push(serializeError(e)));
    llm.forceBreaker(0, 'auto');
    llm.forceBreaker(1, 'auto');

    nextScenario();
    server.script({ route: 'primary' }, { then: fault.streamCut({ afterChunks: 3, reply: { text: 'one two three four five' } }) });
    server.script({ route: 'backup' }, { then: fault.httpError(400, echo(OPENAI_KEY)) });
    const s = llm.stream(ask);
    await (async () => {
      for await (const _ of s) void _;
    })().catch((e: unknown) => thrown.push(serializeError(e)));
    await s.result.catch((e: unknown) => thrown.push(serializeError(e)));

    nextScenario();
    server.script({}, { then: fault.badRequest({ message: `bad key ${OPENAI_KEY}` }) });
    await llm.chat(ask).catch((e: unknown) => thrown.push(serializeError(e)));
    await llm.close();
    nextScenario();

    const spans = sdk.spans();
    const metricData = await sdk.collect();
    expect(spans.length).toBeGreaterThan(5);
    expect(thrown.length).toBeGreaterThan(0);
    // The scan is real: the captured prompt content is on the spans, so spans were searched.
    expect(JSON.stringify(spans.map((sp) => sp.attributes))).toContain('Summarise today');

    const exported = JSON.stringify({
      spans: spans.map((sp) => ({ name: sp.name, attributes: sp.attributes, events: sp.events, status: sp.status, resource: sp.resource.attributes })),
      metrics: metricData,
      thrown,
      logged,
      health: llm.health(),
    });
    for (const secret of SECRETS) expect(exported).not.toContain(secret);
    // The providers were called in every scenario (the scan would pass vacuously otherwise),
    // and the fault server's own request log redacts the keys in the headers it records.
    expect(received.map((r) => (JSON.parse(r) as unknown[]).length).every((n) => n > 0)).toBe(true);
    for (const secret of SECRETS) expect(received.join('')).not.toContain(secret);
  });
});
