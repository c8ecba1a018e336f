/**
 * Starting real backend processes for end-to-end tests: VictoriaMetrics (a PromQL engine
 * that ingests OTLP), Prometheus v3 (OTLP receiver, the shipped `prometheus/prometheus.yml`),
 * the OpenTelemetry Collector built from `otel-collector/builder-config.yaml` running the shipped
 * `otel-collector/config.yaml`, Jaeger v2 (`jaeger/config.yaml`) and redis-server.
 *
 * Every process listens on 127.0.0.1 on free ports, keeps its output in memory (see
 * {@link ManagedProcess.logs}, included in start-up errors) and is killed on
 * {@link ManagedProcess.stop}, on {@link stopAll}, or — as a last resort — when the test
 * worker exits. Typical use:
 *
 * ```ts
 * let vm: VictoriaMetrics;
 * let col: Collector;
 * beforeAll(async () => {
 *   vm = await startVictoriaMetrics();
 *   col = await startCollector({ metricsEndpoint: vm.otlpUrl });
 * });
 * afterAll(() => stopAll());
 * // SDK -> col.otlpHttpUrl + '/v1/metrics' ; then:
 * const series = await vm.waitForQuery('bulwark_requests_total{chain="c"}');
 * ```
 *
 * Binaries come from {@link toolPath} (`scripts/install-tools.sh`); the starters throw when
 * one is missing, so guard the suite with `needTools(...)` from `./tools.ts`.
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { repoRoot, requireTool } from './tools.js';

const MAX_LOG_CHARS = 256 * 1024;

/** A child process started by {@link startProcess}. */
export interface ManagedProcess {
  /** Label used in errors and logs. */
  readonly name: string;
  /** OS process id. */
  readonly pid: number;
  /** Everything the process wrote to stdout and stderr so far (the last 256 KiB). */
  logs(): string;
  /** `true` once the process has exited. */
  readonly exited: boolean;
  /** Resolves with the exit code (or signal name) when the process exits. */
  readonly exit: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs` (default 5000); resolves once it has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** Options of {@link startProcess}. */
export interface StartProcessOptions {
  /** Label used in errors and logs. */
  name: string;
  /** Executable (absolute path). */
  command: string;
  args?: readonly string[];
  /** Extra environment variables, on top of this process's environment. */
  env?: Record<string, string>;
  cwd?: string;
  /** Polled every 100 ms until it resolves true; the process counts as started then. */
  ready: () => Promise<boolean>;
  /** How long to wait for `ready` (default 30 s). */
  readyTimeoutMs?: number;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when a test forgot to stop a process: never leave daemons behind.
  process.once('exit', () => {
    for (const child of running) {
      try {
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

const stoppers = new Set<() => Promise<void>>();

/**
 * Stops every process started through this module that is still running (and removes
 * temporary data directories of the starters). Call it in `afterAll`.
 */
export async function stopAll(): Promise<void> {
  await Promise.all([...stoppers].map((stop) => stop()));
}

/**
 * Spawns a process and waits until `ready()` says it is serving. Throws — after killing it —
 * when it exits first or does not become ready in time; the error includes its output.
 */
export async function startProcess(opts: StartProcessOptions): Promise<ManagedProcess> {
  installExitHook();
  const child = spawn(opts.command, [...(opts.args ?? [])], {
    cwd: opts.cwd ?? repoRoot,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  const append = (chunk: Buffer): void => {
    output += chunk.toString('utf8');
    if (output.length > MAX_LOG_CHARS) output = output.slice(-MAX_LOG_CHARS);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let exited = false;
  const exit = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      running.delete(child);
      resolve(code ?? signal ?? 'unknown');
    });
    child.once('error', (err) => {
      append(Buffer.from(`\n[spawn error] ${err.message}\n`));
      exited = true;
      running.delete(child);
      resolve('spawn-error');
    });
  });

  const stop = async (graceMs = 5000): Promise<void> => {
    stoppers.delete(stopper);
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (!exited) child.kill('SIGKILL');
    }, graceMs);
    await exit;
    clearTimeout(timer);
  };
  const stopper = (): Promise<void> => stop();
  stoppers.add(stopper);

  const handle: ManagedProcess = {
    name: opts.name,
    pid: child.pid ?? -1,
    logs: () => output,
    get exited() {
      return exited;
    },
    exit,
    stop,
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (exited) {
      const code = await exit;
      throw new Error(`${opts.name} exited (${code}) before it was ready:\n${output}`);
    }
    if (await opts.ready().catch(() => false)) return handle;
    if (Date.now() > deadline) {
      await stop(1000);
      throw new Error(`${opts.name} was not ready after ${opts.readyTimeoutMs ?? 30_000} ms:\n${output}`);
    }
    await sleep(100);
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

/** `true` when GET `url` answers 2xx within 1 s. */
export async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Retries a start-up that picked free ports, for the rare case another process grabbed a
 * port between {@link freePort} and the bind.
 */
async function withPortRetry<T>(attempts: number, start: () => Promise<T>): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await start();
    } catch (err) {
      last = err;
      if (!/address already in use|bind:/i.test(String(err))) throw err;
    }
  }
  throw last;
}

// ------------------------------------------------------------------------------ PromQL over HTTP

/** One series of a PromQL instant-query result. */
export interface PromSample {
  metric: Record<string, string>;
  /** `[unix seconds, "value"]` */
  value: [number, string];
}

/** The Prometheus HTTP query API of a running server (VictoriaMetrics or Prometheus). */
export interface PromQueryApi {
  /** Makes everything ingested so far searchable (VictoriaMetrics: `/internal/force_flush`; Prometheus: no-op). */
  flush(): Promise<void>;
  /** PromQL instant query (`/api/v1/query`, uncached), at `time` (unix seconds) or now. Throws on a non-success answer. */
  query(promql: string, time?: number): Promise<PromSample[]>;
  /** PromQL range query (`/api/v1/query_range`); returns the raw `data.result`. */
  queryRange(promql: string, start: number, end: number, step: string): Promise<unknown[]>;
  /**
   * Polls `query(promql)` (flushing first) until `until(result)` holds — by default, until the
   * result is non-empty — and returns that result. Throws with the last result after `timeoutMs`
   * (default 20 s).
   */
  waitForQuery(
    promql: string,
    opts?: { timeoutMs?: number; intervalMs?: number; until?: (r: PromSample[]) => boolean },
  ): Promise<PromSample[]>;
}

/** A {@link PromQueryApi} for the server at `url` (`http://host:port`). */
export function promApi(url: string, flush: () => Promise<void> = async () => {}): PromQueryApi {
  const getJson = async (path: string, params: Record<string, string>): Promise<{ result: unknown[] }> => {
    const qs = new URLSearchParams({ ...params, nocache: '1' });
    const res = await fetch(`${url}${path}?${qs}`, { signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    let body: { status?: string; data?: { result: unknown[] }; error?: string } = {};
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON: reported below */
    }
    if (!res.ok || body.status !== 'success') {
      throw new Error(`${url}${path} ${JSON.stringify(params)}: HTTP ${res.status} ${body.error ?? text.slice(0, 500)}`);
    }
    return { result: body.data?.result ?? [] };
  };
  const query = async (promql: string, time?: number): Promise<PromSample[]> => {
    const params: Record<string, string> = { query: promql };
    if (time !== undefined) params.time = String(time);
    return (await getJson('/api/v1/query', params)).result as PromSample[];
  };
  return {
    flush,
    query,
    queryRange: async (promql, start, end, step) =>
      (await getJson('/api/v1/query_range', { query: promql, start: String(start), end: String(end), step })).result,
    waitForQuery: async (promql, o = {}) => {
      const until = o.until ?? ((r: PromSample[]) => r.length > 0);
      const deadline = Date.now() + (o.timeoutMs ?? 20_000);
      let last: PromSample[] = [];
      for (;;) {
        await flush();
        last = await query(promql);
        if (until(last)) return last;
        if (Date.now() > deadline) {
          throw new Error(`${url}: \`${promql}\` did not reach the expected result in time; last result: ${JSON.stringify(last)}`);
        }
        await sleep(o.intervalMs ?? 250);
      }
    },
  };
}

// ------------------------------------------------------------------------------ VictoriaMetrics

/** A running single-node VictoriaMetrics (see {@link startVictoriaMetrics}). */
export interface VictoriaMetrics extends PromQueryApi {
  readonly process: ManagedProcess;
  readonly port: number;
  /** `http://127.0.0.1:PORT` — Prometheus-compatible API under `/api/v1/...`. */
  readonly url: string;
  /**
   * Base URL of its OTLP receiver, `http://127.0.0.1:PORT/opentelemetry`: what the collector's
   * `otlp_http` exporter takes (`PROMETHEUS_OTLP_ENDPOINT`); it appends `/v1/metrics`.
   */
  readonly otlpUrl: string;
  /** `.../opentelemetry/v1/metrics`: the URL for an SDK `OTLPMetricExporter` (protobuf) sending directly. */
  readonly otlpMetricsUrl: string;
  /** Stops it and deletes its data directory. */
  stop(): Promise<void>;
}

/** Options of {@link startVictoriaMetrics}. */
export interface VictoriaMetricsOptions {
  /** Extra command-line flags, e.g. `['-retentionPeriod=100y']` to backfill old samples. */
  extraArgs?: string[];
}

/**
 * Starts VictoriaMetrics on a free 127.0.0.1 port with a fresh data directory, tuned for tests:
 * OTLP names converted to Prometheus names (`-opentelemetry.usePrometheusNaming`: `bulwark.requests`
 * `{request}` counter → `bulwark_requests_total`, seconds histogram → `..._seconds_bucket`,
 * resource `service.name` → label `service_name`), data visible to queries at once
 * (`-search.latencyOffset=0s`, `-search.disableCache`, `-inmemoryDataFlushInterval=1s`).
 */
export async function startVictoriaMetrics(opts: VictoriaMetricsOptions = {}): Promise<VictoriaMetrics> {
  const bin = requireTool('victoria-metrics-prod');
  return withPortRetry(3, async () => {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'bulwark-vm-'));
    const url = `http://127.0.0.1:${port}`;
    let proc: ManagedProcess;
    try {
      proc = await startProcess({
        name: `victoria-metrics :${port}`,
        command: bin,
        args: [
          `-httpListenAddr=127.0.0.1:${port}`,
          `-storageDataPath=${dataDir}`,
          '-opentelemetry.usePrometheusNaming',
          '-search.latencyOffset=0s',
          '-search.disableCache',
          '-inmemoryDataFlushInterval=1s',
          ...(opts.extraArgs ?? []),
        ],
        ready: () => httpOk(`${url}/health`),
      });
    } catch (err) {
      rmSync(dataDir, { recursive: true, force: true });
      throw err;
    }

    const api = promApi(url, async () => {
      await fetch(`${url}/internal/force_flush`, { signal: AbortSignal.timeout(10_000) }).then((r) => r.arrayBuffer());
    });
    const vm: VictoriaMetrics = {
      process: proc,
      port,
      url,
      otlpUrl: `${url}/opentelemetry`,
      otlpMetricsUrl: `${url}/opentelemetry/v1/metrics`,
      ...api,
      stop: stopAndRemove(proc, dataDir),
    };
    return vm;
  });
}

/** A stop function (registered with {@link stopAll}) that stops `proc`, then deletes `dir`. */
function stopAndRemove(proc: ManagedProcess, dir: string): () => Promise<void> {
  const stop = async (): Promise<void> => {
    stoppers.delete(stop);
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  stoppers.add(stop);
  return stop;
}

// ------------------------------------------------------------------------------ Prometheus v3

/** A running Prometheus v3 (see {@link startPrometheus}). */
export interface Prometheus extends PromQueryApi {
  readonly process: ManagedProcess;
  readonly port: number;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /**
   * Base URL of its OTLP receiver, `http://127.0.0.1:PORT/api/v1/otlp`: what the collector's
   * `otlp_http` exporter takes (`PROMETHEUS_OTLP_ENDPOINT`); it appends `/v1/metrics`.
   */
  readonly otlpUrl: string;
  /** `.../api/v1/otlp/v1/metrics`: the URL for an SDK `OTLPMetricExporter` (protobuf) sending directly. */
  readonly otlpMetricsUrl: string;
  /** The config file it runs (the shipped one, or the rewritten copy when `ruleFiles` was given). */
  readonly configFile: string;
  /** Stops it and deletes its data directory. */
  stop(): Promise<void>;
}

/** Options of {@link startPrometheus}. */
export interface PrometheusOptions {
  /** Config file; default the shipped `prometheus/prometheus.yml` (as docker-compose.yml mounts it). */
  config?: string;
  /**
   * Rule files (absolute paths or globs) to load instead of the config's `rule_files` (which name
   * the container path `/etc/prometheus/rules/*.yml`); the config is copied with this one change.
   */
  ruleFiles?: string[];
  /** Overrides `global.evaluation_interval` in the copied config (e.g. `'1s'`); needs `ruleFiles`. */
  evaluationInterval?: string;
  /** Extra command-line flags. */
  extraArgs?: string[];
}

/** The `--enable-feature=...` flags of the prometheus service in docker-compose.yml (the stack runs them; so do the tests). */
export function composePrometheusFeatures(): string[] {
  const compose = parseYaml(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8')) as { services: { prometheus: { command: string[] } } };
  return compose.services.prometheus.command.filter((a) => a.startsWith('--enable-feature='));
}

/**
 * Starts Prometheus v3 (built by `scripts/install-tools.sh` from the version docker-compose.yml pins)
 * with the shipped `prometheus/prometheus.yml`, `--web.enable-otlp-receiver` and the compose file's
 * `--enable-feature` flags, as the compose stack runs it, on a free 127.0.0.1 port with a fresh TSDB. Its scrape targets and Alertmanager (compose
 * service names) do not resolve here; that only produces log lines.
 */
export async function startPrometheus(opts: PrometheusOptions = {}): Promise<Prometheus> {
  const bin = requireTool('prometheus');
  return withPortRetry(3, async () => {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'bulwark-prom-'));
    const url = `http://127.0.0.1:${port}`;
    let configFile = opts.config ?? join(repoRoot, 'prometheus', 'prometheus.yml');
    if (opts.ruleFiles) {
      const cfg = parseYaml(readFileSync(configFile, 'utf8')) as Record<string, any>;
      cfg.rule_files = opts.ruleFiles;
      if (opts.evaluationInterval) cfg.global = { ...cfg.global, evaluation_interval: opts.evaluationInterval };
      configFile = join(dataDir, 'prometheus.yml');
      writeFileSync(configFile, stringifyYaml(cfg));
    }
    let proc: ManagedProcess;
    try {
      proc = await startProcess({
        name: `prometheus :${port}`,
        command: bin,
        args: [
          `--config.file=${configFile}`,
          `--storage.tsdb.path=${join(dataDir, 'tsdb')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--web.enable-otlp-receiver',
          ...composePrometheusFeatures(),
          ...(opts.extraArgs ?? []),
        ],
        ready: () => httpOk(`${url}/-/ready`),
      });
    } catch (err) {
      rmSync(dataDir, { recursive: true, force: true });
      throw err;
    }
    const prom: Prometheus = {
      process: proc,
      port,
      url,
      otlpUrl: `${url}/api/v1/otlp`,
      otlpMetricsUrl: `${url}/api/v1/otlp/v1/metrics`,
      configFile,
      ...promApi(url),
      stop: stopAndRemove(proc, dataDir),
    };
    return prom;
  });
}

// ------------------------------------------------------------------------------ OpenTelemetry Collector

/** A running collector (see {@link startCollector}). */
export interface Collector {
  readonly process: ManagedProcess;
  /** OTLP/HTTP receiver base URL, `http://127.0.0.1:PORT` (SDK exporters: `+ '/v1/metrics'`, `+ '/v1/traces'`). */
  readonly otlpHttpUrl: string;
  /** OTLP/gRPC receiver address, `127.0.0.1:PORT`. */
  readonly otlpGrpcEndpoint: string;
  /** health_check extension URL (200 when ready). */
  readonly healthUrl: string;
  /** The collector's own metrics, Prometheus text format (`otelcol_*`). */
  readonly selfMetricsUrl: string;
  stop(): Promise<void>;
}

/** Options of {@link startCollector}. */
export interface CollectorOptions {
  /**
   * Base URL of the OTLP/HTTP metrics backend (`PROMETHEUS_OTLP_ENDPOINT`), e.g.
   * {@link VictoriaMetrics.otlpUrl} or `http://127.0.0.1:9090/api/v1/otlp` for Prometheus.
   */
  metricsEndpoint: string;
  /** OTLP/gRPC traces backend `host:port` (`TEMPO_OTLP_ENDPOINT`); default: a closed local port (traces are dropped). */
  tracesEndpoint?: string;
  /** Config file; default the shipped `otel-collector/config.yaml`. */
  config?: string;
  /** More environment variables for the config (e.g. `OTELCOL_BATCH_TIMEOUT`). */
  env?: Record<string, string>;
}

/**
 * Starts the collector built by `scripts/install-tools.sh` (`otelcol-bulwark`) with the shipped
 * config, every listener on a free 127.0.0.1 port, metrics exported to `metricsEndpoint`, a 200 ms
 * batch timeout; ready when its health_check answers.
 */
export async function startCollector(opts: CollectorOptions): Promise<Collector> {
  const bin = requireTool('otelcol-bulwark');
  return withPortRetry(3, async () => {
    const [grpc, http, health, self, traces] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    const healthUrl = `http://127.0.0.1:${health}/`;
    const proc = await startProcess({
      name: `otelcol-bulwark :${http}`,
      command: bin,
      args: [`--config=${opts.config ?? join(repoRoot, 'otel-collector', 'config.yaml')}`],
      env: {
        OTELCOL_OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
        OTELCOL_OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
        OTELCOL_HEALTH_ENDPOINT: `127.0.0.1:${health}`,
        OTELCOL_METRICS_HOST: '127.0.0.1',
        OTELCOL_METRICS_PORT: String(self),
        PROMETHEUS_OTLP_ENDPOINT: opts.metricsEndpoint,
        TEMPO_OTLP_ENDPOINT: opts.tracesEndpoint ?? `127.0.0.1:${traces}`,
        OTELCOL_BATCH_TIMEOUT: '200ms',
        ...opts.env,
      },
      ready: () => httpOk(healthUrl),
    });
    const col: Collector = {
      process: proc,
      otlpHttpUrl: `http://127.0.0.1:${http}`,
      otlpGrpcEndpoint: `127.0.0.1:${grpc}`,
      healthUrl,
      selfMetricsUrl: `http://127.0.0.1:${self}/metrics`,
      stop: () => proc.stop(),
    };
    return col;
  });
}

// ------------------------------------------------------------------------------ Jaeger v2

/** A running Jaeger v2 with in-memory storage (see {@link startJaeger}). */
export interface Jaeger {
  readonly process: ManagedProcess;
  /** OTLP/gRPC receiver `127.0.0.1:PORT`: what the collector's traces exporter takes (`TEMPO_OTLP_ENDPOINT`). */
  readonly otlpGrpcEndpoint: string;
  /** Query API base URL `http://127.0.0.1:PORT` (`/api/v3/traces/{traceId}`, `/api/traces/{traceId}`). */
  readonly queryUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts Jaeger v2 (built by `scripts/install-tools.sh`) with the repository's `jaeger/config.yaml`
 * (OTLP/gRPC in, in-memory storage, query API), every listener on a free 127.0.0.1 port; ready
 * when its health check answers.
 */
export async function startJaeger(): Promise<Jaeger> {
  const bin = requireTool('jaeger');
  return withPortRetry(3, async () => {
    const [otlp, http, grpc, health, metrics] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    const proc = await startProcess({
      name: `jaeger :${http}`,
      command: bin,
      args: ['--config', join(repoRoot, 'jaeger', 'config.yaml')],
      env: {
        JAEGER_OTLP_GRPC_ENDPOINT: `127.0.0.1:${otlp}`,
        JAEGER_QUERY_HTTP_ENDPOINT: `127.0.0.1:${http}`,
        JAEGER_QUERY_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
        JAEGER_HEALTH_ENDPOINT: `127.0.0.1:${health}`,
        JAEGER_METRICS_PORT: String(metrics),
      },
      ready: () => httpOk(`http://127.0.0.1:${health}/status`),
    });
    return { process: proc, otlpGrpcEndpoint: `127.0.0.1:${otlp}`, queryUrl: `http://127.0.0.1:${http}`, stop: () => proc.stop() };
  });
}

// ------------------------------------------------------------------------------ Redis

/** A running redis-server (see {@link startRedis}). */
export interface Redis {
  readonly process: ManagedProcess;
  readonly port: number;
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
  stop(): Promise<void>;
}

async function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    let buf = '';
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('error', () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
  });
}

/** Starts an ephemeral redis-server (no persistence) on a free 127.0.0.1 port. */
export async function startRedis(): Promise<Redis> {
  const bin = requireTool('redis-server');
  return withPortRetry(3, async () => {
    const port = await freePort();
    const proc = await startProcess({
      name: `redis-server :${port}`,
      command: bin,
      args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
      ready: () => redisPing(port),
    });
    return { process: proc, port, url: `redis://127.0.0.1:${port}`, stop: () => proc.stop() };
  });
}
