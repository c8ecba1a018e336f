/**
 * bulwark.limit.header_errors through the engine, the official clients, the fault server and a real
 * OpenTelemetry SDK: every header a target's adapter reads has its series at 0 before any request
 * (dashboards and alerts read a series, and the first garbage header counts in increase()), and a
 * garbage value moves exactly its own series.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { createResilientLLM } from '../../src/createResilientLLM.js';
import { anthropicTarget, openaiTarget } from '../../src/providers/index.js';
import { ANTHROPIC_RATE_LIMIT_HEADERS, OPENAI_RATE_LIMIT_HEADERS } from '../../src/providers/rateLimitHeaders.js';
import { ATTR, METRIC } from '../../src/telemetry/names.js';
import { fault } from '../../src/testing/index.js';
import { createFakeClock } from '../support/fakeClock.js';
import { faultServerWithTelemetry } from '../integration/setup.js';
import { points } from '../telemetry/harness.js';

const env = faultServerWithTelemetry(1616);
const ask = { messages: [{ role: 'user' as const, content: 'Summarise today' }] };

describe('bulwark.limit.header_errors', () => {
  it('is pre-created at 0 for every header each target reads, and a garbage value counts in its own series only', async () => {
    const llm = createResilientLLM({
      name: 'header-errors',
      targets: [
        openaiTarget({ client: new OpenAI({ apiKey: 'sk-test-0123456789', baseURL: env.server.baseURL('openai', 'primary') }), model: 'gpt-4o' }),
        anthropicTarget({ client: new Anthropic({ apiKey: 'sk-ant-test-0123456789', baseURL: env.server.baseURL('anthropic', 'backup') }), model: 'claude-sonnet-4-6' }),
      ],
      clock: createFakeClock(3_000_000),
    });
    const series = async () =>
      points(await env.sdk.collect(), METRIC.LIMIT_HEADER_ERRORS, { [ATTR.CHAIN]: 'header-errors' }).map((p) => [p.attributes[ATTR.BREAKER], p.attributes[ATTR.LIMIT_HEADER], p.value]);

    const before = await series();
    expect(before).toEqual([
      ...OPENAI_RATE_LIMIT_HEADERS.map((h) => ['openai/gpt-4o', h, 0]),
      ...ANTHROPIC_RATE_LIMIT_HEADERS.map((h) => ['anthropic/claude-sonnet-4-6', h, 0]),
    ]);
    expect(before).toHaveLength(6 + 12);

    env.server.script(
      { route: 'primary' },
      { then: fault.ok({ headers: { 'x-ratelimit-limit-requests': '100', 'x-ratelimit-remaining-requests': 'banana', 'x-ratelimit-reset-requests': '1s' } }) },
    );
    await llm.chat(ask);
    const after = await series();
    expect(after.filter(([, , value]) => value !== 0)).toEqual([['openai/gpt-4o', 'x-ratelimit-remaining-requests', 1]]);
    expect(after).toHaveLength(before.length);
    await llm.close();
  });
});
