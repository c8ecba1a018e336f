#!/usr/bin/env node
/**
 * `npx bulwark gateway --config bulwark.config.yaml` — the gateway as a process.
 *
 * Reads the config file (loadConfig.ts: YAML, JSON, JS or TS; keys from the environment only),
 * starts OpenTelemetry when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, serves until SIGTERM or SIGINT,
 * then drains: stops accepting, lets in-flight requests and streams finish (up to the drain
 * timeout), flushes telemetry and exits 0. A bad config is one line on stderr naming the field and
 * exit code 1, before anything listens.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError } from '../errors/bulwarkError.js';
import type { TelemetryHandle } from '../otel/index.js';
import { loadGatewayConfig } from './loadConfig.js';
import { createGateway } from './server.js';

const USAGE = `usage: bulwark gateway --config <bulwark.config.yaml|json|js|ts> [--host <host>] [--port <port>] [--check]

  --config  the gateway's config file (chains, routes, clients; keys as env:NAME)
  --host    listen address (overrides server.host; default 127.0.0.1)
  --port    listen port (overrides server.port; default 8787; 0 picks a free one)
  --check   check the config file (every field, every env:NAME), print "config ok" and exit

Environment: the variables the config names (env:OPENAI_API_KEY, …); OTEL_EXPORTER_OTLP_ENDPOINT
(and the other OTEL_* variables) to export traces and metrics; OTEL_SERVICE_NAME (default bulwark-gateway).
SIGTERM / SIGINT drain in-flight requests and streams (server.drainTimeoutMs), flush telemetry and exit 0.`;

/** Exit codes: 0 after a drain, 1 for a bad config (or a failure to start), 2 for bad usage. */
export const EXIT = { ok: 0, config: 1, usage: 2 } as const;

interface Io {
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  /** Plain status lines (listening, draining, stopped). stdout carries the JSON access log. */
  log(line: string): void;
}

/** Runs the CLI; resolves with the exit code once the gateway has stopped (or failed to start). */
export async function main(io: Io): Promise<number> {
  const [command, ...rest] = io.argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    io.log(USAGE);
    return EXIT.ok;
  }
  if (command !== 'gateway') {
    io.log(`bulwark: ${command === undefined ? 'a command is required' : `unknown command '${command}'`}\n${USAGE}`);
    return EXIT.usage;
  }
  let args: { config?: string | undefined; host?: string | undefined; port?: string | undefined; check?: boolean | undefined; help?: boolean | undefined };
  try {
    args = parseArgs({
      args: [...rest],
      options: { config: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' }, check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }).values;
  } catch (error) {
    io.log(`bulwark gateway: ${(error as Error).message}\n${USAGE}`);
    return EXIT.usage;
  }
  if (args.help) {
    io.log(USAGE);
    return EXIT.ok;
  }
  if (!args.config) {
    io.log(`bulwark gateway: --config is required\n${USAGE}`);
    return EXIT.usage;
  }
  const port = args.port === undefined ? undefined : Number(args.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65_535)) {
    io.log(`bulwark gateway: --port must be an integer from 0 to 65535, got '${args.port}'`);
    return EXIT.usage;
  }

  // Before any chain exists, so every instrument binds to the SDK's providers.
  const telemetry = io.env.OTEL_EXPORTER_OTLP_ENDPOINT && !args.check ? await startTelemetryFor(io) : undefined;
  let loaded: Awaited<ReturnType<typeof loadGatewayConfig>> | undefined;
  let gateway: ReturnType<typeof createGateway>;
  try {
    loaded = await loadGatewayConfig(args.config, { env: io.env });
    const config = loaded.config;
    if (args.host !== undefined || port !== undefined) {
      config.server = { ...config.server, ...(args.host !== undefined && { host: args.host }), ...(port !== undefined && { port }) };
    }
    gateway = createGateway(config);
  } catch (error) {
    await loaded?.close();
    await telemetry?.shutdown();
    if (error instanceof ConfigError) {
      io.log(`bulwark gateway: ${args.config}: ${error.message}`);
      return EXIT.config;
    }
    throw error;
  }
  if (args.check) {
    await gateway.close({ drainMs: 0 });
    await loaded.close();
    io.log(`bulwark gateway: ${args.config}: config ok`);
    return EXIT.ok;
  }

  let stopping = false;
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        // A second signal: the operator means it. Leave now, without waiting for the drain.
        io.log(`bulwark gateway: ${signal} again, exiting without waiting for the drain`);
        process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
      }
      stopping = true;
      io.log(`bulwark gateway: ${signal}, draining in-flight requests`);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  const shutdown = async () => {
    await gateway.close();
    await telemetry?.shutdown();
    await loaded!.close();
  };
  try {
    const address = await gateway.listen();
    io.log(`bulwark gateway: listening on ${address.url} (models: ${Object.keys(loaded.config.routes).join(', ')})`);
  } catch (error) {
    io.log(`bulwark gateway: cannot listen: ${(error as Error).message}`);
    await shutdown();
    return EXIT.config;
  }
  await stopped;
  await shutdown();
  io.log('bulwark gateway: stopped');
  return EXIT.ok;
}

async function startTelemetryFor(io: Io): Promise<TelemetryHandle> {
  const { startTelemetry } = await import('../otel/index.js');
  return startTelemetry({ serviceName: io.env.OTEL_SERVICE_NAME || 'bulwark-gateway' });
}

/** True when this module is the process's entry point (the `bulwark` bin, or `node cli.js`). */
function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main({ argv: process.argv.slice(2), env: process.env, log: (line) => process.stderr.write(`${line}\n`) }).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`bulwark gateway: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
