/**
 * `npm run soak` — the chaos soak (100 000 requests); `npm run soak -- --short` for the CI version.
 *
 * Options: --requests <n>, --short (3 000 requests), --rate <req/s>, --seed <n>, --json <file>.
 * Exits 1 when the bar is missed: any unhandled rejection, any request past its deadline, any
 * untyped error, or a caller-side count that differs from the metrics.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { formatReport } from './format.js';
import { runSoak } from './soak.js';

const SHORT_REQUESTS = 3000;

const int = (raw: string | undefined, flag: string): number | undefined => {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} must be a positive integer, got '${raw}'`);
  return n;
};

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string' },
      short: { type: 'boolean', default: false },
      rate: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'string' },
    },
  });
  const requests = int(values.requests, '--requests') ?? (values.short ? SHORT_REQUESTS : 100_000);
  const rate = int(values.rate, '--rate');
  const seed = int(values.seed, '--seed');
  console.log(`Chaos soak: ${requests.toLocaleString('en-US')} requests, 30 % random faults of every kind on every target, through the official clients and the fault server`);
  const report = await runSoak({
    requests,
    ...(rate !== undefined && { rate }),
    ...(seed !== undefined && { seed }),
    onProgress: (p) => console.log(`  ${String(p.done).padStart(7)} / ${p.total}  ${(p.elapsedMs / 1000).toFixed(1)} s  RSS ${p.rssMb} MB`),
  });
  for (const line of formatReport(report)) console.log(line);
  if (values.json) await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
  return report.bar.passed ? 0 : 1;
}

process.exitCode = await main();
