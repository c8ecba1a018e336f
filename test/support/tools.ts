/**
 * Locating the external tools the tests run: VictoriaMetrics (`victoria-metrics-prod`, 1.112),
 * `promtool` (Debian's 2.53), `promtool-v3` and `prometheus` (v3, built from the version
 * docker-compose.yml pins), `docker-compose`, `amtool`/`alertmanager`, `otelcol-bulwark` (the
 * collector built from otel-collector/builder-config.yaml), `jaeger` (Jaeger v2, a trace store with a
 * query API) and `redis-server`.
 *
 * `scripts/install-tools.sh` installs them into `$BULWARK_TOOLS_DIR/bin`
 * (default `~/.cache/bulwark-tools/bin`); `.ci/run` calls it before the tests.
 *
 * Policy for tests that need a tool: under CI (`CI=true`) a missing tool is a test
 * failure, never a skip; on a developer machine the test may skip, loudly. Use
 * {@link needTools} to get that behaviour:
 *
 * ```ts
 * const tools = needTools('docker-compose');
 * describe.skipIf(tools.skip)('docker-compose.yml', () => {
 *   it('validates', () => {
 *     execFileSync(tools.path('docker-compose'), ['-f', 'docker-compose.yml', 'config', '-q']);
 *   });
 * });
 * ```
 *
 * @module
 */
import { accessSync, appendFileSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Names of the tools `scripts/install-tools.sh` provides. */
export type ToolName =
  | 'victoria-metrics-prod'
  | 'victoria-metrics'
  | 'promtool'
  | 'promtool-v3'
  | 'prometheus'
  | 'docker-compose'
  | 'amtool'
  | 'alertmanager'
  | 'otelcol-bulwark'
  | 'jaeger'
  | 'redis-server';

/** Absolute path of the repository root. */
export const repoRoot: string = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** `true` when running in CI (`CI` set to anything but `''`, `0` or `false`). */
export const isCI: boolean = !!process.env.CI && !['0', 'false'].includes(process.env.CI.toLowerCase());

/** The tool cache: `$BULWARK_TOOLS_DIR`, default `~/.cache/bulwark-tools`. */
export function toolsDir(): string {
  return resolve(process.env.BULWARK_TOOLS_DIR || join(homedir(), '.cache', 'bulwark-tools'));
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Tools that may also come from the system `PATH` (installed system-wide by apt). */
const FROM_PATH: ReadonlySet<ToolName> = new Set(['redis-server']);

/**
 * Absolute path of a tool, or `undefined` when it is not installed.
 *
 * Looks in `$BULWARK_TOOLS_DIR/bin` only (so the tests use the pinned versions the
 * installer put there, not whatever happens to be on `PATH`); `redis-server` may also
 * come from `PATH`. `victoria-metrics-prod` and `victoria-metrics` are the same binary
 * (upstream's release name and Debian's).
 */
export function toolPath(name: ToolName): string | undefined {
  const names: ToolName[] =
    name === 'victoria-metrics-prod' || name === 'victoria-metrics' ? ['victoria-metrics-prod', 'victoria-metrics'] : [name];
  for (const n of names) {
    const p = join(toolsDir(), 'bin', n);
    if (isExecutable(p)) return p;
  }
  if (FROM_PATH.has(name)) {
    for (const dir of (process.env.PATH ?? '').split(delimiter)) {
      if (!dir) continue;
      const p = join(dir, name);
      if (isExecutable(p)) return p;
    }
  }
  return undefined;
}

/**
 * Like {@link toolPath} but throws, with the command that installs it, when missing.
 */
export function requireTool(name: ToolName): string {
  const p = toolPath(name);
  if (!p) {
    throw new Error(
      `${name} is not installed in ${join(toolsDir(), 'bin')}. Run \`bash scripts/install-tools.sh\` ` +
        `(or set BULWARK_TOOLS_DIR to the cache that has it).`,
    );
  }
  return p;
}

/** Result of {@link needTools}. */
export interface NeededTools {
  /** `true` when the tests should be skipped: a tool is missing and this is not CI. */
  readonly skip: boolean;
  /** Tools that are missing. */
  readonly missing: readonly ToolName[];
  /** Path of one of the needed tools; throws (failing the test) when it is missing. */
  path(name: ToolName): string;
}

/**
 * Checks the tools a group of tests needs. Missing tools make `skip` true — with a loud
 * warning — only outside CI; under `CI=true`, `skip` stays false and {@link NeededTools.path}
 * throws inside the test, so the test fails.
 */
export function needTools(...names: ToolName[]): NeededTools {
  const missing = names.filter((n) => !toolPath(n));
  const skip = missing.length > 0 && !isCI;
  if (skip) {
    recordSkip();
    console.warn(
      `\n[bulwark] SKIPPING tests that need ${missing.join(', ')}: not installed in ${join(toolsDir(), 'bin')}. ` +
        `Run \`bash scripts/install-tools.sh\`. (Under CI=true these tests fail instead.)\n`,
    );
  }
  return { skip, missing, path: (name) => requireTool(name) };
}

/** The python of a venv made by `scripts/python-venv.sh <name>` (`$BULWARK_TOOLS_DIR/venv-<name>/bin/python`), if built. */
export function venvPython(name: string): string | undefined {
  const p = join(toolsDir(), `venv-${name}`, 'bin', 'python');
  return isExecutable(p) ? p : undefined;
}

/**
 * {@link needTools} for a Python venv made by `scripts/python-venv.sh <name>` (which
 * `scripts/install-tools.sh` runs): outside CI a missing venv (no python3 on the machine, or the
 * script not run) skips loudly and is counted in the run's closing "skipped for missing tools" line;
 * under `CI=true` the tests fail.
 */
export function needVenv(name: string): { readonly skip: boolean; python(): string } {
  const found = venvPython(name);
  const skip = found === undefined && !isCI;
  if (skip) {
    recordSkip();
    console.warn(
      `\n[bulwark] SKIPPING tests that need the Python venv '${name}' (python3 with the pinned packages of ` +
        `scripts/python/${name}-requirements.txt): not in ${join(toolsDir(), `venv-${name}`)}. Run \`bash scripts/install-tools.sh\` ` +
        `(or \`bash scripts/python-venv.sh ${name}\`). (Under CI=true these tests fail instead.)\n`,
    );
  }
  return {
    skip,
    python: () => {
      const p = venvPython(name);
      if (!p) throw new Error(`the Python venv '${name}' is missing: run \`bash scripts/python-venv.sh ${name}\` (needs python3 with venv)`);
      return p;
    },
  };
}

/**
 * Environment variable naming the directory where {@link needTools} records the test files whose tests it
 * skips; vitest.config.ts sets it and test/support/toolSkipsReporter.ts counts those files' skipped tests.
 */
export const TOOL_SKIPS_ENV = 'BULWARK_TOOL_SKIPS_DIR';

function recordSkip(): void {
  const dir = process.env[TOOL_SKIPS_ENV];
  if (!dir) return;
  // The test file that called needTools: the first frame of the stack in a *.test.ts file.
  const file = /(?:file:\/\/)?(\/[^\s()]+?\.test\.ts)/.exec(new Error().stack ?? '')?.[1];
  if (file) appendFileSync(join(dir, `skips-${process.pid}`), `${file}\n`);
}
