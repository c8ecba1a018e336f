/**
 * Prompt caching through the official clients: `cacheControl` hints become Anthropic `cache_control`
 * breakpoints (system blocks, message blocks, parts, tool results) and are not sent to OpenAI, which
 * caches prefixes on its own; the fault server simulates Anthropic's cache (a write on first sight of a
 * prefix, a read after), and the cache tokens are priced with the table's own read and write prices.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { costOf } from '../../src/cost/computeCost.js';
import { BUILTIN_PRICES } from '../../src/cost/pricing.js';
import type { BulwarkError } from '../../src/errors/bulwarkError.js';
import type { ChatRequest } from '../../src/request/types.js';
import { fault, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { ANTHROPIC_KEY, sentBodies, threeTargetChain } from './setup.js';

let server: FaultServer;
beforeAll(async () => {
  server = await startFaultServer({ seed: 7 });
});
afterAll(() => server.close());
beforeEach(() => {
  server.reset();
  vi.spyOn(Math, 'random').mockReturnValue(0.5);
});

const MANUAL = 'You are the support agent of ACME. '.repeat(200);
const request: ChatRequest = {
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'system', content: MANUAL, cacheControl: { ttl: '1h' } },
    { role: 'user', content: [{ type: 'text', text: 'Ticket history: …'.repeat(50), cacheControl: {} }, { type: 'text', text: 'What next?' }] },
  ],
};
const bodies = (route: string) => sentBodies(server, route);

describe('cacheControl on Anthropic', () => {
  it('becomes cache_control breakpoints; the second identical request reads the prefix the first wrote, each priced at its own rate', async () => {
    const { llm } = threeTargetChain(server, { order: ['backup', 'primary', 'local'] });
    const first = await llm.chat(request);
    const sent = bodies('backup')[0]!;
    expect(sent['system']).toEqual([
      { type: 'text', text: 'Be brief.' },
      { type: 'text', text: MANUAL, cache_control: { type: 'ephemeral', ttl: '1h' } },
    ]);
    const userBlocks = (sent['messages'] as Array<{ content: Array<Record<string, unknown>> }>)[0]!.content;
    expect(userBlocks[0]!['cache_control']).toEqual({ type: 'ephemeral' });
    expect(userBlocks[1]).not.toHaveProperty('cache_control');

    expect(first.usage.cacheWriteTokens).toBeGreaterThan(MANUAL.length / 4);
    expect(first.usage).not.toHaveProperty('cacheReadTokens');
    const second = await llm.chat(request);
    expect(second.usage.cacheReadTokens).toBe(first.usage.cacheWriteTokens);
    expect(second.usage).not.toHaveProperty('cacheWriteTokens');
    expect(second.usage.inputTokens).toBe(first.usage.inputTokens);

    const price = BUILTIN_PRICES['claude-sonnet-4-6']!;
    expect(price.cacheWritePerMTok).toBeGreaterThan(price.inputPerMTok);
    expect(first.costUsd).toBeCloseTo(costOf(first.usage, price), 12);
    expect(second.costUsd).toBeCloseTo(costOf(second.usage, price), 12);
    // Same prompt: the read is far cheaper than the write.
    expect(second.costUsd).toBeLessThan(first.costUsd / 3);
  });

  it('marks the last block of an assistant message and a tool result', async () => {
    const { llm } = threeTargetChain(server, { order: ['backup', 'primary', 'local'] });
    await llm.chat({
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: 'Checking.', toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{}' }], cacheControl: {} },
        { role: 'tool', toolCallId: 'call_1', content: '{"temp":21}', cacheControl: { ttl: '5m' } },
      ],
      tools: [{ name: 'get_weather', parameters: { type: 'object' } }],
    });
    const messages = bodies('backup')[0]!['messages'] as Array<{ content: Array<Record<string, unknown>> }>;
    expect(messages[1]!.content.map((b) => [b['type'], b['cache_control']])).toEqual([
      ['text', undefined],
      ['tool_use', { type: 'ephemeral' }],
    ]);
    expect(messages[2]!.content[0]).toMatchObject({ type: 'tool_result', cache_control: { type: 'ephemeral', ttl: '5m' } });
  });
});

describe('cacheControl on OpenAI', () => {
  it('is not sent (OpenAI caches prefixes automatically); its cached_tokens are priced at the cache-read price', async () => {
    const { llm } = threeTargetChain(server);
    server.script({ route: 'primary' }, { then: fault.ok({ text: 'ok', usage: { inputTokens: 4_000, cacheReadTokens: 3_072, outputTokens: 10 } }) });
    const res = await llm.chat(request);
    expect(JSON.stringify(bodies('primary')[0])).not.toContain('cache');
    expect(res.usage).toEqual({ inputTokens: 4_000, cacheReadTokens: 3_072, outputTokens: 10 });
    expect(res.costUsd).toBeCloseTo((928 * 2.5 + 3_072 * 1.25 + 10 * 10) / 1e6, 12);
  });
});

describe('bad input', () => {
  it('more than 4 breakpoints, or an unknown ttl, is a bad_request with no upstream call', async () => {
    const { llm } = threeTargetChain(server);
    const many: ChatRequest = { messages: Array.from({ length: 5 }, (_, i) => ({ role: 'user' as const, content: `part ${i}`, cacheControl: {} })) };
    const err = (await llm.chat(many).catch((e: unknown) => e)) as BulwarkError;
    expect(err.errorType).toBe('bad_request');
    expect(err.message).toContain('cacheControl');
    const ttl = (await llm.chat({ messages: [{ role: 'user', content: 'x', cacheControl: { ttl: '2h' as '1h' } }] }).catch((e: unknown) => e)) as BulwarkError;
    expect(ttl.message).toContain('messages[0].cacheControl.ttl');
    const part = (await llm.chat({ messages: [{ role: 'user', content: [{ type: 'text', text: 'x', cacheControl: { type: 'ephemeral' } as never }] }] }).catch((e: unknown) => e)) as BulwarkError;
    expect(part.message).toContain('messages[0].content[0].cacheControl.type');
    expect(server.hits({})).toBe(0);
  });

  it('the fault server refuses a fifth cache_control breakpoint as Anthropic does', async () => {
    const client = new Anthropic({ apiKey: ANTHROPIC_KEY, baseURL: server.baseURL('anthropic', 'backup'), maxRetries: 0 });
    const content = Array.from({ length: 5 }, (_, i) => ({ type: 'text' as const, text: `block ${i}`, cache_control: { type: 'ephemeral' as const } }));
    const err = await client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 10, messages: [{ role: 'user', content }] }).catch((e: unknown) => e);
    expect((err as { status?: number }).status).toBe(400);
  });
});
