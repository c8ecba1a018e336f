/**
 * `npm run demo` — the embedded default: nothing but Node.
 *
 *   npm run demo                          # 75 s incident against the in-process fault server
 *   npm run demo -- --duration 20         # the same story, scaled to 20 s
 *   npm run demo -- --otlp                # also export to the compose stack (http://localhost:4318)
 *   npm run demo -- --otlp http://host:4318
 *   npm run demo -- --live                # real providers (OPENAI_API_KEY, ANTHROPIC_API_KEY)
 *
 * Options: --duration <s>, --conversations <n>, --seed <n>, --otlp [endpoint], --live, --plain.
 * OTEL_EXPORTER_OTLP_ENDPOINT in the environment turns export on as --otlp does.
 */
import { parseArgs } from 'node:util';
import { startTelemetry, type TelemetryHandle } from '../src/otel/index.js';
import { DEFAULT_DURATION_SEC } from './incident.js';
import { MissingKeysError } from './live.js';
import { summarize } from './summary.js';
import { plainView, terminalView } from './view.js';
import { runDemo } from './workload.js';
import { collectorProblem } from './collector.js';

const HELP = `Usage: npm run demo -- [options]

  --duration <seconds>   length of the incident script (default ${DEFAULT_DURATION_SEC}); every phase scales with it
  --conversations <n>    concurrent agent conversations (default 12; 3 with --live)
  --seed <n>             seed of the fault server and the workload (default 7)
  --otlp [endpoint]      export spans and metrics over OTLP/HTTP (default endpoint http://localhost:4318,
                         or OTEL_EXPORTER_OTLP_ENDPOINT, which also turns export on by itself)
  --live                 run against the real providers (needs OPENAI_API_KEY and ANTHROPIC_API_KEY)
  --plain                plain lines even on a terminal
  --help`;

interface Cli {
  durationSec: number;
  conversations: number | undefined;
  seed: number | undefined;
  otlp: string | true | undefined;
  live: boolean;
  plain: boolean;
}

function positiveNumber(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} must be a positive number, got '${raw}'`);
  return n;
}

function parseCli(argv: string[]): Cli | undefined {
  // `--otlp` takes an optional value: `--otlp` alone, or `--otlp http://…`.
  const args = [...argv];
  let otlp: string | true | undefined;
  const at = args.indexOf('--otlp');
  if (at !== -1) {
    const next = args[at + 1];
    if (next !== undefined && !next.startsWith('--')) {
      otlp = next;
      args.splice(at, 2);
    } else {
      otlp = true;
      args.splice(at, 1);
    }
  }
  const { values } = parseArgs({
    args,
    options: {
      duration: { type: 'string' },
      conversations: { type: 'string' },
      seed: { type: 'string' },
      live: { type: 'boolean', default: false },
      plain: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) return undefined;
  const conversations = positiveNumber('--conversations', values.conversations);
  return {
    durationSec: positiveNumber('--duration', values.duration) ?? DEFAULT_DURATION_SEC,
    conversations: conversations === undefined ? undefined : Math.round(conversations),
    seed: values.seed === undefined ? undefined : Number(values.seed),
    otlp,
    live: values.live,
    plain: values.plain,
  };
}

async function main(): Promise<number> {
  let cli: Cli | undefined;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (!cli) {
    console.log(HELP);
    return 0;
  }

  const log = (line: string) => process.stdout.write(`${line}\n`);
  const endpointFromEnv = process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  let telemetry: TelemetryHandle | undefined;
  if (cli.otlp !== undefined || endpointFromEnv) {
    const endpoint = typeof cli.otlp === 'string' ? cli.otlp : (endpointFromEnv ?? 'http://localhost:4318');
    // Exemplars on the latency panels: metrics as OTLP/HTTP JSON, unless the user chose a protocol.
    const protocolChosen = ['OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL'].some((k) => process.env[k]);
    telemetry = await startTelemetry({
      serviceName: process.env['OTEL_SERVICE_NAME'] ?? 'bulwark-demo',
      environment: 'demo',
      endpoint,
      metricExportIntervalMs: 5000,
      ...(protocolChosen ? {} : { exemplars: true }),
    });
    const problem = await collectorProblem(endpoint);
    if (problem) console.error(problem);
    else log(`OpenTelemetry: exporting spans and metrics to ${endpoint} (OTLP/HTTP${protocolChosen ? '' : ', metrics with exemplars'}) every 5 s`);
  }

  const stop = new AbortController();
  const onSigint = () => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
  };
  process.on('SIGINT', onSigint);

  const tty = process.stdout.isTTY === true && !cli.plain;
  try {
    const report = await runDemo({
      durationSec: cli.durationSec,
      live: cli.live,
      signal: stop.signal,
      view: tty ? terminalView(process.stdout) : plainView(log),
      ...(cli.conversations !== undefined && { conversations: cli.conversations }),
      ...(cli.seed !== undefined && { seed: cli.seed }),
    });
    for (const line of summarize(report)) log(line);
    if (report.unhandledRejections.length > 0) {
      console.error('Unhandled rejections:', report.unhandledRejections);
      return 1;
    }
    return 0;
  } catch (error) {
    if (error instanceof MissingKeysError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  } finally {
    process.off('SIGINT', onSigint);
    await telemetry?.shutdown();
  }
}

process.exitCode = await main();
