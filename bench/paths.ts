/** Where things are, whether the benchmark runs from source (tsx) or compiled (node). */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest directory above this file whose package.json is Bulwark's. */
export const REPO_ROOT = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'bulwark') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('bench: cannot find the repository root (a package.json named "bulwark")');
    dir = parent;
  }
})();

/** True when this code runs compiled to JavaScript (the normal `npm run bench`). */
export const COMPILED = import.meta.url.endsWith('.js');

/** Where the compiled benchmark and library go. */
export const BUILD_DIR = path.join(REPO_ROOT, 'node_modules', '.cache', 'bulwark-bench');
