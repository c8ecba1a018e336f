/**
 * Errors raised in this process, before any byte left for the provider, are not the provider's:
 * through the official clients against the fault server, they fail the request at once — the
 * caller's `bad_request` or Bulwark's own `internal` — with no upstream call, no retry, no
 * fallback, no degradation, and nothing charged to a breaker or a retry budget.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BulwarkError } from '../../src/errors/bulwarkError.js';
import type { EngineObserver } from '../../src/events/engineObserver.js';
import type { ResilientLLM } from '../../src/createResilientLLM.js';
import type { ChatRequest } from '../../src/request/types.js';
import { startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { ask, threeTargetChain } from './setup.js';

let server: FaultServer;
beforeAll(async () => {
  server = await startFaultServer({ seed: 11 });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const upstreamCalls = () => server.hits({ route: 'primary' }) + server.hits({ route: 'backup' }) + server.hits({ route: 'local' });

/** What a failure could have charged: breaker counts and states, retry budgets, last errors. */
function charges(llm: ResilientLLM) {
  return llm.health().targets.map((t) => ({
    state: t.state,
    consecutiveFailures: t.consecutiveFailures,
    windowCalls: t.windowCalls,
    retryBudgetRemaining: t.retryBudgetRemaining,
    lastError: t.lastError,
  }));
}

async function failure(p: Promise<unknown>): Promise<BulwarkError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BulwarkError);
  return error as BulwarkError;
}

function cyclicTool() {
  const parameters: Record<string, unknown> = { type: 'object', properties: {} };
  (parameters.properties as Record<string, unknown>).again = parameters;
  return { name: 'lookup', parameters };
}

describe('a tool schema that cannot be serialized (the outage of issue 11)', () => {
  it('fails in validation naming the field, and never opens a healthy breaker', async () => {
    // Default retry / breaker settings: before the fix, two such requests opened both healthy targets.
    const { llm } = threeTargetChain(server, { degrade: { staticReply: 'static' } });
    const before = charges(llm);
    for (const request of [
      { ...ask, tools: [cyclicTool()] },
      { ...ask, tools: [{ name: 'lookup', parameters: { type: 'object', properties: { n: { type: 'integer', maximum: 10n } } } }] },
    ] as ChatRequest[]) {
      for (const run of [() => llm.chat(request), async () => { for await (const _ of llm.stream(request)) void _; }]) {
        const error = await failure(run());
        expect(error.errorType).toBe('bad_request');
        expect(error.message).toMatch(/^Invalid request: tools\[0\]\.parameters\.properties\.(again|n\.maximum) /);
        expect(error.attempts).toEqual([]);
      }
    }
    expect(upstreamCalls()).toBe(0);
    expect(charges(llm)).toEqual(before);
    const ok = await llm.chat(ask);
    expect(ok).toMatchObject({ tier: 'full', target: { index: 0 }, fallbackUsed: false });
    expect(ok.attempts).toHaveLength(1);
  });
});

describe('an error raised locally inside an attempt (after validation passed)', () => {
  /**
   * Makes the request unusable after validation, as an attempt starts: the state a bug in
   * Bulwark, or a caller mutating its request mid-flight, would leave. `break` picks how.
   */
  function breakingObserver(breakIt: (request: ChatRequest) => void): EngineObserver {
    return { onRequestStart: () => ({ onAttemptStart: (info) => void breakIt(info.request.request) }) };
  }

  const cases: Array<[string, (request: ChatRequest) => void, 'bad_request' | 'internal', RegExp]> = [
    [
      'a request that stopped serializing (a cycle): the caller\'s bad_request',
      (r) => {
        const parameters = r.tools![0]!.parameters as Record<string, unknown>;
        parameters.again = parameters;
      },
      'bad_request',
      /^Invalid request: .*cannot be serialized as JSON/,
    ],
    [
      'a conversion that throws (Bulwark\'s own bug): internal',
      (r) => {
        (r.messages as unknown[])[0] = null;
      },
      'internal',
      /^Internal error/,
    ],
  ];

  it.each(cases)('%s: no upstream call, no retry, no fallback, no degradation, no breaker or budget charged', async (_, breakIt, errorType, message) => {
    const { llm } = threeTargetChain(server, {
      observers: [breakingObserver(breakIt)],
      degrade: { staticReply: 'static' },
      breaker: { consecutiveFailures: 2 },
      // A classify hook cannot turn a local failure into a retryable provider failure.
      classify: () => ({ disposition: 'retry', countsForBreaker: true }),
    });
    const before = charges(llm);
    for (let i = 0; i < 5; i++) {
      for (const stream of [false, true]) {
        const request: ChatRequest = { ...ask, messages: [...ask.messages], tools: [{ name: 'lookup', parameters: { type: 'object' } }] };
        const run = stream ? (async () => { for await (const _ of llm.stream(request)) void _; })() : llm.chat(request);
        const error = await failure(run);
        expect(error.errorType).toBe(errorType);
        expect(error.message).toMatch(message);
        // One local attempt on the primary: no retry, no hop to the backup, no static reply.
        expect(error.attempts).toEqual([expect.objectContaining({ targetIndex: 0, kind: 'initial', errorType })]);
      }
    }
    expect(upstreamCalls()).toBe(0);
    expect(charges(llm)).toEqual(before);
    expect(charges(llm).every((t) => t.state === 'closed' && t.consecutiveFailures === 0 && t.windowCalls === 0)).toBe(true);
  });
});
