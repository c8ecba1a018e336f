/**
 * `npm run bench` — compiles the library and the benchmark with tsc, then runs the compiled
 * benchmark (bench/main.ts) with plain Node: what is measured is the JavaScript users run, not a
 * development transform (tsx wraps every function in a naming helper that roughly doubles the
 * pipeline's own cost). Arguments are passed through: --smoke, --only <suites>, --out <dir>.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { BUILD_DIR, REPO_ROOT } from './paths.js';

const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const build = spawnSync(process.execPath, [tsc, '-p', path.join(REPO_ROOT, 'bench', 'tsconfig.json')], { stdio: 'inherit', cwd: REPO_ROOT });
if (build.status !== 0) {
  console.error('bench: compiling the benchmark failed');
  process.exit(build.status ?? 1);
}
const run = spawnSync(process.execPath, [path.join(BUILD_DIR, 'bench', 'main.js'), ...process.argv.slice(2)], { stdio: 'inherit', cwd: REPO_ROOT });
process.exit(run.status ?? 1);
