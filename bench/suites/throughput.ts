/**
 * 5. Throughput of the pipeline with an in-process fake provider (no network), telemetry on; and the
 * per-call cost of the pipeline itself, timed one call at a time against calling the fake directly.
 */
import { createResilientLLM } from '../../src/index.js';
import { REQUEST, type BenchContext } from '../context.js';
import { drivePipeline as drive, fakeAdapter, fakeTargets } from '../fakeProvider.js';
import { compare } from '../measure.js';
import type { Section } from '../report.js';

export async function throughputSuite(ctx: BenchContext): Promise<Section> {
  const { sizes } = ctx;
  const on = createResilientLLM({ name: 'throughput-on', targets: fakeTargets().targets });
  const off = createResilientLLM({ name: 'throughput-off', targets: fakeTargets().targets, telemetry: false });
  await drive(on, Math.ceil(sizes.throughputRequests / 10), 64); // warm-up
  await drive(off, Math.ceil(sizes.throughputRequests / 10), 64);
  const rateOn = await drive(on, sizes.throughputRequests, 64);
  const rateOff = await drive(off, sizes.throughputRequests, 64);

  const direct = fakeAdapter('openai', 'gpt-4o');
  const signal = new AbortController().signal;
  const c = await compare(
    [
      { name: 'direct', call: () => direct.chat(REQUEST, { signal }) },
      { name: 'off', call: () => off.chat(REQUEST) },
      { name: 'on', call: () => on.chat(REQUEST) },
    ],
    { baseline: 'direct', trials: sizes.trials, iterations: sizes.inProcessIterations, warmup: Math.ceil(sizes.inProcessIterations / 10) },
  );
  await on.close();
  await off.close();
  const us = (ms: number) => ms * 1000;
  return {
    title: '5. Pipeline throughput (in-process fake provider)',
    how:
      `A three-target chain of in-process fake providers that answer at once (default config: cache, breakers, budgets). Throughput: ${sizes.throughputRequests.toLocaleString('en-US')} ` +
      'requests from 64 concurrent callers on one event loop. Per call: one call at a time, against calling the fake adapter directly.',
    rows: [
      { name: 'throughput, telemetry on', metric: 'requests per second', value: rateOn, unit: 'req/s' },
      { name: 'throughput, telemetry off', metric: 'requests per second', value: rateOff, unit: 'req/s' },
      { name: 'pipeline cost per call, telemetry on', metric: 'p50 added', value: us(c.added('on', 'p50')), unit: 'µs' },
      { name: 'pipeline cost per call, telemetry on', metric: 'p99 added', value: us(c.added('on', 'p99')), unit: 'µs' },
      { name: 'pipeline cost per call, telemetry off', metric: 'p50 added', value: us(c.added('off', 'p50')), unit: 'µs' },
      { name: 'pipeline cost per call, telemetry off', metric: 'p99 added', value: us(c.added('off', 'p99')), unit: 'µs' },
    ],
  };
}
