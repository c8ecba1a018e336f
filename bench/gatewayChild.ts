/**
 * The Bulwark gateway as the benchmark runs it: its own process (as deployed), forked by the gateway
 * suite with an IPC channel. `createGateway` over one chain with the default config (cache on failure,
 * breakers, budgets) whose single target is the official `openai` client on a fault-server route (and one alias, `slow-stream`, on a second route),
 * telemetry on with the real SDK (bench/telemetry.ts: batch span processor, periodic metric reader,
 * no-op exporters), the JSON access log on (to stdout, which the suite discards). Sends
 * `{ url, key }` once listening; answers the probe messages (CPU, memory, CPU profile: bench/childProbe.ts);
 * SIGTERM drains and exits.
 */
import { createHash } from 'node:crypto';
import OpenAI from 'openai';
import { openaiTarget } from '../src/index.js';
import { createGateway } from '../src/gateway/index.js';
import { serveProbe } from './childProbe.js';
import { startBenchTelemetry } from './telemetry.js';

const [upstream, streamUpstream] = process.argv.slice(2);
if (!upstream || !streamUpstream || !process.send) throw new Error('run by bench/suites/gateway.ts: fork(gatewayChild, [upstreamBaseURL, streamUpstreamBaseURL])');
const target = (baseURL: string) => openaiTarget({ client: new OpenAI({ apiKey: 'bench-key', baseURL, maxRetries: 0 }), model: 'gpt-4o' });

const KEY = 'bench-gateway-key-0123456789';
const telemetry = startBenchTelemetry();
const gateway = createGateway({
  chains: {
    bench: { targets: [target(upstream)] },
    // The same on a route whose answers stream slowly, for the open-streams measurement.
    slow: { targets: [target(streamUpstream)] },
  },
  routes: { 'gpt-4o': 'bench', 'slow-stream': 'slow' },
  clients: [{ name: 'bench', keyHash: createHash('sha256').update(KEY).digest('hex') }],
});
const address = await gateway.listen(0, '127.0.0.1');
process.send({ url: address.url, key: KEY });
serveProbe();
process.once('SIGTERM', () => {
  void gateway
    .close({ drainMs: 1000 })
    .then(() => telemetry.shutdown())
    .finally(() => process.exit(0));
});
