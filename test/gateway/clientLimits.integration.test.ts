/**
 * The gateway's own per-key limits through the official clients over loopback, on the fault
 * server and controlled time:
 * - spend: a request's estimate (prompt + max_tokens at the chain's dearest prices) is held before
 *   the call and replaced by its actual cost after, so concurrent requests cannot overshoot the
 *   daily limit (upstream answers are held at a gate until every request was admitted or refused);
 * - the gateway's 429s say what the client should do: over the rpm limit, retry after Retry-After
 *   (the clients do, after exactly that long); spend limit reached, do not retry.
 */
import Anthropic, { APIError as AnthropicError } from '@anthropic-ai/sdk';
import OpenAI, { APIError as OpenAIError } from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { openaiTarget } from '../../src/providers/index.js';
import { fault, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { gatedFetch, heldTimers } from './limitsHarness.js';
import { KEY_A, KEY_B, OPENAI_KEY, sha256, startTestGateway, type TestGateway } from './setup.js';

let server: FaultServer;
let gw: TestGateway | undefined;
beforeAll(async () => {
  server = await startFaultServer({ seed: 1418 });
});
afterAll(() => server.close());
beforeEach(() => server.reset());
afterEach(async () => {
  await gw?.gateway.close({ drainMs: 0 });
  gw = undefined;
  vi.restoreAllMocks();
});

const ask = { model: 'support-agent', messages: [{ role: 'user' as const, content: 'Hi' }], max_tokens: 10 };
/** $1 per 1,000 output tokens, input free: a request with max_tokens 10 is estimated at $0.01. */
const PRICING = { 'gpt-4o': { inputPerMTok: 0, outputPerMTok: 1_000 } };

describe('gateway spend limit: estimates held before the call, reconciled after', () => {
  it('N concurrent requests from one key: only as many as the limit holds by their estimates go upstream; the actual cost then frees the rest', async () => {
    const gate = gatedFetch();
    gw = await startTestGateway(
      server,
      { clients: [{ name: 'team-a', keyHash: sha256(KEY_A), limits: { spendUsdPerDay: 0.055 } }] },
      { targets: [openaiTarget({ client: new OpenAI({ apiKey: OPENAI_KEY, baseURL: server.baseURL('openai', 'primary'), fetch: gate.fetch }), model: 'gpt-4o' })], pricing: PRICING },
    );
    // Each answer costs 4 output tokens = $0.004, under its $0.01 estimate.
    server.script({ route: 'primary' }, { then: fault.ok({ text: 'ok', usage: { inputTokens: 5, outputTokens: 4 } }) });
    const openai = gw.openai(KEY_A);
    const burst = (n: number) => Array.from({ length: n }, () => openai.chat.completions.create(ask).then(() => 'ok', (e: unknown) => e));

    const first = burst(10);
    // Every request is admitted (held at the gate, before the upstream) or refused, before any answer.
    await vi.waitFor(() => expect(gate.waiting() + gw!.log.filter((e) => e.status === 429).length).toBe(10), { timeout: 10_000, interval: 2 });
    expect(gate.waiting()).toBe(5); // 5 × $0.01 fit the $0.055 limit, a 6th would not
    gate.openAll();
    const results = await Promise.all(first);
    expect(results.filter((r) => r === 'ok')).toHaveLength(5);
    const refused = results.filter((r) => r !== 'ok') as OpenAIError[];
    expect(refused).toHaveLength(5);
    for (const e of refused) {
      expect(e).toBeInstanceOf(OpenAI.RateLimitError);
      expect(e.code).toBe('insufficient_quota');
      expect(e.message).toMatch(/has reached its limit of \$0\.055 over the last 24 hours \(\$0 spent and \$0\.05 held by requests in flight\)/);
    }
    expect(server.hits()).toBe(5);
    await vi.waitFor(() => expect(gw!.log).toHaveLength(10), { timeout: 5_000, interval: 2 });
    const spent = gw.log.reduce((sum, e) => sum + (e.costUsd ?? 0), 0);
    expect(spent).toBeCloseTo(0.02, 10);

    gate.close();
    // Reconciled: $0.02 spent, nothing held: $0.035 left, room for 3 more estimates of $0.01.
    const second = burst(5);
    await vi.waitFor(() => expect(gate.waiting() + gw!.log.slice(10).filter((e) => e.status === 429).length).toBe(5), { timeout: 10_000, interval: 2 });
    expect(gate.waiting()).toBe(3);
    gate.openAll();
    expect((await Promise.all(second)).filter((r) => r === 'ok')).toHaveLength(3);
    expect(server.hits()).toBe(8);
    await vi.waitFor(() => expect(gw!.log).toHaveLength(15), { timeout: 5_000, interval: 2 });
    expect(gw.log.reduce((sum, e) => sum + (e.costUsd ?? 0), 0)).toBeCloseTo(0.032, 10);
  });

  it('a request that fails without reaching a target releases its estimate; a bad request is never charged', async () => {
    gw = await startTestGateway(server, { clients: [{ name: 'team-a', keyHash: sha256(KEY_A), limits: { spendUsdPerDay: 0.015 } }] }, { pricing: PRICING, degrade: { enabled: false } });
    const openai = gw.openai(KEY_A);
    // A request the front refuses (400) after admission: its estimate goes back at once.
    const bad = await openai.chat.completions.create({ ...ask, messages: [{ role: 'user', content: 'x' }], n: 3 } as never).catch((e: unknown) => e);
    expect((bad as OpenAIError).status).toBe(400);
    // An exhausted chain (every target 503, no cost): released too.
    server.script({}, { then: fault.serverError(503) });
    expect(((await openai.chat.completions.create(ask).catch((e: unknown) => e)) as OpenAIError).status).toBeGreaterThanOrEqual(500);
    expect(server.hits()).toBe(2);
    server.reset();
    server.script({ route: 'primary' }, { then: fault.ok({ text: 'ok', usage: { inputTokens: 5, outputTokens: 4 } }) });
    // $0.015 holds one $0.01 estimate at a time: answered, so nothing above was left held.
    await openai.chat.completions.create(ask);
    expect(server.hits({ route: 'primary' })).toBe(1);
  });
});

/** One request through the official `kind` client (its own retries on), and the HTTP statuses it saw, retries included. */
function officialClient(gateway: TestGateway, kind: 'openai' | 'anthropic', key: string, maxRetries: number) {
  const statuses: number[] = [];
  const fetchSeen: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    statuses.push(response.status);
    return response;
  };
  const send = (): Promise<{ response: Response }> =>
    kind === 'openai'
      ? gateway.openai(key, { maxRetries, fetch: fetchSeen }).chat.completions.create(ask).withResponse()
      : gateway.anthropic(key, { maxRetries, fetch: fetchSeen }).messages.create(ask).withResponse();
  return { send, statuses };
}

describe('the gateway’s 429s: retry after Retry-After for rpm, never for a spent budget', () => {
  it.each(['openai', 'anthropic'] as const)('rpm: the %s client retries after exactly the Retry-After the gateway sends, and is answered', async (kind) => {
    gw = await startTestGateway(server, { clients: [{ name: 'team-a', keyHash: sha256(KEY_A), limits: { rpm: 1 } }] });
    server.script({}, { then: fault.ok({ text: 'ok' }) });
    const { send, statuses } = officialClient(gw, kind, KEY_A, 1);
    await send();
    gw.clock.advance(45_000); // the minute's one slot frees 15 s from now
    const timers = heldTimers(15_000);
    const pending = send();
    await vi.waitFor(() => expect(timers.held()).toBe(1), { timeout: 5_000, interval: 2 });
    expect(statuses).toEqual([200, 429]);
    const refusal = gw.log[1]!;
    expect(refusal).toMatchObject({ status: 429, errorType: 'rate_limited' });
    // The client waits on its timer: nothing reaches the gateway until it fires.
    expect(gw.log).toHaveLength(2);
    gw.clock.advance(15_000);
    timers.fire();
    const { response } = await pending;
    expect(response.status).toBe(200);
    expect(statuses).toEqual([200, 429, 200]);
    expect(server.hits()).toBe(2);
  });

  it('rpm refusal headers: x-should-retry true, retry-after (s) and retry-after-ms to the free slot, in each front’s shape', async () => {
    gw = await startTestGateway(server, { clients: [{ name: 'team-a', keyHash: sha256(KEY_A), limits: { rpm: 1 } }] });
    server.script({}, { then: fault.ok({ text: 'ok' }) });
    await gw.openai(KEY_A).chat.completions.create(ask);
    gw.clock.advance(20_500);
    const o = (await gw.openai(KEY_A).chat.completions.create(ask).catch((e: unknown) => e)) as OpenAIError;
    expect(o).toBeInstanceOf(OpenAI.RateLimitError);
    expect([o.headers?.get('x-should-retry'), o.headers?.get('retry-after'), o.headers?.get('retry-after-ms')]).toEqual(['true', '40', '39500']);
    expect(o.error).toMatchObject({ type: 'rate_limit_exceeded', code: 'rate_limit_exceeded' });
    const a = (await gw.anthropic(KEY_A).messages.create(ask).catch((e: unknown) => e)) as AnthropicError;
    expect(a).toBeInstanceOf(Anthropic.RateLimitError);
    expect(a.headers?.get('x-should-retry')).toBe('true');
    expect(a.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
  });

  it.each(['openai', 'anthropic'] as const)('spend limit reached: the %s client (maxRetries 3) does not retry; x-should-retry false', async (kind) => {
    gw = await startTestGateway(server, { clients: [{ name: 'team-b', keyHash: sha256(KEY_B), limits: { spendUsdPerDay: 0.05 } }] }, { pricing: PRICING });
    // One answer of 60 output tokens costs $0.06: over the limit from then on.
    server.script({}, { then: fault.ok({ text: 'ok', usage: { inputTokens: 5, outputTokens: 60 } }) });
    const { send, statuses } = officialClient(gw, kind, KEY_B, 3);
    await send();
    await gw.entry(0);
    const refused = (await send().catch((e: unknown) => e)) as OpenAIError | AnthropicError;
    expect(refused.status).toBe(429);
    expect(refused.headers?.get('x-should-retry')).toBe('false');
    expect(statuses).toEqual([200, 429]); // no retry
    if (kind === 'openai') expect((refused as OpenAIError).error).toMatchObject({ type: 'insufficient_quota', code: 'insufficient_quota' });
    else expect((refused as AnthropicError).error).toMatchObject({ error: { type: 'rate_limit_error' } });
    expect(refused.message).toMatch(/team-b.*has reached its limit of \$0\.05 over the last 24 hours/);
    expect(server.hits()).toBe(1);
  });
});
