import { afterEach, describe, expect, it, vi } from 'vitest';
import { flushAccessLog, stdoutAccessLog } from '../../src/gateway/accessLog.js';
import type { AccessLogEntry } from '../../src/gateway/types.js';

const entry = (i: number): AccessLogEntry => ({
  time: '2026-12-03T15:00:00.000Z',
  method: 'POST',
  route: '/v1/chat/completions',
  status: 200,
  durationMs: i,
  client: 'agent',
  model: 'support',
  chain: 'support',
  tier: 'full',
  attempts: 1,
  costUsd: 0.0001,
});

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('the default access log (stdout)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes the lines of one event-loop turn together, in order, every field kept', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    for (let i = 0; i < 3; i++) stdoutAccessLog(entry(i));
    expect(write).not.toHaveBeenCalled();
    await nextTurn();
    expect(write).toHaveBeenCalledTimes(1);
    const lines = String(write.mock.calls[0]![0]).split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(0, -1).map((l) => JSON.parse(l) as AccessLogEntry)).toEqual([entry(0), entry(1), entry(2)]);
    await nextTurn();
    expect(write).toHaveBeenCalledTimes(1);
  });

  it('serialises an entry when it is logged, not when it is written', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const e = entry(7);
    stdoutAccessLog(e);
    e.status = 500;
    await nextTurn();
    expect(JSON.parse(String(write.mock.calls[0]![0]))).toMatchObject({ status: 200, durationMs: 7 });
  });

  it('writes at once past 64 KB of lines, and the rest on the next turn', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const line = `${JSON.stringify(entry(0))}\n`.length;
    const n = Math.ceil((64 * 1024) / line) + 2;
    for (let i = 0; i < n; i++) stdoutAccessLog(entry(i));
    expect(write).toHaveBeenCalledTimes(1);
    await nextTurn();
    expect(write).toHaveBeenCalledTimes(2);
    const all = write.mock.calls.map((c) => String(c[0])).join('').split('\n').filter(Boolean);
    expect(all.map((l) => (JSON.parse(l) as AccessLogEntry).durationMs)).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('writes what is buffered when the process exits', () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    stdoutAccessLog(entry(9));
    expect(write).not.toHaveBeenCalled();
    expect(process.listeners('exit')).toContain(flushAccessLog);
    flushAccessLog();
    expect(write).toHaveBeenCalledTimes(1);
    expect(JSON.parse(String(write.mock.calls[0]![0]))).toMatchObject({ durationMs: 9 });
  });
});
