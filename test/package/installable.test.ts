// The package as a user gets it: `npm pack` (which runs the `prepare` build) → install the tarball into a scratch
// app outside the repository → a plain Node ESM script imports every subpath in package.json `exports`.
// --prefer-offline: tarballs come from the npm cache that `npm ci` filled; only package metadata may need the registry.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayImagePackages } from '../../scripts/gateway-image-packages.js';

const root = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, string | { types: string; import: string }>;
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  bin: Record<string, string>;
};

// One known runtime export per subpath; a new subpath in `exports` without an entry here fails the test.
const KNOWN: Record<string, string> = {
  '.': 'createResilientLLM',
  './testing': 'startFaultServer',
  './otel': 'startTelemetry',
  './fronts': 'bulwarkFetch',
  './gateway': 'createGateway',
  './ai-sdk': 'bulwarkModel',
};
const subpaths = Object.keys(pkg.exports).filter((s) => s !== './package.json');

let dir: string;
let app: string;

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bulwark-pack-'));
  app = join(dir, 'app');
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dir], root)) as { filename: string }[];
  const tarball = join(dir, packed[0]!.filename);
  run('mkdir', ['-p', app], dir);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true, type: 'module' }));
  // Peer dependencies at the versions this repository tests against (its devDependencies pin them).
  const peers = Object.keys(pkg.peerDependencies).map((name) => `${name}@${pkg.devDependencies[name]}`);
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball, ...peers], app);
}, 240_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('installed package', () => {
  it('ships LICENSE, README and no sources or tests', () => {
    const installed = join(app, 'node_modules', pkg.name);
    expect(readFileSync(join(installed, 'LICENSE'), 'utf8')).toContain('Apache License');
    expect(existsSync(join(installed, 'README.md'))).toBe(true);
    expect(existsSync(join(installed, 'src'))).toBe(false);
    expect(existsSync(join(installed, 'test'))).toBe(false);
  });

  it('every subpath in exports has a known export and its type declarations', () => {
    expect(subpaths.sort()).toEqual(Object.keys(KNOWN).sort());
    const installed = join(app, 'node_modules', pkg.name);
    for (const sub of subpaths) {
      const entry = pkg.exports[sub] as { types: string; import: string };
      expect(existsSync(join(installed, entry.types)), `${sub}: ${entry.types}`).toBe(true);
      expect(existsSync(join(installed, entry.import)), `${sub}: ${entry.import}`).toBe(true);
    }
    const checks = subpaths.map((sub) => {
      const spec = sub === '.' ? pkg.name : `${pkg.name}/${sub.slice(2)}`;
      return `{ const m = await import(${JSON.stringify(spec)}); if (typeof m[${JSON.stringify(KNOWN[sub])}] !== 'function') throw new Error(${JSON.stringify(`${spec} lacks ${KNOWN[sub]}`)}); console.log(${JSON.stringify(spec)}); }`;
    });
    writeFileSync(join(app, 'check.mjs'), checks.join('\n') + '\n');
    const out = run(process.execPath, ['check.mjs'], app).trim().split('\n');
    expect(out).toEqual(subpaths.map((sub) => (sub === '.' ? pkg.name : `${pkg.name}/${sub.slice(2)}`)));
  });

  it('the bulwark bin runs the gateway from a TypeScript config (Node type stripping) and stops on SIGTERM with exit 0', async () => {
    expect(pkg.bin).toEqual({ bulwark: './dist/gateway/cli.js' });
    // What the gateway image installs beside the tarball is what this app has (scripts/gateway-image-packages.ts).
    for (const spec of gatewayImagePackages()) {
      const at = spec.lastIndexOf('@');
      const installed = JSON.parse(readFileSync(join(app, 'node_modules', spec.slice(0, at), 'package.json'), 'utf8')) as { version: string };
      expect(installed.version, spec).toBe(spec.slice(at + 1));
    }
    const config = `interface FileConfig { chains: Record<string, unknown>; routes: Record<string, string>; clients: unknown[] }
const config: FileConfig = {
  chains: { support: { targets: [{ provider: 'openai', model: 'gpt-4o', apiKey: 'env:OPENAI_API_KEY', baseURL: 'http://127.0.0.1:9/v1' }] } },
  routes: { 'support-agent': 'support' },
  clients: [{ name: 'app', keyHash: '${'d'.repeat(64)}' }],
};
export default config;
`;
    writeFileSync(join(app, 'bulwark.config.ts'), config);
    const bin = join(app, 'node_modules', '.bin', 'bulwark');
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', OPENAI_API_KEY: 'sk-installed-app' };
    const checked = spawnSync(bin, ['gateway', '--config', 'bulwark.config.ts', '--check'], { cwd: app, env, encoding: 'utf8' });
    expect(checked.stderr).toMatch(/bulwark.config.ts: config ok/);
    expect(checked.status).toBe(0);
    const child = spawn(bin, ['gateway', '--config', 'bulwark.config.ts', '--port', '0'], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(stderr);
        if (m) resolve(m[1]!);
      });
      void exit.then((code) => reject(new Error(`exited ${code}: ${stderr}`)));
    });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(stderr).toMatch(/stopped\n$/);
  });
});
