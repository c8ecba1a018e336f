import { describe, expect, it } from 'vitest';
import { BulwarkError } from '../../src/errors/bulwarkError.js';
import { validateRequest } from '../../src/request/validateRequest.js';
import type { ChatRequest } from '../../src/request/types.js';

const user = { role: 'user' as const, content: 'Summarise today' };
const tools = [{ name: 'search', parameters: { type: 'object' } }];

function problemOf(request: unknown): BulwarkError {
  try {
    validateRequest(request as ChatRequest);
  } catch (e) {
    if (e instanceof BulwarkError) return e;
    throw e;
  }
  throw new Error('expected the request to be rejected');
}

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
});
