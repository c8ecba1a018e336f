/**
 * Streams through the real engine: the request span joins the context of the consumer's first
 * `next()`, and every attempt span is a child of it — also the attempt a mid-stream restart opens
 * during a later `next()` that runs in some other context.
 */
import { context, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createResilientLLM } from '../../src/createResilientLLM.js';
import { scriptedAdapter, scriptedTarget } from '../support/scriptedAdapter.js';
import { createSdk, only, spanId, type Sdk } from './harness.js';

let sdk: Sdk;

beforeAll(() => {
  sdk = createSdk();
  trace.setGlobalTracerProvider(sdk.tracerProvider);
});

afterAll(async () => {
  await sdk.shutdown();
  trace.disable();
});

it('a restarted stream: the request span under the first next(), both attempt spans under the request span', async () => {
  const primary = scriptedAdapter('openai', 'gpt-4o').streamScript({ chunks: ['Hel'], failWith: 'server_error' });
  const secondary = scriptedAdapter('anthropic', 'claude-sonnet-4-6');
  const llm = createResilientLLM({ name: 'streamer', targets: [scriptedTarget(primary), scriptedTarget(secondary)], midStream: 'restart' });
  const tracer = sdk.tracerProvider.getTracer('app');
  const agent = tracer.startSpan('agent turn');
  const elsewhere = tracer.startSpan('elsewhere');

  const events = llm.stream({ messages: [{ role: 'user', content: 'hi' }] })[Symbol.asyncIterator]();
  const first = await context.with(trace.setSpan(ROOT_CONTEXT, agent), () => events.next());
  expect(first.value).toEqual({ type: 'text', delta: 'Hel' });
  // The rest is read in another context: the failure, the reset and the second target's answer.
  const rest = await context.with(trace.setSpan(ROOT_CONTEXT, elsewhere), async () => {
    const seen: string[] = [];
    for (let r = await events.next(); !r.done; r = await events.next()) seen.push(r.value.type);
    return seen;
  });
  expect(rest).toContain('reset');
  agent.end();
  elsewhere.end();
  await llm.close();

  const spans = sdk.spans();
  const request = only(spans, 'bulwark chat streamer');
  expect(request.parentSpanContext?.spanId).toBe(agent.spanContext().spanId);
  const attempts = spans.filter((s) => s.kind === SpanKind.CLIENT);
  expect(attempts.map((a) => a.name)).toEqual(['chat gpt-4o', 'chat claude-sonnet-4-6']);
  for (const a of attempts) {
    expect(a.parentSpanContext?.spanId).toBe(spanId(request));
    expect(a.spanContext().traceId).toBe(agent.spanContext().traceId);
    expect(a.attributes['gen_ai.request.stream']).toBe(true);
  }
  expect(attempts[0]!.attributes['error.type']).toBe('server_error');
  expect(attempts[1]!.attributes['error.type']).toBeUndefined();
  expect(typeof attempts[1]!.attributes['gen_ai.response.time_to_first_chunk']).toBe('number');
  expect(request.events.map((e) => e.name)).toContain('bulwark.stream.reset');
});
