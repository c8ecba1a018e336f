import { describe, expect, it } from 'vitest';
import { validateRequest } from '../../src/validation/validateRequest.js';
import type { ChatRequest } from '../../src/request/types.js';
import { problemOf } from '../support/requestProblem.js';

const user = { role: 'user' as const, content: 'Summarise today' };
const tools = [{ name: 'search', parameters: { type: 'object' } }];


describe('validateRequest', () => {
  it('accepts a full, valid request', () => {
    expect(() =>
      validateRequest({
        messages: [{ role: 'system', content: 'Be brief' }, user, { role: 'assistant', toolCalls: [{ id: 'c1', name: 'search', arguments: '{}' }] }, { role: 'tool', toolCallId: 'c1', content: '[]' }],
        tools: [{ ...tools[0]!, description: 'Searches' }],
        toolChoice: { name: 'search' },
        maxTokens: 100,
        temperature: 0,
        topP: 1,
        stop: ['\n'],
        signal: new AbortController().signal,
        partition: 'tenant',
        critical: true,
        maxCostUsd: 0.5,
        totalTimeoutMs: 60_000,
      }),
    ).not.toThrow();
  });

  it.each([
    ['a signal that is not an AbortSignal', { messages: [user], signal: {} }, /signal/],
    ['an unknown toolChoice', { messages: [user], tools, toolChoice: 'sometimes' }, /toolChoice/],
    ['a non-boolean critical', { messages: [user], critical: 'yes' }, /critical/],
    ['a total timeout longer than a timer can hold', { messages: [user], totalTimeoutMs: 3_000_000_000 }, /totalTimeoutMs/],
    ['an infinite total timeout', { messages: [user], totalTimeoutMs: Infinity }, /totalTimeoutMs/],
    ['a non-string tool description', { messages: [user], tools: [{ ...tools[0]!, description: 5 }] }, /tools\[0\]\.description/],
    ['a role that cannot be serialized', { messages: [{ role: 10n, content: 'x' }] }, /messages\[0\]\.role/],
  ])('rejects %s as bad_request naming the field', (_, request, field) => {
    const error = problemOf(request);
    expect(error.errorType).toBe('bad_request');
    expect(error.message).toMatch(field);
  });

  it('never quotes message content in its errors', () => {
    const secret = 'my secret prompt '.repeat(10);
    for (const request of [
      { messages: [{ role: secret, content: secret }] },
      { messages: [{ role: 'user', content: secret }, { role: 'tool', toolCallId: secret, content: secret }] },
      { messages: [{ role: 'user', content: secret }], tools: [{ name: secret, parameters: {} }] },
    ]) {
      expect(problemOf(request).message).not.toContain('secret prompt');
    }
  });

  describe('arrays are walked by index: a hole is never skipped', () => {
    const call = { id: 'c1', name: 'search', arguments: '{}' };
    it.each([
      ['a hole in messages', { messages: [, user] }, 'messages[0] is an empty slot'],
      ['null in messages', { messages: [null, user] }, 'messages[0] must be an object'],
      ['a hole in stop', { messages: [user], stop: [, 'x'] }, 'stop[0] is an empty slot'],
      ['a hole in tools', { messages: [user], tools: [, tools[0]] }, 'tools[0] is an empty slot'],
      ['a hole in toolCalls', { messages: [user, { role: 'assistant', toolCalls: [, call] }] }, 'messages[1].toolCalls[0] is an empty slot'],
      ['a hole in a tool schema', { messages: [user], tools: [{ name: 't', parameters: { type: 'object', required: [, 'a'] } }] }, 'tools[0].parameters.required[0] is an empty slot'],
    ])('%s', (_, request, message) => {
      const error = problemOf(request);
      expect(error.errorType).toBe('bad_request');
      expect(error.message).toContain(message);
    });
  });

  describe('a tool schema must serialize as JSON exactly as given', () => {
    const cyclic: Record<string, unknown> = { type: 'object', properties: {} };
    (cyclic.properties as Record<string, unknown>).self = cyclic;
    it.each([
      ['a cycle', cyclic, 'tools[0].parameters.properties.self', /cycle/],
      ['a BigInt', { type: 'object', properties: { n: { type: 'integer', maximum: 10n } } }, 'tools[0].parameters.properties.n.maximum', /bigint/],
      ['a function', { type: 'object', toJSON: () => ({}) }, 'tools[0].parameters.toJSON', /function/],
      ['NaN', { type: 'number', minimum: Number.NaN }, 'tools[0].parameters.minimum', /JSON number/],
      ['a Map', { type: 'object', properties: new Map() }, 'tools[0].parameters.properties', /Map/],
      ['undefined in an array', { type: 'object', required: [undefined] }, 'tools[0].parameters.required[0]', /undefined/],
    ])('rejects %s in validation, naming where it is', (_, parameters, path, why) => {
      const error = problemOf({ messages: [user], tools: [{ name: 't', parameters }] });
      expect(error.errorType).toBe('bad_request');
      expect(error.message).toContain(path);
      expect(error.message).toMatch(why);
    });

    it('accepts a shared (acyclic) sub-schema and undefined properties, as JSON.stringify does', () => {
      const shared = { type: 'string' };
      expect(() => validateRequest({ messages: [user], tools: [{ name: 't', parameters: { type: 'object', properties: { a: shared, b: shared }, description: undefined } }] })).not.toThrow();
    });
  });

  it('rejects a fake AbortSignal as bad_request naming signal (not an internal TypeError later)', () => {
    for (const signal of [Object.create(AbortSignal.prototype), { aborted: false, addEventListener() {}, removeEventListener() {} }]) {
      const error = problemOf({ messages: [user], signal });
      expect(error.errorType).toBe('bad_request');
      expect(error.message).toMatch(/^Invalid request: signal must be an AbortSignal/);
    }
    expect(() => validateRequest({ messages: [user], signal: AbortSignal.timeout(1_000) })).not.toThrow();
    expect(() => validateRequest({ messages: [user], signal: AbortSignal.abort() })).not.toThrow();
  });

  it('a getter that throws is the request\'s problem, named by its field', () => {
    const message = { role: 'user', get content(): string { throw new Error('boom'); } };
    const error = problemOf({ messages: [message] });
    expect(error.errorType).toBe('bad_request');
    expect(error.message).toContain('messages[0].content could not be read');
  });
});
