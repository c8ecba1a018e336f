import { describe, expect, it } from 'vitest';
import { PHASES } from '../../demo/incident.js';
import { summarize } from '../../demo/summary.js';
import { plainView } from '../../demo/view.js';
import { runDemo } from '../../demo/workload.js';

const PRIMARY = 'openai/gpt-4o';

describe('npm run demo (the embedded default)', () => {
  it('plays the whole incident in 10 s: the primary breaker opens and closes again, tiers degrade and recover, nothing goes unhandled', async () => {
    const lines: string[] = [];
    const report = await runDemo({ durationSec: 10, view: plainView((line) => lines.push(line)) });

    expect(report.unhandledRejections).toEqual([]);
    expect(report.phases.map((p) => p.phase.key)).toEqual(PHASES.map((p) => p.key));
    for (const p of report.phases) expect(p.counts.requests, `requests in ${p.phase.key}`).toBeGreaterThan(0);

    const [normal, storm, down, hung, recovery] = report.phases.map((p) => p.counts);
    // Normal traffic: the layer stays out of the way. The only failures it may meet are its own timeouts
    // (500 ms to the first chunk in a 10 s run) when the machine is so loaded that the in-process server
    // answers late — then every answer that was not full, and every retry, is accounted for by one.
    const normalTimeouts = normal!.failedAttempts['timeout'] ?? 0;
    expect(Object.keys(normal!.failedAttempts).filter((type) => type !== 'timeout')).toEqual([]);
    expect(normal!.requests - normal!.served.full).toBeLessThanOrEqual(normalTimeouts);
    expect(normal!.retries).toBeLessThanOrEqual(normalTimeouts);
    // Storm: 429s with Retry-After, waited out or sent on.
    expect(storm!.failedAttempts['rate_limited'] ?? 0).toBeGreaterThan(0);
    expect(storm!.retryAfterWaits.length + storm!.retryAfterAboveCap).toBeGreaterThan(0);
    // Primary down: the breaker opens (at the latest now) and calls skip it.
    const primaryOpened = report.transitions.find((t) => t.breaker === PRIMARY && t.from === 'closed' && t.to === 'open');
    expect(primaryOpened).toBeDefined();
    expect(primaryOpened!.phase).toBeLessThanOrEqual(2);
    expect(down!.circuitRejections[PRIMARY] ?? 0).toBeGreaterThan(0);
    expect(down!.served.reduced).toBeGreaterThan(0);
    // Hung provider: timeouts cut the hung calls.
    expect(hung!.failedAttempts['timeout'] ?? 0).toBeGreaterThan(0);
    // Recovery: a half-open probe succeeds and the primary's breaker closes; full answers are back.
    const lastPrimary = report.transitions.filter((t) => t.breaker === PRIMARY).at(-1);
    expect(lastPrimary).toMatchObject({ from: 'half_open', to: 'closed' });
    expect(lastPrimary!.phase).toBe(4);
    expect(recovery!.served.full).toBeGreaterThan(0);

    // Every request was answered (degraded at worst); no error reached a caller.
    expect(report.totals.served.failed).toBe(0);
    expect(report.totals.errors).toEqual({});
    expect(report.totals.streamed).toBeGreaterThan(0);
    expect(report.totals.withTools).toBeGreaterThan(0);
    // The agent files each conversation as a ticket (structured output, validated on whichever target
    // answered), and some questions come with a screenshot (an image part).
    expect(report.totals.structured).toBeGreaterThan(0);
    expect(report.totals.withImage).toBeGreaterThan(0);

    // Plain lines name every phase and the breaker transitions; the summary names every phase.
    for (let i = 0; i < PHASES.length; i++) expect(lines.some((l) => l.includes(`phase ${i + 1}/${PHASES.length}: ${PHASES[i]!.title}`))).toBe(true);
    expect(lines.some((l) => l.includes(`breaker ${PRIMARY}: closed → open`))).toBe(true);
    const summary = summarize(report).join('\n');
    for (const p of PHASES) expect(summary).toContain(p.title);
    expect(summary).toContain('unhandled rejections: 0');
  }, 40_000);
});
