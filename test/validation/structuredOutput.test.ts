import { describe, expect, it } from 'vitest';
import { defaultClassification } from '../../src/errors/classifyError.js';
import { ProviderError } from '../../src/errors/providerError.js';
import { checkStructuredOutput, parseStructured } from '../../src/validation/structuredOutput.js';
import type { ChatRequest, ProviderResponse } from '../../src/request/types.js';

const schema = { type: 'object', properties: { n: { type: 'integer', minimum: 0 } }, required: ['n'] };
const request: ChatRequest = { messages: [{ role: 'user', content: 'count' }], responseFormat: { type: 'json', schema } };
const answer = (text: string, extra: Partial<ProviderResponse> = {}): ProviderResponse => ({
  text,
  toolCalls: [],
  finishReason: 'stop',
  model: 'm',
  usage: { inputTokens: 10, outputTokens: 3 },
  ...extra,
});

describe('parseStructured', () => {
  it('parses and validates', () => {
    expect(parseStructured(request.responseFormat!, '{"n":3}')).toEqual({ ok: true, value: { n: 3 } });
  });

  it.each([
    ['', 'empty'],
    ['{"n":', 'not valid JSON'],
    ['{"n":-1}', '/n minimum'],
    ['{"m":1}', '/ required'],
  ])('refuses %j (%s) without quoting the answer', (text, why) => {
    const parsed = parseStructured(request.responseFormat!, text);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.why).toContain(why);
  });
});

describe('checkStructuredOutput', () => {
  it('sets object on a valid answer; leaves requests without responseFormat and tool-call answers alone', () => {
    expect(checkStructuredOutput(request, answer('{"n":1}'), 'openai', 'gpt-4o').object).toEqual({ n: 1 });
    const plain = answer('not json');
    expect(checkStructuredOutput({ messages: request.messages }, plain, 'openai', 'gpt-4o')).toBe(plain);
    const calls = answer('', { toolCalls: [{ id: 'c', name: 't', arguments: '{}' }], finishReason: 'tool_calls' });
    expect(checkStructuredOutput(request, calls, 'openai', 'gpt-4o')).toBe(calls);
  });

  it('throws invalid_output carrying the usage (the tokens were spent), saying when the answer was cut', () => {
    let thrown: unknown;
    try {
      checkStructuredOutput(request, answer('{"n": 12', { finishReason: 'length' }), 'anthropic', 'claude');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ProviderError);
    expect(thrown).toMatchObject({ errorType: 'invalid_output', provider: 'anthropic', usage: { inputTokens: 10, outputTokens: 3 } });
    expect((thrown as Error).message).toContain('cut at maxTokens');
  });
});

describe('invalid_output disposition', () => {
  it('retries once by default, then the next target; never charged to the breaker', () => {
    expect(defaultClassification('invalid_output')).toEqual({ errorType: 'invalid_output', disposition: 'retry', countsForBreaker: false, opensBreaker: false, maxRetries: 1 });
  });
});
