/**
 * Which span is active while a provider's official client sends its HTTP request — through the
 * engine, the fault server and a real OpenTelemetry SDK: the attempt's own span (so HTTP
 * instrumentation nests under it), whose parent is the logical request span — or a span the
 * client library opened under it (the Anthropic client traces its own calls). For a retry's call
 * and for a fallback's call on another client too: each call is under its own attempt.
 */
import Anthropic from '@anthropic-ai/sdk';
import { SpanKind, trace } from '@opentelemetry/api';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { createResilientLLM } from '../../src/createResilientLLM.js';
import { anthropicTarget, openaiTarget } from '../../src/providers/index.js';
import { SPAN } from '../../src/telemetry/names.js';
import { fault } from '../../src/testing/index.js';
import { createFakeClock } from '../support/fakeClock.js';
import { faultServerWithTelemetry } from '../integration/setup.js';

const env = faultServerWithTelemetry(1717);
const ask = { messages: [{ role: 'user' as const, content: 'Summarise today' }] };

/** A fetch that notes the active span's id (none: undefined) when the client sends a request. */
function spyingFetch(seen: Array<string | undefined>): typeof fetch {
  return (input, init) => {
    seen.push(trace.getActiveSpan()?.spanContext().spanId);
    return fetch(input, init);
  };
}

describe('the active span during an upstream call', () => {
  it('is the attempt span of that call, child of the logical request span — initial, retry and fallback alike', async () => {
    const seen: Array<string | undefined> = [];
    const llm = createResilientLLM({
      name: 'active-span',
      targets: [
        openaiTarget({ client: new OpenAI({ apiKey: 'sk-test-0123456789', baseURL: env.server.baseURL('openai', 'primary'), fetch: spyingFetch(seen) }), model: 'gpt-4o' }),
        anthropicTarget({
          client: new Anthropic({ apiKey: 'sk-ant-test-0123456789', baseURL: env.server.baseURL('anthropic', 'backup'), fetch: spyingFetch(seen) }),
          model: 'claude-sonnet-4-6',
        }),
      ],
      cache: false,
      clock: createFakeClock(Date.now()),
    });
    env.server.script({ route: 'primary' }, { then: fault.serverError(500) });

    const result = await llm.chat(ask);
    expect(result.target.index).toBe(1);

    const spans = env.sdk.spans();
    const logical = spans.filter((s) => s.name === SPAN.request('chat', 'active-span'));
    expect(logical).toHaveLength(1);
    const attempts = spans
      .filter((s) => s.kind === SpanKind.CLIENT && s.instrumentationScope.name === 'bulwark')
      .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
    // At least one retry on the primary, then the fallback's call on the backup.
    expect(attempts.map((s) => s.attributes['bulwark.attempt.kind'])).toEqual(['initial', ...Array(attempts.length - 2).fill('retry'), 'fallback']);
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    expect(attempts.length).toBe(env.server.hits({ route: 'primary' }) + env.server.hits({ route: 'backup' }));
    for (const a of attempts) expect(a.parentSpanContext?.spanId).toBe(logical[0]!.spanContext().spanId);
    // Each HTTP request was sent under its own attempt's span, in order: the attempt span itself
    // is active, or a span of the client library that is its child.
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
    const attemptOf = (spanId: string | undefined): string | undefined => {
      const span = spanId === undefined ? undefined : byId.get(spanId);
      if (!span) return undefined;
      return span.instrumentationScope.name === 'bulwark' ? spanId : attemptOf(span.parentSpanContext?.spanId);
    };
    expect(seen.map(attemptOf)).toEqual(attempts.map((s) => s.spanContext().spanId));
    // The OpenAI client opens no span of its own: there the attempt span itself is the active one.
    expect(seen.slice(0, -1)).toEqual(attempts.slice(0, -1).map((s) => s.spanContext().spanId));
    await llm.close();
  });
});
