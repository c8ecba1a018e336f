/**
 * Reasoning and prompt caching through the wire fronts: Anthropic `thinking` and `cache_control`,
 * OpenAI `reasoning_effort`, and signed thinking blocks carried back into the next turn of a tool
 * loop, verified by the fault server's Anthropic wire (which checks signatures).
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bulwarkFetch } from '../../src/fronts/index.js';
import { fault, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { threeTargetChain } from '../integration/setup.js';

let server: FaultServer;
beforeAll(async () => {
  server = await startFaultServer({ seed: 136 });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const bodies = (route: string) => server.requests.filter((r) => r.route === route).map((r) => r.body as Record<string, any>);
const tools = [{ name: 'lookup', input_schema: { type: 'object' as const, properties: { q: { type: 'string' } } } }];

describe('Anthropic front: thinking and cache_control', () => {
  it('thinking reaches an Anthropic target, its signed blocks come back and go back in the next turn', async () => {
    const { llm } = threeTargetChain(server, { order: ['backup', 'primary', 'local'] });
    const anthropic = new Anthropic({ apiKey: 'unused', fetch: bulwarkFetch(llm, { front: 'anthropic' }) });
    server.script({ route: 'backup' }, { sequence: [fault.ok({ reasoning: 'The user wants a lookup.', toolCalls: [{ id: 'toolu_l', name: 'lookup', arguments: { q: 'x' } }] }), fault.ok({ text: 'Found it.' })] });
    const first = await anthropic.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 4096, thinking: { type: 'enabled', budget_tokens: 2048 }, tools, messages: [{ role: 'user', content: 'Look up x' }] });
    expect(bodies('backup')[0]!['thinking']).toEqual({ type: 'enabled', budget_tokens: 2048 });
    expect(first.content[0]).toMatchObject({ type: 'thinking', thinking: 'The user wants a lookup.', signature: expect.any(String) });
    expect(first.content[1]).toMatchObject({ type: 'tool_use', id: 'toolu_l' });
    const second = await anthropic.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 4096,
      thinking: { type: 'enabled', budget_tokens: 2048 },
      tools,
      messages: [
        { role: 'user', content: 'Look up x' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_l', content: 'x = 1' }] },
      ],
    });
    expect(second.content.at(-1)).toMatchObject({ type: 'text', text: 'Found it.' });
    // The thinking block went back unchanged, signature and all (the fault server verifies it).
    expect(bodies('backup')[1]!['messages'][1].content[0]).toEqual(first.content[0]);
  });

  it('cache_control on the last system block and on a user block reaches Anthropic as breakpoints', async () => {
    const { llm } = threeTargetChain(server, { order: ['backup', 'primary', 'local'] });
    const anthropic = new Anthropic({ apiKey: 'unused', fetch: bulwarkFetch(llm, { front: 'anthropic' }) });
    await anthropic.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 100,
      system: [{ type: 'text', text: 'A long policy document.', cache_control: { type: 'ephemeral', ttl: '1h' } }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Context', cache_control: { type: 'ephemeral' } }, { type: 'text', text: 'Question?' }] }],
    });
    const sent = bodies('backup')[0]!;
    expect(JSON.stringify(sent['system'])).toContain('"cache_control":{"type":"ephemeral","ttl":"1h"}');
    expect(sent['messages'][0].content[0]).toMatchObject({ type: 'text', text: 'Context', cache_control: { type: 'ephemeral' } });
  });

  it.each([
    ['adaptive thinking', { thinking: { type: 'adaptive' } }, 'thinking.type'],
    ['cache_control on a system block before the last', { system: [{ type: 'text', text: 'a', cache_control: { type: 'ephemeral' } }, { type: 'text', text: 'b' }] }, 'system[0].cache_control'],
    ['cache_control on a tool', { tools: [{ ...tools[0]!, cache_control: { type: 'ephemeral' } }] }, 'tools[0].cache_control'],
  ])('%s is refused with a 400 naming the field', async (_, fields, param) => {
    const { llm } = threeTargetChain(server);
    const anthropic = new Anthropic({ apiKey: 'unused', fetch: bulwarkFetch(llm, { front: 'anthropic' }) });
    const error = await anthropic.messages.create({ model: 'm', max_tokens: 4096, messages: [{ role: 'user', content: 'Hi' }], ...fields } as unknown as Anthropic.MessageCreateParamsNonStreaming).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as Error).message).toContain(param);
    expect(server.requests).toHaveLength(0);
  });
});

describe('OpenAI front: reasoning_effort', () => {
  it('reaches an OpenAI target as reasoning_effort, and an Anthropic target as thinking', async () => {
    const { llm } = threeTargetChain(server, { retry: { maxAttempts: 1 } });
    const openai = new OpenAI({ apiKey: 'unused', fetch: bulwarkFetch(llm) });
    server.script({ route: 'primary' }, { then: fault.serverError(500) });
    await openai.chat.completions.create({ model: 'o4-mini', max_completion_tokens: 8000, reasoning_effort: 'low', messages: [{ role: 'user', content: 'Think' }] });
    expect(bodies('primary')[0]!['reasoning_effort']).toBe('low');
    expect(bodies('backup')[0]!['thinking']).toMatchObject({ type: 'enabled', budget_tokens: expect.any(Number) });
  });

  it('an effort Bulwark does not know is a 400 naming reasoning_effort', async () => {
    const { llm } = threeTargetChain(server);
    const openai = new OpenAI({ apiKey: 'unused', fetch: bulwarkFetch(llm) });
    const error = await openai.chat.completions.create({ model: 'm', reasoning_effort: 'xhigh' as 'high', messages: [{ role: 'user', content: 'Hi' }] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400, param: 'reasoning_effort' });
  });
});
