import { describe, expect, it } from 'vitest';
import { linkedAbort, untilAborted } from '../../src/chain/linkedAbort.js';
import { createFakeClock } from '../support/fakeClock.js';

describe('linkedAbort', () => {
  it("aborts its children with its own reason, and its signal with them", () => {
    const clock = createFakeClock(0);
    const walk = linkedAbort(clock, undefined);
    const attempt = linkedAbort(clock, walk);
    const signal = attempt.signal;
    const stop = new Error('cancelled');
    walk.abort(stop);
    expect([walk.aborted, attempt.aborted, signal.aborted]).toEqual([true, true, true]);
    expect(attempt.reason).toBe(stop);
    expect(signal.reason).toBe(stop);
  });

  it('a child created under an aborted parent starts aborted; a signal asked for after the abort is aborted', () => {
    const clock = createFakeClock(0);
    const walk = linkedAbort(clock, undefined);
    walk.abort('gone');
    const attempt = linkedAbort(clock, walk, { ms: 10, reason: () => 'timeout' });
    expect(attempt.reason).toBe('gone');
    expect(attempt.signal.aborted).toBe(true);
    expect(attempt.signal.reason).toBe('gone');
    expect(clock.pendingTimers()).toBe(0);
  });

  it('aborts on its timeout; dispose cancels the timer and detaches it from its parent', () => {
    const clock = createFakeClock(0);
    const walk = linkedAbort(clock, undefined);
    const timed = linkedAbort(clock, walk, { ms: 100, reason: () => 'attempt timeout' });
    clock.advance(100);
    expect(timed.reason).toBe('attempt timeout');
    expect(walk.aborted).toBe(false);

    const disposed = linkedAbort(clock, walk, { ms: 100, reason: () => 'attempt timeout' });
    disposed.dispose();
    expect(clock.pendingTimers()).toBe(0);
    walk.abort('deadline');
    expect(disposed.aborted).toBe(false);
  });

  it('tells onAbort listeners once, in the order they came, and not after they were removed', () => {
    const scope = linkedAbort(createFakeClock(0), undefined);
    const heard: string[] = [];
    scope.onAbort((r) => heard.push(`first ${String(r)}`));
    const remove = scope.onAbort(() => heard.push('removed'));
    scope.onAbort((r) => heard.push(`second ${String(r)}`));
    remove();
    scope.abort('x');
    scope.abort('y');
    scope.onAbort((r) => heard.push(`late ${String(r)}`));
    expect(heard).toEqual(['first x', 'second x', 'late x']);
  });

  it('tells its listeners and children in the order they came, each once; a disposed child and a listener taken off are not told', () => {
    const clock = createFakeClock(0);
    const walk = linkedAbort(clock, undefined);
    const heard: string[] = [];
    const first = (r: unknown) => heard.push(`first ${String(r)}`);
    walk.listen(first);
    walk.listen(first);
    const child = linkedAbort(clock, walk);
    child.onAbort((r) => heard.push(`child ${String(r)}`));
    const gone = linkedAbort(clock, walk);
    gone.onAbort(() => heard.push('disposed child'));
    gone.dispose();
    const off = () => heard.push('taken off');
    walk.listen(off);
    walk.listen({ abort: (r) => heard.push(`object ${String(r)}`) });
    walk.off(off);
    walk.abort('x');
    expect(heard).toEqual(['first x', 'child x', 'object x']);
    expect([child.aborted, gone.aborted]).toEqual([true, false]);
  });

  it('untilAborted: settles like the promise, or rejects with the reason when the scope aborts first', async () => {
    const clock = createFakeClock(0);
    const scope = linkedAbort(clock, undefined);
    await expect(untilAborted(Promise.resolve(1), scope)).resolves.toBe(1);
    let rejectLate: (e: Error) => void = () => {};
    const hung = untilAborted(new Promise<number>((_, reject) => (rejectLate = reject)), scope);
    scope.abort(new Error('stopped'));
    await expect(hung).rejects.toThrow('stopped');
    rejectLate(new Error('late')); // handled: no unhandled rejection
    await expect(untilAborted(Promise.reject(new Error('ignored')), scope)).rejects.toThrow('stopped');
  });
});
