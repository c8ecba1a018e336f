/**
 * Two chains in one process with the same breaker key (`openai/gpt-4o`) each have their own
 * breaker (no shared state). Their breaker and budget series must not overwrite each other: each
 * chain reports its own one-hot state, its own transitions, rejections and retry budget, told apart
 * by `bulwark.chain` — through the real engine and a real SDK registered globally.
 */
import { metrics, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResilientLLM, type ResilientLLM } from '../../src/createResilientLLM.js';
import { CIRCUIT_STATE_VALUES, METRIC } from '../../src/telemetry/names.js';
import { createFakeClock } from '../support/fakeClock.js';
import { scriptedAdapter, scriptedTarget, type ScriptedAdapter } from '../support/scriptedAdapter.js';
import { createSdk, points, sumOf, type Sdk } from './harness.js';

const ask = { messages: [{ role: 'user' as const, content: 'Summarise today' }] };
const KEY = 'openai/gpt-4o';

describe('two chains sharing a breaker key', () => {
  let sdk: Sdk;
  let failing: ScriptedAdapter;
  let healthy: ScriptedAdapter;
  let chainA: ResilientLLM;
  let chainB: ResilientLLM;

  beforeAll(() => {
    sdk = createSdk();
    metrics.setGlobalMeterProvider(sdk.meterProvider);
    trace.setGlobalTracerProvider(sdk.tracerProvider);
    const clock = createFakeClock(1_000_000);
    failing = scriptedAdapter('openai', 'gpt-4o');
    healthy = scriptedAdapter('openai', 'gpt-4o');
    const common = {
      clock,
      retry: { maxAttempts: 1, budget: { ratio: 0.5, minRetriesPerSecond: 0 } },
      breaker: { consecutiveFailures: 2, openMs: 60_000, minCalls: 100 },
      degrade: { staticReply: 'Temporarily unavailable.' },
    };
    chainA = createResilientLLM({ name: 'chain-a', targets: [scriptedTarget(failing)], ...common });
    chainB = createResilientLLM({ name: 'chain-b', targets: [scriptedTarget(healthy)], ...common });
  });

  afterAll(async () => {
    await chainA.close();
    await chainB.close();
    await sdk.shutdown();
    metrics.disable();
    trace.disable();
  });

  it('each chain reports its own breaker state, transitions, rejections and budget', async () => {
    failing.then({ fail: 'server_error' });
    await chainA.chat(ask);
    await chainA.chat(ask);
    await chainA.chat(ask); // rejected by chain-a's open breaker: static reply
    for (let i = 0; i < 3; i++) await chainB.chat(ask);
    expect(chainA.health().targets[0]!.breaker).toBe(KEY);
    expect(chainB.health().targets[0]!.breaker).toBe(KEY);
    expect(chainA.health().targets[0]!.state).toBe('open');
    expect(chainB.health().targets[0]!.state).toBe('closed');

    const m = await sdk.collect();
    // One series per chain and state: 2 chains × 3 states, none of them merged.
    expect(points(m, METRIC.CIRCUIT_STATE, { 'bulwark.breaker': KEY })).toHaveLength(2 * CIRCUIT_STATE_VALUES.length);
    for (const [chain, llm] of [['chain-a', chainA], ['chain-b', chainB]] as const) {
      const state = llm.health().targets[0]!.state;
      for (const s of CIRCUIT_STATE_VALUES) {
        expect(sumOf(m, METRIC.CIRCUIT_STATE, { 'bulwark.chain': chain, 'bulwark.breaker': KEY, 'bulwark.circuit.state': s }), `${chain} ${s}`).toBe(
          s === state ? 1 : 0,
        );
      }
      expect(sumOf(m, METRIC.RETRY_BUDGET_REMAINING, { 'bulwark.chain': chain, 'bulwark.breaker': KEY })).toBe(llm.health().targets[0]!.retryBudgetRemaining);
    }
    expect(sumOf(m, METRIC.CIRCUIT_TRANSITIONS, { 'bulwark.chain': 'chain-a', 'bulwark.breaker': KEY, 'bulwark.circuit.to': 'open' })).toBe(1);
    expect(sumOf(m, METRIC.CIRCUIT_TRANSITIONS, { 'bulwark.chain': 'chain-b', 'bulwark.breaker': KEY })).toBe(0);
    expect(sumOf(m, METRIC.CIRCUIT_REJECTIONS, { 'bulwark.chain': 'chain-a', 'bulwark.breaker': KEY })).toBe(1);
    expect(sumOf(m, METRIC.CIRCUIT_REJECTIONS, { 'bulwark.chain': 'chain-b', 'bulwark.breaker': KEY })).toBe(0);
  });
});
