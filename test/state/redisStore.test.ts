/**
 * redisStore without a Redis: a stand-in client (an EventEmitter with node-redis's
 * `isReady` / `sendCommand` shape) for what does not need a server.
 */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SCRIPTS } from '../../src/state/redisScripts.js';
import { StoreError } from '../../src/state/sharedState.js';
import { redisStore } from '../../src/state/redisStore.js';

function fakeClient() {
  return Object.assign(new EventEmitter(), {
    isReady: false,
    sendCommand: async (_args: string[]): Promise<unknown> => 'OK',
  });
}

describe('redisStore', () => {
  it('validates its options with the shared rules: unknown keys and timers past what Node.js can set are errors', () => {
    const client = fakeClient();
    expect(() => redisStore(client, { timeoutMS: 100 } as never)).toThrow(/redisStore\.timeoutMS is not an option \(did you mean 'timeoutMs'\?/);
    for (const bad of [Infinity, Number.NaN, 0, -1, 3_000_000_000]) expect(() => redisStore(client, { syncIntervalMs: bad })).toThrow(/redisStore\.syncIntervalMs/);
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('a script call takes one timeout in all, NOSCRIPT retry (after a Redis restart) included', async () => {
    vi.useFakeTimers();
    const client = fakeClient();
    client.isReady = true;
    const sent: string[] = [];
    client.sendCommand = (args: string[]) => {
      sent.push(args[0]!);
      // EVALSHA: a late NOSCRIPT (the restarted Redis is slow); EVAL: no answer at all.
      if (args[0] === 'EVALSHA') return new Promise((_, reject) => setTimeout(() => reject(new Error('NOSCRIPT No matching script. Please use EVAL.')), 80));
      return new Promise(() => undefined);
    };
    const store = redisStore(client, { timeoutMs: 100 });
    let outcome: unknown;
    void store.runScript(SCRIPTS.read, ['k'], [1]).then(
      (v) => (outcome = v),
      (e: unknown) => (outcome = e),
    );
    await vi.advanceTimersByTimeAsync(80);
    expect(sent).toEqual(['EVALSHA', 'EVAL']);
    await vi.advanceTimersByTimeAsync(20);
    expect(outcome).toBeInstanceOf(StoreError);
    expect((outcome as StoreError).errorType).toBe('timeout');
  });

  it('many stores on one client add one error listener, and every store hears every error', () => {
    const client = fakeClient();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      // One store per chain: a service with a dozen chains on one client is ordinary.
      const stores = Array.from({ length: 12 }, () => redisStore(client));
      expect(client.listenerCount('error')).toBe(1);
      client.emit('error', new Error('WRONGPASS invalid username-password pair'));
      for (const store of stores) expect(store.status().lastError).toMatchObject({ type: 'authentication', message: expect.stringMatching(/WRONGPASS/) });
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('close() detaches a store; the listener goes with the last one', async () => {
    const client = fakeClient();
    const [a, b] = [redisStore(client), redisStore(client)];
    await a.close?.();
    expect(client.listenerCount('error')).toBe(1);
    client.emit('error', new Error('ECONNREFUSED 127.0.0.1:6379'));
    expect(b.status().lastError?.type).toBe('unavailable');
    expect(a.status().lastError).toBeUndefined();
    await a.close?.(); // idempotent
    await b.close?.();
    expect(client.listenerCount('error')).toBe(0);
    // A store made after they all closed listens again.
    redisStore(client);
    expect(client.listenerCount('error')).toBe(1);
  });
});
