/**
 * Adversarial upstreams, through the official clients: every malformed answer a provider (or a proxy in
 * front of it) can send — truncated JSON, SSE garbage, huge bodies, slowloris headers, absurd Retry-After
 * values, answers that never end — ends in the fallback's answer or a typed BulwarkError, inside the total
 * deadline, with no unhandled rejection.
 *
 * Bulwark's timers run on the injected fake clock: a test moves time past a timeout only once the server
 * holds the request, so nothing depends on how fast this machine is. The server's own pacing (a slowloris
 * byte, an endless chunk every few ms) is real time and small; the huge bodies are real bytes on loopback.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { BulwarkError } from '../../src/errors/bulwarkError.js';
import type { ChatResult, StreamEvent } from '../../src/request/types.js';
import { fault, startFaultServer, type Fault, type FaultServer } from '../../src/testing/index.js';
import type { FakeClock } from '../support/fakeClock.js';
import { ask, threeTargetChain } from '../integration/setup.js';

let server: FaultServer;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);

beforeAll(async () => {
  server = await startFaultServer({ seed: 11 });
  process.on('unhandledRejection', onUnhandled);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await server.close();
});
beforeEach(() => server.reset());
afterEach(() => {
  expect(unhandled).toEqual([]);
});

const TIMEOUTS = { attemptMs: 30_000, firstChunkMs: 5_000, idleChunkMs: 5_000, totalMs: 60_000 };
type Route = 'primary' | 'backup';
/** The faulty target first, a healthy one of the other provider behind it. */
const ORDER: Record<Route, Array<'primary' | 'backup' | 'local'>> = { primary: ['primary', 'backup', 'local'], backup: ['backup', 'primary', 'local'] };

/** What moves Bulwark's clock once the server holds the request: nothing, or past one of its timeouts. */
type Advance = 'none' | 'attempt' | 'firstChunk';

interface Ended {
  result?: ChatResult;
  error?: unknown;
  events: StreamEvent[];
  elapsedMs: number;
}

async function whenServerHolds(route: Route): Promise<void> {
  await vi.waitFor(() => expect(server.hits({ route })).toBeGreaterThan(0), { timeout: 5_000, interval: 5 });
}

async function run(route: Route, stream: boolean, advance: Advance): Promise<Ended> {
  const { llm, clock } = threeTargetChain(server, { order: ORDER[route], timeouts: TIMEOUTS });
  const started = clock.now();
  const moveTime = async () => {
    if (advance === 'none') return;
    await whenServerHolds(route);
    clock.advance(advance === 'attempt' ? TIMEOUTS.attemptMs : TIMEOUTS.firstChunkMs);
  };
  const events: StreamEvent[] = [];
  let result: ChatResult | undefined;
  let error: unknown;
  if (stream) {
    const s = llm.stream(ask);
    const consume = (async () => {
      for await (const event of s) events.push(event);
    })();
    await moveTime();
    await consume.catch((e: unknown) => (error = e));
    result = await s.result.catch(() => undefined);
  } else {
    const answer = llm.chat(ask);
    await moveTime();
    result = await answer.catch((e: unknown) => {
      error = e;
      return undefined;
    });
  }
  await llm.close();
  return { ...(result && { result }), ...(error !== undefined && { error }), events, elapsedMs: elapsed(clock, started) };
}

const elapsed = (clock: FakeClock, started: number) => clock.now() - started;

function expectFallbackAnswer(ended: Ended, route: Route): void {
  expect(ended.error).toBeUndefined();
  expect(ended.result).toMatchObject({ target: { index: 1 }, fallbackUsed: true, finishReason: 'stop' });
  expect(ended.result!.text).toContain(route === 'primary' ? 'backup' : 'primary');
  expect(ended.result!.attempts[0]).toMatchObject({ targetIndex: 0 });
  // Charged to the provider that sent it: never the caller's bad_request nor Bulwark's internal error.
  expect(PROVIDER_FAILURES).toContain(ended.result!.attempts[0]!.errorType);
  expect(ended.elapsedMs).toBeLessThanOrEqual(TIMEOUTS.totalMs);
}

const MB = 1024 * 1024;
const PROVIDER_FAILURES = ['malformed_response', 'connection', 'timeout', 'server_error'];

describe.each(['primary', 'backup'] as const)('adversarial answers from %s (the fallback answers)', (route) => {
  const cases: Array<[string, Fault, Advance]> = [
    ['truncated JSON', fault.malformedJson(), 'none'],
    ['SSE garbage', fault.sseGarbage(), 'none'],
    ['a 4 MB body of garbage', fault.hugeBody(4 * MB), 'none'],
    ['slowloris headers that never end', fault.slowHeaders(5), 'attempt'],
    ['an answer that never ends', fault.endless(5), 'attempt'],
  ];

  it.each(cases)('chat: %s', async (_, f, advance) => {
    server.script({ route }, { then: f });
    expectFallbackAnswer(await run(route, false, advance), route);
  });

  it.each(cases.filter(([name]) => name !== 'an answer that never ends'))('stream: %s', async (_, f, advance) => {
    server.script({ route }, { then: f });
    // A stream that sends nothing usable is caught by the first-chunk timeout, not the attempt timeout.
    const ended = await run(route, true, advance === 'attempt' ? 'firstChunk' : advance);
    expectFallbackAnswer(ended, route);
    expect(ended.events.filter((e) => e.type === 'reset')).toEqual([]);
  });

  it('stream: an answer that never ends is cut at the total deadline with a typed error', async () => {
    server.script({ route }, { then: fault.endless(5) });
    const { llm, clock } = threeTargetChain(server, { order: ORDER[route], timeouts: TIMEOUTS });
    const started = clock.now();
    const events: StreamEvent[] = [];
    const error = await (async () => {
      for await (const event of llm.stream(ask)) {
        events.push(event);
        // Chunks keep coming (no idle timeout can fire): only the deadline ends it.
        if (events.length === 3) clock.advance(TIMEOUTS.totalMs);
      }
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BulwarkError);
    expect(error).toMatchObject({ errorType: 'timeout' });
    expect(events.length).toBeGreaterThanOrEqual(3);
    expect(clock.now() - started).toBeLessThanOrEqual(TIMEOUTS.totalMs);
    await llm.close();
  });
});

describe('absurd Retry-After values: never waited, never crash', () => {
  const absurd: Array<[string, Fault]> = [
    ['retry-after-ms of 1e21', fault.rateLimit({ retryAfterMs: 1, headers: { 'retry-after-ms': '1e21' } })],
    ['retry-after of 10^20 seconds', fault.rateLimit({ retryAfterSeconds: 1, headers: { 'retry-after': '100000000000000000000' } })],
    ['retry-after in the year 9999', fault.rateLimit({ retryAfterSeconds: 1, headers: { 'retry-after': 'Fri, 31 Dec 9999 23:59:59 GMT' } })],
    ['a negative retry-after', fault.rateLimit({ retryAfterSeconds: 1, headers: { 'retry-after': '-30' } })],
    ['retry-after: NaN', fault.rateLimit({ retryAfterSeconds: 1, headers: { 'retry-after': 'NaN' } })],
    ['retry-after: Infinity', fault.rateLimit({ retryAfterMs: 1, headers: { 'retry-after-ms': 'Infinity' } })],
    ['a reset header of 10^6 hours', fault.rateLimit({ resetRequestsMs: 1, headers: { 'x-ratelimit-reset-requests': '1000000h' } })],
  ];

  it.each(absurd)('%s: the primary after a short backoff, or the fallback at once', async (_, f) => {
    server.script({ route: 'primary' }, { sequence: [f] });
    const { llm, clock } = threeTargetChain(server, { timeouts: TIMEOUTS });
    const started = clock.now();
    const result = await llm.chat(ask);
    expect(result.finishReason).toBe('stop');
    expect(result.attempts[0]).toMatchObject({ targetIndex: 0, errorType: 'rate_limited' });
    // Whatever the header said, no wait went past the cap, and the whole request stayed inside its deadline.
    for (const wait of clock.sleeps) expect(wait).toBeLessThanOrEqual(20_000);
    expect(clock.now() - started).toBeLessThanOrEqual(TIMEOUTS.totalMs);
    await llm.close();
  });
});

describe('a 20 MB body', () => {
  it('of garbage: read, refused as malformed, and the fallback answers', async () => {
    server.script({ route: 'primary' }, { then: fault.hugeBody(20 * MB) });
    const ended = await run('primary', false, 'none');
    expectFallbackAnswer(ended, 'primary');
    expect(ended.result!.attempts[0]).toMatchObject({ errorType: 'malformed_response' });
  }, 30_000);
});
