import { describe, expect, it } from 'vitest';
import type { EngineObserver, RequestInfo } from '../../src/events/engineObserver.js';
import { fanOut } from '../../src/events/observerFanout.js';

const info = { id: 'r-1', chain: 'c', operation: 'chat', stream: false, request: { messages: [] }, startedAt: 0 } as RequestInfo;
const withRun = (run: <T>(fn: () => T) => T): EngineObserver => ({ onRequestStart: () => ({ run }) });

describe('fanOut run hooks', () => {
  it('nests every observer’s run around the call, first observer outermost', () => {
    const order: string[] = [];
    const tracing = (name: string) => withRun((fn) => {
      order.push(`${name}:in`);
      const out = fn();
      order.push(`${name}:out`);
      return out;
    });
    const run = fanOut([tracing('a'), tracing('b')]).startRequest(info).run!;
    expect(run(() => 42)).toBe(42);
    expect(order).toEqual(['a:in', 'b:in', 'b:out', 'a:out']);
  });

  it('runs the call plainly when a run hook throws before running it, or never runs it', () => {
    let calls = 0;
    for (const broken of [withRun(() => { throw new Error('run bug'); }), withRun(() => undefined as never)]) {
      const run = fanOut([broken]).startRequest(info).run!;
      expect(run(() => ++calls)).toBe(calls);
    }
    expect(calls).toBe(2);
  });

  it('keeps the call’s result when a run hook throws after running it, and runs the call once', () => {
    let calls = 0;
    const late = withRun((fn) => {
      fn();
      throw new Error('late run bug');
    });
    expect(fanOut([late]).startRequest(info).run!(() => ++calls)).toBe(1);
    expect(calls).toBe(1);
  });

  it('lets the call’s own error through, not the hook’s', () => {
    const mine = new Error('the call failed');
    const rethrowsOwn = withRun((fn) => {
      try {
        return fn();
      } catch {
        throw new Error('hook replaced it');
      }
    });
    expect(() =>
      fanOut([rethrowsOwn]).startRequest(info).run!(() => {
        throw mine;
      }),
    ).toThrow(mine);
  });
});
