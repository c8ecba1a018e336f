import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { fault, startFaultServer } from '../../src/testing/index.js';
import type { FaultServer, FaultServerOptions } from '../../src/testing/index.js';
import { sampleLatency } from '../../src/testing/latency.js';
import { createRandom } from '../../src/testing/random.js';
import { createFakeClock } from '../support/fakeClock.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
let server: FaultServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(options: FaultServerOptions): Promise<FaultServer> {
  server = await startFaultServer({ seed: 3, ...options });
  return server;
}

const openaiFor = (s: FaultServer, route: string) => new OpenAI({ apiKey: 'sk-test', baseURL: s.baseURL('openai', route), maxRetries: 0 });
const anthropicFor = (s: FaultServer, route: string) => new Anthropic({ apiKey: 'sk-ant-test', baseURL: s.baseURL('anthropic', route), maxRetries: 0 });
const ask = (client: OpenAI, content = 'Say hi') =>
  client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content }] }).withResponse();

describe('fault server: per-route rate limits', () => {
  it('counts OpenAI requests in a sliding window, sends x-ratelimit-* on every answer and a 429 past the limit', async () => {
    let now = T0;
    const s = await start({ now: () => now });
    const limit = s.limit({ route: 'primary' }, { rpm: 2 });
    const client = openaiFor(s, 'primary');

    const first = await ask(client);
    expect(first.response.headers.get('x-ratelimit-limit-requests')).toBe('2');
    expect(first.response.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    expect(first.response.headers.get('x-ratelimit-reset-requests')).toBe('1m0s');
    expect(first.response.headers.get('x-ratelimit-limit-tokens')).toBeNull();

    now += 20_000;
    const second = await ask(client);
    expect(second.response.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(second.response.headers.get('x-ratelimit-reset-requests')).toBe('1m0s');

    now += 10_000;
    const err = await ask(client).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const rateLimit = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rateLimit.code).toBe('rate_limit_exceeded');
    expect(rateLimit.message).toContain('requests per min (RPM): Limit 2, Used 2, Requested 1');
    // The oldest request leaves the window 30 s from now.
    expect(rateLimit.headers?.get('retry-after-ms')).toBe('30000');
    expect(rateLimit.headers?.get('retry-after')).toBe('30');
    expect(rateLimit.headers?.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(limit.refused).toBe(1);
    expect(limit.admitted).toBe(2);
    expect(s.requests.at(-1)?.faultSource).toBe('limit');

    // Other routes are not limited.
    await ask(openaiFor(s, 'backup'));

    now += 30_000; // the first request has left the window
    const third = await ask(client);
    expect(third.response.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(limit.remaining()).toEqual({ requests: 0 });
  });

  it('counts input and output tokens for tpm, so a request that would overflow gets the tokens 429', async () => {
    let now = T0;
    const s = await start({ now: () => now });
    s.limit({ route: 'primary' }, { tpm: 30 });
    s.script({ route: 'primary' }, { then: fault.ok({ usage: { outputTokens: 10 } }) });
    const client = openaiFor(s, 'primary');

    const first = await ask(client, 'x'.repeat(36)); // 10 input ('user' + 36 chars) + 10 output
    expect(first.data.usage?.total_tokens).toBe(20);
    // The headers are computed on admission (the input estimate); the output counts once it is decided.
    expect(first.response.headers.get('x-ratelimit-remaining-tokens')).toBe('20');
    expect(first.response.headers.get('x-ratelimit-reset-tokens')).toBe('1m0s');

    now += 1_500;
    const err = await ask(client, 'x'.repeat(44)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const rateLimit = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect((rateLimit.error as { type?: string }).type).toBe('tokens');
    expect(rateLimit.message).toContain('tokens per min (TPM): Limit 30, Used 20, Requested 12');
    expect(rateLimit.headers?.get('x-ratelimit-remaining-tokens')).toBe('10');
    expect(rateLimit.headers?.get('retry-after-ms')).toBe('58500');

    // A smaller one still fits.
    const fits = await ask(client, 'x'.repeat(4)); // 2 input tokens
    expect(fits.response.headers.get('x-ratelimit-remaining-tokens')).toBe('8');
  });

  it('sends anthropic-ratelimit-* families with RFC 3339 resets and refuses with rate_limit_error', async () => {
    let now = T0;
    const s = await start({ now: () => now });
    s.limit({ route: 'claude' }, { rpm: 1, tpm: 1_000, inputTpm: 800, outputTpm: 200 });
    const client = anthropicFor(s, 'claude');
    const call = () =>
      client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Say hi' }] }).withResponse();

    const ok = await call();
    const h = ok.response.headers;
    expect(h.get('anthropic-ratelimit-requests-limit')).toBe('1');
    expect(h.get('anthropic-ratelimit-requests-remaining')).toBe('0');
    expect(h.get('anthropic-ratelimit-requests-reset')).toBe('2026-01-01T12:01:00Z');
    expect(h.get('anthropic-ratelimit-tokens-limit')).toBe('1000');
    expect(h.get('anthropic-ratelimit-tokens-remaining')).toBe('997');
    expect(h.get('anthropic-ratelimit-input-tokens-remaining')).toBe('797');
    expect(h.get('anthropic-ratelimit-output-tokens-remaining')).toBe('200');
    expect(h.get('x-ratelimit-remaining-requests')).toBeNull();

    now += 45_000;
    const err = await call().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    const rateLimit = err as InstanceType<typeof Anthropic.RateLimitError>;
    expect((rateLimit.error as { error?: { type?: string } }).error?.type).toBe('rate_limit_error');
    expect(rateLimit.headers?.get('retry-after')).toBe('15');
    expect(rateLimit.headers?.get('retry-after-ms')).toBeNull();
    // Output tokens of the first answer were counted once decided.
    expect(rateLimit.headers?.get('anthropic-ratelimit-output-tokens-remaining')).toBe(String(200 - ok.data.usage.output_tokens));
  });

  it('rejects limits that are not finite and positive, naming the field', async () => {
    const s = await start({});
    expect(() => s.limit({}, { rpm: 0 })).toThrow(/limit\.rpm must be a finite number > 0/);
    expect(() => s.limit({}, { tpm: Number.NaN })).toThrow(/limit\.tpm/);
    expect(() => s.limit({}, { windowMs: -1 })).toThrow(/limit\.windowMs/);
  });

  it('reset() removes limits', async () => {
    const s = await start({});
    s.limit({}, { rpm: 1 });
    const client = openaiFor(s, 'primary');
    await ask(client);
    s.reset();
    const again = await ask(client);
    expect(again.response.headers.get('x-ratelimit-remaining-requests')).toBeNull();
  });
});

describe('fault server: scripted answer headers', () => {
  it('passes a reply’s headers (garbage included) to the client verbatim', async () => {
    const s = await start({});
    s.script({ route: 'primary' }, { then: fault.ok({ headers: { 'x-ratelimit-remaining-requests': 'banana', 'x-ratelimit-reset-requests': '-3s' } }) });
    const res = await ask(openaiFor(s, 'primary'));
    expect(res.response.headers.get('x-ratelimit-remaining-requests')).toBe('banana');
    expect(res.response.headers.get('x-ratelimit-reset-requests')).toBe('-3s');
  });
});

describe('fault server: latency distributions', () => {
  it('a mixture picks each part with its probability (seeded)', () => {
    const random = createRandom(11);
    const latency = { kind: 'mixture', parts: [{ probability: 0.9, latency: 20 }, { probability: 0.1, latency: 3_000 }] } as const;
    const draws = Array.from({ length: 10_000 }, () => sampleLatency(latency, random));
    const slow = draws.filter((d) => d === 3_000).length;
    expect(draws.every((d) => d === 20 || d === 3_000)).toBe(true);
    expect(slow).toBeGreaterThan(900);
    expect(slow).toBeLessThan(1_100);
  });

  it('rejects a mixture whose probabilities do not add up to 1', async () => {
    const s = await start({});
    expect(() => s.script({ latency: { kind: 'mixture', parts: [{ probability: 0.5, latency: 1 }] } })).toThrow(
      /script\.latency\.parts probabilities add up to 0\.5/,
    );
  });

  it('waits on the injected sleep, so a test controls when a slow answer arrives', async () => {
    const clock = createFakeClock(T0, { sleep: 'wait' });
    const s = await start({ now: clock.now, sleep: clock.sleep });
    s.script({ route: 'slow' }, { latency: { kind: 'mixture', parts: [{ probability: 1, latency: 3_000 }] } });
    const pending = ask(openaiFor(s, 'slow'));
    // Wait until the server holds the request in its (virtual) latency.
    while (clock.pendingTimers() === 0) await new Promise((r) => setImmediate(r));
    expect(clock.nextTimerAt()).toBe(T0 + 3_000);
    expect(s.requests[0]?.status).toBeUndefined();
    await clock.advanceAsync(2_999);
    expect(s.requests[0]?.status).toBeUndefined();
    await clock.advanceAsync(1);
    const res = await pending;
    expect(res.data.choices[0]?.message.content).toBe('Mock reply from slow (gpt-4o).');
    expect(s.requests[0]?.status).toBe(200);
  });
});
