/**
 * Worker processes for the multi-process tests: each is `node --import tsx test/state/worker.ts`
 * talking over IPC. `call` sends one command and resolves with its result.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../support/tools.js';
import type { Command } from './worker.js';

const workerPath = fileURLToPath(new URL('./worker.ts', import.meta.url));

export interface Worker {
  readonly pid: number;
  call<T = unknown>(command: Command, timeoutMs?: number): Promise<T>;
  /** stdout + stderr so far, for failure messages. */
  logs(): string;
  close(): Promise<void>;
}

export async function spawnWorker(): Promise<Worker> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', workerPath], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, OTEL_SDK_DISABLED: 'true' },
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let seq = 0;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    for (const p of pending.values()) p.reject(new Error(`worker ${child.pid} exited:\n${output}`));
    pending.clear();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${output}`)), 15_000);
    child.on('message', (raw: unknown) => {
      const msg = raw as { ready?: boolean; id?: number; ok?: boolean; result?: unknown; error?: string };
      if (msg.ready) {
        clearTimeout(timer);
        resolve();
        return;
      }
      const p = msg.id === undefined ? undefined : pending.get(msg.id);
      if (!p || msg.id === undefined) return;
      pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new Error(`worker ${child.pid}: ${msg.error}`));
    });
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready:\n${output}`)));
  });
  function call<T>(command: Command, timeoutMs = 10_000): Promise<T> {
      const id = ++seq;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`worker ${child.pid}: '${command.cmd}' took over ${timeoutMs} ms\n${output}`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as T);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        child.send({ id, command });
      });
  }
  return {
    pid: child.pid ?? -1,
    logs: () => output,
    call,
    async close() {
      if (child.exitCode !== null) return;
      await Promise.race([call({ cmd: 'close' }, 5_000).catch(() => undefined), exited]);
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Polls `check` (every 20 ms) until it returns a truthy value; throws with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
      last = v;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
