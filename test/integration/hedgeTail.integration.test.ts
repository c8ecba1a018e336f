/**
 * The slow tail hedging is for, on the fault server's latency distributions: the primary answers
 * 90 % of calls after 1 s and 10 % after 8 s, the backup after 800 ms. The server and the engine
 * share one fake clock (the server's `sleep` waits on it), so every latency is exact virtual time
 * and the run replays from its seed. The test moves the clock from one pending timer to the next,
 * each time waiting for what that timer sets off over real HTTP (an answer reaching the caller, or
 * a hedge reaching the server) before it moves on.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { createResilientLLM } from '../../src/createResilientLLM.js';
import type { ResilientLLMOptions } from '../../src/config/types.js';
import { anthropicTarget, openaiTarget } from '../../src/providers/index.js';
import { fault, startFaultServer } from '../../src/testing/index.js';
import { createFakeClock } from '../support/fakeClock.js';
import { ANTHROPIC_KEY, ask, OPENAI_KEY } from './setup.js';

const REQUESTS = 100;

/** Virtual ms each of `REQUESTS` sequential requests took, and the upstream calls made. */
async function run(hedge: ResilientLLMOptions['hedge']): Promise<{ durations: number[]; primaryCalls: number; backupCalls: number; hedges: number }> {
  const clock = createFakeClock(Date.now(), { sleep: 'wait' });
  const server = await startFaultServer({ seed: 15, now: clock.now, sleep: clock.sleep });
  try {
    server.script({ route: 'primary' }, { latency: { kind: 'mixture', parts: [{ probability: 0.9, latency: 1_000 }, { probability: 0.1, latency: 8_000 }] }, then: fault.ok() });
    server.script({ route: 'backup' }, { latency: 800, then: fault.ok() });
    const llm = createResilientLLM({
      name: 'tail',
      telemetry: false,
      clock,
      targets: [
        openaiTarget({ client: new OpenAI({ apiKey: OPENAI_KEY, baseURL: server.baseURL('openai', 'primary') }), model: 'gpt-4o' }),
        anthropicTarget({ client: new Anthropic({ apiKey: ANTHROPIC_KEY, baseURL: server.baseURL('anthropic', 'backup') }), model: 'claude-sonnet-4-6' }),
      ],
      ...(hedge && { hedge }),
    });
    const durations: number[] = [];
    let hedges = 0;
    for (let i = 0; i < REQUESTS; i++) {
      const startedAt = clock.now();
      let settled = false;
      const pending = llm.chat(ask).finally(() => (settled = true));
      const seen = () => server.requests.length;
      // Nothing happens on virtual time until the request has reached the server.
      let calls = seen() + 1;
      while (seen() < calls) await new Promise((resolve) => setImmediate(resolve));
      while (!settled) {
        const next = clock.nextTimerAt();
        if (next === undefined) throw new Error('a request is pending with no timer to move the clock to');
        clock.advanceTo(next);
        // Waits for what the timer set off: the answer reaching the caller, or a hedge reaching the server.
        calls = seen() + 1;
        while (!settled && seen() < calls) await new Promise((resolve) => setImmediate(resolve));
      }
      const res = await pending;
      durations.push(clock.now() - startedAt);
      // The cancelled call's connection is closed (and its server-side wait with it) before the next request.
      await server.idle();
      hedges += res.attempts.filter((a) => a.kind === 'hedge').length;
    }
    await llm.close();
    return { durations, primaryCalls: server.hits({ route: 'primary' }), backupCalls: server.hits({ route: 'backup' }), hedges };
  } finally {
    await server.close();
  }
}

/** Nearest-rank percentile. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1]!;
}

describe('hedging against a slow tail (latency distributions on the fault server, virtual time)', () => {
  it('without hedging the slow 10 % set p99; hedged after 1.2 s, p99 ≤ 2 × p50 for one extra upstream call per slow call', async () => {
    const plain = await run(undefined);
    const slow = plain.durations.filter((d) => d === 8_000).length;
    expect(slow).toBeGreaterThan(2); // the seed draws a real tail
    expect(percentile(plain.durations, 0.5)).toBe(1_000);
    expect(percentile(plain.durations, 0.99)).toBe(8_000);
    expect(plain.backupCalls).toBe(0);

    // Budget 1: every slow call may be hedged (every timer the test moves the clock to then has an
    // effect it can wait for; the budget's own refusals are tested in hedge.integration.test.ts).
    const hedged = await run({ after: 1_200, budgetRatio: 1 });
    const p50 = percentile(hedged.durations, 0.5);
    const p99 = percentile(hedged.durations, 0.99);
    expect(p50).toBe(1_000);
    // A hedged slow call answers at 1.2 s + 0.8 s.
    expect(p99).toBe(2_000);
    expect(p99).toBeLessThanOrEqual(2 * p50);
    // Only the slow calls were hedged, each once: the extra upstream calls are exactly the tail.
    expect(hedged.primaryCalls).toBe(REQUESTS);
    expect(hedged.hedges).toBe(hedged.backupCalls);
    expect(hedged.hedges).toBe(slow);
    expect(hedged.durations.filter((d) => d === 2_000)).toHaveLength(slow);
    expect(hedged.durations.filter((d) => d !== 1_000 && d !== 2_000)).toEqual([]);
  });
});
