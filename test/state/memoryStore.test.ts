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
