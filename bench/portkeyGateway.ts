/**
 * The Portkey AI gateway (@portkey-ai/gateway from npm, pinned as a dev dependency), run locally as
 * its own Node process, and the fallback configs the benchmark sends it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { sleep } from './measure.js';
import { REPO_ROOT } from './paths.js';

const START_SCRIPT = path.join(REPO_ROOT, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');

export interface PortkeyGateway {
  readonly url: string;
  /** The header that makes the gateway fall back from one target to the next. */
  fallbackHeader(customHosts: readonly string[], options?: { retryAttempts?: number }): Record<string, string>;
  /** Which target answered (from `x-portkey-last-used-option-index`, e.g. `config.targets[1]`). */
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export const FALLBACK_STATUS_CODES = [429, 500, 502, 503, 504];

export async function startPortkeyGateway(): Promise<PortkeyGateway> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [START_SCRIPT, `--port=${port}`, '--headless'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(3000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  };
  process.once('exit', () => child.kill('SIGKILL'));

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the Portkey gateway exited with code ${child.exitCode}:\n${output}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) {
        await res.text();
        break;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await kill();
      throw new Error(`the Portkey gateway did not answer on ${url} within 30 s:\n${output}`);
    }
    await sleep(100);
  }

  return {
    url,
    fallbackHeader(customHosts, options = {}) {
      const config = {
        strategy: { mode: 'fallback', on_status_codes: FALLBACK_STATUS_CODES },
        ...(options.retryAttempts ? { retry: { attempts: options.retryAttempts, on_status_codes: FALLBACK_STATUS_CODES } } : {}),
        targets: customHosts.map((host) => ({ provider: 'openai', api_key: 'bench-key', custom_host: host })),
      };
      return { 'x-portkey-config': JSON.stringify(config) };
    },
    close: kill,
  };
}
