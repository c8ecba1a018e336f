import { describe, expect, it } from 'vitest';
import { cacheKey } from '../../src/cache/cacheKey.js';
import { CacheStoreError, ResponseCache, type CachedAnswer, type ResponseCacheOptions } from '../../src/cache/responseCache.js';
import type { CacheConfig } from '../../src/config/types.js';
import type { ChatRequest } from '../../src/request/types.js';
import { memoryStore } from '../../src/state/memoryStore.js';
import type { KeyValueStore } from '../../src/state/store.js';
import { createFakeClock, type FakeClock } from '../support/fakeClock.js';

const REQUEST: ChatRequest = { messages: [{ role: 'user', content: 'Summarise today' }], partition: 'tenant-1' };

const ANSWER: Omit<CachedAnswer, 'storedAt'> = {
  text: 'Today was calm.',
  toolCalls: [{ id: 'call_1', name: 'search', arguments: '{"q":"news"}' }],
  finishReason: 'stop',
  usage: { inputTokens: 12, outputTokens: 5, cacheReadTokens: 2 },
  model: 'gpt-4o-2024-08-06',
  provider: 'openai',
};

function setup(options: { store?: KeyValueStore; config?: Partial<CacheConfig>; cache?: ResponseCacheOptions; clock?: FakeClock } = {}) {
  const clock = options.clock ?? createFakeClock(1_000_000);
  const store = options.store ?? memoryStore({ clock });
  const errors: CacheStoreError[] = [];
  const config: CacheConfig = { store, ttlMs: 60_000, staleTtlMs: 600_000, mode: 'on-failure', maxEntryBytes: 64 * 1024, ...options.config };
  const cache = new ResponseCache(config, 'support-agent', clock, { onStoreError: (e) => errors.push(e), ...options.cache });
  return { clock, store, cache, errors };
}

/** A store whose every call does what `behaviour` says. */
function brokenStore(behaviour: { get?: () => Promise<string | undefined>; set?: () => Promise<void> }): KeyValueStore & { sets: Array<[string, string, number]> } {
  const sets: Array<[string, string, number]> = [];
  return {
    kind: 'broken',
    sets,
    get: async () => (behaviour.get ? behaviour.get() : undefined),
    set: async (key, value, ttl) => {
      sets.push([key, value, ttl]);
      if (behaviour.set) await behaviour.set();
    },
    delete: async () => {},
  };
}

const never = () => new Promise<never>(() => {});

describe('ResponseCache', () => {
  it('serves a saved answer as fresh with its age', async () => {
    const { clock, cache } = setup();
    expect(await cache.save(REQUEST, ANSWER)).toBe('saved');
    clock.advance(1_500);
    expect(await cache.lookup(REQUEST)).toEqual({ answer: { ...ANSWER, storedAt: 1_000_000 }, fresh: true, ageMs: 1_500 });
  });

  it('misses a request it has never seen', async () => {
    const { cache, errors } = setup();
    expect(await cache.lookup(REQUEST)).toBeUndefined();
    expect(errors).toEqual([]);
  });

  it('turns stale at ttlMs and keeps the entry until ttlMs + staleTtlMs', async () => {
    const { clock, cache } = setup({ config: { ttlMs: 1_000, staleTtlMs: 5_000 } });
    await cache.save(REQUEST, ANSWER);
    clock.advance(999);
    expect((await cache.lookup(REQUEST))?.fresh).toBe(true);
    clock.advance(1);
    expect(await cache.lookup(REQUEST)).toMatchObject({ fresh: false, ageMs: 1_000 });
    clock.advance(4_999);
    expect(await cache.lookup(REQUEST)).toMatchObject({ fresh: false, ageMs: 5_999 });
    clock.advance(1);
    expect(await cache.lookup(REQUEST)).toBeUndefined();
  });

  it('asks the store to keep entries for ttlMs + staleTtlMs', async () => {
    const store = brokenStore({});
    const { cache } = setup({ store, config: { ttlMs: 1_000, staleTtlMs: 5_000 } });
    await cache.save(REQUEST, ANSWER);
    expect(store.sets.map(([key, , ttl]) => [key, ttl])).toEqual([[cacheKey('support-agent', 'tenant-1', REQUEST), 6_000]]);
  });

  it('does not trust a store that keeps entries past their time', async () => {
    const clock = createFakeClock(0);
    const kept: Record<string, string> = {};
    const forgetful: KeyValueStore = {
      kind: 'immortal',
      get: async (k) => kept[k],
      set: async (k, v) => {
        kept[k] = v;
      },
      delete: async () => {},
    };
    const { cache } = setup({ clock, store: forgetful, config: { ttlMs: 10, staleTtlMs: 10 } });
    await cache.save(REQUEST, ANSWER);
    clock.advance(20);
    expect(await cache.lookup(REQUEST)).toBeUndefined();
  });

  it('keeps partitions apart', async () => {
    const { cache } = setup();
    await cache.save(REQUEST, ANSWER);
    expect(await cache.lookup({ ...REQUEST, partition: 'tenant-2' })).toBeUndefined();
    expect(await cache.lookup({ ...REQUEST, partition: undefined })).toBeUndefined();
  });

  it('stores only the answer fields: nothing else riding on the object reaches the store', async () => {
    const store = brokenStore({});
    const { cache } = setup({ store });
    const leaky = {
      ...ANSWER,
      apiKey: 'sk-secret',
      headers: { authorization: 'Bearer sk-secret' },
      usage: { ...ANSWER.usage, rawHeaders: 'x-api-key: sk-secret' },
      toolCalls: [{ ...ANSWER.toolCalls[0]!, token: 'sk-secret' }],
    };
    await cache.save(REQUEST, leaky);
    const stored = store.sets[0]![1];
    expect(stored).not.toContain('sk-secret');
    expect(Object.keys(JSON.parse(stored) as object).sort()).toEqual(['finishReason', 'model', 'provider', 'storedAt', 'text', 'toolCalls', 'usage', 'v']);
  });

  it('does not save answers larger than maxEntryBytes (counted in UTF-8 bytes)', async () => {
    const store = brokenStore({});
    const { cache } = setup({ store, config: { maxEntryBytes: 400 } });
    expect(await cache.save(REQUEST, { ...ANSWER, text: 'é'.repeat(150) })).toBe('too_large'); // 300 bytes of text
    expect(await cache.save(REQUEST, { ...ANSWER, text: 'e'.repeat(150) })).toBe('saved');
    expect(store.sets).toHaveLength(1);
  });

  it("does nothing in mode 'off'", async () => {
    const store = brokenStore({});
    const { cache } = setup({ store, config: { mode: 'off' } });
    expect(await cache.save(REQUEST, ANSWER)).toBe('disabled');
    expect(await cache.lookup(REQUEST)).toBeUndefined();
    expect(store.sets).toEqual([]);
  });

  it('keeps a storedAt given by the caller', async () => {
    const { cache } = setup();
    await cache.save(REQUEST, { ...ANSWER, storedAt: 999_000 });
    expect(await cache.lookup(REQUEST)).toMatchObject({ ageMs: 1_000, answer: { storedAt: 999_000 } });
  });

  describe("'on-failure' mode: an answer stored less than ttlMs / 10 ago is not rewritten", () => {
    it('keeps the earlier answer and its age until ttlMs / 10 has passed, then writes the new one', async () => {
      const store = brokenStore({});
      const { clock, cache } = setup({ store, config: { ttlMs: 10_000 } });
      expect(await cache.save(REQUEST, ANSWER)).toBe('saved');
      clock.advance(999);
      expect(await cache.save(REQUEST, { ...ANSWER, text: 'Later answer.' })).toBe('unchanged');
      expect(store.sets).toHaveLength(1);
      clock.advance(1);
      expect(await cache.save(REQUEST, { ...ANSWER, text: 'Later answer.' })).toBe('saved');
      expect(store.sets).toHaveLength(2);
      expect(JSON.parse(store.sets[1]![1]) as object).toMatchObject({ text: 'Later answer.', storedAt: 1_001_000 });
    });

    it('what is kept is the stored entry: a lookup serves the first answer with its age', async () => {
      const { clock, cache } = setup({ config: { ttlMs: 10_000 } });
      await cache.save(REQUEST, ANSWER);
      clock.advance(500);
      expect(await cache.save(REQUEST, { ...ANSWER, text: 'Later answer.' })).toBe('unchanged');
      expect(await cache.lookup(REQUEST)).toMatchObject({ answer: { text: ANSWER.text, storedAt: 1_000_000 }, ageMs: 500 });
    });

    it('is exact per request and partition: another tenant or another prompt is written at once', async () => {
      const store = brokenStore({});
      const { cache } = setup({ store });
      expect(await cache.save(REQUEST, ANSWER)).toBe('saved');
      expect(await cache.save({ ...REQUEST, partition: 'tenant-2' }, ANSWER)).toBe('saved');
      expect(await cache.save({ ...REQUEST, partition: undefined }, ANSWER)).toBe('saved');
      expect(await cache.save({ ...REQUEST, partition: '_' }, ANSWER)).toBe('saved');
      expect(await cache.save({ ...REQUEST, partition: '' }, ANSWER)).toBe('saved');
      expect(await cache.save({ ...REQUEST, messages: [{ role: 'user', content: 'Summarise tomorrow' }] }, ANSWER)).toBe('saved');
      expect(await cache.save({ ...REQUEST, partition: 'tenant-2' }, ANSWER)).toBe('unchanged');
      expect(await cache.save({ ...REQUEST, partition: undefined }, ANSWER)).toBe('unchanged');
      expect(new Set(store.sets.map(([key]) => key)).size).toBe(6);
      // Each entry went to its own partition's key.
      expect(store.sets.map(([key]) => key.split(':')[3])).toEqual(['tenant-1', 'tenant-2', '_', '%5F', '', 'tenant-1']);
    });

    it('a write that failed is not remembered: the next answer is written', async () => {
      let fail = true;
      const store = brokenStore({ set: async () => (fail ? Promise.reject(new Error('down')) : undefined) });
      const { cache } = setup({ store });
      expect(await cache.save(REQUEST, ANSWER)).toBe('failed');
      fail = false;
      expect(await cache.save(REQUEST, ANSWER)).toBe('saved');
      expect(store.sets).toHaveLength(2);
    });

    it("'read-through' mode writes every answer it is given (each follows a miss)", async () => {
      const store = brokenStore({});
      const { cache } = setup({ store, config: { mode: 'read-through' } });
      expect(await cache.save(REQUEST, ANSWER)).toBe('saved');
      expect(await cache.save(REQUEST, ANSWER)).toBe('saved');
      expect(store.sets).toHaveLength(2);
    });
  });

  it('flush() resolves once the store writes started so far have settled', async () => {
    let finishWrite: () => void = () => {};
    const store = brokenStore({ set: () => new Promise<void>((resolve) => (finishWrite = resolve)) });
    const { cache } = setup({ store });
    const save = cache.save(REQUEST, ANSWER);
    let flushed = false;
    const flush = cache.flush().then(() => (flushed = true));
    await Promise.resolve();
    expect(flushed).toBe(false);
    finishWrite();
    await flush;
    expect(await save).toBe('saved');
    await cache.flush(); // nothing in flight: at once
  });

  it('sets no timeout timer around an in-process store (memoryStore cannot hang), and one around any other', async () => {
    const clock = createFakeClock(1_000_000);
    let timers = 0;
    const counting = { ...clock, setTimer: (fn: () => void, ms: number) => (timers++, clock.setTimer(fn, ms)) };
    const memory = new ResponseCache({ store: memoryStore({ clock }), ttlMs: 60_000, staleTtlMs: 0, mode: 'read-through', maxEntryBytes: 65_536 }, 'c', counting);
    expect(await memory.save(REQUEST, ANSWER)).toBe('saved');
    expect((await memory.lookup(REQUEST))?.fresh).toBe(true);
    expect(timers).toBe(0);
    const other = new ResponseCache({ store: brokenStore({}), ttlMs: 60_000, staleTtlMs: 0, mode: 'read-through', maxEntryBytes: 65_536 }, 'c', counting);
    await other.save(REQUEST, ANSWER);
    await other.lookup(REQUEST);
    expect(timers).toBe(2);
  });

  describe('degrades, never fails, when the store misbehaves', () => {
    it('a store that throws: lookup misses, save resolves, both are reported', async () => {
      const boom = new Error('ECONNREFUSED');
      const store = brokenStore({ get: () => Promise.reject(boom), set: () => Promise.reject(boom) });
      const { cache, errors } = setup({ store });
      expect(await cache.lookup(REQUEST)).toBeUndefined();
      expect(await cache.save(REQUEST, ANSWER)).toBe('failed');
      expect(errors.map((e) => [e.operation, e.problem, e.storeKind, e.cause])).toEqual([
        ['get', 'failed', 'broken', boom],
        ['set', 'failed', 'broken', boom],
      ]);
      expect(errors[0]).toBeInstanceOf(CacheStoreError);
    });

    it('a store that throws synchronously instead of rejecting', async () => {
      const store: KeyValueStore = {
        kind: 'sync-thrower',
        get: () => {
          throw new Error('not connected');
        },
        set: () => {
          throw new Error('not connected');
        },
        delete: async () => {},
      };
      const { cache, errors } = setup({ store });
      expect(await cache.lookup(REQUEST)).toBeUndefined();
      expect(await cache.save(REQUEST, ANSWER)).toBe('failed');
      expect(errors.map((e) => e.problem)).toEqual(['failed', 'failed']);
    });

    it('a store that hangs: gives up after storeTimeoutMs on the clock', async () => {
      const store = brokenStore({ get: never, set: never });
      const { clock, cache, errors } = setup({ store, cache: { storeTimeoutMs: 50 } });

      let looked: unknown = 'pending';
      const lookup = cache.lookup(REQUEST).then((r) => (looked = r));
      await clock.advanceAsync(49);
      expect(looked).toBe('pending');
      await clock.advanceAsync(1);
      await lookup;
      expect(looked).toBeUndefined();

      const save = cache.save(REQUEST, ANSWER);
      await clock.advanceAsync(50);
      expect(await save).toBe('failed');

      expect(errors.map((e) => [e.operation, e.problem])).toEqual([
        ['get', 'timeout'],
        ['set', 'timeout'],
      ]);
      expect(clock.pendingTimers()).toBe(0);
    });

    it('defaults storeTimeoutMs to 50 ms', async () => {
      const { clock, cache, errors } = setup({ store: brokenStore({ get: never }) });
      const lookup = cache.lookup(REQUEST);
      await clock.advanceAsync(50);
      expect(await lookup).toBeUndefined();
      expect(errors.map((e) => e.message)).toEqual(['cache store get took longer than 50 ms']);
    });

    it('a store that answers after the timeout is ignored, and its late failure is not reported twice', async () => {
      let rejectLate: (e: Error) => void = () => {};
      const store = brokenStore({ get: () => new Promise((_, reject) => (rejectLate = reject)) });
      const { clock, cache, errors } = setup({ store });
      const lookup = cache.lookup(REQUEST);
      await clock.advanceAsync(50);
      expect(await lookup).toBeUndefined();
      rejectLate(new Error('late'));
      await clock.advanceAsync(0);
      expect(errors.map((e) => e.problem)).toEqual(['timeout']);
    });

    it('a successful store call cancels its timeout timer', async () => {
      const { clock, cache } = setup();
      await cache.save(REQUEST, ANSWER);
      await cache.lookup(REQUEST);
      expect(clock.pendingTimers()).toBe(0);
    });

    it.each([
      ['invalid JSON', '{"text": "trunc'],
      ['not an object', '"just a string"'],
      ['an array', '[1,2,3]'],
      ['a missing field', JSON.stringify({ v: 1, text: 'x', toolCalls: [], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1 }, model: 'm', storedAt: 0 })],
      ['a wrong finish reason', JSON.stringify({ v: 1, ...ANSWER, finishReason: 'exploded', storedAt: 0 })],
      ['bad usage', JSON.stringify({ v: 1, ...ANSWER, usage: { inputTokens: -1, outputTokens: 1 }, storedAt: 0 })],
      ['a malformed tool call', JSON.stringify({ v: 1, ...ANSWER, toolCalls: [{ id: 1 }], storedAt: 0 })],
      ['a non-numeric storedAt', JSON.stringify({ v: 1, ...ANSWER, storedAt: 'yesterday' })],
    ])('garbage in the store (%s) is a reported miss', async (_what, raw) => {
      const { cache, errors } = setup({ store: brokenStore({ get: async () => raw }) });
      expect(await cache.lookup(REQUEST)).toBeUndefined();
      expect(errors.map((e) => [e.operation, e.problem])).toEqual([['get', 'corrupt']]);
    });

    it('an entry written by another format version is a quiet miss', async () => {
      const raw = JSON.stringify({ v: 99, ...ANSWER, storedAt: 0 });
      const { cache, errors } = setup({ store: brokenStore({ get: async () => raw }) });
      expect(await cache.lookup(REQUEST)).toBeUndefined();
      expect(errors).toEqual([]);
    });

    it('a store returning a non-string is a reported miss', async () => {
      const { cache, errors } = setup({ store: brokenStore({ get: async () => ({ text: 'x' }) as never }) });
      expect(await cache.lookup(REQUEST)).toBeUndefined();
      expect(errors.map((e) => e.problem)).toEqual(['corrupt']);
    });

    it('an onStoreError callback that throws changes nothing', async () => {
      const store = brokenStore({ get: () => Promise.reject(new Error('down')) });
      const { cache } = setup({
        store,
        cache: {
          onStoreError: () => {
            throw new Error('reporter bug');
          },
        },
      });
      expect(await cache.lookup(REQUEST)).toBeUndefined();
    });

    it('works without an onStoreError callback', async () => {
      const clock = createFakeClock(0);
      const config: CacheConfig = {
        store: brokenStore({ get: () => Promise.reject(new Error('down')) }),
        ttlMs: 1_000,
        staleTtlMs: 0,
        mode: 'read-through',
        maxEntryBytes: 1_000,
      };
      const cache = new ResponseCache(config, 'c', clock);
      expect(await cache.lookup(REQUEST)).toBeUndefined();
    });
  });
});
