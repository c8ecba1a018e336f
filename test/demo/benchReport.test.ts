import { describe, expect, it } from 'vitest';
import { pinnedRequirements } from '../../bench/litellmPeer.js';
import { compare, quantile } from '../../bench/measure.js';
import { markdown, type Section } from '../../bench/report.js';

// The benchmark reports; it judges no timing. These check its arithmetic and its output shape only.
describe('npm run bench: measurement and report', () => {
  it('interpolates quantiles', () => {
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5], 0)).toBe(1);
    expect(quantile([1, 2, 3, 4, 5], 1)).toBe(5);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it('compares interleaved variants against a baseline, per trial', async () => {
    const calls = { a: 0, b: 0 };
    const c = await compare(
      [
        { name: 'a', call: async () => void calls.a++ },
        { name: 'b', call: async () => void calls.b++ },
      ],
      { baseline: 'a', trials: 3, iterations: 10, warmup: 4 },
    );
    expect(calls.a).toBe(calls.b);
    expect(calls.a).toBe(3 * 10 + 4 + 1 + 1);
    expect(c.ratio('a', 'p50')).toBe(1);
    expect(c.added('a', 'p99')).toBe(0);
    expect(c.p50.get('b')).toBeGreaterThanOrEqual(0);
  });

  it('writes rows of { name, metric, value, unit } as a Markdown table per section', () => {
    const sections: Section[] = [
      { title: '1. Happy-path overhead', how: 'How.', rows: [{ name: 'overhead telemetry on', metric: 'p50 ratio', value: 1.0412, unit: 'x' }], notes: ['A note.'] },
    ];
    const md = markdown(sections, { date: '2026-01-01', command: 'npm run bench', smoke: false, durationSec: 10 });
    expect(md).toContain('## 1. Happy-path overhead');
    expect(md).toContain('| overhead telemetry on | p50 ratio | 1.041 | x |');
    expect(md).toContain('- A note.');
    expect(md).toContain('latest.json');
  });

  it('pins every package of the LiteLLM peer to one exact version', () => {
    const lines = pinnedRequirements();
    expect(lines.map((l) => l.split('==')[0])).toEqual(expect.arrayContaining(['litellm', 'openai']));
    for (const line of lines) expect(line).toMatch(/^[A-Za-z0-9._-]+==\d+(\.\d+)+$/);
  });
});
