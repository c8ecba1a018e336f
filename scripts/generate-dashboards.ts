/**
 * Writes the generated dashboard JSON (grafana/dashboards/*.json) and the SLO rules
 * (prometheus/rules/bulwark-slo.yml, from grafana/src/slo.ts) from grafana/src.
 * Usage: npm run dashboards            # (re)write the files
 *        npm run dashboards -- --check # exit 1 if a committed file differs from the code
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedDashboards, generatedRuleFiles } from '../grafana/src/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
let stale = 0;

for (const { path, content } of [...generatedDashboards(), ...generatedRuleFiles()]) {
  const file = resolve(root, path);
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current === content) {
    console.log(`unchanged ${path}`);
  } else if (check) {
    console.error(`out of date ${path} (run npm run dashboards)`);
    stale++;
  } else {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, content);
    console.log(`wrote ${path}`);
  }
}
if (stale > 0) process.exit(1);
