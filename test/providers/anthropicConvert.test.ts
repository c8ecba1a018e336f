import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/errors/providerError.js';
import {
  AnthropicStreamMapper,
  anthropicToolId,
  fromAnthropicMessage,
  mapAnthropicStopReason,
  parseToolArguments,
  toAnthropicParams,
} from '../../src/providers/anthropicConvert.js';
import { fromOpenAICompletion, toOpenAIParams } from '../../src/providers/openaiConvert.js';
import type { ChatRequest, StreamEvent } from '../../src/request/types.js';
import { anthropicToolLoop, openaiToolLoop, weatherTool } from './fixtures.js';

const ctx = { provider: 'anthropic', model: 'claude-sonnet-4-5', defaultMaxTokens: 4096 };

function thrown(fn: () => unknown): ProviderError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    return err as ProviderError;
  }
  throw new Error('expected a throw');
}

function message(content: unknown[], extra: Record<string, unknown> = {}) {
  return {
    id: 'msg_01',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5-20250929',
    content,
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 80, cache_creation_input_tokens: 20 },
    ...extra,
  };
}

describe('toAnthropicParams', () => {
  it('converts an OpenAI tool loop: system apart, tool_use with parsed input, tool results merged, roles alternating', () => {
    expect(toAnthropicParams(openaiToolLoop, ctx)).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 300,
      system: 'You are a weather bot.',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'call_abc123', name: 'get_weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'call_def456', name: 'get_weather', input: { city: 'Rome', unit: 'c' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_abc123', content: '18°C, sunny' },
            { type: 'tool_result', tool_use_id: 'call_def456', content: '22°C, cloudy' },
          ],
        },
        { role: 'assistant', content: [{ type: 'text', text: 'Paris: 18°C and sunny. Rome: 22°C and cloudy.' }] },
        { role: 'user', content: [{ type: 'text', text: 'And London?' }] },
      ],
      tools: [{ name: 'get_weather', description: 'Current weather for a city', input_schema: weatherTool.parameters }],
      tool_choice: { type: 'auto' },
      stop_sequences: ['END'],
    });
  });

  it('does not send temperature / top_p by default (API 2026-10-21 rejects them with 400)', () => {
    const params = toAnthropicParams(openaiToolLoop, ctx);
    expect(params).not.toHaveProperty('temperature');
    expect(params).not.toHaveProperty('top_p');
  });

  it('sends sampling params when asked, clamping temperature to 0–1 and preferring it over top_p', () => {
    const sampling = { ...ctx, sendSamplingParams: true };
    const base = { messages: [{ role: 'user' as const, content: 'x' }] };
    expect(toAnthropicParams({ ...base, temperature: 1.7, topP: 0.5 }, sampling)).toMatchObject({ temperature: 1 });
    expect(toAnthropicParams({ ...base, temperature: 1.7, topP: 0.5 }, sampling)).not.toHaveProperty('top_p');
    expect(toAnthropicParams({ ...base, topP: 0.5 }, sampling)).toMatchObject({ top_p: 0.5 });
  });

  it('puts a user message that follows tool results in the same turn, tool results first', () => {
    const params = toAnthropicParams(
      {
        messages: [
          { role: 'user', content: 'go' },
          { role: 'assistant', toolCalls: [{ id: 'call_1', name: 'f', arguments: '{}' }] },
          { role: 'tool', toolCallId: 'call_1', content: 'done' },
          { role: 'user', content: 'now summarise' },
        ],
      },
      ctx,
    );
    expect(params.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'go' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'call_1', name: 'f', input: {} }] },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_1', content: 'done' },
          { type: 'text', text: 'now summarise' },
        ],
      },
    ]);
  });

  it('merges consecutive same-role messages and all system messages', () => {
    const params = toAnthropicParams(
      {
        messages: [
          { role: 'system', content: 'Rule one.' },
          { role: 'user', content: 'a' },
          { role: 'user', content: 'b' },
          { role: 'system', content: 'Rule two.' },
          { role: 'assistant', content: 'c' },
          { role: 'assistant', content: 'd', toolCalls: [{ id: 'call_x', name: 'f', arguments: '{"k":1}' }] },
        ],
      },
      ctx,
    );
    expect(params.system).toBe('Rule one.\n\nRule two.');
    expect(params.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'c' },
          { type: 'text', text: 'd' },
          { type: 'tool_use', id: 'call_x', name: 'f', input: { k: 1 } },
        ],
      },
    ]);
  });

  it('drops empty text (the API rejects empty text blocks) and merges around the gap', () => {
    const params = toAnthropicParams(
      {
        messages: [
          { role: 'user', content: 'q1' },
          { role: 'assistant', content: '  ' },
          { role: 'user', content: 'q2' },
        ],
      },
      ctx,
    );
    expect(params.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'q1' }, { type: 'text', text: 'q2' }] }]);
  });

  it('uses defaultMaxTokens when the request sets none', () => {
    expect(toAnthropicParams({ messages: [{ role: 'user', content: 'x' }] }, ctx).max_tokens).toBe(4096);
    expect(toAnthropicParams({ messages: [{ role: 'user', content: 'x' }] }, { ...ctx, defaultMaxTokens: 1000 }).max_tokens).toBe(1000);
  });

  it.each([
    ['auto', { type: 'auto' }],
    ['none', { type: 'none' }],
    ['required', { type: 'any' }],
    [{ name: 'get_weather' }, { type: 'tool', name: 'get_weather' }],
  ] as const)('maps toolChoice %j', (choice, expected) => {
    const params = toAnthropicParams({ messages: [{ role: 'user', content: 'x' }], tools: [weatherTool], toolChoice: choice }, ctx);
    expect(params.tool_choice).toEqual(expected);
  });

  it('leaves tool_choice out without tools', () => {
    expect(toAnthropicParams({ messages: [{ role: 'user', content: 'x' }], toolChoice: 'auto' }, ctx)).not.toHaveProperty('tool_choice');
  });

  it('gives input_schema type object when the schema omits it', () => {
    const params = toAnthropicParams(
      { messages: [{ role: 'user', content: 'x' }], tools: [{ name: 'now', parameters: {} }] },
      ctx,
    );
    expect(params.tools).toEqual([{ name: 'now', input_schema: { type: 'object' } }]);
  });

  it('makes foreign tool-call ids valid for Anthropic, the same way on the call and its result', () => {
    const params = toAnthropicParams(
      {
        messages: [
          { role: 'user', content: 'x' },
          { role: 'assistant', toolCalls: [{ id: 'call.1:abc', name: 'f', arguments: '{}' }] },
          { role: 'tool', toolCallId: 'call.1:abc', content: 'ok' },
        ],
      },
      ctx,
    );
    expect(params.messages[1]?.content).toEqual([{ type: 'tool_use', id: 'call_1_abc', name: 'f', input: {} }]);
    expect(params.messages[2]?.content).toEqual([{ type: 'tool_result', tool_use_id: 'call_1_abc', content: 'ok' }]);
    expect(anthropicToolId('call_abc-123')).toBe('call_abc-123');
    expect(anthropicToolId('')).toBe('tool_call');
  });

  it('keeps arguments that are not a JSON object as text instead of failing the hop', () => {
    expect(parseToolArguments('{"a":1}')).toEqual({ a: 1 });
    expect(parseToolArguments('')).toEqual({});
    expect(parseToolArguments('{"city": "Par')).toEqual({ _raw_arguments: '{"city": "Par' });
    expect(parseToolArguments('[1,2]')).toEqual({ _raw_arguments: '[1,2]' });
  });

  it('omits empty tool result content', () => {
    const params = toAnthropicParams(
      {
        messages: [
          { role: 'user', content: 'x' },
          { role: 'assistant', toolCalls: [{ id: 'call_1', name: 'f', arguments: '{}' }] },
          { role: 'tool', toolCallId: 'call_1', content: '' },
        ],
      },
      ctx,
    );
    expect(params.messages[2]?.content).toEqual([{ type: 'tool_result', tool_use_id: 'call_1' }]);
  });

  it('rejects an unknown role as bad_request', () => {
    expect(thrown(() => toAnthropicParams({ messages: [{ role: 'function', content: 'x' } as never] }, ctx)).errorType).toBe(
      'bad_request',
    );
  });
});

describe('fromAnthropicMessage', () => {
  it('converts text, tool_use (input as JSON text), usage incl. cache, model and id', () => {
    const body = message(
      [
        { type: 'thinking', thinking: '…', signature: 's' },
        { type: 'text', text: 'Let me check. ', citations: null },
        { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { city: 'Oslo' } },
      ],
      { stop_reason: 'tool_use' },
    );
    expect(fromAnthropicMessage(body, ctx)).toEqual({
      text: 'Let me check. ',
      toolCalls: [{ id: 'toolu_01', name: 'get_weather', arguments: '{"city":"Oslo"}' }],
      finishReason: 'tool_calls',
      // inputTokens = input + cache reads + cache writes, each part named.
      usage: { inputTokens: 110, outputTokens: 5, cacheReadTokens: 80, cacheWriteTokens: 20 },
      model: 'claude-sonnet-4-5-20250929',
      responseId: 'msg_01',
      // The thinking block: its text, and the signed block to carry back to Anthropic.
      reasoning: '…',
      reasoningBlocks: [{ provider: 'anthropic', text: '…', signature: 's' }],
    });
  });

  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['tool_use', 'tool_calls'],
    ['pause_turn', 'other'],
    [null, 'other'],
  ])('maps stop_reason %j to %j', (reason, expected) => {
    expect(mapAnthropicStopReason(reason)).toBe(expected);
  });

  it("throws content_filtered on stop_reason 'refusal' (a 200 that is a refusal)", () => {
    const err = thrown(() => fromAnthropicMessage(message([], { stop_reason: 'refusal' }), ctx));
    expect(err.errorType).toBe('content_filtered');
    expect(err.provider).toBe('anthropic');
  });

  it('reports thinking tokens (output_tokens_details) as reasoningTokens, part of outputTokens', () => {
    const body = message([{ type: 'text', text: 'x' }], {
      usage: { input_tokens: 7, output_tokens: 300, cache_creation_input_tokens: 50, output_tokens_details: { thinking_tokens: 250 } },
    });
    expect(fromAnthropicMessage(body, ctx).usage).toEqual({ inputTokens: 57, outputTokens: 300, cacheWriteTokens: 50, reasoningTokens: 250 });
  });

  it('omits cacheReadTokens when no cache was read', () => {
    const body = message([{ type: 'text', text: 'x' }], { usage: { input_tokens: 7, output_tokens: 3 } });
    expect(fromAnthropicMessage(body, ctx).usage).toEqual({ inputTokens: 7, outputTokens: 3 });
  });

  it('ignores a token count that is negative, fractional or infinite (no negative or NaN cost)', () => {
    for (const bad of [-5, 2.5, JSON.parse('1e400') as number]) {
      const body = message([{ type: 'text', text: 'x' }], { usage: { input_tokens: 7, output_tokens: bad, cache_read_input_tokens: bad } });
      expect(fromAnthropicMessage(body, ctx).usage).toEqual({ inputTokens: 7, outputTokens: 0 });
    }
  });

  it.each([
    ['an empty body', undefined],
    ['a string body', 'upstream connect error'],
    ['no content', { id: 'msg', type: 'message' }],
    ['content not an array', { content: 'hi' }],
    ['a block without type', { content: [{ text: 'x' }] }],
    ['a text block without text', { content: [{ type: 'text' }] }],
    ['a tool_use without id', { content: [{ type: 'tool_use', name: 'f', input: {} }] }],
  ])('throws malformed_response on %s', (_name, body) => {
    expect(thrown(() => fromAnthropicMessage(body, ctx)).errorType).toBe('malformed_response');
  });
});

describe('AnthropicStreamMapper', () => {
  const start = {
    type: 'message_start',
    message: {
      id: 'msg_9',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5-20250929',
      content: [],
      stop_reason: null,
      usage: { input_tokens: 12, output_tokens: 1, cache_read_input_tokens: 100, cache_creation_input_tokens: 0 },
    },
  };
  const run = (events: unknown[]) => {
    const mapper = new AnthropicStreamMapper(ctx);
    const out: StreamEvent[] = [];
    for (const e of events) out.push(...mapper.push(e));
    out.push(...mapper.end());
    return out;
  };

  it('maps text and tool_use blocks, input_json_delta, usage and stop_reason', () => {
    expect(
      run([
        start,
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
        { type: 'ping' },
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Checking' } },
        { type: 'content_block_stop', index: 0 },
        { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} } },
        { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '' } },
        { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"city":' } },
        { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '"Oslo"}' } },
        { type: 'content_block_stop', index: 1 },
        { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 30 } },
        { type: 'message_stop' },
      ]),
    ).toEqual([
      { type: 'text', delta: 'Checking' },
      { type: 'tool_call', index: 0, id: 'toolu_1', name: 'get_weather', argumentsDelta: '' },
      { type: 'tool_call', index: 0, argumentsDelta: '{"city":' },
      { type: 'tool_call', index: 0, argumentsDelta: '"Oslo"}' },
      { type: 'usage', usage: { inputTokens: 112, outputTokens: 30, cacheReadTokens: 100 } },
      { type: 'finish', finishReason: 'tool_calls', model: 'claude-sonnet-4-5-20250929', responseId: 'msg_9' },
    ]);
  });

  it('numbers tool calls 0, 1, … whatever their content-block index, and gives argument-less calls "{}"', () => {
    const events = run([
      start,
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_a', name: 'now', input: {} } },
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'toolu_b', name: 'f', input: {} } },
      { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{"x":1}' } },
      { type: 'content_block_stop', index: 2 },
      { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 9 } },
      { type: 'message_stop' },
    ]);
    expect(events.filter((e) => e.type === 'tool_call')).toEqual([
      { type: 'tool_call', index: 0, id: 'toolu_a', name: 'now', argumentsDelta: '' },
      { type: 'tool_call', index: 0, argumentsDelta: '{}' },
      { type: 'tool_call', index: 1, id: 'toolu_b', name: 'f', argumentsDelta: '' },
      { type: 'tool_call', index: 1, argumentsDelta: '{"x":1}' },
    ]);
  });

  it('throws content_filtered on a refusal stop_reason', () => {
    const mapper = new AnthropicStreamMapper(ctx);
    mapper.push(start);
    expect(() => mapper.push({ type: 'message_delta', delta: { stop_reason: 'refusal' }, usage: { output_tokens: 1 } })).toThrow(
      expect.objectContaining({ errorType: 'content_filtered' }),
    );
  });

  it('reports a stream that ends before message_stop as a cut connection', () => {
    expect(() => run([start, { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }])).toThrow(
      expect.objectContaining({ errorType: 'connection' }),
    );
  });

  it('reports events of the wrong shape as malformed_response', () => {
    expect(() => run([42])).toThrow(expect.objectContaining({ errorType: 'malformed_response' }));
    expect(() => run([{ type: 'message_start' }])).toThrow(expect.objectContaining({ errorType: 'malformed_response' }));
    expect(() => run([start, { type: 'content_block_delta', index: 5, delta: { type: 'input_json_delta', partial_json: '{' } }])).toThrow(
      expect.objectContaining({ errorType: 'malformed_response' }),
    );
  });
});

describe('a tool loop hopping between providers', () => {
  it('an Anthropic tool_use answer continues on OpenAI, and an OpenAI tool call continues on Anthropic', () => {
    // Turn 1 on Anthropic: the model asks for a tool.
    const fromClaude = fromAnthropicMessage(
      message([{ type: 'tool_use', id: 'toolu_01XYZ', name: 'get_weather', input: { city: 'Oslo' } }], { stop_reason: 'tool_use' }),
      ctx,
    );
    const history: ChatRequest = {
      messages: [
        { role: 'user', content: 'Weather in Oslo?' },
        { role: 'assistant', content: fromClaude.text, toolCalls: fromClaude.toolCalls },
        { role: 'tool', toolCallId: 'toolu_01XYZ', content: '-3°C' },
      ],
      tools: [weatherTool],
    };
    // Turn 2 falls over to OpenAI.
    const openaiParams = toOpenAIParams(history, { provider: 'openai', model: 'gpt-4o', maxTokensParam: 'max_tokens' });
    expect(openaiParams.messages.slice(1)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'toolu_01XYZ', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }],
      },
      { role: 'tool', tool_call_id: 'toolu_01XYZ', content: '-3°C' },
    ]);
    // OpenAI answers with another tool call…
    const fromGpt = fromOpenAICompletion(
      {
        id: 'chatcmpl-2',
        model: 'gpt-4o',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_Q1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Bergen"}' } }] },
            finish_reason: 'tool_calls',
          },
        ],
      },
      { provider: 'openai', model: 'gpt-4o' },
    );
    const next: ChatRequest = {
      ...history,
      messages: [
        ...history.messages,
        { role: 'assistant', content: null, toolCalls: fromGpt.toolCalls },
        { role: 'tool', toolCallId: 'call_Q1', content: '1°C' },
      ],
    };
    // …and turn 3 goes back to Anthropic: both id styles pair up.
    const anthropicParams = toAnthropicParams(next, ctx);
    expect(anthropicParams.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Oslo?' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_01XYZ', name: 'get_weather', input: { city: 'Oslo' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01XYZ', content: '-3°C' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'call_Q1', name: 'get_weather', input: { city: 'Bergen' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_Q1', content: '1°C' }] },
    ]);
  });

  it('converts the Anthropic-started fixture for Anthropic unchanged in meaning', () => {
    const params = toAnthropicParams(anthropicToolLoop, ctx);
    expect(params.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Oslo?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', input: { city: 'Oslo' } },
        ],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01A09q90qw90lq917835lq9', content: '-3°C, snow' }] },
    ]);
  });
});
