/**
 * Prompt-cache and reasoning tokens through the official clients: the fault server reports them in
 * each provider's own usage shape, the adapters normalize them (parts of the input / output totals),
 * the engine prices them with their own rates, and the telemetry shows them on the attempt span and
 * as token types of `gen_ai.client.token.usage` — through a real OpenTelemetry SDK.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { createResilientLLM } from '../../src/createResilientLLM.js';
import { anthropicTarget, openaiTarget } from '../../src/providers/index.js';
import { METRIC } from '../../src/telemetry/names.js';
import { fault } from '../../src/testing/index.js';
import { histogramSum, sumOf } from '../telemetry/harness.js';
import { ANTHROPIC_KEY, OPENAI_KEY, faultServerWithTelemetry } from './setup.js';

// Reasoning on: Anthropic reports thinking tokens only when thinking was asked for.
const ask = { messages: [{ role: 'user' as const, content: 'Summarise today' }], reasoning: { budgetTokens: 2_048 } };

const env = faultServerWithTelemetry(1);

const PRICE = { inputPerMTok: 3, outputPerMTok: 15, cacheReadPerMTok: 0.3, cacheWritePerMTok: 3.75 };
const USAGE = { inputTokens: 10_000, cacheReadTokens: 6_000, cacheWriteTokens: 3_000, outputTokens: 800, reasoningTokens: 500 };
// 1 000 plain input × 3 + 6 000 read × 0.3 + 3 000 written × 3.75 + 800 output × 15, per million.
const EXPECTED_COST = (1_000 * 3 + 6_000 * 0.3 + 3_000 * 3.75 + 800 * 15) / 1e6;

function chainOn(provider: 'openai' | 'anthropic') {
  const target =
    provider === 'openai'
      ? openaiTarget({ client: new OpenAI({ apiKey: OPENAI_KEY, baseURL: env.server.baseURL('openai', 'p') }), model: 'gpt-5', pricing: PRICE })
      : anthropicTarget({ client: new Anthropic({ apiKey: ANTHROPIC_KEY, baseURL: env.server.baseURL('anthropic', 'p') }), model: 'claude-sonnet-4-5', pricing: PRICE });
  return createResilientLLM({ name: `usage-${provider}`, targets: [target] });
}

describe.each(['openai', 'anthropic'] as const)('cache and reasoning tokens from %s', (provider) => {
  it.each([false, true])('are normalized, priced with their own rates and recorded (stream: %s)', async (stream) => {
    const llm = chainOn(provider);
    env.server.script({ route: 'p' }, { then: fault.ok({ text: 'Cached answer.', usage: USAGE }) });
    let result;
    if (stream) {
      const s = llm.stream(ask);
      for await (const _ of s) void _;
      result = await s.result;
    } else {
      result = await llm.chat(ask);
    }
    expect(result.usage).toEqual(USAGE);
    expect(result.costUsd).toBeCloseTo(EXPECTED_COST, 12);

    const attempt = env.sdk.spans().find((s) => s.name.startsWith('chat '))!;
    expect(attempt.attributes).toMatchObject({
      'gen_ai.usage.input_tokens': 10_000,
      'gen_ai.usage.output_tokens': 800,
      'gen_ai.usage.cache_read.input_tokens': 6_000,
      'gen_ai.usage.cache_creation.input_tokens': 3_000,
      'gen_ai.usage.reasoning.output_tokens': 500,
    });
    // Cumulative over this provider's two runs (chat, then stream): the SDK lives for the file.
    const runs = stream ? 2 : 1;
    const m = await env.sdk.collect();
    const tokens = (type: string) => histogramSum(m, METRIC.TOKEN_USAGE, { 'gen_ai.provider.name': provider, 'gen_ai.token.type': type });
    expect(tokens('input')).toBe(10_000 * runs);
    expect(tokens('output')).toBe(800 * runs);
    expect(tokens('bulwark.cache_read')).toBe(6_000 * runs);
    expect(tokens('bulwark.cache_write')).toBe(3_000 * runs);
    expect(tokens('bulwark.reasoning')).toBe(500 * runs);
    expect(sumOf(m, METRIC.COST, { 'bulwark.chain': `usage-${provider}` })).toBeCloseTo(EXPECTED_COST * runs, 12);
    await llm.close();
  });

  it('reports no breakdown when the provider reports none', async () => {
    const llm = chainOn(provider);
    env.server.script({ route: 'p' }, { then: fault.ok({ text: 'Plain.', usage: { inputTokens: 100, outputTokens: 10 } }) });
    const result = await llm.chat(ask);
    expect(result.usage).toEqual({ inputTokens: 100, outputTokens: 10 });
    expect(result.costUsd).toBeCloseTo((100 * 3 + 10 * 15) / 1e6, 12);
    const attempt = env.sdk.spans().find((s) => s.name.startsWith('chat '))!;
    expect(attempt.attributes).not.toHaveProperty('gen_ai.usage.cache_read.input_tokens');
    expect(attempt.attributes).not.toHaveProperty('gen_ai.usage.cache_creation.input_tokens');
    await llm.close();
  });
});
