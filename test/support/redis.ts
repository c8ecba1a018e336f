/**
 * A real redis-server for the shared-state tests: on 127.0.0.1, a free port, a temporary
 * directory, no persistence (`--save '' --appendonly no`), stoppable and restartable on the
 * same port (a restart comes back empty, as a Redis without persistence does).
 *
 * `redis-server` comes from `$BULWARK_TOOLS_DIR/bin` or `PATH` (scripts/install-tools.sh
 * installs it with apt), or `/usr/bin/redis-server`. Guard suites with {@link needRedis}:
 * outside CI a missing binary skips them loudly; under `CI=true` they fail.
 */
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type RedisClientType } from 'redis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { freePort, startProcess, type ManagedProcess } from './processes.js';
import { isCI, toolPath } from './tools.js';

export function redisServerPath(): string | undefined {
  const found = toolPath('redis-server');
  if (found) return found;
  try {
    accessSync('/usr/bin/redis-server', constants.X_OK);
    return '/usr/bin/redis-server';
  } catch {
    return undefined;
  }
}

/** `skip` only outside CI; under CI a missing redis-server makes `start` throw, failing the suite. */
export function needRedis(): { skip: boolean } {
  const missing = redisServerPath() === undefined;
  if (missing && !isCI) {
    console.warn('\n[bulwark] SKIPPING shared-state tests: redis-server is not installed (`bash scripts/install-tools.sh`). Under CI=true they fail instead.\n');
  }
  return { skip: missing && !isCI };
}

export interface TestRedisOptions {
  /** `requirepass`. */
  password?: string;
}

export interface TestRedis {
  readonly port: number;
  /** `redis://[:password@]127.0.0.1:PORT` */
  readonly url: string;
  /** A node-redis client connected to it (closed by `stop`). */
  admin(): Promise<RedisClientType>;
  /** Kills the server (SIGKILL: an outage, not a shutdown). */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
  /** Stops it and removes its directory. */
  stop(): Promise<void>;
}

function ping(port: number, password?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    let buf = '';
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('error', () => done(false));
    sock.once('connect', () => sock.write(password ? `AUTH ${password}\r\nPING\r\n` : 'PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('+PONG')) done(true);
      else if (buf.includes('-')) done(false);
    });
  });
}

export async function startTestRedis(options: TestRedisOptions = {}): Promise<TestRedis> {
  const bin = redisServerPath();
  if (!bin) throw new Error('redis-server is not installed: run `bash scripts/install-tools.sh` (apt-get install -y redis-server)');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-redis-'));
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no',
    '--enable-debug-command', 'local',
    ...(options.password ? ['--requirepass', options.password] : []),
  ];
  const start = () =>
    startProcess({ name: `redis-server :${port}`, command: bin, args, ready: () => ping(port, options.password), readyTimeoutMs: 10_000 });
  let proc: ManagedProcess = await start();
  const admins: RedisClientType[] = [];
  const url = `redis://${options.password ? `:${options.password}@` : ''}127.0.0.1:${port}`;
  return {
    port,
    url,
    async admin() {
      const client: RedisClientType = createClient({ url, socket: { reconnectStrategy: 50 } });
      client.on('error', () => undefined);
      await client.connect();
      admins.push(client);
      return client;
    },
    async kill() {
      await proc.stop(0);
    },
    async restart() {
      await proc.stop(0);
      proc = await start();
    },
    async stop() {
      for (const c of admins) c.destroy();
      await proc.stop(1000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * One real Redis for a describe block: started before it, stopped after; `connect()` opens a
 * node-redis client to it (closed after the block); `closers` run after each test.
 * Call it inside the block (it registers the block's hooks).
 */
export interface RedisSuite {
  readonly redis: TestRedis;
  readonly closers: Array<() => Promise<unknown>>;
  connect(url?: string): Promise<RedisClientType>;
}

export function redisForSuite(): RedisSuite {
  const clients: Array<{ destroy(): void }> = [];
  let redis: TestRedis | undefined;
  const suite: RedisSuite = {
    get redis(): TestRedis {
      if (!redis) throw new Error('redisForSuite: Redis is started in beforeAll');
      return redis;
    },
    closers: [],
    async connect(url?: string): Promise<RedisClientType> {
      const client = createClient({ url: url ?? suite.redis.url, socket: { reconnectStrategy: 20 } });
      client.on('error', () => undefined);
      await client.connect();
      clients.push(client);
      return client as RedisClientType;
    },
  };
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterEach(async () => {
    await Promise.allSettled(suite.closers.splice(0).map((c) => c()));
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await redis?.stop();
  });
  return suite;
}
