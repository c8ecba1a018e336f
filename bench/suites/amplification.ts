/**
 * 3. Amplification during a total primary outage with a healthy fallback: upstream calls per logical
 * request over the whole outage, for Bulwark and the usual alternatives, all driven by the same
 * open-loop arrivals against the same fault server.
 */
import { createOpenAI } from '@ai-sdk/openai';
import { generateText } from 'ai';
import { createFallback } from 'ai-fallback';
import { BrokenCircuitError, ConsecutiveBreaker, ExponentialBackoff, circuitBreaker, handleAll, handleWhen, retry, wrap } from 'cockatiel';
import { createResilientLLM, openaiTarget } from '../../src/index.js';
import { fault } from '../../src/testing/index.js';
import { MAX_TOKENS, PARAMS, PROMPT, REQUEST, clientFor, customHost, type BenchContext } from '../context.js';
import { openLoop, sleep, type OpenLoopResult } from '../measure.js';
import type { Row, Section } from '../report.js';

interface Routes {
  primary: string;
  fallback: string;
}

interface Contender {
  key: string;
  label: string;
  /** What it is configured to do, for the notes. */
  setup: string;
  /** One logical request; resolves true when an answer came back. */
  prepare?(routes: Routes): { one: () => Promise<boolean>; close?: () => Promise<void> };
  /** A contender in another process (LiteLLM) runs the same open loop itself. */
  drive?(routes: Routes, rate: number, durationMs: number): Promise<OpenLoopResult>;
}

const naiveBackoff = (attempt: number) => 500 * 2 ** attempt;

function contenders(ctx: BenchContext): Contender[] {
  const list: Contender[] = [
    {
      key: 'bulwark',
      label: 'Bulwark (defaults)',
      setup: 'default config: 3 attempts per target, full-jitter backoff from 500 ms, retry budget 10 % + 1/s, breaker 5 consecutive failures / 50 % over 30 s, open 30 s',
      prepare: ({ primary, fallback }) => {
        const llm = createResilientLLM({
          name: 'amplification',
          targets: [openaiTarget({ client: clientFor(ctx, primary), model: 'gpt-4o' }), openaiTarget({ client: clientFor(ctx, fallback), model: 'gpt-4o-mini' })],
          telemetry: false,
        });
        return {
          one: async () => {
            const r = await llm.chat(REQUEST);
            return r.tier === 'full' || r.tier === 'reduced';
          },
          close: () => llm.close(),
        };
      },
    },
    {
      key: 'naive',
      label: 'naive retry-then-fallback loop',
      setup: '3 attempts per target with exponential backoff (500 ms, 1 s), then the next target; no breaker, no budget',
      prepare: ({ primary, fallback }) => {
        const clients = [clientFor(ctx, primary), clientFor(ctx, fallback)];
        return {
          one: async () => {
            for (const client of clients) {
              for (let attempt = 0; attempt < 3; attempt++) {
                try {
                  await client.chat.completions.create(PARAMS);
                  return true;
                } catch {
                  if (attempt < 2) await sleep(naiveBackoff(attempt));
                }
              }
            }
            return false;
          },
        };
      },
    },
    {
      key: 'cockatiel',
      label: 'cockatiel retry + breaker, composed by hand',
      setup:
        'cockatiel 4.0.0: `wrap(retry(maxAttempts 2, ExponentialBackoff from 500 ms), circuitBreaker(ConsecutiveBreaker(5), halfOpenAfter 30 s))` around the primary, fallback call in the catch',
      prepare: ({ primary, fallback }) => {
        const primaryClient = clientFor(ctx, primary);
        const fallbackClient = clientFor(ctx, fallback);
        const retryPolicy = retry(
          handleWhen((e) => !(e instanceof BrokenCircuitError)),
          { maxAttempts: 2, backoff: new ExponentialBackoff({ initialDelay: 500, maxDelay: 8000 }) },
        );
        const breakerPolicy = circuitBreaker(handleAll, { halfOpenAfter: 30_000, breaker: new ConsecutiveBreaker(5) });
        const policy = wrap(retryPolicy, breakerPolicy);
        return {
          one: async () => {
            try {
              await policy.execute(() => primaryClient.chat.completions.create(PARAMS));
              return true;
            } catch {
              await fallbackClient.chat.completions.create({ ...PARAMS, model: 'gpt-4o-mini' });
              return true;
            }
          },
        };
      },
    },
    {
      key: 'ai-fallback',
      label: 'Vercel AI SDK + ai-fallback',
      setup: '`ai` 7.0.173 `generateText({ maxRetries: 2 })` on `createFallback({ models: [primary, fallback] })` (ai-fallback 3.0.0, default settings), `@ai-sdk/openai` 4.0.118 `.chat()` models',
      prepare: ({ primary, fallback }) => {
        const primaryProvider = createOpenAI({ apiKey: 'bench-key', baseURL: customHost(ctx, primary) });
        const fallbackProvider = createOpenAI({ apiKey: 'bench-key', baseURL: customHost(ctx, fallback) });
        const model = createFallback({ models: [primaryProvider.chat('gpt-4o'), fallbackProvider.chat('gpt-4o-mini')] });
        return {
          one: async () => {
            const r = await generateText({ model, prompt: PROMPT, maxOutputTokens: MAX_TOKENS, maxRetries: 2 });
            return typeof r.text === 'string';
          },
        };
      },
    },
  ];
  if (ctx.gateway) {
    const gateway = ctx.gateway;
    const viaGateway = (retryAttempts: number) => ({ primary, fallback }: { primary: string; fallback: string }) => {
      const client = clientFor(ctx, primary, {
        baseURL: `${gateway.url}/v1`,
        defaultHeaders: gateway.fallbackHeader([customHost(ctx, primary), customHost(ctx, fallback)], retryAttempts ? { retryAttempts } : {}),
      });
      return {
        one: async () => {
          await client.chat.completions.create(PARAMS);
          return true;
        },
      };
    };
    list.push(
      {
        key: 'portkey',
        label: 'Portkey gateway, fallback',
        setup: '@portkey-ai/gateway 1.15.2 run locally, config `strategy.mode: fallback` on 429/5xx, no retry',
        prepare: viaGateway(0),
      },
      {
        key: 'portkey-retry',
        label: 'Portkey gateway, fallback + retry',
        setup: 'the same with `retry: { attempts: 2 }` on 429/5xx (the gateway\'s own backoff: 1 s, 2 s)',
        prepare: viaGateway(2),
      },
    );
  }
  if (ctx.litellm) {
    const litellm = ctx.litellm;
    const viaLiteLLM = (settings: 'defaults' | 'production') => (routes: Routes, rate: number, durationMs: number) =>
      litellm.run<OpenLoopResult>('outage', { primary: ctx.server.baseURL('openai', routes.primary), fallback: ctx.server.baseURL('openai', routes.fallback), rate, durationMs, settings });
    list.push(
      {
        key: 'litellm',
        label: 'LiteLLM Router (defaults)',
        setup: `${litellm.versions}: \`Router(model_list=[primary, fallback], fallbacks=[{"primary": ["fallback"]}])\`, every other setting at its default, its own asyncio loop in a Python process`,
        drive: viaLiteLLM('defaults'),
      },
      {
        key: 'litellm-prod',
        label: 'LiteLLM Router (documented production settings)',
        setup:
          'the same with `num_retries=2, allowed_fails=3, cooldown_time=30, retry_policy=RetryPolicy(InternalServerErrorRetries=2, ServiceUnavailableErrorRetries=2, ' +
          'RateLimitErrorRetries=3, TimeoutErrorRetries=2, BadRequestErrorRetries=0, AuthenticationErrorRetries=0)` (docs.litellm.ai/docs/router/learn/reliability, .../router/api_reference/configuration)',
        drive: viaLiteLLM('production'),
      },
    );
  }
  return list;
}

export async function amplificationSuite(ctx: BenchContext): Promise<Section> {
  const { server, sizes } = ctx;
  const list = contenders(ctx);
  // Side by side: every contender sees the same outage at the same time, on routes of its own. Contenders in
  // another process (LiteLLM) come second, side by side with each other, at their own rate: run alongside,
  // their CPU (far more per failed call) would be charged to everyone else's latencies on a 2-core machine.
  const groups = [list.filter((c) => !c.drive), list.filter((c) => c.drive)].filter((g) => g.length > 0);
  const runs = [];
  for (const group of groups) {
    const rate = group[0]!.drive ? sizes.peerArrivalsPerSec : sizes.arrivalsPerSec;
    ctx.log(`  ${group.length} contenders side by side, ${rate} requests/s for ${sizes.outageMs / 1000} s: ${group.map((c) => c.label).join('; ')}`);
    runs.push(
      ...(await Promise.all(
        group.map(async (c) => {
          const routes = { primary: `amp-${c.key}/primary`, fallback: `amp-${c.key}/fallback` };
          server.script({ route: routes.primary }, { then: fault.serverError(503) });
          let run: OpenLoopResult;
          if (c.drive) run = await c.drive(routes, rate, sizes.outageMs);
          else {
            const { one, close } = c.prepare!(routes);
            run = await openLoop(rate, sizes.outageMs, one);
            await close?.();
          }
          return { c, run, rate, primaryCalls: server.hits({ route: routes.primary }), fallbackCalls: server.hits({ route: routes.fallback }) };
        }),
      )),
    );
  }
  const rows: Row[] = [];
  const notes: string[] = [];
  for (const { c, run, rate, primaryCalls, fallbackCalls } of runs) {
    const name = `amplification: ${c.label}`;
    rows.push(
      { name, metric: 'upstream calls per request', value: (primaryCalls + fallbackCalls) / run.total, unit: 'calls' },
      { name, metric: 'primary calls per request', value: primaryCalls / run.total, unit: 'calls' },
      { name, metric: 'answered', value: (run.answered / run.total) * 100, unit: '%' },
      { name, metric: 'p50 latency', value: run.p50, unit: 'ms' },
      { name, metric: 'p99 latency', value: run.p99, unit: 'ms' },
    );
    notes.push(`${c.label}${rate === sizes.arrivalsPerSec ? '' : ` (${rate} requests/s)`}: ${c.setup}.`);
  }
  if (ctx.gatewayError) notes.push(`Portkey gateway not measured: ${ctx.gatewayError}`);
  if (ctx.litellmError) notes.push(`LiteLLM not measured: ${ctx.litellmError}.`);
  return {
    title: '3. Amplification during a total primary outage',
    how:
      `The primary answers every call with 503 for the whole run; the fallback is healthy. For every contender, ${sizes.arrivalsPerSec} requests/s arrive on a ` +
      `fixed schedule for ${sizes.outageMs / 1000} s (${Math.round((sizes.arrivalsPerSec * sizes.outageMs) / 1000)} logical requests each); the contenders run side ` +
      'by side, each on routes and state of its own; upstream calls are counted by the fault server. Latencies include the contenders\' own backoff waits.' +
      (ctx.litellm
        ? ` LiteLLM runs after the others (its two settings side by side with each other) at ${sizes.peerArrivalsPerSec} requests/s: its Python router spends far more CPU ` +
          'per failed call than the Node contenders, cannot keep up with 50 requests/s of failing calls on this 2-core machine (requests queue on its event loop), and run ' +
          'alongside it would slow everyone else.'
        : ''),
    rows,
    notes,
  };
}
