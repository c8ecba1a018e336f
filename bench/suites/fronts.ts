/**
 * 8. Wire fronts: the same chain called directly (`llm.chat()`), and through `bulwarkFetch` with an
 * OpenAI Chat Completions body and an Anthropic Messages body (translation in, the native JSON out,
 * the response body read). In-process fake providers, so the difference is exactly the front.
 */
import { bulwarkFetch } from '../../src/fronts/index.js';
import { createResilientLLM } from '../../src/index.js';
import { MAX_TOKENS, PARAMS, PROMPT, REQUEST, type BenchContext } from '../context.js';
import { fakeTargets } from '../fakeProvider.js';
import { compare } from '../measure.js';
import type { Row, Section } from '../report.js';

export async function frontsSuite(ctx: BenchContext): Promise<Section> {
  const { sizes } = ctx;
  const llm = createResilientLLM({ name: 'bench-fronts', targets: fakeTargets().targets, telemetry: false });
  const openai = bulwarkFetch(llm);
  const anthropic = bulwarkFetch(llm, { front: 'anthropic' });
  const openaiBody = JSON.stringify(PARAMS);
  const anthropicBody = JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: MAX_TOKENS, messages: [{ role: 'user', content: PROMPT }] });
  const c = await compare(
    [
      { name: 'direct', call: () => llm.chat(REQUEST) },
      { name: 'openai', call: () => openai('https://api.openai.com/v1/chat/completions', { method: 'POST', body: openaiBody }).then((r) => r.json()) },
      { name: 'anthropic', call: () => anthropic('https://api.anthropic.com/v1/messages', { method: 'POST', body: anthropicBody }).then((r) => r.json()) },
    ],
    { baseline: 'direct', trials: sizes.trials, iterations: sizes.iterations, warmup: sizes.warmup },
  );
  await llm.close();
  const rows: Row[] = [{ name: 'llm.chat()', metric: 'p50', value: c.p50.get('direct')!, unit: 'ms' }];
  for (const [key, label] of [
    ['openai', 'bulwarkFetch (OpenAI front)'],
    ['anthropic', 'bulwarkFetch (Anthropic front)'],
  ] as const) {
    rows.push(
      { name: label, metric: 'p50', value: c.p50.get(key)!, unit: 'ms' },
      { name: label, metric: 'p50 added', value: c.added(key, 'p50'), unit: 'ms' },
      { name: label, metric: 'p99 added', value: c.added(key, 'p99'), unit: 'ms' },
    );
  }
  return {
    title: '8. Wire fronts: bulwarkFetch vs llm.chat()',
    how:
      `\`llm.chat()\` on a three-target chain of in-process fake providers (telemetry off, baseline), against \`bulwarkFetch(llm)\` with an ` +
      `OpenAI Chat Completions body and \`bulwarkFetch(llm, { front: 'anthropic' })\` with a Messages body, response JSON read. ` +
      `${sizes.trials} trials × ${sizes.iterations} calls per variant, interleaved. Goal: ≤ 0.05 ms added at p50.`,
    rows,
  };
}
