import { describe, expect, it } from 'vitest';
import { validateRequest } from '../../src/validation/validateRequest.js';
import type { ChatRequest } from '../../src/request/types.js';
import { problemOf } from '../support/requestProblem.js';

const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const PNG = Buffer.from(PNG_B64, 'base64');
const SECRET_TEXT = 'my secret prompt text that must never appear in an error';


const withParts = (...content: unknown[]) => ({ messages: [{ role: 'user', content }] });

describe('validateRequest: content parts', () => {
  it('accepts text, images (URL, URL object, data URL, bytes) and files; developer as a system message; a tool result with parts', () => {
    expect(() =>
      validateRequest({
        messages: [
          { role: 'developer', content: 'Be exact.' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'look' },
              { type: 'image', image: 'https://example.com/a.png' },
              { type: 'image', image: new URL('https://example.com/b.png'), mediaType: 'image/png' },
              { type: 'image', image: `data:image/png;base64,${PNG_B64}`, mediaType: 'image/png' },
              { type: 'image', image: new Uint8Array(PNG) },
              { type: 'file', data: new Uint8Array([37, 80, 68, 70]), mediaType: 'application/pdf', filename: 'a.pdf' },
            ],
          },
          { role: 'assistant', toolCalls: [{ id: 'c1', name: 'shot', arguments: '{}' }] },
          { role: 'tool', toolCallId: 'c1', content: [{ type: 'image', image: new Uint8Array(PNG) }] },
        ],
        tools: [{ name: 'shot', parameters: { type: 'object' } }],
        parallelToolCalls: false,
        providerOptions: { openai: { seed: 7, service_tier: 'flex' }, anthropic: { top_k: 5, betas: ['context-1m-2025-08-07'] } },
      }),
    ).not.toThrow();
  });

  it('accepts a 20 MB image as given', () => {
    const big = new Uint8Array(20 * 1024 * 1024);
    big.set(PNG.subarray(0, 8));
    expect(() => validateRequest(withParts({ type: 'image', image: big }) as ChatRequest)).not.toThrow();
  });

  it.each([
    ['a part of unknown type', withParts({ type: 'video', video: SECRET_TEXT }), /messages\[0\]\.content\[0\]\.type must be 'text', 'image' or 'file', got 'video'/],
    ["OpenAI's image_url part, pointed to Bulwark's", withParts({ type: 'image_url', image_url: { url: SECRET_TEXT } }), /content\[0\]\.type .*'image_url'.*Bulwark's is \{ type: 'image'/],
    ['an image that is neither URL, data URL nor bytes', withParts({ type: 'image', image: SECRET_TEXT }), /content\[0\]\.image must be an http\(s\) URL, a data URL or a Uint8Array/],
    ['an image given as a number', withParts({ type: 'image', image: 42 }), /content\[0\]\.image .* got 42/],
    ['a file:// URL', withParts({ type: 'image', image: new URL('file:///etc/passwd') }), /content\[0\]\.image .*neither an http\(s\) URL nor a data URL/],
    ['a data URL whose media type contradicts mediaType', withParts({ type: 'image', image: `data:image/png;base64,${PNG_B64}`, mediaType: 'image/jpeg' }), /content\[0\]\.mediaType contradicts the media type of its data URL/],
    ['a data URL that does not decode', withParts({ type: 'image', image: 'data:image/png;base64,@@@@' }), /content\[0\]\.image is a data URL that could not be decoded/],
    ['image bytes of unknown format without mediaType', withParts({ type: 'image', image: new Uint8Array([1, 2, 3]) }), /content\[0\]\.mediaType is required: the bytes are not PNG, JPEG, GIF or WebP/],
    ['an image mediaType that is no image type', withParts({ type: 'image', image: 'https://example.com/x', mediaType: 'application/pdf' }), /content\[0\]\.mediaType must be an image type/],
    ['a file without mediaType', withParts({ type: 'file', data: new Uint8Array([1]) }), /content\[0\]\.mediaType is required/],
    ['a file mediaType that is no media type', withParts({ type: 'file', data: new Uint8Array([1]), mediaType: SECRET_TEXT }), /content\[0\]\.mediaType must match a media type/],
    ['an unknown key on a part', withParts({ type: 'text', text: 'x', cache: true }), /content\[0\]\.cache is not an option/],
    // eslint-disable-next-line no-sparse-arrays
    ['a hole in the parts', { messages: [{ role: 'user', content: [, { type: 'text', text: 'x' }] }] }, /content\[0\] is an empty slot/],
    ['a user message with no parts', { messages: [{ role: 'user', content: [] }] }, /messages\[0\]\.content is an empty array of parts/],
    [
      'a tool result with no parts',
      { messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: null, toolCalls: [{ id: 'c1', name: 'f', arguments: '{}' }] }, { role: 'tool', toolCallId: 'c1', content: [] }] },
      /messages\[2\]\.content is an empty array of parts/,
    ],
    ['content that is neither string nor parts', { messages: [{ role: 'user', content: { text: SECRET_TEXT } }] }, /messages\[0\]\.content must be a string or an array of parts/],
    ['parts in a system message', { messages: [{ role: 'system', content: [{ type: 'text', text: 'x' }] }, { role: 'user', content: 'x' }] }, /messages\[0\]\.content must be a string/],
  ])('refuses %s, naming the field and quoting no content', (_name, request, pattern) => {
    const error = problemOf(request);
    expect(error.errorType).toBe('bad_request');
    expect(error.message).toMatch(pattern);
    expect(error.message).not.toContain(SECRET_TEXT);
    expect(error.message).not.toContain(PNG_B64);
  });
});

describe('validateRequest: unknown fields and provider habits', () => {
  const user = { role: 'user' as const, content: 'hi' };

  it.each([
    ['max_tokens', 'maxTokens'],
    ['max_completion_tokens', 'maxTokens'],
    ['tool_choice', 'toolChoice'],
    ['top_p', 'topP'],
    ['stop_sequences', 'stop'],
    ['parallel_tool_calls', 'parallelToolCalls'],
  ])('%s: did you mean %s?', (field, bulwark) => {
    expect(problemOf({ messages: [user], [field]: 1 }).message).toBe(`Invalid request: ${field} is not a Bulwark field: did you mean '${bulwark}'?`);
  });

  it('a typo of a Bulwark field gets the field it is close to', () => {
    expect(problemOf({ messages: [user], maxToken: 100 }).message).toMatch(/maxToken is not a request field: did you mean 'maxTokens'\?/);
  });

  it('a provider field Bulwark has no name for is pointed to providerOptions; model, stream and n say where they belong', () => {
    expect(problemOf({ messages: [user], logit_bias: {} }).message).toMatch(/logit_bias is not a request field; a provider's own field goes in providerOptions/);
    expect(problemOf({ messages: [user], model: 'gpt-4o' }).message).toMatch(/model is not a request field: the model is the target's/);
    expect(problemOf({ messages: [user], stream: true }).message).toMatch(/llm\.stream\(\)/);
    expect(problemOf({ messages: [user], n: 2 }).message).toMatch(/one answer per request/);
  });

  it("OpenAI's tool shape says which shape Bulwark expects", () => {
    const error = problemOf({ messages: [user], tools: [{ type: 'function', function: { name: 'search', parameters: {} } }] });
    expect(error.message).toMatch(/tools\[0\] is an OpenAI Chat Completions tool .* Bulwark expects \{ name, description\?, parameters \} .*OpenAI front/);
  });

  it("OpenAI's tool_calls and tool_call_id on messages say what Bulwark calls them", () => {
    const calls = problemOf({ messages: [user, { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] }] });
    expect(calls.message).toMatch(/messages\[1\]\.tool_calls is OpenAI's shape; Bulwark expects toolCalls: \[\{ id, name, arguments \}\]/);
    const id = problemOf({ messages: [user, { role: 'assistant', toolCalls: [{ id: 'c1', name: 'f', arguments: '{}' }] }, { role: 'tool', tool_call_id: 'c1', content: 'x' }] });
    expect(id.message).toMatch(/messages\[2\]\.tool_call_id is OpenAI's spelling; Bulwark expects toolCallId/);
  });

  it.each([
    ['a field Bulwark owns', { openai: { model: 'x' } }, /providerOptions\.openai\.model is a field Bulwark owns and cannot be overridden; use the target's `model`/],
    ['messages', { anthropic: { messages: [] } }, /providerOptions\.anthropic\.messages is a field Bulwark owns/],
    ['stream', { openai: { stream: true } }, /providerOptions\.openai\.stream is a field Bulwark owns .*llm\.stream\(\)/],
    ['tools', { openai: { tools: [] } }, /providerOptions\.openai\.tools is a field Bulwark owns/],
    ['max_tokens', { anthropic: { max_tokens: 5 } }, /providerOptions\.anthropic\.max_tokens is a field Bulwark owns .*maxTokens/],
    ['an entry that is not an object', { openai: 'seed=1' }, /providerOptions\.openai must be an object/],
    ['a value that is not JSON', { openai: { seed: Number.NaN } }, /providerOptions\.openai\.seed must be JSON/],
    ['betas that are not names', { anthropic: { betas: 'x' } }, /providerOptions\.anthropic\.betas must be an array/],
  ])('providerOptions: refuses %s, naming the key', (_name, providerOptions, pattern) => {
    expect(problemOf({ messages: [user], providerOptions }).message).toMatch(pattern);
  });

  it('parallelToolCalls must be a boolean', () => {
    expect(problemOf({ messages: [user], parallelToolCalls: 'yes' }).message).toMatch(/parallelToolCalls must be a boolean/);
  });
});

describe('validateRequest: message fields', () => {
  it.each([
    ["OpenAI's participant name on a user message", { messages: [{ role: 'user', content: 'hi', name: 'bob' }] }, /messages\[0\]\.name is not an option \(known: role, content, cacheControl\)/],
    ['a misspelt toolCalls', { messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'x', toolcalls: [] }] }, /messages\[1\]\.toolcalls is not an option \(did you mean 'toolCalls'\?/],
    ['toolCallId on a user message', { messages: [{ role: 'user', content: 'hi', toolCallId: 'c1' }] }, /messages\[0\]\.toolCallId is not an option/],
  ])('refuses %s, naming the key', (_name, request, pattern) => {
    expect(problemOf(request).message).toMatch(pattern);
  });
});
