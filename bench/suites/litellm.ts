/**
 * 4b. LiteLLM's Router (Python, pinned in a venv) on the same fault server: the latency it adds on
 * the happy path against its own direct `openai` Python client, what one fallback hop costs, and
 * throughput and RSS with its mock response (no network). Its outage behaviour is measured side by
 * side with the other contenders in the amplification suite. Runs only with `--peers litellm`.
 */
import { fault } from '../../src/testing/index.js';
import type { BenchContext } from '../context.js';
import { pinnedRequirements } from '../litellmPeer.js';
import type { Section } from '../report.js';

interface Overhead {
  direct_p50: number;
  direct_p99: number;
  router_p50: number;
  added_p50: number;
  added_p99: number;
  ratio_p50: number;
  ratio_p99: number;
}
interface Failover {
  router_hop: number;
  hand_hop: number;
  own_hop: number;
  hop1_p50: number;
  hop1_p99: number;
  hop2_p50: number;
  direct_p50: number;
}
interface Throughput {
  rps: number;
  per_call_p50_us: number;
  per_call_p99_us: number;
  rss_start_mb: number;
  rss_end_mb: number;
  requests: number;
}

export const LITELLM_TITLE = '4b. LiteLLM Router: overhead, failover hop, throughput, RSS';

export async function litellmSuite(ctx: BenchContext): Promise<Section> {
  const title = LITELLM_TITLE;
  if (!ctx.litellm) return { title, how: 'Not measured.', rows: [], notes: [`LiteLLM skipped: ${ctx.litellmError ?? 'not asked for (`--peers litellm`)'}.`] };
  const { server, sizes, litellm } = ctx;
  const base = (route: string) => server.baseURL('openai', route);
  server.script({ route: 'll-down' }, { then: fault.serverError(503) });
  const common = { trials: sizes.peerTrials, iterations: sizes.peerIterations, warmup: sizes.peerWarmup };

  const o = await litellm.run<Overhead>('overhead', { ...common, up: base('ll-up') });
  const f = await litellm.run<Failover>('failover', { ...common, iterations: Math.ceil(sizes.peerIterations / 3), up: base('ll-up'), down: base('ll-down') });
  const t = await litellm.run<Throughput>('throughput', { requests: sizes.peerThroughputRequests, sequential: Math.ceil(sizes.peerThroughputRequests / 5) });

  return {
    title,
    how:
      `${litellm.versions} (pinned: ${pinnedRequirements().join(', ')}), in a venv under ~/.cache/bulwark-tools, \`Router.acompletion\` on one asyncio loop ` +
      'against the same fault server. Overhead: a one-deployment model group against `AsyncOpenAI.chat.completions.create` (the official Python client, ' +
      `retries off) on the same route, interleaved call by call, ${sizes.peerTrials} trials × ${sizes.peerIterations} calls per variant. Failover hop: model groups ` +
      'that fail at once with 503 chained by `fallbacks`, then a healthy one, `num_retries=0`, `disable_cooldowns=True` (every request pays every failed call, as ' +
      "Bulwark's breakers pinned closed in section 2), per hop = (p50 with two hops − p50 with none) / 2, against the same hops by hand with the Python client. " +
      `Throughput: a deployment with \`mock_response\` (no network), ${sizes.peerThroughputRequests.toLocaleString('en-US')} requests from 64 concurrent callers; per call: ` +
      'one call at a time; RSS from /proc/self/status after importing litellm and building the router, and after the run.',
    rows: [
      { name: 'direct official Python client (LiteLLM baseline)', metric: 'p50', value: o.direct_p50, unit: 'ms' },
      { name: 'direct official Python client (LiteLLM baseline)', metric: 'p99', value: o.direct_p99, unit: 'ms' },
      { name: 'LiteLLM Router overhead', metric: 'p50', value: o.router_p50, unit: 'ms' },
      { name: 'LiteLLM Router overhead', metric: 'p50 added', value: o.added_p50, unit: 'ms' },
      { name: 'LiteLLM Router overhead', metric: 'p99 added', value: o.added_p99, unit: 'ms' },
      { name: 'LiteLLM Router overhead', metric: 'p50 ratio', value: o.ratio_p50, unit: 'x' },
      { name: 'LiteLLM Router overhead', metric: 'p99 ratio', value: o.ratio_p99, unit: 'x' },
      { name: 'failover hop, no retries (LiteLLM Router)', metric: 'added per hop, p50', value: f.router_hop, unit: 'ms' },
      { name: 'failover hop by hand (official Python client, try/except)', metric: 'added per hop, p50', value: f.hand_hop, unit: 'ms' },
      { name: "failover hop, LiteLLM's own share", metric: 'added per hop, p50', value: f.own_hop, unit: 'ms' },
      { name: 'failover time: LiteLLM Router (1 fallback)', metric: 'p50', value: f.hop1_p50, unit: 'ms' },
      { name: 'failover time: LiteLLM Router (1 fallback)', metric: 'p99', value: f.hop1_p99, unit: 'ms' },
      { name: 'throughput, LiteLLM Router with mock_response', metric: 'requests per second', value: t.rps, unit: 'req/s' },
      { name: 'cost per call, LiteLLM Router with mock_response', metric: 'p50', value: t.per_call_p50_us, unit: 'µs' },
      { name: 'cost per call, LiteLLM Router with mock_response', metric: 'p99', value: t.per_call_p99_us, unit: 'µs' },
      { name: 'memory, LiteLLM process after import + Router', metric: 'rss', value: t.rss_start_mb, unit: 'MB' },
      { name: `memory, LiteLLM process after ${t.requests.toLocaleString('en-US')} mock requests`, metric: 'rss', value: t.rss_end_mb, unit: 'MB' },
    ],
    notes: [
      'Each runtime is measured against its own official client, so the ratios compare like with like; absolute times of the Python client and the Node client differ.',
      'Throughput and cost per call with `mock_response` are the Router\'s whole in-process path (routing, logging objects, response building) with no I/O — the counterpart of section 5\'s fake provider.',
      'Amplification during a total primary outage (defaults and documented production settings): section 3.',
    ],
  };
}
