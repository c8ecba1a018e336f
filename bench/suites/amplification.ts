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
import { quantile, sleep } from '../measure.js';
import type { Row, Section } from '../report.js';

interface Contender {
  key: string;
  label: string;
  /** What it is configured to do, for the notes. */
  setup: string;
  /** One logical request; resolves true when an answer came back. */
  prepare(routes: { primary: string; fallback: string }): { one: () => Promise<boolean>; close?: () => Promise<void> };
}

/** Open-loop arrivals: `rate` per second for `durationMs`, each timed; waits for the last to finish. */
async function openLoop(rate: number, durationMs: number, one: () => Promise<boolean>): Promise<{ latencies: number[]; answered: number; total: number }> {
  const total = Math.max(1, Math.round((rate * durationMs) / 1000));
  const latencies: number[] = [];
  let answered = 0;
  const running: Array<Promise<void>> = [];
  const startedAt = performance.now();
  for (let i = 0; i < total; i++) {
    const due = startedAt + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const t0 = performance.now();
    running.push(
      one().then(
        (ok) => {
          latencies.push(performance.now() - t0);
          if (ok) answered++;
        },
        () => {
          latencies.push(performance.now() - t0);
        },
      ),
    );
  }
  await Promise.all(running);
  return { latencies, answered, total };
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
  return list;
}

export async function amplificationSuite(ctx: BenchContext): Promise<Section> {
  const { server, sizes } = ctx;
  const list = contenders(ctx);
  ctx.log(`  ${list.length} contenders side by side for ${sizes.outageMs / 1000} s: ${list.map((c) => c.label).join('; ')}`);
  // Side by side: every contender sees the same outage at the same time, on routes of its own.
  const runs = await Promise.all(
    list.map(async (c) => {
      const routes = { primary: `amp-${c.key}/primary`, fallback: `amp-${c.key}/fallback` };
      server.script({ route: routes.primary }, { then: fault.serverError(503) });
      const { one, close } = c.prepare(routes);
      const run = await openLoop(sizes.arrivalsPerSec, sizes.outageMs, one);
      await close?.();
      return { c, run, primaryCalls: server.hits({ route: routes.primary }), fallbackCalls: server.hits({ route: routes.fallback }) };
    }),
  );
  const rows: Row[] = [];
  const notes: string[] = [];
  for (const { c, run, primaryCalls, fallbackCalls } of runs) {
    const name = `amplification: ${c.label}`;
    rows.push(
      { name, metric: 'upstream calls per request', value: (primaryCalls + fallbackCalls) / run.total, unit: 'calls' },
      { name, metric: 'primary calls per request', value: primaryCalls / run.total, unit: 'calls' },
      { name, metric: 'answered', value: (run.answered / run.total) * 100, unit: '%' },
      { name, metric: 'p50 latency', value: quantile(run.latencies, 0.5), unit: 'ms' },
      { name, metric: 'p99 latency', value: quantile(run.latencies, 0.99), unit: 'ms' },
    );
    notes.push(`${c.label}: ${c.setup}.`);
  }
  if (ctx.gatewayError) notes.push(`Portkey gateway not measured: ${ctx.gatewayError}`);
  return {
    title: '3. Amplification during a total primary outage',
    how:
      `The primary answers every call with 503 for the whole run; the fallback is healthy. For every contender, ${sizes.arrivalsPerSec} requests/s arrive on a ` +
      `fixed schedule for ${sizes.outageMs / 1000} s (${Math.round((sizes.arrivalsPerSec * sizes.outageMs) / 1000)} logical requests each); the contenders run side ` +
      'by side, each on routes and state of its own; upstream calls are counted by the fault server. Latencies include the contenders\' own backoff waits.',
    rows,
    notes,
  };
}
