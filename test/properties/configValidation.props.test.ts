/**
 * Config validation, property-based: every generated valid configuration builds a client; every
 * generated one-field corruption of one — a non-finite, negative or mistyped number, `null` for an
 * object, an unknown key, a hole in `targets` — is a ConfigError whose `field` names it. The target
 * factories hold their options to the same rules. Nothing is sent anywhere.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResilientLLMOptions } from '../../src/config/types.js';
import { createResilientLLM } from '../../src/createResilientLLM.js';
import { anthropicTarget, openaiTarget } from '../../src/providers/index.js';
import type { Target } from '../../src/providers/adapter.js';
import { memoryStore } from '../../src/state/memoryStore.js';
import { startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { MAX_TIMER_MS } from './arbitraries.js';
import { propertyParams } from './settings.js';
import { configError } from '../support/configError.js';

let server: FaultServer;
let targets: Target[];
beforeAll(async () => {
  server = await startFaultServer({ seed: 3 });
  targets = [
    openaiTarget({ client: new OpenAI({ apiKey: 'sk-props-0123456789', baseURL: server.baseURL('openai', 'a') }), model: 'gpt-4o' }),
    anthropicTarget({ client: new Anthropic({ apiKey: 'sk-ant-props-0123456789', baseURL: server.baseURL('anthropic', 'b') }), model: 'claude-haiku-4-5' }),
  ];
});
afterAll(async () => {
  expect(server.hits()).toBe(0);
  await server.close();
});

const word = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9]{0,9}$/);
const finite = (min: number, max: number) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
const above0 = (max: number) => finite(Number.MIN_VALUE, max);
const count = (max: number) => fc.integer({ min: 1, max });

/** A valid configuration, minus name and targets (added per run). */
const validOptions = fc
  .record(
    {
      retry: fc.record(
        {
          maxAttempts: count(10),
          baseDelayMs: finite(0, 10_000),
          extraDelayMs: finite(0, 10_000),
          jitter: fc.constantFrom('full', 'equal', 'none'),
          maxRetryAfterMs: finite(0, 1e9),
          budget: fc.oneof(fc.constant(false as const), fc.record({ ratio: finite(0, 1), minRetriesPerSecond: finite(0, 1_000), windowMs: above0(1e9) }, { requiredKeys: [] })),
        },
        { requiredKeys: [] },
      ),
      timeouts: fc.record({ attemptMs: count(MAX_TIMER_MS), totalMs: count(MAX_TIMER_MS), firstChunkMs: count(MAX_TIMER_MS), idleChunkMs: count(MAX_TIMER_MS) }, { requiredKeys: [] }),
      breaker: fc.record(
        {
          consecutiveFailures: count(1_000),
          failureRate: finite(Number.MIN_VALUE, 1),
          windowMs: above0(1e9),
          minCalls: count(1_000),
          openMs: above0(1e9),
          halfOpenProbes: count(100),
          successThreshold: count(100),
        },
        { requiredKeys: [] },
      ),
      cache: fc.oneof(
        fc.constant(false as const),
        fc.record({ ttlMs: above0(1e12), staleTtlMs: finite(0, 1e12), mode: fc.constantFrom('read-through', 'on-failure', 'off'), maxEntryBytes: count(1e9), store: fc.constant(true) }, { requiredKeys: [] }),
      ),
      degrade: fc.record({ enabled: fc.boolean(), staticReply: fc.string({ maxLength: 20 }) }, { requiredKeys: [] }),
      pricing: fc.dictionary(word, fc.record({ inputPerMTok: finite(0, 1_000), outputPerMTok: finite(0, 1_000), cacheReadPerMTok: finite(0, 1_000), cacheWritePerMTok: finite(0, 1_000) }, { requiredKeys: ['inputPerMTok', 'outputPerMTok'] }), { maxKeys: 3 }),
      maxHops: fc.integer({ min: 0, max: 5 }),
      midStream: fc.constantFrom('error', 'restart'),
      captureContent: fc.boolean(),
    },
    { requiredKeys: [] },
  )
  .map((o) => {
    const options: Record<string, unknown> = { ...o };
    if (o.retry) {
      const { extraDelayMs, ...retry } = o.retry;
      // maxDelayMs may not be below baseDelayMs (explicit or default).
      options.retry = { ...retry, ...(extraDelayMs !== undefined && { maxDelayMs: (retry.baseDelayMs ?? 500) + extraDelayMs }) };
    }
    if (o.cache) {
      const { store, ...cache } = o.cache;
      options.cache = { ...cache, ...(store && { store: memoryStore({ maxEntries: 10 }) }) };
    }
    return options;
  });

const build = (options: Record<string, unknown>) => createResilientLLM({ name: 'props', targets, telemetry: false, ...options } as ResilientLLMOptions);


// ---------------------------------------------------------------------------------------------
// Corruptions: each knows the field it breaks.

/** Every number of the config, by path: none may be NaN, infinite, negative or another type. */
const NUMBER_FIELDS = [
  'retry.maxAttempts', 'retry.baseDelayMs', 'retry.maxDelayMs', 'retry.maxRetryAfterMs',
  'retry.budget.ratio', 'retry.budget.minRetriesPerSecond', 'retry.budget.windowMs',
  'timeouts.attemptMs', 'timeouts.totalMs', 'timeouts.firstChunkMs', 'timeouts.idleChunkMs',
  'breaker.consecutiveFailures', 'breaker.failureRate', 'breaker.windowMs', 'breaker.minCalls', 'breaker.openMs', 'breaker.halfOpenProbes', 'breaker.successThreshold',
  'cache.ttlMs', 'cache.staleTtlMs', 'cache.maxEntryBytes',
  'maxHops',
  "pricing['m'].inputPerMTok", "pricing['m'].outputPerMTok", "pricing['m'].cacheReadPerMTok", "pricing['m'].cacheWritePerMTok",
];
const badNumber = fc.oneof(
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
  fc.double({ max: -Number.MIN_VALUE, noNaN: true }),
  fc.string({ maxLength: 6 }),
  fc.constant(null),
  fc.boolean(),
  fc.bigInt(),
  fc.object({ maxDepth: 1 }),
);

/** Sets `path` in `options`, creating (or replacing `false` with) the objects on the way. */
function setPath(options: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.replace(/\['([^']+)'\]/g, '.$1').split('.');
  let node = options;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object') node[key] = key === 'm' ? { inputPerMTok: 1, outputPerMTok: 1 } : {};
    else node[key] = { ...(next as Record<string, unknown>) };
    node = node[key] as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
}

const OBJECT_LEVELS: Record<string, string[]> = {
  options: ['name', 'targets', 'retry', 'timeouts', 'breaker', 'cache', 'degrade', 'pricing', 'classify', 'maxHops', 'midStream', 'captureContent', 'telemetry', 'observers', 'sharedState', 'clock'],
  retry: ['maxAttempts', 'baseDelayMs', 'maxDelayMs', 'jitter', 'maxRetryAfterMs', 'budget'],
  'retry.budget': ['ratio', 'minRetriesPerSecond', 'windowMs'],
  timeouts: ['attemptMs', 'totalMs', 'firstChunkMs', 'idleChunkMs'],
  breaker: ['consecutiveFailures', 'failureRate', 'windowMs', 'minCalls', 'openMs', 'halfOpenProbes', 'successThreshold'],
  cache: ['store', 'ttlMs', 'staleTtlMs', 'mode', 'maxEntryBytes'],
  degrade: ['enabled', 'staticReply'],
};

type Corruption = { apply: (o: Record<string, unknown>) => void; field: string };

const corruption: fc.Arbitrary<Corruption> = fc.oneof(
  fc.tuple(fc.constantFrom(...NUMBER_FIELDS), badNumber).map(([field, value]) => ({ field, apply: (o: Record<string, unknown>) => setPath(o, field, value) })),
  fc.tuple(fc.constantFrom(...Object.keys(OBJECT_LEVELS)), word).map(([level, key]) => {
    const unknown = OBJECT_LEVELS[level]!.includes(key) ? `${key}X` : key;
    return {
      field: `${level}.${unknown}`,
      apply: (o: Record<string, unknown>) => (level === 'options' ? void (o[unknown] = 1) : setPath(o, `${level}.${unknown}`, 1)),
    };
  }),
  fc.constantFrom('retry', 'timeouts', 'breaker', 'cache', 'degrade', 'pricing', 'cache.store', 'clock', 'observers').map((field) => ({
    field,
    apply: (o: Record<string, unknown>) => setPath(o, field, null),
  })),
  fc.nat({ max: 2 }).map((index) => ({
    field: `targets[${index}]`,
    apply: (o: Record<string, unknown>) => {
      const list: unknown[] = [...targets];
      if (index === list.length) list.length += 1;
      else delete list[index];
      o.targets = list;
    },
  })),
);

describe('config validation (property-based)', () => {
  it('accepts every valid configuration', async () => {
    await fc.assert(
      fc.asyncProperty(validOptions, async (options) => {
        await build(options).close();
      }),
      propertyParams(),
    );
  });

  it('refuses every one-field corruption with a ConfigError naming the field', () => {
    fc.assert(
      fc.property(validOptions, corruption, (valid, c) => {
        const options = structuredCloneOptions(valid);
        c.apply(options);
        const error = configError(() => build(options));
        expect(error.field).toBe(c.field);
        expect(error.message).toContain(c.field);
      }),
      propertyParams(),
    );
  });
});

describe('target factory options (property-based)', () => {
  const client = () => new OpenAI({ apiKey: 'sk-props-0123456789', baseURL: server.baseURL('openai', 'a') });
  const KNOWN = ['client', 'model', 'tier', 'contextWindow', 'pricing', 'breakerKey', 'maxTokensParam', 'providerName'];

  it('rejects any option it does not know, naming it', () => {
    fc.assert(
      fc.property(word.filter((k) => !KNOWN.includes(k)), fc.jsonValue(), (key, value) => {
        const error = configError(() => openaiTarget({ client: client(), model: 'm', [key]: value } as never));
        expect(error.field).toBe(`openaiTarget.${key}`);
      }),
      propertyParams(),
    );
  });

  it('holds contextWindow and prices to the finite-number rule', () => {
    fc.assert(
      fc.property(fc.constantFrom('contextWindow', 'pricing.inputPerMTok', 'pricing.outputPerMTok', 'pricing.cacheReadPerMTok', 'pricing.cacheWritePerMTok'), badNumber, (field, value) => {
        const options: Record<string, unknown> = { client: client(), model: 'm', pricing: { inputPerMTok: 1, outputPerMTok: 1 } };
        setPath(options, field, value);
        expect(configError(() => openaiTarget(options as never)).field).toBe(`openaiTarget.${field}`);
      }),
      propertyParams(),
    );
  });
});

/** A copy a corruption may change (fast-check may hand the same value to several runs). */
function structuredCloneOptions(o: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) copy[k] = v !== null && typeof v === 'object' && !('kind' in v) ? { ...(v as object) } : v;
  return copy;
}
