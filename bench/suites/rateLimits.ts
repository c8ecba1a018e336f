/**
 * 10. 429s on a two-member pool at 1.5× one member's rpm: Bulwark with limits and the providers'
 * rate-limit headers, Bulwark without limits (headers read, the default), Bulwark with neither, and
 * (with `--peers litellm`) LiteLLM's Router with the same rpm per deployment — 429s the provider sent
 * per 1,000 requests, counted by the fault server, and the share of requests answered.
 */
import { createResilientLLM, openaiTarget, pool, type ResilientLLMOptions } from '../../src/index.js';
import type { Latency } from '../../src/testing/index.js';
import { REQUEST, clientFor, type BenchContext } from '../context.js';
import { openLoop, type OpenLoopResult } from '../measure.js';
import type { Row, Section } from '../report.js';

interface Routes {
  near: string;
  far: string;
}

interface Contender {
  key: string;
  label: string;
  setup: string;
  prepare?(routes: Routes): { one: () => Promise<boolean>; close: () => Promise<void> };
  drive?(routes: Routes, rate: number, durationMs: number): Promise<OpenLoopResult & { waitedMs: number }>;
}

/** The nearer region answers faster: latency routing sends it everything it can take. */
const NEAR: Latency = { kind: 'normal', meanMs: 20, stdDevMs: 3, minMs: 10 };
const FAR: Latency = { kind: 'normal', meanMs: 60, stdDevMs: 5, minMs: 40 };

function contenders(ctx: BenchContext, rpm: number): Contender[] {
  const bulwark = (key: string, label: string, setup: string, options: { limits: boolean; headers: boolean }): Contender => ({
    key,
    label,
    setup,
    prepare: ({ near, far }) => {
      const member = (route: string) =>
        openaiTarget({ client: clientFor(ctx, route), model: 'gpt-4o', breakerKey: route, ...(options.limits && { limits: { rpm } }) });
      const config: ResilientLLMOptions = {
        name: `ratelimits-${key}`,
        targets: [pool({ name: 'gpt-4o', strategy: 'latency', members: [member(near), member(far)] })],
        telemetry: false,
        ...(!options.headers && { rateLimitHeaders: false as const }),
      };
      const llm = createResilientLLM(config);
      return {
        one: async () => (await llm.chat(REQUEST)).tier === 'full',
        close: () => llm.close(),
      };
    },
  });
  const list: Contender[] = [
    bulwark('limits', 'Bulwark, limits + headers', `\`limits: { rpm: ${rpm} }\` on each member, the providers' headers read (the default, \`lowRemaining\` 0.05)`, {
      limits: true,
      headers: true,
    }),
    bulwark('headers', 'Bulwark, no limits (headers only)', 'no `limits`; the providers\' headers read (the default)', { limits: false, headers: true }),
    bulwark('none', 'Bulwark, no limits, headers off', 'no `limits`, `rateLimitHeaders: false`: it learns of a limit only from the 429', { limits: false, headers: false }),
  ];
  if (ctx.litellm) {
    const litellm = ctx.litellm;
    const viaLiteLLM = (strategy: string) => (routes: Routes, rate: number, durationMs: number) =>
      litellm.run<OpenLoopResult & { waitedMs: number }>('ratelimit', {
        near: ctx.server.baseURL('openai', routes.near),
        far: ctx.server.baseURL('openai', routes.far),
        rpm,
        strategy,
        rate,
        durationMs,
      });
    list.push(
      {
        key: 'litellm-latency',
        label: 'LiteLLM Router, latency-based-routing + rpm',
        setup: `${litellm.versions}: \`Router(model_list=[near, far], routing_strategy="latency-based-routing")\`, \`rpm: ${rpm}\` in each deployment's litellm_params (the strategy skips a deployment whose requests this minute reached it), every other setting at its default (num_retries 2, cooldowns on)`,
        drive: viaLiteLLM('latency-based-routing'),
      },
      {
        key: 'litellm-usage',
        label: 'LiteLLM Router, usage-based-routing-v2 + rpm',
        setup: `the same with \`routing_strategy="usage-based-routing-v2"\` (LiteLLM's rate-limit-aware strategy: the deployment with the lowest usage this minute, rpm checked and counted before the call)`,
        drive: viaLiteLLM('usage-based-routing-v2'),
      },
    );
  }
  return list;
}

export async function rateLimitsSuite(ctx: BenchContext): Promise<Section> {
  const { server, sizes } = ctx;
  const rpm = sizes.rateLimitRpm;
  const durationMs = sizes.rateLimitDurationMs;
  // 1.5 × one member's rpm, all inside one rate-limit minute (the run is shorter than the window).
  const rate = (1.5 * rpm * 1000) / durationMs;
  const list = contenders(ctx, rpm);
  const groups = [list.filter((c) => !c.drive), list.filter((c) => c.drive)].filter((g) => g.length > 0);
  const runs = [];
  for (const group of groups) {
    ctx.log(`  ${group.length} contenders side by side, ${rate} requests/s for ${durationMs / 1000} s: ${group.map((c) => c.label).join('; ')}`);
    runs.push(
      ...(await Promise.all(
        group.map(async (c) => {
          const routes = { near: `rl-${c.key}/near`, far: `rl-${c.key}/far` };
          server.script({ route: routes.near }, { latency: NEAR });
          server.script({ route: routes.far }, { latency: FAR });
          const limits = { near: server.limit({ route: routes.near }, { rpm }), far: server.limit({ route: routes.far }, { rpm }) };
          let run: OpenLoopResult;
          let waitedMs = 0;
          if (c.drive) ({ waitedMs, ...run } = await c.drive(routes, rate, durationMs));
          else {
            const { one, close } = c.prepare!(routes);
            run = await openLoop(rate, durationMs, one);
            await close();
          }
          return {
            c,
            run,
            waitedMs,
            refused: limits.near.refused + limits.far.refused,
            nearCalls: server.hits({ route: routes.near }),
            calls: server.hits({ route: routes.near }) + server.hits({ route: routes.far }),
          };
        }),
      )),
    );
  }
  const rows: Row[] = [];
  const notes: string[] = [];
  for (const { c, run, waitedMs, refused, nearCalls, calls } of runs) {
    const name = `rate limits: ${c.label}`;
    rows.push(
      { name, metric: '429s per 1,000 requests', value: (refused / run.total) * 1000, unit: '429s' },
      { name, metric: 'answered', value: (run.answered / run.total) * 100, unit: '%' },
      { name, metric: 'upstream calls per request', value: calls / run.total, unit: 'calls' },
      { name, metric: 'calls to the nearer member', value: (nearCalls / Math.max(1, calls)) * 100, unit: '%' },
      { name, metric: 'p50 latency', value: run.p50, unit: 'ms' },
      { name, metric: 'p99 latency', value: run.p99, unit: 'ms' },
    );
    notes.push(`${c.label}: ${c.setup}.${waitedMs > 0 ? ` (Started ${(waitedMs / 1000).toFixed(1)} s late, just after a minute turned: see above.)` : ''}`);
  }
  if (ctx.litellmError) notes.push(`LiteLLM not measured: ${ctx.litellmError}.`);
  else if (!ctx.litellm) notes.push('LiteLLM not measured: run with `--peers litellm` to add its Router (Python venv).');
  return {
    title: '10. Rate limits: 429s on a two-member pool at 1.5× one member\'s rpm',
    how:
      `Two deployments of one model, each limited by the fault server to ${rpm} requests per minute (sliding 60 s window, OpenAI's \`x-ratelimit-*\` headers on every ` +
      'answer, 429 with `retry-after` past the limit). The nearer one answers in about 20 ms, the other in about 60 ms, and each contender routes by latency, so ' +
      `traffic goes to the nearer one until something stops it. For every contender ${1.5 * rpm} requests (1.5 × one member's rpm, ${rate} requests/s for ` +
      `${durationMs / 1000} s) arrive on a fixed schedule, side by side, each on routes and limits of its own. The run is shorter than the limits' minute, so every ` +
      'request falls in one window: this measures moving traffic off a member at its limit, not the edge of a sliding window. 429s are those the fault server ' +
      'sent (retries and fallbacks included), per 1,000 logical requests; answered = the contender returned an answer.' +
      (ctx.litellm
        ? ' LiteLLM runs after the Bulwark contenders, its two strategies side by side with each other. LiteLLM counts rpm per calendar minute (a bucket per ' +
          'HH:MM) while the provider counts a sliding minute: a run across a minute boundary would let it count from zero again, so each LiteLLM run starts ' +
          'just after a minute turns — its best case.'
        : ''),
    rows,
    notes,
  };
}
