import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { ErrorType } from '../../src/errors/errorTypes.js';
import { ProviderError } from '../../src/errors/providerError.js';
import { normalizeThrown, redact, sdkErrorClassesOf } from '../../src/providers/errorMapping.js';

const openaiClient = new OpenAI({ apiKey: 'sk-test-SECRET-123', baseURL: 'http://127.0.0.1:9/v1' });
const anthropicClient = new Anthropic({ apiKey: 'sk-ant-test-SECRET-456', baseURL: 'http://127.0.0.1:9' });
const NOW = Date.parse('2026-11-20T12:00:00Z');

const live = new AbortController().signal;
function normalize(provider: 'openai' | 'anthropic', err: unknown, signal: AbortSignal = live): ProviderError {
  const client = provider === 'openai' ? openaiClient : anthropicClient;
  return normalizeThrown(err, signal, sdkErrorClassesOf(client), {
    provider,
    model: provider === 'openai' ? 'gpt-4o' : 'claude-sonnet-4-5',
    secrets: () => ['sk-test-SECRET-123', 'sk-ant-test-SECRET-456'],
    now: () => NOW,
  });
}

const openaiBody = (message: string, type: string | null, code: string | null = null) => ({ error: { message, type, param: null, code } });
const anthropicBody = (type: string, message: string) => ({ type: 'error', error: { type, message } });

function openaiError(status: number, body: object | undefined, headers: Record<string, string> = {}) {
  return OpenAI.APIError.generate(status, body, undefined, new Headers({ 'x-request-id': 'req_abc', ...headers }));
}
function anthropicError(status: number, body: object | undefined, headers: Record<string, string> = {}) {
  return Anthropic.APIError.generate(status, body, undefined, new Headers({ 'request-id': 'req_011CS', ...headers }));
}

describe('OpenAI error normalization (real SDK error classes)', () => {
  const rows: Array<[string, number, object | undefined, ErrorType]> = [
    ['429 rate limit', 429, openaiBody('Rate limit reached for gpt-4o on requests per min (RPM)', 'requests', 'rate_limit_exceeded'), 'rate_limited'],
    ['429 tokens rate limit', 429, openaiBody('Rate limit reached on tokens per min (TPM)', 'tokens', 'rate_limit_exceeded'), 'rate_limited'],
    [
      '429 insufficient_quota (retrying never helps)',
      429,
      openaiBody('You exceeded your current quota, please check your plan and billing details.', 'insufficient_quota', 'insufficient_quota'),
      'permission',
    ],
    ['503 overloaded body', 503, openaiBody('The engine is currently overloaded, please try again later.', 'server_error'), 'overloaded'],
    ['529', 529, undefined, 'overloaded'],
    ['500', 500, openaiBody('The server had an error while processing your request.', 'server_error'), 'server_error'],
    ['502', 502, openaiBody('Bad gateway.', 'server_error'), 'server_error'],
    ['503 plain', 503, openaiBody('Service Unavailable.', 'server_error'), 'server_error'],
    ['504', 504, undefined, 'server_error'],
    [
      '400 context_length_exceeded',
      400,
      openaiBody("This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.", 'invalid_request_error', 'context_length_exceeded'),
      'context_length_exceeded',
    ],
    [
      '400 context length by message only (vLLM)',
      400,
      openaiBody("This model's maximum context length is 4096 tokens. However, you requested 5000 tokens.", 'BadRequestError'),
      'context_length_exceeded',
    ],
    ['413', 413, openaiBody('Request too large', 'invalid_request_error'), 'context_length_exceeded'],
    [
      '400 content_policy_violation',
      400,
      openaiBody('Your request was rejected as a result of our safety system.', 'invalid_request_error', 'content_policy_violation'),
      'content_filtered',
    ],
    [
      '400 Azure content_filter',
      400,
      openaiBody("The response was filtered due to the prompt triggering Azure OpenAI's content management policy.", null, 'content_filter'),
      'content_filtered',
    ],
    [
      '400 flagged prompt',
      400,
      openaiBody('Invalid prompt: your prompt was flagged as potentially violating our usage policy.', 'invalid_request_error', 'invalid_prompt'),
      'content_filtered',
    ],
    ['401', 401, openaiBody('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key'), 'authentication'],
    ['401 that mentions the usage policies', 401, openaiBody('Invalid key. See our usage policies.', 'invalid_request_error'), 'authentication'],
    ['403 unsupported region', 403, openaiBody('Country, region, or territory not supported', 'request_forbidden', 'unsupported_country_region_territory'), 'permission'],
    ['403', 403, openaiBody('You are not allowed to sample from this model', 'invalid_request_error'), 'permission'],
    ['404 model', 404, openaiBody('The model `gpt-9` does not exist', 'invalid_request_error', 'model_not_found'), 'not_found'],
    ['400 other', 400, openaiBody("Invalid value for 'temperature'", 'invalid_request_error'), 'bad_request'],
    [
      '400 max_tokens too large (the request, not the context)',
      400,
      openaiBody('max_tokens is too large: 100000. This model supports at most 16384 completion tokens.', 'invalid_request_error'),
      'bad_request',
    ],
    ['422', 422, openaiBody('Unprocessable Entity.', 'invalid_request_error'), 'bad_request'],
    ['408', 408, undefined, 'server_error'],
    ['409', 409, undefined, 'server_error'],
  ];

  it.each(rows.map(([name, status, body, expected]) => [name, expected, status, body] as const))('%s → %s', (_name, expected, status, body) => {
    const err = normalize('openai', openaiError(status, body));
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.errorType).toBe(expected);
    expect(err.status).toBe(status);
    expect(err.provider).toBe('openai');
    expect(err.model).toBe('gpt-4o');
    expect(err.requestId).toBe('req_abc');
  });

  it("carries the provider's message (without the SDK's status prefix) and code", () => {
    const err = normalize('openai', openaiError(429, openaiBody('Rate limit reached', 'requests', 'rate_limit_exceeded')));
    expect(err.message).toBe('Rate limit reached');
    expect(err.providerCode).toBe('rate_limit_exceeded');
  });

  it('keeps a sanitized summary as cause, never the SDK error (it holds headers)', () => {
    const err = normalize('openai', openaiError(500, openaiBody('boom', 'server_error'), { 'set-cookie': 'session=abc' }));
    expect(err.cause).toEqual({ name: 'InternalServerError', message: 'boom', status: 500 });
    expect(err.cause).not.toBeInstanceOf(OpenAI.APIError);
  });

  it('reads retry-after-ms, then retry-after, then the rate-limit reset headers', () => {
    expect(normalize('openai', openaiError(429, undefined, { 'retry-after-ms': '1500' })).retryAfterMs).toBe(1500);
    expect(normalize('openai', openaiError(429, undefined, { 'retry-after': '3' })).retryAfterMs).toBe(3000);
    expect(
      normalize(
        'openai',
        openaiError(429, undefined, {
          'x-ratelimit-reset-requests': '250ms',
          'x-ratelimit-reset-tokens': '6m0s',
          'x-ratelimit-remaining-requests': '0',
          'x-ratelimit-remaining-tokens': '3000',
        }),
      ).retryAfterMs,
    ).toBe(250);
  });

  it('ignores rate-limit window resets on errors that are not rate limits', () => {
    const err = normalize('openai', openaiError(500, undefined, { 'x-ratelimit-reset-tokens': '6m0s' }));
    expect(err.retryAfterMs).toBeUndefined();
    expect(normalize('openai', openaiError(503, undefined, { 'retry-after': '2' })).retryAfterMs).toBe(2000);
  });

  it('maps an error event inside a stream (no status) by its type', () => {
    const streamErr = new OpenAI.APIError(undefined, { message: 'The server had an error', type: 'server_error' }, undefined, new Headers());
    expect(normalize('openai', streamErr).errorType).toBe('server_error');
    const rateErr = new OpenAI.APIError(undefined, { message: 'slow down', type: 'requests', code: 'rate_limit_exceeded' }, undefined, new Headers());
    expect(normalize('openai', rateErr).errorType).toBe('rate_limited');
  });

  it('APIConnectionError → connection, with the system code', () => {
    const cause = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }) });
    const err = normalize('openai', new OpenAI.APIConnectionError({ cause }));
    expect(err.errorType).toBe('connection');
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.cause).toEqual({ name: 'APIConnectionError', message: err.message, code: 'ECONNREFUSED' });
  });

  it('APIConnectionTimeoutError → timeout', () => {
    expect(normalize('openai', new OpenAI.APIConnectionTimeoutError()).errorType).toBe('timeout');
  });

  it("APIUserAbortError → cancelled (the engine decides whose abort it was)", () => {
    expect(normalize('openai', new OpenAI.APIUserAbortError()).errorType).toBe('cancelled');
  });

  it('anything thrown while the signal is aborted → cancelled', () => {
    const controller = new AbortController();
    controller.abort(new Error('attempt timeout'));
    expect(normalize('openai', new TypeError('terminated'), controller.signal).errorType).toBe('cancelled');
    expect(normalize('openai', new DOMException('This operation was aborted', 'AbortError'), live).errorType).toBe('cancelled');
  });

  it('SyntaxError (a 200 with a broken JSON body) → malformed_response', () => {
    let syntax: unknown;
    try {
      JSON.parse('{"id":"chatcmpl-1","choi');
    } catch (e) {
      syntax = e;
    }
    expect(normalize('openai', syntax).errorType).toBe('malformed_response');
  });

  it('a body cut short (undici "terminated") → connection', () => {
    const cut = Object.assign(new TypeError('terminated'), { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) });
    const err = normalize('openai', cut);
    expect(err.errorType).toBe('connection');
    expect(err.cause).toMatchObject({ code: 'UND_ERR_SOCKET' });
  });

  it('passes a ProviderError through untouched', () => {
    const original = new ProviderError({ errorType: 'content_filtered', provider: 'openai', model: 'gpt-4o', message: 'refused' });
    expect(normalize('openai', original)).toBe(original);
  });
});

describe('Anthropic error normalization (real SDK error classes)', () => {
  const rows: Array<[string, number, object | undefined, ErrorType]> = [
    ['429 rate_limit_error', 429, anthropicBody('rate_limit_error', 'This request would exceed the rate limit'), 'rate_limited'],
    ['529 overloaded_error', 529, anthropicBody('overloaded_error', 'Overloaded'), 'overloaded'],
    ['503 overloaded body', 503, anthropicBody('overloaded_error', 'Overloaded'), 'overloaded'],
    ['503 plain', 503, anthropicBody('api_error', 'Service unavailable'), 'server_error'],
    ['500 api_error', 500, anthropicBody('api_error', 'Internal server error'), 'server_error'],
    ['502', 502, undefined, 'server_error'],
    ['504 timeout_error', 504, anthropicBody('timeout_error', 'Request timed out'), 'server_error'],
    ['400 prompt is too long', 400, anthropicBody('invalid_request_error', 'prompt is too long: 210000 tokens > 200000 maximum'), 'context_length_exceeded'],
    [
      '400 input + max_tokens exceed the context limit',
      400,
      anthropicBody(
        'invalid_request_error',
        'input length and `max_tokens` exceed context limit: 188240 + 21333 > 200000, decrease input length or `max_tokens` and try again',
      ),
      'context_length_exceeded',
    ],
    ['413 request_too_large', 413, anthropicBody('request_too_large', 'Request exceeds the maximum allowed number of bytes.'), 'context_length_exceeded'],
    ['400 output blocked by policy', 400, anthropicBody('invalid_request_error', 'Output blocked by content filtering policy'), 'content_filtered'],
    [
      '400 credit balance (account, not request)',
      400,
      anthropicBody('invalid_request_error', 'Your credit balance is too low to access the Anthropic API.'),
      'permission',
    ],
    ['402 billing_error', 402, anthropicBody('billing_error', 'Billing issue'), 'permission'],
    ['401 authentication_error', 401, anthropicBody('authentication_error', 'invalid x-api-key'), 'authentication'],
    ['403 permission_error', 403, anthropicBody('permission_error', 'Your API key does not have permission'), 'permission'],
    ['404 not_found_error', 404, anthropicBody('not_found_error', 'model: claude-9'), 'not_found'],
    ['400 sampling param rejected', 400, anthropicBody('invalid_request_error', 'temperature: Extra inputs are not permitted'), 'bad_request'],
    ['422', 422, anthropicBody('invalid_request_error', 'Unprocessable'), 'bad_request'],
  ];

  it.each(rows.map(([name, status, body, expected]) => [name, expected, status, body] as const))('%s → %s', (_name, expected, status, body) => {
    const err = normalize('anthropic', anthropicError(status, body));
    expect(err.errorType).toBe(expected);
    expect(err.status).toBe(status);
    expect(err.provider).toBe('anthropic');
    expect(err.requestId).toBe('req_011CS');
  });

  it("carries the provider's message and error type-derived fields", () => {
    const err = normalize('anthropic', anthropicError(529, anthropicBody('overloaded_error', 'Overloaded')));
    expect(err.message).toBe('Overloaded');
    expect(err.cause).toEqual({ name: 'OverloadedError', message: 'Overloaded', status: 529 });
  });

  it('reads retry-after and anthropic-ratelimit-*-reset on 429', () => {
    expect(normalize('anthropic', anthropicError(429, undefined, { 'retry-after': '7' })).retryAfterMs).toBe(7000);
    expect(
      normalize('anthropic', anthropicError(429, undefined, { 'anthropic-ratelimit-tokens-reset': '2026-11-20T12:00:04Z' })).retryAfterMs,
    ).toBe(4000);
  });

  it('maps a mid-stream `event: error` (no status) by its error type', () => {
    const make = (type: string) =>
      new Anthropic.APIError(undefined, anthropicBody(type, 'mid-stream'), undefined, new Headers({ 'request-id': 'req_s' }), type as never);
    expect(normalize('anthropic', make('overloaded_error')).errorType).toBe('overloaded');
    expect(normalize('anthropic', make('api_error')).errorType).toBe('server_error');
    expect(normalize('anthropic', make('rate_limit_error')).errorType).toBe('rate_limited');
    expect(normalize('anthropic', make('invalid_request_error')).errorType).toBe('bad_request');
    expect(normalize('anthropic', make('something_new')).errorType).toBe('server_error');
    expect(normalize('anthropic', make('overloaded_error')).requestId).toBe('req_s');
  });

  it('connection, timeout and abort classes', () => {
    expect(normalize('anthropic', new Anthropic.APIConnectionError({})).errorType).toBe('connection');
    expect(normalize('anthropic', new Anthropic.APIConnectionTimeoutError()).errorType).toBe('timeout');
    expect(normalize('anthropic', new Anthropic.APIUserAbortError()).errorType).toBe('cancelled');
  });
});

describe('redact', () => {
  it("removes the client's own keys and anything shaped like a key or bearer token", () => {
    expect(redact('key sk-test-SECRET-123 leaked', ['sk-test-SECRET-123'])).toBe('key [REDACTED] leaked');
    expect(redact('Authorization: Bearer abcdefghijklmnop', [])).toBe('Authorization: [REDACTED]');
    expect(redact('use sk-proj-abcdefghijklmnopqrstuvwxyz', [])).toBe('use sk-[REDACTED]');
    expect(redact('{"x-api-key":"whatever-secret"}', [])).toBe('{"x-api-key":"[REDACTED]"}');
    expect(redact('Incorrect API key provided: sk-test-***********123.', [])).toBe('Incorrect API key provided: sk-test-***********123.');
  });
});
