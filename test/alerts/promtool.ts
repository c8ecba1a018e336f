/**
 * Locates promtool (2.53, unpacked from Debian's .deb by scripts/install-tools.sh). Order: $PROMTOOL,
 * test/support/tools.ts's toolPath('promtool') when that helper exists, the tools cache
 * ($BULWARK_TOOLS_DIR, default ~/.cache/bulwark-tools: bin/ or the unpacked root/usr/bin/), then $PATH.
 * Loaded dynamically so these tests do not break if the shared helper moves.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');

export async function findPromtool(): Promise<string | undefined> {
  const fromEnv = process.env.PROMTOOL;
  if (fromEnv) return fromEnv;
  const support = join(REPO_ROOT, 'test/support/tools.ts');
  if (existsSync(support)) {
    try {
      const mod = (await import(pathToFileURL(support).href)) as { toolPath?: (name: string) => string | undefined };
      const path = mod.toolPath?.('promtool');
      if (path && existsSync(path)) return path;
    } catch {
      // fall through to the known locations
    }
  }
  const cache = resolve(process.env.BULWARK_TOOLS_DIR || join(homedir(), '.cache/bulwark-tools'));
  const candidates = [
    join(cache, 'bin/promtool'),
    join(cache, 'root/usr/bin/promtool'),
    ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'promtool')),
  ];
  return candidates.find((p) => existsSync(p));
}

/** Same rule as test/support/tools.ts: CI set to anything but '', '0' or 'false'. */
export const isCI: boolean = !!process.env.CI && !['0', 'false'].includes(process.env.CI.toLowerCase());

export interface RunResult {
  code: number;
  output: string;
}

export async function runPromtool(promtool: string, args: string[]): Promise<RunResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(promtool, args, { cwd: REPO_ROOT, timeout: 60_000 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string; message: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}${e.message}` };
  }
}
