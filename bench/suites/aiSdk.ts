/**
 * 7. AI SDK: `generateText` with the AI SDK's own OpenAI provider model, against `generateText` with
 * `bulwarkModel(llm)` where the chain's primary is that same provider model (`aiSdkTarget`), so the
 * difference is exactly what Bulwark adds on the happy path (conversion both ways + the chain).
 */
import { createOpenAI } from '@ai-sdk/openai';
import { generateText } from 'ai';
import { aiSdkTarget, bulwarkModel } from '../../src/ai-sdk/index.js';
import { createResilientLLM } from '../../src/index.js';
import { MAX_TOKENS, PROMPT, type BenchContext } from '../context.js';
import { compare } from '../measure.js';
import type { Row, Section } from '../report.js';

export async function aiSdkSuite(ctx: BenchContext): Promise<Section> {
  const { sizes } = ctx;
  const provider = (route: string) => createOpenAI({ apiKey: 'bench-key', baseURL: ctx.server.baseURL('openai', route) });
  const direct = provider('aisdk').chat('gpt-4o');
  const llm = createResilientLLM({
    name: 'bench-ai-sdk',
    targets: [aiSdkTarget({ model: provider('aisdk').chat('gpt-4o') }), aiSdkTarget({ model: provider('aisdk-b').chat('gpt-4.1') })],
    telemetry: false,
  });
  const model = bulwarkModel(llm);
  // The AI SDK logs a warning per call for nothing here; keep its retry default (never used on the happy path).
  const c = await compare(
    [
      { name: 'direct', call: () => generateText({ model: direct, prompt: PROMPT, maxOutputTokens: MAX_TOKENS }) },
      { name: 'bulwark', call: () => generateText({ model, prompt: PROMPT, maxOutputTokens: MAX_TOKENS }) },
    ],
    { baseline: 'direct', trials: sizes.trials, iterations: sizes.iterations, warmup: sizes.warmup, betweenTrials: () => ctx.server.reset() },
  );
  await llm.close();
  const rows: Row[] = [
    { name: 'AI SDK provider model', metric: 'p50', value: c.p50.get('direct')!, unit: 'ms' },
    { name: 'bulwarkModel', metric: 'p50', value: c.p50.get('bulwark')!, unit: 'ms' },
    { name: 'bulwarkModel', metric: 'p50 added', value: c.added('bulwark', 'p50'), unit: 'ms' },
    { name: 'bulwarkModel', metric: 'p99 added', value: c.added('bulwark', 'p99'), unit: 'ms' },
    { name: 'bulwarkModel', metric: 'p50 ratio', value: c.ratio('bulwark', 'p50'), unit: 'x' },
  ];
  return {
    title: '7. AI SDK: bulwarkModel vs the provider model',
    how:
      `\`generateText\` (ai 7) with \`@ai-sdk/openai\`'s chat model straight to the fault server (baseline), against \`generateText\` with ` +
      `\`bulwarkModel(llm)\` on a two-target chain (telemetry off) whose primary is the same provider model through \`aiSdkTarget\`. ` +
      `${sizes.trials} trials × ${sizes.iterations} calls per variant, interleaved. Goal: ≤ 0.05 ms added at p50.`,
    rows,
  };
}
