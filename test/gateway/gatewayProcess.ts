/**
 * The gateway as a real process for the process tests: `node --import tsx src/gateway/cli.ts
 * gateway --config <file>` (the same module the `bulwark` bin runs from dist/), with the port it
 * bound read from its "listening on" line. stdout carries the JSON access log, stderr the status
 * lines; both are kept for assertions and failure messages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify as stringifyYaml } from 'yaml';
import { repoRoot } from '../support/tools.js';

export const cliPath = fileURLToPath(new URL('../../src/gateway/cli.ts', import.meta.url));

export interface GatewayProcess {
  readonly pid: number;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** Resolves with the exit code (or the signal that ended it). */
  readonly exit: Promise<number | NodeJS.Signals>;
  stdout(): string;
  stderr(): string;
  /** The access log so far, one object per line of stdout. */
  accessLog(): Array<Record<string, unknown>>;
  /** Sends a signal; resolves immediately. */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<number | NodeJS.Signals>;
}

export interface RunResult {
  code: number | NodeJS.Signals;
  stdout: string;
  stderr: string;
}

function spawnCli(args: readonly string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', cliPath, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Only what the test gives, plus what Node needs: the gateway must not pick up a key from the test's environment.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', OTEL_SDK_DISABLED: 'true', ...env },
  });
}

function exitOf(child: ChildProcess): Promise<number | NodeJS.Signals> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
}

/** Runs the CLI to completion (a config check, a bad config); killed (SIGKILL) if still running after `limitMs`. */
export async function runCli(args: readonly string[], env: Record<string, string> = {}, limitMs = 20_000): Promise<RunResult> {
  const child = spawnCli(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const code = await exitOf(child);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Starts `bulwark gateway --config <file> --port 0` and waits for its "listening on" line. */
export async function startGatewayProcess(configFile: string, env: Record<string, string> = {}, extraArgs: readonly string[] = []): Promise<GatewayProcess> {
  const child = spawnCli(['gateway', '--config', configFile, '--port', '0', ...extraArgs], env);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exit = exitOf(child);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start within 20 s:\n${err}\n${out}`)), 20_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited (${code}) before listening:\n${err}\n${out}`));
    });
  });
  return {
    pid: child.pid!,
    url,
    exit,
    stdout: () => out,
    stderr: () => err,
    accessLog: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    signal: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exit;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
  };
}

/** SHA-256 hex of a key, as `clients[].keyHash` wants it. */
export function sha256(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Writes a config object as a YAML file in `dir` and returns its path. */
export function writeConfigFile(dir: string, name: string, config: object): string {
  const path = join(dir, name);
  writeFileSync(path, stringifyYaml(config));
  return path;
}
