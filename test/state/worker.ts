/**
 * One agent worker process for the multi-process tests (spawned with `node --import tsx`).
 * It runs real chains — official OpenAI clients against the parent's fault server, state in
 * the parent's redis-server — and does what the parent asks over IPC.
 */
import OpenAI from 'openai';
import { createClient } from 'redis';
import type { BreakerTransition } from '../../src/events/breakerTransition.js';
import { createResilientLLM, type ResilientLLM } from '../../src/createResilientLLM.js';
import { openaiTarget } from '../../src/providers/openai.js';
import { redisStore } from '../../src/state/redisStore.js';
import type { StoreErrorEvent } from '../../src/events/storeError.js';
import type { ForcedTier } from '../../src/request/tiers.js';
import type { TargetLimits } from '../../src/providers/adapter.js';

export interface InitCommand {
  cmd: 'init';
  chain: string;
  redisUrl: string;
  primaryURL: string;
  backupURL: string;
  apiKey: string;
  breaker?: Record<string, number>;
  cache?: { mode: 'read-through' | 'on-failure' };
  syncIntervalMs?: number;
  timeoutMs?: number;
  totalMs?: number;
  /** `limits` of the primary target. */
  primaryLimits?: TargetLimits;
}

export type Command =
  | InitCommand
  | { cmd: 'chat'; chain: string; count: number; partition?: string; content?: string; concurrent?: boolean }
  | { cmd: 'health'; chain: string }
  | { cmd: 'forceTier'; chain: string; tier: ForcedTier }
  | { cmd: 'events'; chain: string }
  | { cmd: 'loop'; chain: string; intervalMs: number }
  | { cmd: 'stopLoop'; chain: string }
  | { cmd: 'close' };

export interface ChatOutcome {
  ok: boolean;
  tier?: string;
  model?: string;
  error?: string;
  durationMs: number;
}

interface Chain {
  llm: ResilientLLM;
  transitions: BreakerTransition[];
  storeErrors: StoreErrorEvent[];
  client: { destroy(): void };
  loop?: { stop: boolean; outcomes: ChatOutcome[]; done: Promise<void> };
}

const chains = new Map<string, Chain>();

function chainOf(name: string): Chain {
  const c = chains.get(name);
  if (!c) throw new Error(`no chain ${name} in worker ${process.pid}`);
  return c;
}

async function chatOnce(c: Chain, partition?: string, content = 'What is the capital of France?'): Promise<ChatOutcome> {
  const started = performance.now();
  try {
    const r = await c.llm.chat({ messages: [{ role: 'user', content }], ...(partition !== undefined && { partition }) });
    return { ok: true, tier: r.tier, model: r.model, durationMs: performance.now() - started };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error), durationMs: performance.now() - started };
  }
}

async function handle(msg: Command): Promise<unknown> {
  switch (msg.cmd) {
    case 'init': {
      // Not awaited on purpose: Bulwark runs on local state until the client is ready.
      const client = createClient({ url: msg.redisUrl, socket: { reconnectStrategy: (retries) => Math.min(20 + retries * 10, 100) } });
      client.on('error', () => undefined);
      await client.connect();
      const transitions: BreakerTransition[] = [];
      const storeErrors: StoreErrorEvent[] = [];
      const openai = (baseURL: string) => new OpenAI({ apiKey: msg.apiKey, baseURL, maxRetries: 0 });
      const llm = createResilientLLM({
        name: msg.chain,
        targets: [
          openaiTarget({ client: openai(msg.primaryURL), model: 'gpt-4o', ...(msg.primaryLimits && { limits: msg.primaryLimits }) }),
          openaiTarget({ client: openai(msg.backupURL), model: 'gpt-4o-mini' }),
        ],
        retry: { maxAttempts: 1 },
        timeouts: { attemptMs: 2_000, totalMs: msg.totalMs ?? 3_000 },
        breaker: { consecutiveFailures: 3, openMs: 60_000, halfOpenProbes: 1, successThreshold: 1, ...msg.breaker },
        cache: msg.cache ?? false,
        degrade: { staticReply: 'static answer' },
        sharedState: redisStore(client, { syncIntervalMs: msg.syncIntervalMs ?? 50, timeoutMs: msg.timeoutMs ?? 1_000 }),
        telemetry: false,
        observers: [
          {
            onBreakerTransition: (t) => transitions.push(t),
            onStoreError: (e) => storeErrors.push(e),
          },
        ],
      });
      chains.set(msg.chain, { llm, transitions, storeErrors, client });
      return { pid: process.pid };
    }
    case 'chat': {
      const c = chainOf(msg.chain);
      if (msg.concurrent) return Promise.all(Array.from({ length: msg.count }, () => chatOnce(c, msg.partition, msg.content)));
      const out: ChatOutcome[] = [];
      for (let i = 0; i < msg.count; i++) out.push(await chatOnce(c, msg.partition, msg.content));
      return out;
    }
    case 'health':
      return chainOf(msg.chain).llm.health();
    case 'forceTier':
      return chainOf(msg.chain).llm.forceTier(msg.tier);
    case 'events': {
      const c = chainOf(msg.chain);
      return { transitions: c.transitions, storeErrors: c.storeErrors };
    }
    case 'loop': {
      const c = chainOf(msg.chain);
      const loop: NonNullable<Chain['loop']> = { stop: false, outcomes: [], done: Promise.resolve() };
      loop.done = (async () => {
        while (!loop.stop) {
          loop.outcomes.push(await chatOnce(c));
          await new Promise((r) => setTimeout(r, msg.intervalMs));
        }
      })();
      c.loop = loop;
      return { started: true };
    }
    case 'stopLoop': {
      const c = chainOf(msg.chain);
      if (!c.loop) return [];
      c.loop.stop = true;
      await c.loop.done;
      return c.loop.outcomes;
    }
    case 'close': {
      for (const c of chains.values()) {
        await c.llm.close();
        c.client.destroy();
      }
      setImmediate(() => process.exit(0));
      return { closed: true };
    }
  }
}

process.on('message', (raw: unknown) => {
  const { id, command } = raw as { id: number; command: Command };
  handle(command).then(
    (result) => process.send?.({ id, ok: true, result }),
    (error: unknown) => process.send?.({ id, ok: false, error: error instanceof Error ? error.stack ?? error.message : String(error) }),
  );
});
process.send?.({ ready: true });
