/**
 * Pool telemetry through the engine, the official client, the fault server and a real OpenTelemetry
 * SDK: attempt spans and bulwark.attempts name the pool and the member; a retry on another member
 * is a retry (kind, resend count, bulwark.retries).
 */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { createResilientLLM } from '../../src/createResilientLLM.js';
import { pool } from '../../src/pool/pool.js';
import { openaiTarget } from '../../src/providers/index.js';
import { ATTR, EVENT, SPAN } from '../../src/telemetry/names.js';
import { fault } from '../../src/testing/index.js';
import { createFakeClock } from '../support/fakeClock.js';
import { faultServerWithTelemetry } from '../integration/setup.js';
import { metric } from '../telemetry/harness.js';

const env = faultServerWithTelemetry(1515);
const ask = { messages: [{ role: 'user' as const, content: 'Summarise today' }] };

const member = (route: string) =>
  openaiTarget({ client: new OpenAI({ apiKey: 'sk-test-pool-0123456789', baseURL: env.server.baseURL('openai', route) }), model: 'gpt-4o', breakerKey: `gpt-4o@${route}` });

describe('pool telemetry', () => {
  it('attempt spans and bulwark.attempts carry the pool and the member; the move to another member is a retry', async () => {
    const llm = createResilientLLM({
      name: 'pooled-otel',
      targets: [pool({ name: 'gpt-4o', members: [member('east'), member('west')], random: () => 0 })],
      clock: createFakeClock(1_000_000),
    });
    env.server.script({ route: 'east' }, { sequence: [fault.serverError(500)] });
    const res = await llm.chat(ask);
    expect(res.target.member).toBe(1);
    await llm.close();

    const attempts = env.sdk.spans().filter((s) => s.name === SPAN.attempt('chat', 'gpt-4o'));
    expect(attempts.map((s) => [s.attributes[ATTR.POOL_NAME], s.attributes[ATTR.POOL_MEMBER], s.attributes[ATTR.ATTEMPT_KIND], s.attributes[ATTR.HTTP_REQUEST_RESEND_COUNT]])).toEqual([
      ['gpt-4o', 'gpt-4o@east', 'initial', undefined],
      ['gpt-4o', 'gpt-4o@west', 'retry', 1],
    ]);
    const collected = await env.sdk.collect();
    const counted = metric(collected, 'bulwark.attempts')
      .dataPoints.filter((p) => p.attributes[ATTR.CHAIN] === 'pooled-otel' && (p.value as number) > 0)
      .map((p) => [p.attributes[ATTR.POOL_MEMBER], p.attributes[ATTR.ATTEMPT_KIND], p.attributes[ATTR.ERROR_TYPE], p.value]);
    expect(counted).toEqual([
      ['gpt-4o@east', 'initial', 'server_error', 1],
      ['gpt-4o@west', 'retry', undefined, 1],
    ]);
    const retries = metric(collected, 'bulwark.retries').dataPoints.filter((p) => p.attributes[ATTR.CHAIN] === 'pooled-otel' && (p.value as number) > 0);
    expect(retries.map((p) => [p.attributes[ATTR.ERROR_TYPE], p.value])).toEqual([['server_error', 1]]);
  });
});

describe('pool telemetry: every member limited', () => {
  it('the hop off a pool whose members are all at their limits is a `limited` fallback, counted once though the request waited and walked again', async () => {
    const clock = createFakeClock(2_000_000);
    const limitedMember = (route: string) =>
      openaiTarget({
        client: new OpenAI({ apiKey: 'sk-test-pool-0123456789', baseURL: env.server.baseURL('openai', route) }),
        model: 'gpt-4o',
        breakerKey: `gpt-4o@${route}`,
        limits: { rpm: 1, queueMs: 2_000 },
      });
    const llm = createResilientLLM({
      name: 'pooled-limited',
      targets: [
        pool({ name: 'gpt-4o', members: [limitedMember('east'), limitedMember('west')], random: () => 0 }),
        openaiTarget({ client: new OpenAI({ apiKey: 'sk-test-pool-0123456789', baseURL: env.server.baseURL('openai', 'backup') }), model: 'gpt-4o-mini', limits: { rpm: 1 } }),
      ],
      clock,
      cache: false,
      degrade: { staticReply: 'Busy.' },
    });
    for (let i = 0; i < 3; i++) await llm.chat(ask);
    const fourth = await llm.chat(ask);
    expect(fourth.tier).toBe('static');
    await llm.close();

    const collected = await env.sdk.collect();
    const fallbacks = metric(collected, 'bulwark.fallbacks')
      .dataPoints.filter((p) => p.attributes[ATTR.CHAIN] === 'pooled-limited' && (p.value as number) > 0)
      .map((p) => [p.attributes[ATTR.FALLBACK_FROM], p.attributes[ATTR.FALLBACK_TO], p.attributes[ATTR.FALLBACK_REASON], p.value]);
    // The third request (the pool full, the backup free) and the fourth (everything full, waited 2 s, walked again): one each.
    expect(fallbacks).toEqual([['openai/gpt-4o', 'openai/gpt-4o-mini', 'limited', 2]]);
    const spans = env.sdk.spans().filter((s) => s.attributes[ATTR.CHAIN] === 'pooled-limited' && s.events.some((e) => e.name === EVENT.FALLBACK));
    expect(spans.map((s) => s.events.filter((e) => e.name === EVENT.FALLBACK).map((e) => e.attributes?.[ATTR.FALLBACK_REASON]))).toEqual([['limited'], ['limited']]);
    expect(env.server.hits()).toBe(3);
  });
});
