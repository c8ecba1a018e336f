/**
 * A deterministic chaos scenario through a real three-target chain — the official OpenAI and
 * Anthropic clients against the fault-injecting server — and the caller-side truth about it,
 * computed only from what the engine handed back (ChatResult.attempts / tier / fallbackUsed /
 * costUsd, thrown BulwarkErrors, and health()). Used by test/stack/e2e-dashboards.test.ts to hold
 * the dashboards and alert rules to what actually happened.
 *
 * Determinism: backoff and Retry-After waits run on an injected fake clock (jitter 'none'), the
 * fault server plays fixed sequences, and every phase boundary moves the fake clock by a minute
 * (retry-budget windows start afresh; breakers stay open: openMs is an hour).
 *
 * The chain: primary openai/gpt-4o (route 'primary'), backup anthropic/claude-haiku-4-5
 * (route 'backup'), local openai/llama3.1 (route 'local', tier reduced, no price).
 *
 * Phases:
 *  W "steady state" — the service before the incident: answers from the primary (one streamed),
 *                     a fresh cache hit, a streamed answer from the backup after a refusal, a
 *                     static reply after refusals everywhere, a bad request that fails. None of it
 *                     touches breakers or retry budgets; a hedged request (W7, like A7). Its
 *                     purpose: every histogram series the
 *                     dashboards read (request duration per tier, time to first chunk per target)
 *                     exists before the incident, as on a service that has been running. (A
 *                     histogram series cannot be pre-created at 0, and the first export of a
 *                     series is invisible to rate(); see the test for what that costs.)
 *  A "rate limits"  — a success, a fresh cache hit of the same prompt, a streamed success,
 *                     429s with Retry-After answered after one and two retries, and a 429 that
 *                     finds the primary's retry budget spent (hop to the backup, reason
 *                     budget_exhausted), then a primary that does not answer: after the hedge delay
 *                     (2 s) the backup is asked too, answers and wins; the primary's call is cancelled.
 *  B "primary outage" — the primary answers 503 to everything: retries, then its breaker opens
 *                     (5 consecutive failures); later requests (one streamed) skip it (circuit_open)
 *                     and the backup answers.
 *  C "everything degrades" — the backup is overloaded (529) and the local endpoint rejects its
 *                     key (401: its breaker opens at once): a static reply, then the prompt of phase
 *                     A served from its now stale cache entry, then with every breaker open a static
 *                     reply, a critical request that fails, and a streamed static reply.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { createResilientLLM, type ResilientLLM } from '../../src/createResilientLLM.js';
import { pool } from '../../src/pool/pool.js';
import { BulwarkError } from '../../src/errors/bulwarkError.js';
import type { FallbackReason } from '../../src/events/engineObserver.js';
import type { ChainHealth } from '../../src/health/types.js';
import { anthropicTarget, openaiTarget } from '../../src/providers/index.js';
import type { AttemptRecord, ChatRequest, ChatResult } from '../../src/request/types.js';
import { memoryStore } from '../../src/state/memoryStore.js';
import { fault, type FaultServer, type Script } from '../../src/testing/index.js';
import { createFakeClock, type FakeClock } from './fakeClock.js';

export const SCENARIO_CHAIN = 'support-agent';

/** Breaker keys of the three targets, in chain order. */
export const BREAKERS = {
  primary: 'openai/gpt-4o',
  backup: 'anthropic/claude-haiku-4-5',
  local: 'openai/llama3.1',
} as const;

export type Outcome = 'success' | 'success_after_retry' | 'success_via_fallback' | 'cached' | 'static' | 'failed';
export const SUCCESS_OUTCOMES: readonly Outcome[] = ['success', 'success_after_retry', 'success_via_fallback'];

/** One logical request of the scenario, as the caller saw it. */
export interface ScenarioRequest {
  phase: string;
  label: string;
  stream: boolean;
  /** The answer (absent when the request threw). */
  result?: ChatResult;
  /** What it threw (BulwarkError). */
  error?: BulwarkError;
  /** The attempts: from the result, or from the error. */
  attempts: readonly AttemptRecord[];
  /** Documented meaning of `bulwark.outcome` (TELEMETRY.md), derived from the result. */
  outcome: Outcome;
  costUsd: number;
  /** The tenant the telemetry.attributes hook reported for it (`app.tenant`). */
  tenant: string;
  /** How long the caller waited, in virtual time (the engine's clock). */
  durationMs: number;
}

/** What the scenario did, in numbers: the truth the dashboards must reproduce. */
export interface ScenarioTruth {
  requests: number;
  byOutcome: Record<Outcome, number>;
  successes: number;
  /** Same-target retries sent upstream (attempts of kind 'retry'). */
  retries: number;
  attempts: number;
  /** Total spend, failed attempts included. */
  costUsd: number;
  /** Requests served a stale cache entry because every target failed. */
  staleServed: number;
  /** Fresh cache hits served before any call. */
  freshHits: number;
  /** Sum of the backoff / Retry-After waits (ms) the engine slept. */
  backoffWaitMs: number;
  /** Attempts per `provider/model` and error type ('' = success). */
  attemptsByTarget: Record<string, Record<string, number>>;
  /** Requests answered with a successful attempt of each target. */
  servedByTarget: Record<string, number>;
  streamed: number;
  /** Hedged calls (attempts of kind 'hedge'), and those whose answer was used. */
  hedges: number;
  hedgesWon: number;
  /** Per tenant (`app.tenant`): requests, successful requests, degraded (cached/static/failed) requests, spend. */
  byTenant: Record<string, { requests: number; successes: number; degraded: number; costUsd: number }>;
}

export interface Checkpoint {
  phase: string;
  /** Truth of every request so far. */
  truth: ScenarioTruth;
  /** llm.health() at the end of the phase: the breaker states the caller sees. */
  health: ChainHealth;
}

/** A hop to the next target, as the engine's observer API reported it (the reason is not on ChatResult). */
export interface Hop {
  phase: string;
  from: string;
  to: string;
  reason: FallbackReason;
}

export interface ChaosScenario {
  llm: ResilientLLM;
  clock: FakeClock;
  readonly log: readonly ScenarioRequest[];
  readonly hops: readonly Hop[];
  /** Runs phases W, A, B and C; `afterPhase` runs after each (flush telemetry, wait for the backend, …). */
  run(afterPhase: (checkpoint: Checkpoint) => Promise<void>): Promise<Checkpoint[]>;
}

function outcomeOf(result: ChatResult | undefined): Outcome {
  if (!result) return 'failed';
  if (result.tier === 'cached') return 'cached';
  if (result.tier === 'static') return 'static';
  if (result.fallbackUsed) return 'success_via_fallback';
  return result.attempts.filter((a) => a.kind !== 'hedge').length > 1 ? 'success_after_retry' : 'success';
}

export function truthOf(log: readonly ScenarioRequest[]): ScenarioTruth {
  const byOutcome: Record<Outcome, number> = { success: 0, success_after_retry: 0, success_via_fallback: 0, cached: 0, static: 0, failed: 0 };
  const attemptsByTarget: Record<string, Record<string, number>> = {};
  const servedByTarget: Record<string, number> = {};
  let retries = 0;
  let attempts = 0;
  let costUsd = 0;
  let staleServed = 0;
  let freshHits = 0;
  let backoffWaitMs = 0;
  let hedges = 0;
  let hedgesWon = 0;
  const byTenant: ScenarioTruth['byTenant'] = {};
  for (const r of log) {
    const t = (byTenant[r.tenant] ??= { requests: 0, successes: 0, degraded: 0, costUsd: 0 });
    t.requests += 1;
    if (SUCCESS_OUTCOMES.includes(r.outcome)) t.successes += 1;
    else t.degraded += 1;
    t.costUsd += r.costUsd;
    byOutcome[r.outcome] += 1;
    costUsd += r.costUsd;
    for (const a of r.attempts) {
      attempts += 1;
      if (a.kind === 'retry') retries += 1;
      if (a.kind === 'hedge') {
        hedges += 1;
        if (a.errorType === undefined && r.result?.target.index === a.targetIndex) hedgesWon += 1;
      }
      backoffWaitMs += a.delayMs ?? 0;
      const key = `${a.provider}/${a.model}`;
      const row = (attemptsByTarget[key] ??= {});
      row[a.errorType ?? ''] = (row[a.errorType ?? ''] ?? 0) + 1;
    }
    if (r.result?.tier === 'cached') {
      if (r.result.fallbackUsed) staleServed += 1;
      else freshHits += 1;
    }
    if (r.result && r.result.target.index >= 0) {
      const key = `${r.result.target.provider}/${r.result.target.model}`;
      servedByTarget[key] = (servedByTarget[key] ?? 0) + 1;
    }
  }
  return {
    requests: log.length,
    byOutcome,
    successes: SUCCESS_OUTCOMES.reduce((n, o) => n + byOutcome[o], 0),
    retries,
    attempts,
    costUsd,
    staleServed,
    freshHits,
    backoffWaitMs,
    attemptsByTarget,
    servedByTarget,
    streamed: log.filter((r) => r.stream).length,
    hedges,
    hedgesWon,
    byTenant,
  };
}

const ask = (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({ messages: [{ role: 'user', content }], ...extra });

/** The prompt answered in phase A and served stale in phase C. */
const OPENING_HOURS = 'What are your opening hours?';

/** One minute of virtual time between phases: longer than the retry-budget window and the cache TTL. */
const PHASE_GAP_MS = 60_000;

export function createChaosScenario(server: FaultServer): ChaosScenario {
  const clock = createFakeClock(Date.now());
  const log: ScenarioRequest[] = [];
  const hops: Hop[] = [];
  let phase = '';
  // Tenants alternate request by request (as an app would read them from its own request context).
  const TENANTS = ['acme', 'globex'] as const;
  let tenant: string = TENANTS[0];
  const llm = createResilientLLM({
    name: SCENARIO_CHAIN,
    targets: [
      // Limits far above the scenario's traffic: their headroom series (Limit headroom panel), never a skip.
      openaiTarget({ client: new OpenAI({ apiKey: 'sk-e2e-primary', baseURL: server.baseURL('openai', 'primary') }), model: 'gpt-4o', limits: { rpm: 100_000 } }),
      anthropicTarget({ client: new Anthropic({ apiKey: 'sk-ant-e2e-backup', baseURL: server.baseURL('anthropic', 'backup') }), model: 'claude-haiku-4-5' }),
      // A pool of one deployment: its attempts carry the pool and member (the traffic-split panel).
      pool({ name: 'local', members: [openaiTarget({ client: new OpenAI({ apiKey: 'ollama', baseURL: server.baseURL('openai', 'local') }), model: 'llama3.1', tier: 'reduced' })] }),
    ],
    clock,
    // Jitter 'none': backoff 100, 200 ms; a Retry-After of 500 ms wins over it.
    // Budget: no ratio, a floor of 3 retries per 10 s window and target (0.3/s × 10 s).
    retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 2_000, jitter: 'none', maxRetryAfterMs: 5_000, budget: { ratio: 0, minRetriesPerSecond: 0.3, windowMs: 10_000 } },
    // Opens on 5 consecutive failures; the failure-rate rule stays out of the way (minCalls 100);
    // open for an hour of virtual time, i.e. until the end of the test.
    breaker: { consecutiveFailures: 5, minCalls: 100, openMs: 3_600_000 },
    // Fresh for 30 s of virtual time, kept a day as a stale answer for outages.
    cache: { store: memoryStore({ maxEntries: 100 }), mode: 'read-through', ttlMs: 30_000, staleTtlMs: 86_400_000 },
    degrade: { staticReply: 'The assistant is temporarily unavailable. Please try again shortly.' },
    // Longer than any request's backoff waits: only A7, whose primary stays silent, is hedged.
    hedge: { after: 2_000, budgetRatio: 1 },
    // Known up front: their series exist from the first export, like the chain's own.
    telemetry: { attributes: () => ({ 'app.tenant': tenant }), knownAttributes: TENANTS.map((t) => ({ 'app.tenant': t })) },
    observers: [
      {
        onRequestStart: () => ({
          onFallback: (e) => hops.push({ phase, from: `${e.from.provider}/${e.from.model}`, to: `${e.to.provider}/${e.to.model}`, reason: e.reason }),
        }),
      },
    ],
  });

  const record = (label: string, stream: boolean, result: ChatResult | undefined, error: BulwarkError | undefined, startedAt: number): void => {
    const attempts = result?.attempts ?? error?.attempts ?? [];
    const costUsd = result ? result.costUsd : attempts.reduce((s, a) => s + (a.costUsd ?? 0), 0);
    log.push({ phase, label, stream, ...(result && { result }), ...(error && { error }), attempts, outcome: outcomeOf(result), costUsd, tenant, durationMs: clock.now() - startedAt });
    tenant = TENANTS[log.length % TENANTS.length]!;
  };

  /** Installs `scripts` (route → script) for the duration of one request. */
  const withScripts = async <T>(scripts: Partial<Record<'primary' | 'backup' | 'local', Script>>, fn: () => Promise<T>): Promise<T> => {
    const handles = Object.entries(scripts).map(([route, script]) => server.script({ route }, script));
    try {
      return await fn();
    } finally {
      for (const h of handles) h.remove();
    }
  };

  const chat = async (label: string, request: ChatRequest, scripts: Parameters<typeof withScripts>[0] = {}): Promise<void> => {
    await withScripts(scripts, async () => {
      const startedAt = clock.now();
      try {
        record(label, false, await llm.chat(request), undefined, startedAt);
      } catch (err) {
        if (!(err instanceof BulwarkError)) throw err;
        record(label, false, undefined, err, startedAt);
      }
    });
  };

  const stream = async (label: string, request: ChatRequest, scripts: Parameters<typeof withScripts>[0] = {}): Promise<void> => {
    await withScripts(scripts, async () => {
      const startedAt = clock.now();
      const s = llm.stream(request);
      let text = '';
      try {
        for await (const ev of s) if (ev.type === 'text') text += ev.delta;
        const result = await s.result;
        if (text !== result.text) throw new Error(`stream ${label}: streamed text differs from the result`);
        record(label, true, result, undefined, startedAt);
      } catch (err) {
        if (!(err instanceof BulwarkError)) throw err;
        record(label, true, undefined, err, startedAt);
      }
    });
  };

  /** A chat whose primary stays silent until the hedge delay has passed on the virtual clock. */
  const hedgedChat = async (label: string, request: ChatRequest, scripts: Parameters<typeof withScripts>[0]): Promise<void> => {
    await withScripts(scripts, async () => {
      const startedAt = clock.now();
      const seen = server.hits({ route: 'primary' });
      const pending = llm.chat(request);
      // Waits on I/O (the request reaching the fault server), not on time.
      while (server.hits({ route: 'primary' }) === seen) await new Promise((resolve) => setImmediate(resolve));
      clock.advance(2_000);
      record(label, false, await pending, undefined, startedAt);
    });
  };

  const checkpoint = (): Checkpoint => ({ phase, truth: truthOf(log), health: llm.health() });

  const outage503: Script = { then: fault.serverError(503) };
  const overloaded: Script = { then: fault.overloaded({ status: 529 }) };
  const badKey: Script = { then: fault.authentication() };

  return {
    llm,
    clock,
    log,
    hops,
    async run(afterPhase) {
      const checkpoints: Checkpoint[] = [];
      const end = async () => {
        const c = checkpoint();
        checkpoints.push(c);
        await afterPhase(c);
      };

      phase = 'W';
      await chat('W1 success', ask('Warm-up: hello'));
      await chat('W2 fresh cache hit', ask('Warm-up: hello'));
      await stream('W3 streamed success', ask('Warm-up: stream a greeting.'));
      // A refusal is the request's fault: no retry, no breaker failure; another provider answers.
      await stream('W4 refused, streamed by the backup', ask('Warm-up: stream a limerick.'), { primary: { sequence: [fault.contentFilter()] } });
      await chat('W5 refused everywhere, static', ask('Warm-up: something both refuse.'), {
        primary: { sequence: [fault.contentFilter()] },
        backup: { sequence: [fault.contentFilter()] },
      });
      await chat('W6 bad request fails', ask('Warm-up: a malformed request.'), { primary: { sequence: [fault.badRequest()] } });
      // Its cancelled primary call starts the attempt-duration series of error type 'cancelled' before the incident.
      await hedgedChat('W7 primary silent, the hedge to the backup wins', ask('Warm-up: a slow answer.'), { primary: { sequence: [fault.hang()] } });
      await end();

      clock.advance(PHASE_GAP_MS);
      phase = 'A';
      // The answer reports prompt-cache reads / writes and reasoning tokens (the cost panels' breakdowns).
      await chat('A1 success', ask(OPENING_HOURS), {
        primary: { sequence: [fault.ok({ usage: { inputTokens: 2_000, outputTokens: 300, cacheReadTokens: 1_200, cacheWriteTokens: 400, reasoningTokens: 120 } })] },
      });
      await chat('A2 fresh cache hit', ask(OPENING_HOURS));
      await stream('A3 streamed success', ask('Stream me a haiku about uptime.'));
      await chat('A4 429 then ok', ask('Summarise ticket 4411.'), { primary: { sequence: [fault.rateLimit({ retryAfterMs: 500 })] } });
      await chat('A5 429 twice then ok', ask('Summarise ticket 4412.'), {
        primary: { sequence: [fault.rateLimit({ retryAfterMs: 500 }), fault.rateLimit({ retryAfterMs: 500 })] },
      });
      // The primary's budget (3 retries per window) is spent: the 429 sends the request on.
      await chat('A6 429, budget exhausted, backup', ask('Summarise ticket 4413.'), { primary: { sequence: [fault.rateLimit({ retryAfterMs: 500 })] } });
      await hedgedChat('A7 primary silent, the hedge to the backup wins', ask('Summarise ticket 4414.'), { primary: { sequence: [fault.hang()] } });
      await end();

      clock.advance(PHASE_GAP_MS);
      phase = 'B';
      await chat('B1 primary 503 x3, backup', ask('Draft a reply to a refund request.'), { primary: outage503 });
      await chat('B2 primary breaker opens, backup', ask('Draft a reply to a delivery complaint.'), { primary: outage503 });
      await chat('B3 primary open, backup', ask('Draft a reply to a password reset.'), { primary: outage503 });
      await stream('B4 streamed, primary open, backup', ask('Stream the release notes.'), { primary: outage503 });
      await end();

      clock.advance(PHASE_GAP_MS);
      phase = 'C';
      await chat('C1 backup 529 x3, local 401, static', ask('What is the status of order 77?'), { primary: outage503, backup: overloaded, local: badKey });
      await chat('C2 backup 529 (breaker opens), stale cache entry', ask(OPENING_HOURS), { primary: outage503, backup: overloaded, local: badKey });
      await chat('C3 every breaker open, static', ask('Can I change my plan?'), { primary: outage503, backup: overloaded, local: badKey });
      await chat('C4 critical request fails', ask('Approve refund 9001.', { critical: true }), { primary: outage503, backup: overloaded, local: badKey });
      await stream('C5 streamed static reply', ask('Stream the outage notice.'), { primary: outage503, backup: overloaded, local: badKey });
      await end();
      return checkpoints;
    },
  };
}
