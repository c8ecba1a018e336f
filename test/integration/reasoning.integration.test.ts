/**
 * Reasoning through the official clients: `reasoning` reaches OpenAI as `reasoning_effort` and
 * Anthropic as `thinking` with a budget; reasoning text comes back as `result.reasoning` and as
 * `reasoning` stream events; Anthropic's signed thinking blocks are carried back to Anthropic in the
 * next turn of a tool loop (the fault server verifies their signatures, as the API does) and left
 * out — with a `bulwark.reasoning.dropped` event on the attempt span — when the turn hops to OpenAI.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { BulwarkError } from '../../src/errors/bulwarkError.js';
import type { ChatRequest, Message, StreamEvent } from '../../src/request/types.js';
import { EVENT } from '../../src/telemetry/names.js';
import { fault } from '../../src/testing/index.js';
import { faultServerWithTelemetry, sentBodies, threeTargetChain } from './setup.js';

const env = faultServerWithTelemetry(5);
beforeEach(() => {
  vi.spyOn(Math, 'random').mockReturnValue(0.5);
});

const THOUGHT = 'The user wants the weather; I should call the tool first.';
const tools = [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }];
const ask: ChatRequest = { messages: [{ role: 'user', content: 'Weather in Oslo?' }], tools, reasoning: { effort: 'high' } };
const bodies = (route: string) => sentBodies(env.server, route);
const anthropicFirst = (extra = {}) => threeTargetChain(env.server, { order: ['backup', 'primary', 'local'], telemetry: true, ...extra });

describe('reasoning on Anthropic', () => {
  it('sends thinking with a budget from the effort, returns the thinking text, signed blocks and thinking tokens', async () => {
    const { llm } = anthropicFirst();
    env.server.script({ route: 'backup' }, { then: fault.ok({ reasoning: THOUGHT, toolCalls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }] }) });
    const res = await llm.chat(ask);
    const sent = bodies('backup')[0]!;
    expect(sent['thinking']).toEqual({ type: 'enabled', budget_tokens: 24_576 });
    expect(sent['max_tokens']).toBe(24_576 + 4_096);
    expect(res.reasoning).toBe(THOUGHT);
    expect(res.reasoningBlocks).toEqual([{ provider: 'anthropic', text: THOUGHT, signature: expect.stringMatching(/^sig_/) }]);
    expect(res.usage.reasoningTokens).toBe(Math.ceil(THOUGHT.length / 4));
  });

  it('carries the signed thinking blocks back to Anthropic in the next turn of the tool loop', async () => {
    const { llm } = anthropicFirst();
    env.server.script({ route: 'backup' }, { sequence: [fault.ok({ reasoning: THOUGHT, toolCalls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }] })], then: fault.ok({ text: 'Sunny, 21°C.' }) });
    const first = await llm.chat(ask);
    const call = first.toolCalls[0]!;
    const next: Message[] = [
      ...ask.messages,
      { role: 'assistant', content: first.text, toolCalls: first.toolCalls, reasoning: first.reasoningBlocks! },
      { role: 'tool', toolCallId: call.id, content: '{"temp":21,"sky":"sunny"}' },
    ];
    const second = await llm.chat({ ...ask, messages: next });
    expect(second.text).toBe('Sunny, 21°C.');
    const assistantTurn = (bodies('backup')[1]!['messages'] as Array<{ role: string; content: Array<Record<string, unknown>> }>)[1]!;
    expect(assistantTurn.role).toBe('assistant');
    expect(assistantTurn.content[0]).toEqual({ type: 'thinking', thinking: THOUGHT, signature: first.reasoningBlocks![0]!.signature });
    expect(assistantTurn.content[1]).toMatchObject({ type: 'tool_use', name: 'get_weather' });
    const attempt = env.sdk.spans().filter((s) => s.name.startsWith('chat ')).at(-1)!;
    expect(attempt.events.map((e) => e.name)).not.toContain(EVENT.REASONING_DROPPED);
  });

  it('a thinking block altered by the caller is refused by the provider as it would be (a bad_request, not retried)', async () => {
    const { llm } = anthropicFirst();
    const tampered: Message[] = [
      ...ask.messages,
      { role: 'assistant', content: 'Checking.', reasoning: [{ provider: 'anthropic', text: THOUGHT + ' (edited)', signature: 'sig_forged' }] },
      { role: 'user', content: 'And tomorrow?' },
    ];
    const err = await llm.chat({ ...ask, messages: tampered }).catch((e: unknown) => e);
    expect((err as BulwarkError).errorType).toBe('bad_request');
    expect(env.server.hits({ route: 'backup' })).toBe(1);
  });

  it('streams thinking as reasoning events before the text; the finish event and result carry the signed blocks', async () => {
    const { llm } = anthropicFirst();
    env.server.script({ route: 'backup' }, { then: fault.ok({ reasoning: THOUGHT, text: 'Sunny.' }) });
    const s = llm.stream(ask);
    const events: StreamEvent[] = [];
    for await (const e of s) events.push(e);
    const reasoning = events.filter((e) => e.type === 'reasoning').map((e) => (e as { delta: string }).delta).join('');
    expect(reasoning).toBe(THOUGHT);
    expect(events.findIndex((e) => e.type === 'reasoning')).toBeLessThan(events.findIndex((e) => e.type === 'text'));
    const res = await s.result;
    expect(res.reasoning).toBe(THOUGHT);
    expect(res.reasoningBlocks?.[0]?.signature).toMatch(/^sig_/);
    expect(res.text).toBe('Sunny.');
  });
});

describe('reasoning on OpenAI (and compatible servers)', () => {
  it('sends reasoning_effort (a budget maps to an effort) and reads reasoning_content, chat and stream', async () => {
    const { llm } = threeTargetChain(env.server);
    env.server.script({ route: 'primary' }, { then: fault.ok({ reasoning: THOUGHT, text: 'Sunny.', usage: { reasoningTokens: 300 } }) });
    const res = await llm.chat({ ...ask, reasoning: { budgetTokens: 4_000 }, maxTokens: 8_000 });
    expect(bodies('primary')[0]!['reasoning_effort']).toBe('medium');
    expect(res.reasoning).toBe(THOUGHT);
    expect(res.usage.reasoningTokens).toBe(300);
    expect(res).not.toHaveProperty('reasoningBlocks');

    const s = llm.stream({ ...ask, reasoning: { effort: 'low' } });
    const events: StreamEvent[] = [];
    for await (const e of s) events.push(e);
    expect(bodies('primary')[1]!['reasoning_effort']).toBe('low');
    expect(events.filter((e) => e.type === 'reasoning').map((e) => (e as { delta: string }).delta).join('')).toBe(THOUGHT);
    expect((await s.result).reasoning).toBe(THOUGHT);
  });
});

describe('a hop to another provider', () => {
  it("drops Anthropic's thinking blocks when the turn is answered by OpenAI, with a bulwark.reasoning.dropped event on that attempt's span", async () => {
    const { llm } = anthropicFirst({ retry: { maxAttempts: 1 } });
    env.server.script({ route: 'backup' }, { sequence: [fault.ok({ reasoning: THOUGHT, toolCalls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }] })], then: fault.serverError(503) });
    env.server.script({ route: 'primary' }, { then: fault.ok({ text: 'Sunny, 21°C.' }) });
    const first = await llm.chat(ask);
    const next: Message[] = [
      ...ask.messages,
      { role: 'assistant', content: null, toolCalls: first.toolCalls, reasoning: first.reasoningBlocks! },
      { role: 'tool', toolCallId: first.toolCalls[0]!.id, content: '{"temp":21}' },
    ];
    env.sdk.exporter.reset();
    const second = await llm.chat({ ...ask, messages: next });
    expect(second.target.provider).toBe('openai');
    const sentToOpenAI = JSON.stringify(bodies('primary')[0]!['messages']);
    expect(sentToOpenAI).not.toContain(THOUGHT);
    expect(sentToOpenAI).not.toContain('sig_');
    const attempts = env.sdk.spans().filter((s) => s.name.startsWith('chat '));
    const anthropicAttempt = attempts.find((s) => s.attributes['gen_ai.provider.name'] === 'anthropic')!;
    const openaiAttempt = attempts.find((s) => s.attributes['gen_ai.provider.name'] === 'openai')!;
    expect(anthropicAttempt.events.map((e) => e.name)).not.toContain(EVENT.REASONING_DROPPED);
    const dropped = openaiAttempt.events.find((e) => e.name === EVENT.REASONING_DROPPED);
    expect(dropped?.attributes).toEqual({ 'bulwark.reasoning.dropped_blocks': 1, 'bulwark.reasoning.from': ['anthropic'] });
  });
});

describe('bad input', () => {
  it.each([
    [{ reasoning: { budgetTokens: 4_096 }, maxTokens: 4_096 }, 'reasoning.budgetTokens'],
    [{ reasoning: { budgetTokens: 512 } }, 'reasoning.budgetTokens'],
    [{ reasoning: { effort: 'extreme' } }, 'reasoning.effort'],
    [{ reasoning: { effort: 'low', budget: 2_000 } }, 'reasoning.budget'],
  ])('%j is a bad_request naming %s, with no upstream call', async (extra, field) => {
    const { llm } = threeTargetChain(env.server);
    const err = await llm.chat({ ...ask, ...(extra as object) }).catch((e: unknown) => e);
    expect((err as BulwarkError).errorType).toBe('bad_request');
    expect((err as BulwarkError).message).toContain(field);
    expect(env.server.hits({})).toBe(0);
  });

  it('a reasoning block without its provider is a bad_request naming it', async () => {
    const { llm } = threeTargetChain(env.server);
    const messages = [...ask.messages, { role: 'assistant', content: 'x', reasoning: [{ text: 'y' }] }, { role: 'user', content: 'z' }] as unknown as Message[];
    const err = await llm.chat({ ...ask, messages }).catch((e: unknown) => e);
    expect((err as BulwarkError).message).toContain('messages[1].reasoning[0].provider');
  });
});
