/**
 * 2. Failover cost: what one hop adds when a target fails at once (503, no retries), compared with
 * the same hop written by hand with the official client; and what skipping an open breaker adds.
 */
import { createResilientLLM, openaiTarget, type ResilientLLM } from '../../src/index.js';
import { fault } from '../../src/testing/index.js';
import { PARAMS, REQUEST, clientFor, type BenchContext } from '../context.js';
import { compare } from '../measure.js';
import type { Section } from '../report.js';

export async function failoverSuite(ctx: BenchContext): Promise<Section> {
  const { sizes, server } = ctx;
  const script = () => server.script({ route: 'down' }, { then: fault.serverError(503) });
  script();
  const up = clientFor(ctx, 'up');
  const down = clientFor(ctx, 'down');

  /** A chain of `failing` down targets then the healthy one; no retries; breakers pinned as asked. */
  const chain = (name: string, failing: number, breaker: 'closed' | 'open'): ResilientLLM => {
    const targets = [
      ...Array.from({ length: failing }, (_, i) => openaiTarget({ client: down, model: 'gpt-4o', breakerKey: `down-${i}` })),
      openaiTarget({ client: up, model: 'gpt-4o-mini', breakerKey: 'up' }),
    ];
    const llm = createResilientLLM({ name, targets, retry: { maxAttempts: 1 }, cache: false, telemetry: false });
    // Pinned: 'closed' keeps every hop a real failed call; 'open' makes every hop a skip.
    for (let i = 0; i < failing; i++) llm.forceBreaker(i, breaker);
    return llm;
  };
  const hop0 = chain('hop0', 0, 'closed');
  const hop1 = chain('hop1', 1, 'closed');
  const hop2 = chain('hop2', 2, 'closed');
  const skip1 = chain('skip1', 1, 'open');
  const skip2 = chain('skip2', 2, 'open');
  const byHand = async (failing: number) => {
    for (let i = 0; i < failing; i++) {
      try {
        await down.chat.completions.create(PARAMS);
      } catch {
        // next target
      }
    }
    return up.chat.completions.create({ ...PARAMS, model: 'gpt-4o-mini' });
  };

  const c = await compare(
    [
      { name: 'direct', call: () => byHand(0) },
      { name: 'hand1', call: () => byHand(1) },
      { name: 'hand2', call: () => byHand(2) },
      { name: 'hop0', call: () => hop0.chat(REQUEST) },
      { name: 'hop1', call: () => hop1.chat(REQUEST) },
      { name: 'hop2', call: () => hop2.chat(REQUEST) },
      { name: 'skip1', call: () => skip1.chat(REQUEST) },
      { name: 'skip2', call: () => skip2.chat(REQUEST) },
    ],
    {
      baseline: 'direct',
      trials: sizes.trials,
      iterations: Math.ceil(sizes.iterations / 2),
      warmup: sizes.warmup / 2,
      betweenTrials: () => {
        server.reset();
        script();
      },
    },
  );
  for (const llm of [hop0, hop1, hop2, skip1, skip2]) await llm.close();

  const perHop = (two: string, zero: string) => c.perTrial((t) => (t.get(two)!.p50 - t.get(zero)!.p50) / 2);
  const bulwarkHop = perHop('hop2', 'hop0');
  const handHop = perHop('hand2', 'direct');
  return {
    title: '2. Failover cost',
    how:
      'A chain of N targets that fail at once with 503 and then a healthy one, `retry.maxAttempts: 1` (no retries), breakers pinned closed, against the ' +
      'same hops written by hand (try the failing client, catch, call the next). Per hop = (p50 with two hops − p50 with none) / 2. Open-breaker skip: ' +
      'the failing targets\' breakers pinned open, so the walk skips them without a call.',
    rows: [
      { name: 'failover hop, no retries (Bulwark)', metric: 'added per hop, p50', value: bulwarkHop, unit: 'ms' },
      { name: 'failover hop by hand (official client, try/catch)', metric: 'added per hop, p50', value: handHop, unit: 'ms' },
      { name: "failover hop, Bulwark's own share", metric: 'added per hop, p50', value: bulwarkHop - handHop, unit: 'ms' },
      { name: 'failover 1 hop (Bulwark)', metric: 'p50', value: c.p50.get('hop1')!, unit: 'ms' },
      { name: 'failover 2 hops (Bulwark)', metric: 'p50', value: c.p50.get('hop2')!, unit: 'ms' },
      { name: 'open-breaker skip', metric: 'added per skip, p50', value: c.perTrial((t) => (t.get('skip2')!.p50 - t.get('hop0')!.p50) / 2), unit: 'ms' },
    ],
  };
}
