/**
 * 1. Happy-path overhead: the same chat completion through the official client directly, and through
 * a three-target Bulwark chain whose primary answers, with telemetry off and on (the real SDK with a
 * BatchSpanProcessor and a periodic metric reader, exporting nowhere).
 */
import { createResilientLLM, openaiTarget } from '../../src/index.js';
import { PARAMS, REQUEST, clientFor, type BenchContext } from '../context.js';
import { compare } from '../measure.js';
import type { Row, Section } from '../report.js';

export async function overheadSuite(ctx: BenchContext): Promise<Section> {
  const { sizes } = ctx;
  const client = clientFor(ctx, 'overhead');
  const targets = () => [
    openaiTarget({ client, model: 'gpt-4o' }),
    openaiTarget({ client: clientFor(ctx, 'overhead-b'), model: 'gpt-4.1' }),
    openaiTarget({ client: clientFor(ctx, 'overhead-c'), model: 'gpt-4o-mini', tier: 'reduced' }),
  ];
  const off = createResilientLLM({ name: 'bench-telemetry-off', targets: targets(), telemetry: false });
  const on = createResilientLLM({ name: 'bench-telemetry-on', targets: targets() });

  const c = await compare(
    [
      { name: 'direct', call: () => client.chat.completions.create(PARAMS) },
      { name: 'off', call: () => off.chat(REQUEST) },
      { name: 'on', call: () => on.chat(REQUEST) },
    ],
    { baseline: 'direct', trials: sizes.trials, iterations: sizes.iterations, warmup: sizes.warmup, betweenTrials: () => ctx.server.reset() },
  );
  await off.close();
  await on.close();

  const rows: Row[] = [
    { name: 'direct official client', metric: 'p50', value: c.p50.get('direct')!, unit: 'ms' },
    { name: 'direct official client', metric: 'p99', value: c.p99.get('direct')!, unit: 'ms' },
  ];
  for (const [key, label] of [
    ['off', 'overhead telemetry off'],
    ['on', 'overhead telemetry on'],
  ] as const) {
    rows.push(
      { name: label, metric: 'p50', value: c.p50.get(key)!, unit: 'ms' },
      { name: label, metric: 'p50 added', value: c.added(key, 'p50'), unit: 'ms' },
      { name: label, metric: 'p99 added', value: c.added(key, 'p99'), unit: 'ms' },
      { name: label, metric: 'p50 ratio', value: c.ratio(key, 'p50'), unit: 'x' },
      { name: label, metric: 'p99 ratio', value: c.ratio(key, 'p99'), unit: 'x' },
    );
  }
  return {
    title: '1. Happy-path overhead',
    how:
      `\`chat.completions.create\` on the official \`openai\` client straight to the fault server (baseline), against \`llm.chat()\` on a three-target chain ` +
      `(default config: cache on-failure, breakers, budgets) whose primary answers through the same kind of client; telemetry off, and on with the real ` +
      `SDK (BatchSpanProcessor, PeriodicExportingMetricReader, no-op exporters). ${sizes.trials} trials × ${sizes.iterations} calls per variant, interleaved. Goal: ≤ 0.1 ms and ≤ 5 % added at p50.`,
    rows,
  };
}
