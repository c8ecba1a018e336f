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

  // The walk builds a field's path only when it reports it: each of these pins the path it names.
  it.each([
    ['a top-level field', () => ({ messages: [user], get maxTokens(): number { throw new Error('boom'); } }), 'maxTokens could not be read'],
    ["a message's role", () => ({ messages: [user, { get role(): string { throw new Error('boom'); }, content: 'x' }] }), 'messages[1].role could not be read'],
    ["a message's cacheControl", () => ({ messages: [{ role: 'user', content: 'x', get cacheControl(): object { throw new Error('boom'); } }] }), 'messages[0].cacheControl could not be read'],
    ["a tool message's toolCallId", () => ({ messages: [user, { role: 'assistant', toolCalls: [{ id: 'c1', name: 'search', arguments: '{}' }] }, { role: 'tool', content: '[]', get toolCallId(): string { throw new Error('boom'); } }] }), 'messages[2].toolCallId could not be read'],
    ["a tool's name", () => ({ messages: [user], tools: [{ parameters: {}, get name(): string { throw new Error('boom'); } }] }), 'tools[0].name could not be read'],
  ])('a getter that throws on %s is named by its path', (_, request, message) => {
    expect(problemOf(request()).message).toContain(message);
  });

  it.each([
    ['a tool without parameters', { messages: [user], tools: [{ name: 't' }] }, 'tools[0].parameters is required'],
    ['a named toolChoice without a name', { messages: [user], tools, toolChoice: {} }, 'toolChoice.name is required'],
    ['a tool message before any tool call', { messages: [user, { role: 'tool', toolCallId: 'c1', content: '[]' }] }, 'messages[1].toolCallId answers no earlier assistant tool call'],
    ['a tool message answering an unknown call', { messages: [user, { role: 'assistant', toolCalls: [{ id: 'c1', name: 'search', arguments: '{}' }] }, { role: 'tool', toolCallId: 'c2', content: '[]' }] }, 'messages[2].toolCallId answers no earlier'],
    ['no user message', { messages: [{ role: 'system', content: 'Be brief' }] }, 'messages need at least one user message'],
    ['a bad cacheControl on a message', { messages: [{ role: 'user', content: 'x', cacheControl: { ttl: '2h' } }] }, 'messages[0].cacheControl.ttl must be one of'],
    ['an unknown key in a cacheControl', { messages: [{ role: 'user', content: 'x', cacheControl: { ttl: '5m', type: 'ephemeral' } }] }, 'messages[0].cacheControl.type is not an option'],
    ['an unknown field on a message', { messages: [{ role: 'user', content: 'x', name: 'bob' }] }, 'messages[0].name is not an option'],
    ['an unknown top-level field', { messages: [user], temprature: 1 }, "temprature is not a request field: did you mean 'temperature'?"],
  ])('names the field of %s', (_, request, message) => {
    const error = problemOf(request);
    expect(error.errorType).toBe('bad_request');
    expect(error.message).toContain(message);
  });

  it('counts cacheControl breakpoints on messages and on parts, not on string content', () => {
    const hinted = (n: number) => Array.from({ length: n }, () => ({ role: 'user' as const, content: 'x', cacheControl: { ttl: '5m' as const } }));
    expect(() => validateRequest({ messages: hinted(4) })).not.toThrow();
    expect(problemOf({ messages: hinted(5) }).message).toContain('cacheControl is set on 5 messages and parts');
    const part = { type: 'text' as const, text: 'x', cacheControl: { ttl: '5m' as const } };
    expect(problemOf({ messages: [...hinted(3), { role: 'user', content: [part, part] }] }).message).toContain('is set on 5 messages and parts');
  });
});
