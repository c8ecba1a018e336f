import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/errors/providerError.js';
import {
  OpenAIStreamMapper,
  fromOpenAICompletion,
  mapOpenAIFinishReason,
  toOpenAIParams,
} from '../../src/providers/openaiConvert.js';
import type { StreamEvent } from '../../src/request/types.js';
import { StreamAccumulator } from '../../src/chain/streamAccumulator.js';
import { anthropicToolLoop, openaiToolLoop } from './fixtures.js';

const ctx = { provider: 'openai', model: 'gpt-4o', maxTokensParam: 'max_tokens' as const };

function completion(message: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    model: 'gpt-4o-2024-08-06',
    choices: [{ index: 0, message: { role: 'assistant', refusal: null, ...message }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120, prompt_tokens_details: { cached_tokens: 64 } },
    ...extra,
  };
}

function thrown(fn: () => unknown): ProviderError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    return err as ProviderError;
  }
  throw new Error('expected a throw');
}

describe('toOpenAIParams', () => {
  it('converts a tool loop conversation', () => {
    expect(toOpenAIParams(openaiToolLoop, ctx)).toEqual({
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'You are a weather bot.' },
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_abc123', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_def456', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome","unit":"c"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_abc123', content: '18°C, sunny' },
        { role: 'tool', tool_call_id: 'call_def456', content: '22°C, cloudy' },
        { role: 'assistant', content: 'Paris: 18°C and sunny. Rome: 22°C and cloudy.' },
        { role: 'user', content: 'And London?' },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Current weather for a city',
            parameters: openaiToolLoop.tools?.[0]?.parameters,
          },
        },
      ],
      tool_choice: 'auto',
      max_tokens: 300,
      temperature: 0.2,
      top_p: 0.9,
      stop: ['END'],
    });
  });

  it('accepts a conversation that started on Anthropic (toolu_ ids kept as they are)', () => {
    const params = toOpenAIParams(anthropicToolLoop, ctx);
    expect(params.messages[1]).toEqual({
      role: 'assistant',
      content: 'Checking.',
      tool_calls: [
        { id: 'toolu_01A09q90qw90lq917835lq9', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
      ],
    });
    expect(params.messages[2]).toEqual({ role: 'tool', tool_call_id: 'toolu_01A09q90qw90lq917835lq9', content: '-3°C, snow' });
  });

  it('maps tool choices', () => {
    const base = { messages: [{ role: 'user' as const, content: 'x' }], tools: openaiToolLoop.tools ?? [] };
    expect(toOpenAIParams({ ...base, toolChoice: 'none' }, ctx).tool_choice).toBe('none');
    expect(toOpenAIParams({ ...base, toolChoice: 'required' }, ctx).tool_choice).toBe('required');
    expect(toOpenAIParams({ ...base, toolChoice: { name: 'get_weather' } }, ctx).tool_choice).toEqual({
      type: 'function',
      function: { name: 'get_weather' },
    });
  });

  it('leaves tool_choice out without tools (OpenAI rejects it alone)', () => {
    const params = toOpenAIParams({ messages: [{ role: 'user', content: 'x' }], toolChoice: 'required' }, ctx);
    expect(params).not.toHaveProperty('tool_choice');
    expect(params).not.toHaveProperty('tools');
  });

  it('sends only what the request sets', () => {
    expect(toOpenAIParams({ messages: [{ role: 'user', content: 'hi' }] }, ctx)).toEqual({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
    });
  });

  it('puts maxTokens in the configured field', () => {
    const req = { messages: [{ role: 'user' as const, content: 'hi' }], maxTokens: 50 };
    expect(toOpenAIParams(req, { ...ctx, maxTokensParam: 'max_completion_tokens' })).toMatchObject({ max_completion_tokens: 50 });
    expect(toOpenAIParams(req, { ...ctx, maxTokensParam: 'max_completion_tokens' })).not.toHaveProperty('max_tokens');
  });

  it('sends "{}" for a tool call recorded with empty arguments', () => {
    const params = toOpenAIParams(
      { messages: [{ role: 'assistant', toolCalls: [{ id: 'call_1', name: 'now', arguments: '' }] }] },
      ctx,
    );
    expect(params.messages[0]).toMatchObject({ tool_calls: [{ function: { arguments: '{}' } }] });
  });

  it('rejects an unknown role as bad_request', () => {
    const err = thrown(() => toOpenAIParams({ messages: [{ role: 'moderator', content: 'x' } as never] }, ctx));
    expect(err.errorType).toBe('bad_request');
    expect(err.message).toContain('messages[0]');
  });
});

describe('fromOpenAICompletion', () => {
  it('converts text, usage (with cached input), model and id', () => {
    expect(fromOpenAICompletion(completion({ content: 'Hello' }), ctx)).toEqual({
      text: 'Hello',
      toolCalls: [],
      finishReason: 'stop',
      usage: { inputTokens: 100, outputTokens: 20, cacheReadTokens: 64 },
      model: 'gpt-4o-2024-08-06',
      responseId: 'chatcmpl-1',
    });
  });

  it('converts tool calls with their arguments as JSON text', () => {
    const body = completion({
      content: null,
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
    });
    body.choices[0]!.finish_reason = 'tool_calls';
    expect(fromOpenAICompletion(body, ctx)).toMatchObject({
      text: '',
      toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }],
      finishReason: 'tool_calls',
    });
  });

  it("says tool_calls when a compatible server returns tool calls with finish_reason 'stop'", () => {
    const body = completion({ content: '', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] });
    expect(fromOpenAICompletion(body, ctx).finishReason).toBe('tool_calls');
  });

  it.each([
    ['stop', 'stop'],
    ['length', 'length'],
    ['tool_calls', 'tool_calls'],
    ['function_call', 'tool_calls'],
    ['something_new', 'other'],
    [null, 'other'],
  ])('maps finish_reason %j to %j', (reason, expected) => {
    expect(mapOpenAIFinishReason(reason)).toBe(expected);
  });

  it('reads cache writes and reasoning tokens from the usage details (parts of the totals)', () => {
    const body = completion(
      { content: 'x' },
      {
        usage: {
          prompt_tokens: 500,
          completion_tokens: 300,
          prompt_tokens_details: { cached_tokens: 100, cache_write_tokens: 350 },
          completion_tokens_details: { reasoning_tokens: 256 },
        },
      },
    );
    expect(fromOpenAICompletion(body, ctx).usage).toEqual({ inputTokens: 500, outputTokens: 300, cacheReadTokens: 100, cacheWriteTokens: 350, reasoningTokens: 256 });
  });

  it('omits cacheReadTokens when nothing was cached, and usage when absent', () => {
    const body = completion({ content: 'x' }, { usage: { prompt_tokens: 5, completion_tokens: 1 } });
    expect(fromOpenAICompletion(body, ctx).usage).toEqual({ inputTokens: 5, outputTokens: 1 });
    const noUsage = completion({ content: 'x' }, { usage: undefined });
    expect(fromOpenAICompletion(noUsage, ctx)).not.toHaveProperty('usage');
  });

  it.each([
    ['negative', -5],
    ['fractional', 2.5],
    ['beyond a safe integer (1e400 parses as Infinity)', JSON.parse('1e400') as number],
  ])('drops a %s token count instead of pricing it (no negative or NaN cost)', (_, bad) => {
    const body = completion({ content: 'x' }, { usage: { prompt_tokens: bad, completion_tokens: 1 } });
    expect(fromOpenAICompletion(body, ctx)).not.toHaveProperty('usage');
    const cached = completion({ content: 'x' }, { usage: { prompt_tokens: 5, completion_tokens: 1, prompt_tokens_details: { cached_tokens: bad } } });
    expect(fromOpenAICompletion(cached, ctx).usage).toEqual({ inputTokens: 5, outputTokens: 1 });
  });

  it("throws content_filtered on finish_reason 'content_filter' (a 200 that is a refusal)", () => {
    const body = completion({ content: null });
    body.choices[0]!.finish_reason = 'content_filter';
    const err = thrown(() => fromOpenAICompletion(body, ctx));
    expect(err.errorType).toBe('content_filtered');
    expect(err.provider).toBe('openai');
  });

  it('throws content_filtered on a refusal message with no content', () => {
    const err = thrown(() => fromOpenAICompletion(completion({ content: null, refusal: "I can't help with that." }), ctx));
    expect(err.errorType).toBe('content_filtered');
    expect(err.message).toContain("I can't help with that.");
  });

  it.each([
    ['an empty body', undefined],
    ['a string body (non-JSON content type)', '<html>Bad gateway</html>'],
    ['no choices', { id: 'x', choices: [] }],
    ['missing choices', { id: 'x' }],
    ['a choice without message', { choices: [{ index: 0, finish_reason: 'stop' }] }],
    ['content of the wrong type', { choices: [{ message: { content: 42 }, finish_reason: 'stop' }] }],
    ['tool_calls not an array', { choices: [{ message: { content: null, tool_calls: {} }, finish_reason: 'stop' }] }],
    ['a tool call without name', { choices: [{ message: { content: null, tool_calls: [{ id: 'c', function: {} }] } }] }],
    ['an array', [1, 2]],
  ])('throws malformed_response on %s', (_name, body) => {
    expect(thrown(() => fromOpenAICompletion(body, ctx)).errorType).toBe('malformed_response');
  });
});

describe('OpenAIStreamMapper', () => {
  const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}) => ({
    id: 'chatcmpl-9',
    object: 'chat.completion.chunk',
    model: 'gpt-4o-2024-08-06',
    choices: [{ index: 0, delta, finish_reason: finish }],
    ...extra,
  });
  const run = (chunks: unknown[]) => {
    const mapper = new OpenAIStreamMapper(ctx);
    const events: StreamEvent[] = [];
    for (const c of chunks) events.push(...mapper.push(c));
    events.push(...mapper.end());
    return events;
  };

  it('maps text deltas, usage and finish (finish last)', () => {
    expect(
      run([
        chunk({ role: 'assistant', content: '' }),
        chunk({ content: 'Hel' }),
        chunk({ content: 'lo' }),
        chunk({}, 'stop'),
        { id: 'chatcmpl-9', model: 'gpt-4o-2024-08-06', choices: [], usage: { prompt_tokens: 9, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 0 } } },
      ]),
    ).toEqual([
      { type: 'text', delta: 'Hel' },
      { type: 'text', delta: 'lo' },
      { type: 'usage', usage: { inputTokens: 9, outputTokens: 2 } },
      { type: 'finish', finishReason: 'stop', model: 'gpt-4o-2024-08-06', responseId: 'chatcmpl-9' },
    ]);
  });

  it('maps tool call deltas (index, id, name, argument pieces)', () => {
    expect(
      run([
        chunk({ role: 'assistant', content: null }),
        chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
        chunk({ tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'now', arguments: '{}' } }] }),
        chunk({}, 'tool_calls'),
      ]),
    ).toEqual([
      { type: 'tool_call', index: 0, id: 'call_1', name: 'get_weather', argumentsDelta: '' },
      { type: 'tool_call', index: 0, argumentsDelta: '{"city":' },
      { type: 'tool_call', index: 0, argumentsDelta: '"Paris"}' },
      { type: 'tool_call', index: 1, id: 'call_2', name: 'now', argumentsDelta: '{}' },
      { type: 'finish', finishReason: 'tool_calls', model: 'gpt-4o-2024-08-06', responseId: 'chatcmpl-9' },
    ]);
  });

  it('throws content_filtered as soon as finish_reason is content_filter', () => {
    const mapper = new OpenAIStreamMapper(ctx);
    expect(mapper.push(chunk({ content: 'partial' }))).toEqual([{ type: 'text', delta: 'partial' }]);
    expect(() => mapper.push(chunk({}, 'content_filter'))).toThrow(expect.objectContaining({ errorType: 'content_filtered' }));
  });

  it('treats a refusal-only stream as content_filtered', () => {
    expect(() => run([chunk({ refusal: 'No.' }), chunk({}, 'stop')])).toThrow(expect.objectContaining({ errorType: 'content_filtered' }));
  });

  it('reports a stream that ends without finish_reason as a cut connection', () => {
    expect(() => run([chunk({ content: 'Hel' })])).toThrow(expect.objectContaining({ errorType: 'connection' }));
  });

  it('reports chunks of the wrong shape as malformed_response', () => {
    expect(() => run(['nonsense'])).toThrow(expect.objectContaining({ errorType: 'malformed_response' }));
    expect(() => run([{ choices: 'x' }])).toThrow(expect.objectContaining({ errorType: 'malformed_response' }));
    expect(() => run([chunk({ tool_calls: ['call'] })])).toThrow(expect.objectContaining({ errorType: 'malformed_response' }));
    expect(() => run([chunk({ tool_calls: [{ index: '0', id: 'call_1', function: { name: 'f', arguments: '{}' } }] })])).toThrow(
      expect.objectContaining({ errorType: 'malformed_response' }),
    );
    expect(() => run([chunk({ tool_calls: [{ index: -1, id: 'call_1', function: { name: 'f', arguments: '{}' } }] })])).toThrow(
      expect.objectContaining({ errorType: 'malformed_response' }),
    );
  });

  // Gemini's OpenAI-compatible endpoint, older Ollama, vLLM parsers and some proxies omit `index`.
  describe('tool call deltas without index (OpenAI-compatible servers)', () => {
    const finish = chunk({}, 'tool_calls');
    const calls = (events: StreamEvent[]) => {
      const acc = new StreamAccumulator();
      for (const e of events) acc.add(e);
      return acc.toolCalls;
    };

    it('whole calls in separate chunks, each with its id: one call each', () => {
      const events = run([
        chunk({ tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] }),
        chunk({ tool_calls: [{ id: 'call_b', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } }] }),
        finish,
      ]);
      expect(calls(events)).toEqual([
        { id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { id: 'call_b', name: 'get_weather', arguments: '{"city":"Rome"}' },
      ]);
    });

    it('several whole calls in one chunk, with or without ids: one call each, in order', () => {
      expect(
        calls(
          run([
            chunk({ tool_calls: [{ id: 'call_a', function: { name: 'a', arguments: '{}' } }, { id: 'call_b', function: { name: 'b', arguments: '{"x":1}' } }] }),
            finish,
          ]),
        ),
      ).toEqual([
        { id: 'call_a', name: 'a', arguments: '{}' },
        { id: 'call_b', name: 'b', arguments: '{"x":1}' },
      ]);
      expect(calls(run([chunk({ tool_calls: [{ function: { name: 'a', arguments: '{}' } }, { function: { name: 'b', arguments: '{}' } }] }), finish])).map((c) => c.name)).toEqual(['a', 'b']);
    });

    it('argument pieces without id or name continue the call they follow; a repeated id is the same call', () => {
      expect(
        calls(
          run([
            chunk({ tool_calls: [{ id: 'call_a', function: { name: 'get_weather', arguments: '' } }] }),
            chunk({ tool_calls: [{ function: { arguments: '{"city":' } }] }),
            chunk({ tool_calls: [{ id: 'call_a', function: { arguments: '"Oslo"}' } }] }),
            chunk({ tool_calls: [{ id: 'call_b', function: { name: 'now', arguments: '' } }] }),
            chunk({ tool_calls: [{ function: { arguments: '{}' } }] }),
            finish,
          ]),
        ),
      ).toEqual([
        { id: 'call_a', name: 'get_weather', arguments: '{"city":"Oslo"}' },
        { id: 'call_b', name: 'now', arguments: '{}' },
      ]);
    });
  });
});
