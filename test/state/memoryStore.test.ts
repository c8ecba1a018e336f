import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors/bulwarkError.js';
import { memoryStore } from '../../src/state/memoryStore.js';
import { createFakeClock } from '../support/fakeClock.js';

describe('memoryStore', () => {
  it("is kind 'memory' and round-trips values", async () => {
    const store = memoryStore();
    expect(store.kind).toBe('memory');
    await store.set('a', '{"x":1}', 1_000);
    expect(await store.get('a')).toBe('{"x":1}');
    expect(await store.get('missing')).toBeUndefined();
  });

  it('overwrites a key in place', async () => {
    const store = memoryStore({ maxEntries: 2 });
    await store.set('a', '1', 1_000);
    await store.set('a', '2', 1_000);
    expect(await store.get('a')).toBe('2');
    expect(store.size()).toBe(1);
  });

  it('expires an entry once its TTL has passed', async () => {
    const clock = createFakeClock(0);
    const store = memoryStore({ clock });
    await store.set('a', 'v', 1_000);
    clock.advance(999);
    expect(await store.get('a')).toBe('v');
    clock.advance(1);
    expect(await store.get('a')).toBeUndefined();
    expect(store.size()).toBe(0);
  });

  it('keeps a TTL per entry', async () => {
    const clock = createFakeClock(0);
    const store = memoryStore({ clock });
    await store.set('short', 's', 100);
    await store.set('long', 'l', 10_000);
    clock.advance(500);
    expect(await store.get('short')).toBeUndefined();
    expect(await store.get('long')).toBe('l');
  });

  it('evicts the least recently used entry when full', async () => {
    const store = memoryStore({ maxEntries: 3 });
    await store.set('a', '1', 60_000);
    await store.set('b', '2', 60_000);
    await store.set('c', '3', 60_000);
    await store.get('a'); // a is now the most recently used; b the least
    await store.set('d', '4', 60_000);
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('a')).toBe('1');
    expect(await store.get('c')).toBe('3');
    expect(await store.get('d')).toBe('4');
    expect(store.size()).toBe(3);
  });

  it('counts re-setting a key as using it', async () => {
    const store = memoryStore({ maxEntries: 2 });
    await store.set('a', '1', 60_000);
    await store.set('b', '2', 60_000);
    await store.set('a', '1b', 60_000);
    await store.set('c', '3', 60_000);
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('a')).toBe('1b');
  });

  it('evicts in least-recently-used order without moving entries on every read (second chance)', async () => {
    const store = memoryStore({ maxEntries: 3 });
    await store.set('a', '1', 60_000);
    await store.set('b', '2', 60_000);
    await store.set('c', '3', 60_000);
    await store.get('a');
    await store.get('b');
    await store.set('d', '4', 60_000); // a and b were read: c goes
    expect(await store.get('c')).toBeUndefined();
    await store.set('e', '5', 60_000); // a and b lost their marks when passed over: a, the least recent, goes
    expect(await store.get('a')).toBeUndefined();
    expect([await store.get('b'), await store.get('d'), await store.get('e')]).toEqual(['2', '4', '5']);
    // All three read since: eviction passes over each once, then takes the least recent; never the new entry.
    await store.set('f', '6', 60_000);
    expect(await store.get('b')).toBeUndefined();
    expect([await store.get('d'), await store.get('e'), await store.get('f')]).toEqual(['4', '5', '6']);
    expect(store.size()).toBe(3);
  });

  it('when full, gives an expired entry no second chance, even one read while it was live', async () => {
    const clock = createFakeClock(0);
    const store = memoryStore({ maxEntries: 3, clock });
    await store.set('a', '1', 60_000);
    await store.set('b', '2', 100);
    await store.set('c', '3', 60_000);
    await store.get('a');
    await store.get('b'); // read while live: marked used, then it expires
    clock.advance(100);
    await store.set('d', '4', 60_000);
    // The sweep passes over a (used), then takes b (expired) rather than c (live, unread).
    expect([await store.get('a'), await store.get('c'), await store.get('d')]).toEqual(['1', '3', '4']);
    expect(store.size()).toBe(3);
  });

  it('reuses the room of deleted and expired entries: never more than maxEntries, a new entry always readable', async () => {
    const clock = createFakeClock(0);
    const store = memoryStore({ maxEntries: 5, clock });
    for (let i = 0; i < 300; i++) {
      await store.set(`k${i}`, `v${i}`, i % 3 === 0 ? 4 : 60_000);
      expect(await store.get(`k${i}`)).toBe(`v${i}`);
      // A mix of deletes, TTLs that lapse, reads and re-sets, as a cache under churn sees.
      if (i % 4 === 0) await store.delete(`k${i - 2}`);
      if (i % 5 === 0) await store.get(`k${i - 1}`);
      if (i % 7 === 0) await store.set(`k${i - 3}`, `again${i}`, 60_000);
      clock.advance(3);
      expect(store.size()).toBeLessThanOrEqual(5);
    }
    // Entries set with a 4 ms TTL 6 ms ago are gone; the last live ones are there.
    expect(await store.get('k297')).toBeUndefined();
    expect([await store.get('k298'), await store.get('k299')]).toEqual(['v298', 'v299']);
  });

  it('a new entry in the room a deleted one left is passed over once by the sweep, as if just used', async () => {
    const store = memoryStore({ maxEntries: 3 });
    await store.set('a', '1', 60_000);
    await store.set('b', '2', 60_000);
    await store.set('c', '3', 60_000);
    await store.set('d', '4', 60_000); // a goes; the sweep now stands at b
    await store.delete('b');
    await store.set('e', '5', 60_000); // takes b's room, right where the sweep stands
    await store.set('f', '6', 60_000); // passes over e once: c, the least recent, goes
    expect(await store.get('c')).toBeUndefined();
    expect([await store.get('d'), await store.get('e'), await store.get('f')]).toEqual(['4', '5', '6']);
  });

  it('a key set again after it expired or was deleted starts over with its new value and TTL', async () => {
    const clock = createFakeClock(0);
    const store = memoryStore({ maxEntries: 2, clock });
    await store.set('a', 'old', 50);
    clock.advance(50);
    expect(await store.get('a')).toBeUndefined();
    await store.set('a', 'new', 1_000);
    await store.set('b', 'b', 1_000);
    await store.delete('b');
    await store.set('b', 'b2', 20);
    clock.advance(19);
    expect([await store.get('a'), await store.get('b')]).toEqual(['new', 'b2']);
    clock.advance(1);
    expect([await store.get('a'), await store.get('b')]).toEqual(['new', undefined]);
    expect(store.size()).toBe(1);
  });

  it('evicts in insertion order when nothing is read (a cache of unique prompts)', async () => {
    const store = memoryStore({ maxEntries: 4 });
    for (let i = 0; i < 10; i++) await store.set(`k${i}`, `${i}`, 60_000);
    const kept = [];
    for (let i = 0; i < 10; i++) if ((await store.get(`k${i}`)) !== undefined) kept.push(i);
    expect(kept).toEqual([6, 7, 8, 9]);
  });

  it('is in-process: its calls settle without I/O', () => {
    expect(memoryStore().inProcess).toBe(true);
  });

  it('deletes and closes', async () => {
    const store = memoryStore();
    await store.set('a', '1', 1_000);
    await store.set('b', '2', 1_000);
    await store.delete('a');
    expect(await store.get('a')).toBeUndefined();
    await store.close?.();
    expect(await store.get('b')).toBeUndefined();
  });

  it('rejects (does not throw synchronously) a non-positive TTL or a non-string value', async () => {
    const store = memoryStore();
    await expect(store.set('a', 'v', 0)).rejects.toThrow(RangeError);
    await expect(store.set('a', 'v', Number.NaN)).rejects.toThrow(RangeError);
    await expect(store.set('a', 42 as never, 1_000)).rejects.toThrow(TypeError);
  });

  it('validates its options, naming the field', () => {
    expect(() => memoryStore({ maxEntries: 0 })).toThrow(ConfigError);
    expect(() => memoryStore({ maxEntries: 1.5 })).toThrow(/memoryStore\.maxEntries/);
    expect(() => memoryStore({ maxEntries: '10' as never })).toThrow(/memoryStore\.maxEntries/);
    expect(() => memoryStore({ clock: {} as never })).toThrow(/memoryStore\.clock/);
    expect(() => memoryStore({ maxEntries: Infinity })).toThrow(/memoryStore\.maxEntries/);
    // An option it does not know is an error, not silently the default.
    expect(() => memoryStore({ maxEntrys: 5 } as never)).toThrow(/memoryStore\.maxEntrys is not an option \(did you mean 'maxEntries'\?/);
  });

  it('defaults to 10 000 entries', async () => {
    const store = memoryStore();
    for (let i = 0; i <= 10_000; i++) await store.set(`k${i}`, 'v', 60_000);
    expect(store.size()).toBe(10_000);
    expect(await store.get('k0')).toBeUndefined();
    expect(await store.get('k10000')).toBe('v');
  });
});
