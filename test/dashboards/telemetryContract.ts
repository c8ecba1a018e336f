/**
 * Reads the Prometheus-name column of TELEMETRY.md, when the contract document is available, so the metric
 * list exported by grafana/src/telemetryNames.ts can be checked against it.
 * TODO(telemetry): switch to src/telemetry/names.ts once it exists.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** The contract beside the repo (shared/, the source of truth), else the vendored copy in docs/. */
const CANDIDATES = [resolve(REPO_ROOT, '../shared/TELEMETRY.md'), resolve(REPO_ROOT, 'docs/TELEMETRY.md')];

export function telemetryContractPath(): string | undefined {
  return CANDIDATES.find((p) => existsSync(p));
}

/** Series names of the metrics table's last column; `name_*` histograms expand to _bucket, _sum, _count. */
export function contractSeriesNames(path: string): string[] {
  const names: string[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.startsWith('|')) continue;
    const cells = line.split('|').map((c) => c.trim()).filter(Boolean);
    const last = cells.at(-1) ?? '';
    const m = /^`([a-z_:][a-z0-9_:]*?)(_\*)?`$/.exec(last);
    if (!m?.[1]) continue;
    if (m[2]) names.push(`${m[1]}_bucket`, `${m[1]}_sum`, `${m[1]}_count`);
    else names.push(m[1]);
  }
  return names.sort();
}
