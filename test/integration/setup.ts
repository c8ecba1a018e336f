import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { createResilientLLM, type ResilientLLM } from '../../src/createResilientLLM.js';
import type { ResilientLLMOptions } from '../../src/config/types.js';
import { anthropicTarget, openaiTarget } from '../../src/providers/index.js';
import { metrics, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { createSdk, type Sdk } from '../telemetry/harness.js';
import { createFakeClock, type FakeClock } from '../support/fakeClock.js';

export const OPENAI_KEY = 'sk-proj-INTEGRATION-SECRET-0123456789';
export const ANTHROPIC_KEY = 'sk-ant-api03-INTEGRATION-SECRET-9876543210';

/**
 * The chain of DESIGN §2 over real HTTP: the official OpenAI client (route 'primary'), the
 * official Anthropic client (route 'backup'), and an OpenAI-compatible local endpoint (route
 * 'local', tier reduced). Users' clients keep the SDK default of 2 retries: the adapters must
 * switch them off.
 */
export function threeTargetChain(server: FaultServer, options: Partial<ResilientLLMOptions> & { order?: Array<'primary' | 'backup' | 'local'> } = {}): { llm: ResilientLLM; clock: FakeClock } {
  const clock = createFakeClock(Date.now());
  const { order = ['primary', 'backup', 'local'], ...rest } = options;
  const make = {
    primary: () => openaiTarget({ client: new OpenAI({ apiKey: OPENAI_KEY, baseURL: server.baseURL('openai', 'primary') }), model: 'gpt-4o', contextWindow: 128_000 }),
    backup: () => anthropicTarget({ client: new Anthropic({ apiKey: ANTHROPIC_KEY, baseURL: server.baseURL('anthropic', 'backup') }), model: 'claude-sonnet-4-6', contextWindow: 200_000 }),
    local: () =>
      openaiTarget({ client: new OpenAI({ apiKey: 'ollama', baseURL: server.baseURL('openai', 'local') }), model: 'llama3.1', tier: 'reduced', contextWindow: 8_000 }),
  };
  const llm = createResilientLLM({ name: 'support-agent', targets: order.map((o) => make[o]()), clock, telemetry: false, ...rest });
  return { llm, clock };
}

export const ask = { messages: [{ role: 'user' as const, content: 'Summarise today' }] };

/** The parsed bodies the fault server received on a route, in order. */
export function sentBodies(server: FaultServer, route: string): Array<Record<string, unknown>> {
  return server.requests.filter((r) => r.route === route).map((r) => r.body as Record<string, unknown>);
}

/**
 * For one test file: a fault server and a real OpenTelemetry SDK installed as the global providers
 * (the engine's own observer uses the global API, as in an application), both reset before each
 * test and shut down after the file. Read `env.server` / `env.sdk` inside tests.
 */
export function faultServerWithTelemetry(seed: number): { readonly server: FaultServer; readonly sdk: Sdk } {
  const env = {} as { server: FaultServer; sdk: Sdk };
  beforeAll(async () => {
    env.server = await startFaultServer({ seed });
    env.sdk = createSdk();
    trace.setGlobalTracerProvider(env.sdk.tracerProvider);
    metrics.setGlobalMeterProvider(env.sdk.meterProvider);
  });
  afterAll(async () => {
    await env.server.close();
    await env.sdk.shutdown();
    trace.disable();
    metrics.disable();
  });
  beforeEach(() => {
    env.server.reset();
    env.sdk.exporter.reset();
  });
  return env;
}
