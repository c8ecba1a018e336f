import { describe, expect, it } from 'vitest';
import { formatReport } from '../../soak/format.js';
import { CHAOS, runSoak } from '../../soak/soak.js';

describe('npm run soak (short)', () => {
  it('meets the bar under 30 % chaos: no unhandled rejection, nothing past its deadline, only typed errors, caller counts equal to metrics', async () => {
    const report = await runSoak({ requests: 1500, seed: 3 });

    expect(report.bar.failures).toEqual([]);
    expect(report.unhandledRejections).toBe(0);
    expect(report.pastDeadline).toBe(0);
    expect(report.untypedErrors).toBe(0);
    for (const c of report.counts) expect(c, c.what).toMatchObject({ equal: true });

    // The chaos reached every rung of the ladder and the callers' odd behaviour happened.
    expect(report.served.full).toBeGreaterThan(0);
    expect(report.served.reduced).toBeGreaterThan(0);
    expect(report.served.cached + report.served.static).toBeGreaterThan(0);
    expect(report.callerBehaviour.streamed).toBeGreaterThan(0);
    expect(report.callerBehaviour.walkedAway).toBeGreaterThan(0);
    expect(report.upstream.attempts).toBeGreaterThan(report.requests * 0.5);
    // Every upstream call the engine counted went out over HTTP.
    expect(report.upstream.httpCalls).toBe(report.upstream.attempts);
    expect(formatReport(report).join('\n')).toContain('Bar met');
  }, 60_000);

  it('mixes 30 % faults of every kind', () => {
    const total = CHAOS.reduce((sum, f) => sum + f.probability, 0);
    expect(total).toBeCloseTo(0.3, 6);
    const kinds = new Set(CHAOS.map((f) => f.fault.kind));
    for (const kind of ['rateLimit', 'serverError', 'overloaded', 'reset', 'malformedJson', 'streamCut', 'streamError', 'slowFirstByte', 'hang', 'authentication', 'permissionDenied', 'modelNotFound', 'badRequest', 'unprocessable', 'contextLength', 'contentFilter', 'httpError']) {
      expect(kinds.has(kind as never), kind).toBe(true);
    }
  });
});
