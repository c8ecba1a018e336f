import { describe, expect, it } from 'vitest';
import { classifyError, defaultClassification } from '../../src/errors/classifyError.js';
import { ProviderError } from '../../src/errors/providerError.js';

const serverError = new ProviderError({ errorType: 'server_error', provider: 'openai', model: 'gpt-4o', message: 'upstream 503', status: 503 });

describe('classifyError', () => {
  it('applies a hook’s type, disposition and breaker decision', () => {
    expect(classifyError(serverError, () => ({ errorType: 'overloaded', disposition: 'next_target', countsForBreaker: false }))).toEqual({
      ...defaultClassification('overloaded'),
      disposition: 'next_target',
      countsForBreaker: false,
    });
  });

  it('keeps the default when the hook throws or has no opinion', () => {
    const base = defaultClassification('server_error');
    expect(classifyError(serverError, () => undefined)).toEqual(base);
    expect(
      classifyError(serverError, () => {
        throw new Error('hook bug');
      }),
    ).toEqual(base);
  });

  it('ignores the parts of a hook’s answer outside the taxonomy', () => {
    const base = defaultClassification('server_error');
    expect(classifyError(serverError, () => ({ errorType: 'teapot' as never }))).toEqual(base);
    expect(classifyError(serverError, () => ({ disposition: 'retyr' as never }))).toEqual(base);
    expect(classifyError(serverError, () => ({ countsForBreaker: 'no' as never }))).toEqual(base);
    expect(classifyError(serverError, () => 'fail' as never)).toEqual(base);
  });

  it('a local failure (nothing was sent) fails the request, uncharged, whatever the hook says', () => {
    for (const errorType of ['bad_request', 'internal'] as const) {
      const local = new ProviderError({ errorType, provider: 'openai', model: 'gpt-4o', message: 'x', local: true });
      const expected = { errorType, disposition: 'fail', countsForBreaker: false, opensBreaker: false };
      expect(classifyError(local, undefined)).toEqual(expected);
      expect(classifyError(local, () => ({ errorType: 'server_error', disposition: 'retry', countsForBreaker: true }))).toEqual(expected);
    }
    // The same type from the provider still goes through the hook.
    const remote = new ProviderError({ errorType: 'bad_request', provider: 'openai', model: 'gpt-4o', message: 'x', status: 400 });
    expect(classifyError(remote, () => ({ disposition: 'next_target' })).disposition).toBe('next_target');
  });
});
