import { describe, expect, it } from 'vitest';
import { createResilientLLM } from '../../src/createResilientLLM.js';
import { ConfigError } from '../../src/errors/bulwarkError.js';
import { pool } from '../../src/pool/pool.js';
import { scriptedAdapter, scriptedTarget } from '../support/scriptedAdapter.js';
import { errorOf } from '../support/configError.js';

const target = scriptedTarget(scriptedAdapter('openai', 'gpt-4o'));
const base = { name: 'chain', targets: [target], telemetry: false };


describe('config validation at construction', () => {
  it.each([
    [{ ...base, name: '' }, 'name'],
    [{ ...base, targets: [] }, 'targets'],
    [{ ...base, targets: [{}] }, 'targets[0]'],
    [{ ...base, targets: [{ ...target, tier: 'premium' }] }, 'targets[0].tier'],
    [{ ...base, targets: [{ ...target, contextWindow: -5 }] }, 'targets[0].contextWindow'],
    [{ ...base, retry: { maxAttempts: 0 } }, 'retry.maxAttempts'],
    [{ ...base, retry: { maxAttemps: 3 } }, 'retry.maxAttemps'],
    [{ ...base, retry: { baseDelayMs: 1000, maxDelayMs: 10 } }, 'retry.maxDelayMs'],
    [{ ...base, retry: { jitter: 'some' } }, 'retry.jitter'],
    [{ ...base, retry: { budget: { ratio: 2 } } }, 'retry.budget.ratio'],
    [{ ...base, timeouts: { attemptMs: '60s' } }, 'timeouts.attemptMs'],
    [{ ...base, breaker: { failureRate: 0 } }, 'breaker.failureRate'],
    [{ ...base, breaker: { halfOpenProbes: 1.5 } }, 'breaker.halfOpenProbes'],
    [{ ...base, cache: { mode: 'always' } }, 'cache.mode'],
    [{ ...base, cache: { store: {} } }, 'cache.store'],
    [{ ...base, degrade: { staticReply: 42 } }, 'degrade.staticReply'],
    [{ ...base, pricing: { 'gpt-4o': { inputPerMTok: -1, outputPerMTok: 1 } } }, "pricing['gpt-4o'].inputPerMTok"],
    [{ ...base, classify: 'yes' }, 'classify'],
    [{ ...base, maxHops: -1 }, 'maxHops'],
    [{ ...base, midStream: 'splice' }, 'midStream'],
    [{ ...base, captureContent: 'true' }, 'captureContent'],
    [{ ...base, colour: 'blue' }, 'options.colour'],
    [{ ...base, targets: [{ ...target, teir: 'reduced' }] }, 'targets[0].teir'],
    // Node fires a timer longer than 2^31 - 1 ms after 1 ms: such a timeout would cut every call at once.
    [{ ...base, timeouts: { totalMs: 3_000_000_000 } }, 'timeouts.totalMs'],
    [{ ...base, timeouts: { attemptMs: Infinity } }, 'timeouts.attemptMs'],
    [{ ...base, timeouts: { firstChunkMs: Infinity } }, 'timeouts.firstChunkMs'],
    [{ ...base, timeouts: { idleChunkMs: 2 ** 31 } }, 'timeouts.idleChunkMs'],
    [{ ...base, retry: { baseDelayMs: Infinity } }, 'retry.baseDelayMs'],
    [{ ...base, retry: { maxDelayMs: Infinity } }, 'retry.maxDelayMs'],
    [{ ...base, breaker: { windowMs: Infinity } }, 'breaker.windowMs'],
    [{ ...base, breaker: { openMs: Infinity } }, 'breaker.openMs'],
    [{ ...base, cache: { ttlMs: Infinity } }, 'cache.ttlMs'],
    [{ ...base, cache: { staleTtlMs: Infinity } }, 'cache.staleTtlMs'],
    [{ ...base, cache: { mode: 'off', ttlMs: -1 } }, 'cache.ttlMs'],
    [{ ...base, observers: [null] }, 'observers[0]'],
    [{ ...base, observers: [{ onRequestStart: 'yes' }] }, 'observers[0].onRequestStart'],
    // Holes are walked, never skipped.
    [{ ...base, targets: [, target] }, 'targets[0]'],
    [{ ...base, observers: [, {}] }, 'observers[0]'],
    // Present-but-null is a mistake, not "the default".
    [{ ...base, cache: { store: null } }, 'cache.store'],
    [{ ...base, clock: null }, 'clock'],
    [{ ...base, clock: { now: () => 0 } }, 'clock'],
    // One finite-number rule for every duration, price and limit.
    [{ ...base, retry: { maxRetryAfterMs: Infinity } }, 'retry.maxRetryAfterMs'],
    [{ ...base, retry: { budget: { windowMs: Infinity } } }, 'retry.budget.windowMs'],
    [{ ...base, retry: { budget: { minRetriesPerSecond: Infinity } } }, 'retry.budget.minRetriesPerSecond'],
    [{ ...base, breaker: { failureRate: Number.NaN } }, 'breaker.failureRate'],
    [{ ...base, cache: { maxEntryBytes: Infinity } }, 'cache.maxEntryBytes'],
    [{ ...base, maxHops: Infinity }, 'maxHops'],
    [{ ...base, pricing: { m: { inputPerMTok: 1, outputPerMTok: Infinity } } }, "pricing['m'].outputPerMTok"],
    [{ ...base, pricing: { m: { inputPerMTok: 1, outputPerMTok: 1, cacheWritePerMTok: Infinity } } }, "pricing['m'].cacheWritePerMTok"],
    [{ ...base, pricing: { m: { inputPerMTok: 1 } } }, "pricing['m'].outputPerMTok"],
    [{ ...base, targets: [{ ...target, pricing: { inputPerMTok: Infinity, outputPerMTok: 1 } }] }, 'targets[0].pricing.inputPerMTok'],
    [{ ...base, targets: [{ ...target, contextWindow: Infinity }] }, 'targets[0].contextWindow'],
    // Validated here once: the policies built from the config (breaker strategies, probe leases,
    // retry budget, backoff, sliding windows, the cache's store timeout) do not check it again.
    [{ ...base, breaker: { consecutiveFailures: 0 } }, 'breaker.consecutiveFailures'],
    [{ ...base, breaker: { failureRate: 1.5 } }, 'breaker.failureRate'],
    [{ ...base, breaker: { minCalls: 0 } }, 'breaker.minCalls'],
    [{ ...base, breaker: { windowMs: 0 } }, 'breaker.windowMs'],
    [{ ...base, breaker: { openMs: -1 } }, 'breaker.openMs'],
    [{ ...base, breaker: { halfOpenProbes: 0 } }, 'breaker.halfOpenProbes'],
    [{ ...base, breaker: { successThreshold: 0 } }, 'breaker.successThreshold'],
    [{ ...base, timeouts: { totalMs: 0 } }, 'timeouts.totalMs'],
    [{ ...base, retry: { budget: { ratio: -0.1 } } }, 'retry.budget.ratio'],
    [{ ...base, retry: { budget: { ratio: Number.NaN } } }, 'retry.budget.ratio'],
    [{ ...base, retry: { budget: { minRetriesPerSecond: -1 } } }, 'retry.budget.minRetriesPerSecond'],
    [{ ...base, retry: { budget: { windowMs: 0 } } }, 'retry.budget.windowMs'],
    [{ ...base, retry: { baseDelayMs: -1 } }, 'retry.baseDelayMs'],
    [{ ...base, retry: { jitter: 'decorrelated' } }, 'retry.jitter'],
    [{ ...base, cache: { store: { get: async () => undefined, set: async () => undefined, timeoutMs: 0 } } }, 'cache.store.timeoutMs'],
  ])('names the invalid field %#', (options, field) => {
    const error = errorOf(options);
    expect(error.field).toBe(field);
    expect(error.message).toContain(field);
  });

  it('asks for a breakerKey when two targets of the same model sit on different endpoints', () => {
    const at = (host: string) => ({ adapter: { ...scriptedAdapter('openai', 'llama3.1'), serverAddress: host, serverPort: 11434 }, tier: 'full' as const });
    const error = errorOf({ ...base, targets: [at('gpu-a'), at('gpu-b')] });
    expect(error.field).toBe('targets[1].breakerKey');
    expect(() => createResilientLLM({ ...base, targets: [at('gpu-a'), { ...at('gpu-b'), breakerKey: 'ollama/gpu-b' }] })).not.toThrow();
    expect(() => createResilientLLM({ ...base, targets: [at('gpu-a'), { ...at('gpu-a'), tier: 'reduced' }] })).not.toThrow();
  });

  it('accepts a complete configuration with every option', () => {
    expect(() =>
      createResilientLLM({
        ...base,
        retry: { maxAttempts: 3, baseDelayMs: 500, maxDelayMs: 8_000, jitter: 'full', maxRetryAfterMs: 20_000, budget: { ratio: 0.2, minRetriesPerSecond: 2, windowMs: 5_000 } },
        timeouts: { attemptMs: 60_000, totalMs: 120_000, firstChunkMs: 15_000, idleChunkMs: 30_000 },
        breaker: { consecutiveFailures: 5, failureRate: 0.5, windowMs: 30_000, minCalls: 10, openMs: 30_000, halfOpenProbes: 1, successThreshold: 2 },
        cache: { ttlMs: 1_000, staleTtlMs: 10_000, mode: 'read-through', maxEntryBytes: 1024 },
        degrade: { enabled: true, staticReply: 'x' },
        pricing: { 'gpt-4o': { inputPerMTok: 2.5, outputPerMTok: 10 } },
        maxHops: 0,
        midStream: 'restart',
        captureContent: false,
      }),
    ).not.toThrow();
  });

  it('hints at the option a typo meant', () => {
    expect(errorOf({ ...base, retry: { maxAttemps: 3 } }).message).toContain("did you mean 'maxAttempts'?");
    expect(errorOf({ ...base, timeOuts: {} }).message).toContain("did you mean 'timeouts'?");
  });

  it('rejects operator overrides it does not know', () => {
    const llm = createResilientLLM(base);
    expect(() => llm.forceTier('gold' as never)).toThrow(ConfigError);
    expect(() => llm.forceBreaker(0, 'half' as never)).toThrow(ConfigError);
  });
});

const twoTargets = [target, scriptedTarget(scriptedAdapter('anthropic', 'claude-sonnet-4-5'))];
const hedgeBase = { ...base, targets: twoTargets };

describe('hedge config', () => {
  it.each([
    [{ after: 0 }, 'hedge.after', 'must be > 0'],
    [{ after: -100 }, 'hedge.after', 'must be > 0'],
    [{ after: Number.NaN }, 'hedge.after', 'finite'],
    [{ after: Number.POSITIVE_INFINITY }, 'hedge.after', 'finite'],
    [{ after: 'p99' }, 'hedge.after', "'p50', 'p95'"],
    [{}, 'hedge.after', 'is required'],
    [{ after: '200' }, 'hedge.after', 'tracked latency percentile'],
    [{ after: 200, maxHedges: 0 }, 'hedge.maxHedges', '>= 1'],
    [{ after: 200, maxHedges: 1.5 }, 'hedge.maxHedges', 'integer'],
    [{ after: 200, budgetRatio: 0 }, 'hedge.budgetRatio', '> 0'],
    [{ after: 200, budgetRatio: 1.5 }, 'hedge.budgetRatio', 'at most 1'],
    [{ after: 200, budgetRatio: Number.NaN }, 'hedge.budgetRatio', 'finite'],
    [{ after: 200, budget: 0.1 }, 'hedge.budget', ''],
    ['fast', 'hedge', ''],
  ])('hedge %j → ConfigError naming %s', (hedge, field, problem) => {
    const err = errorOf({ ...hedgeBase, hedge });
    expect(err.field).toBe(field);
    expect(err.message).toContain(problem);
  });

  it('a single pool of two members or more hedges among them (no hop needed); a pool of one does not', () => {
    const members = [scriptedTarget(scriptedAdapter('openai', 'gpt-4o'), { breakerKey: 'east' }), scriptedTarget(scriptedAdapter('openai', 'gpt-4o'), { breakerKey: 'west' })];
    expect(() => createResilientLLM({ ...base, targets: [pool({ name: 'p', members })], hedge: { after: 200 } })).not.toThrow();
    expect(() => createResilientLLM({ ...base, targets: [pool({ name: 'p', members })], maxHops: 0, hedge: { after: 200 } })).not.toThrow();
    expect(errorOf({ ...base, targets: [pool({ name: 'p', members: [members[0]!] })], hedge: { after: 200 } }).field).toBe('hedge');
    // A pool's own hedge: the same rules, named under the pool.
    expect(errorOf({ ...base, targets: [pool({ name: 'p', members, hedge: { after: 'p99' } as never })] }).field).toBe('targets[0].hedge.after');
    expect(errorOf({ ...base, targets: [pool({ name: 'p', members, hedge: { after: 100, budgetRatio: 0 } })] }).field).toBe('targets[0].hedge.budgetRatio');
    expect(errorOf({ ...base, targets: [pool({ name: 'p', members: [members[0]!], hedge: { after: 100 } })] }).field).toBe('targets[0].hedge');
    expect(() => createResilientLLM({ ...base, targets: [pool({ name: 'p', members, hedge: { after: 'p95' } })] })).not.toThrow();
  });

  it('a chain of one target has nowhere to hedge; maxHops 0 forbids the hop a hedge is', () => {
    expect(errorOf({ ...hedgeBase, targets: [target], hedge: { after: 200 } }).field).toBe('hedge');
    expect(errorOf({ ...hedgeBase, maxHops: 0, hedge: { after: 200 } }).message).toContain('maxHops');
  });

  it('accepts a delay or a tracked percentile, with the defaults of one hedge and a 5 % budget', () => {
    expect(() => createResilientLLM({ ...hedgeBase, hedge: { after: 250 } })).not.toThrow();
    expect(() => createResilientLLM({ ...hedgeBase, hedge: { after: 'p95', maxHedges: 2, budgetRatio: 1 } })).not.toThrow();
    expect(() => createResilientLLM({ ...hedgeBase, hedge: { after: 'p50' } })).not.toThrow();
  });
});
