import { vi } from 'vitest';

/**
 * A fetch for a chain's upstream client that holds every request until the test opens the gate:
 * "every request was admitted before any answered" is then a fact, not a race.
 */
export function gatedFetch(): { fetch: typeof fetch; waiting(): number; openAll(): void; close(): void } {
  const gates: Array<() => void> = [];
  let open = false;
  return {
    fetch: async (input, init) => {
      if (!open) await new Promise<void>((resolve) => gates.push(resolve));
      return fetch(input, init);
    },
    waiting: () => gates.length,
    openAll() {
      open = true;
      for (const release of gates.splice(0)) release();
    },
    /** Holds the requests from now on again. */
    close() {
      open = false;
    },
  };
}

/**
 * Controlled time for an official client's retry sleep: `setTimeout` calls of exactly `ms` (the
 * Retry-After the gateway sent) are held instead of scheduled, and run when the test says; every
 * other timer runs as usual. Restored by `vi.restoreAllMocks()`.
 */
export function heldTimers(ms: number): { held(): number; fire(): void } {
  const real = globalThis.setTimeout;
  const held: Array<() => void> = [];
  vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: (...args: unknown[]) => void, delay?: number, ...args: unknown[]) => {
    if (delay !== ms) return real(fn, delay, ...args);
    held.push(() => fn(...args));
    // What the clients do with a timer handle: clear it, unref it.
    return { ref() { return this; }, unref() { return this; }, hasRef: () => false, refresh() { return this; }, [Symbol.toPrimitive]: () => 0 } as unknown as NodeJS.Timeout;
  }) as typeof setTimeout);
  return {
    held: () => held.length,
    fire: () => {
      for (const run of held.splice(0)) run();
    },
  };
}
