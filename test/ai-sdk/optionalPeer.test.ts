/**
 * The AI SDK packages are optional peer dependencies: `import 'bulwark'` must not load any of them
 * (an app without `ai` installed must still work). Checked in a fresh Node process that records
 * every module it resolves.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PROBE = `
import { registerHooks } from 'node:module';
const seen = new Set();
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.add(r.url); return r; } });
await import(process.argv[1]);
const packages = [...seen].filter((u) => u.includes('/node_modules/')).map((u) => {
  const [scope, name] = u.slice(u.lastIndexOf('/node_modules/') + 14).split('/');
  return scope.startsWith('@') ? scope + '/' + name : scope;
});
console.log(JSON.stringify([...new Set(packages)].sort()));
`;

function packagesLoadedBy(entry: string): string[] {
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', PROBE, entry], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1)!) as string[];
}

const isAiSdk = (p: string) => p === 'ai' || p.startsWith('@ai-sdk/');

describe('AI SDK packages are optional', () => {
  it("import 'bulwark' loads no AI SDK package", () => {
    const loaded = packagesLoadedBy(fileURLToPath(new URL('../../src/index.ts', import.meta.url)));
    expect(loaded).toContain('@opentelemetry/api'); // the probe sees the packages that are loaded
    expect(loaded.filter(isAiSdk)).toEqual([]);
  });

  it('the probe does see an AI SDK package when one is imported', () => {
    const loaded = packagesLoadedBy(fileURLToPath(new URL('../../node_modules/ai/dist/index.js', import.meta.url)));
    expect(loaded).toContain('@ai-sdk/provider');
  });
});
