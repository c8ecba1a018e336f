/**
 * LiteLLM as a measured peer (`npm run bench -- --peers litellm`): a Python venv under
 * ~/.cache/bulwark-tools/venv-litellm (never committed) with the pinned packages of
 * bench/litellm/requirements.txt, and bench/litellm/peer.py run in it, one scenario per process,
 * against the fault server's URLs. Recreated when the requirements change; skipped with a reason
 * when Python 3 with venv is absent or pip cannot install.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './paths.js';

const run = promisify(execFile);

const PEER_DIR = path.join(REPO_ROOT, 'bench', 'litellm');
const REQUIREMENTS = path.join(PEER_DIR, 'requirements.txt');
const VENV = path.join(os.homedir(), '.cache', 'bulwark-tools', 'venv-litellm');
const STAMP = path.join(VENV, 'bulwark-requirements.sha256');

export interface LiteLLMPeer {
  /** `litellm 1.110.2, openai 3.60.0, Python 3.11.7` — as installed, for the report. */
  readonly versions: string;
  /** Runs one scenario of peer.py and returns its JSON result. */
  run<T>(scenario: string, input: Record<string, unknown>): Promise<T>;
}

/** The pinned requirement lines (without comments), for the report. */
export function pinnedRequirements(): string[] {
  return readFileSync(REQUIREMENTS, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/** Creates (or reuses) the venv; throws an Error whose message says why LiteLLM cannot be measured. */
export async function startLiteLLMPeer(log: (line: string) => void): Promise<LiteLLMPeer> {
  const systemPython = process.env.BULWARK_PYTHON ?? 'python3';
  const probe = spawnSync(systemPython, ['-c', 'import sys, venv; print(sys.version.split()[0])'], { encoding: 'utf8' });
  if (probe.status !== 0) throw new Error(`no Python 3 with venv (\`${systemPython}\` ${probe.error ? 'not found' : 'failed'}; set BULWARK_PYTHON to use another)`);

  const python = path.join(VENV, 'bin', 'python');
  const wanted = createHash('sha256').update(readFileSync(REQUIREMENTS)).digest('hex');
  const current = existsSync(STAMP) ? readFileSync(STAMP, 'utf8').trim() : '';
  if (current !== wanted || !existsSync(python)) {
    log(`  creating the LiteLLM venv in ${VENV} (${pinnedRequirements().join(', ')}; about a minute)…`);
    rmSync(VENV, { recursive: true, force: true });
    try {
      await run(systemPython, ['-m', 'venv', VENV]);
      await run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--quiet', '-r', REQUIREMENTS], { maxBuffer: 64 * 2 ** 20 });
    } catch (error) {
      rmSync(VENV, { recursive: true, force: true });
      const detail = error instanceof Error && 'stderr' in error ? String((error as { stderr: unknown }).stderr).trim().split('\n').slice(-3).join(' ') : String(error);
      throw new Error(`could not install ${pinnedRequirements().join(', ')} into ${VENV}: ${detail}`);
    }
    writeFileSync(STAMP, `${wanted}\n`);
  }

  const peer = path.join(PEER_DIR, 'peer.py');
  const runScenario = async <T>(scenario: string, input: Record<string, unknown>): Promise<T> => {
    const { stdout } = await run(python, [peer, JSON.stringify({ scenario, ...input })], { cwd: PEER_DIR, maxBuffer: 16 * 2 ** 20, env: { ...process.env, LITELLM_LOCAL_MODEL_COST_MAP: 'True' } });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as T;
  };
  const { versions } = await runScenario<{ versions: Record<string, string> }>('versions', {});
  return { versions: Object.entries(versions).map(([k, v]) => `${k} ${v}`).join(', '), run: runScenario };
}
