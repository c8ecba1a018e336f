/**
 * The demo's workload: agent-like conversations (a system prompt, a question, tools on offer; the
 * model sometimes calls a tool, the agent answers it and asks again; some turns streamed) through a
 * three-target chain, while the incident of `incident.ts` plays on the fault server.
 *
 * `runDemo` is the whole run as a function, so tests drive it in-process with a short duration.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import {
  BulwarkError,
  anthropicTarget,
  createResilientLLM,
  openaiTarget,
  type ChatRequest,
  type ChatResult,
  type Message,
  type ResilientLLM,
  type ResilientLLMOptions,
  type Target,
  type ToolDefinition,
} from '../src/index.js';
import { startFaultServer, type FaultServer, type ScriptHandle } from '../src/testing/index.js';
import { DEFAULT_DURATION_SEC, PHASES, ROUTES, applyPhase, timingFor, type DemoTiming, type Phase } from './incident.js';
import { liveTargets } from './live.js';
import { DemoStats, type PhaseCounts, type TransitionRecord } from './stats.js';
import { createRandom } from '../src/testing/random.js';

export interface RunInfo {
  chain: string;
  targets: string[];
  timing: DemoTiming;
  conversations: number;
  /** Where the mock providers listen; undefined with `live`. */
  serverUrl: string | undefined;
  live: boolean;
}

/** How the run is shown while it plays (see view.ts). */
export interface DemoView {
  readonly intervalMs: number;
  begin(info: RunInfo): void;
  update(stats: DemoStats): void;
  end(stats: DemoStats): void;
}

export interface DemoOptions {
  /** Length of the incident script, seconds. Default 75. */
  durationSec?: number;
  /** Concurrent conversations. Default 12 (3 with `live`). */
  conversations?: number;
  /** Seed of the fault server and the workload. Default 7. */
  seed?: number;
  view?: DemoView;
  /** Run against the real providers named by API keys in `env` instead of the fault server. */
  live?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Stops the run early (Ctrl-C); the summary still covers what ran. */
  signal?: AbortSignal;
}

export interface PhaseReport {
  phase: Phase;
  startMs: number;
  endMs: number;
  counts: PhaseCounts;
}

export interface DemoReport {
  info: RunInfo;
  elapsedMs: number;
  phases: PhaseReport[];
  totals: PhaseCounts;
  transitions: TransitionRecord[];
  conversations: number;
  unhandledRejections: unknown[];
  interrupted: boolean;
}

export const CHAIN_NAME = 'demo-agent';

const SYSTEM_PROMPT = 'You are the support agent of a software company. Answer briefly; use the tools to look things up.';

const QUESTIONS = [
  'How do I get a refund for an annual plan?',
  'Where is my order A-1042?',
  'Can I change the email address on my account?',
  'Why was my card declined?',
  'How do I export my data?',
  'Is there a student discount?',
  'How do I reset two-factor authentication?',
  'Can I move my subscription to another workspace?',
  'What happens when my trial ends?',
  'Do you support single sign-on?',
  'How do I cancel my subscription?',
  'Can I get an invoice with my VAT number?',
];

export const TOOLS: ToolDefinition[] = [
  {
    name: 'search_docs',
    description: 'Search the help center',
    parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
  },
  {
    name: 'get_order_status',
    description: 'Look up an order',
    parameters: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] },
  },
];

const MOCK_ANSWER =
  'Thanks for asking. Annual plans can be refunded within 30 days of purchase: open Billing, choose the plan, ' +
  'and select "Request refund". The money is back on your card within five business days. Anything else I can help with?';

/**
 * The ticket record the agent asks for at the end of every conversation: structured output, validated
 * against this schema whichever target answers (an off-schema answer is `invalid_output` and falls back).
 */
export const TRIAGE_FORMAT = {
  type: 'json' as const,
  name: 'ticket_triage',
  schema: {
    type: 'object',
    properties: {
      category: { type: 'string', enum: ['billing', 'orders', 'account', 'other'] },
      urgency: { type: 'string', enum: ['low', 'normal', 'high'] },
      summary: { type: 'string' },
    },
    required: ['category', 'urgency', 'summary'],
    additionalProperties: false,
  },
};

/** A 1×1 PNG: the screenshot some customers attach to their question (an image part). */
const SCREENSHOT = new Uint8Array(Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64'));
/** Share of conversations whose question comes with a screenshot. */
const SCREENSHOT_SHARE = 0.25;

/** Share of turns that stream their answer. */
const STREAM_SHARE = 0.4;
/** Most model turns per conversation (the agent stops calling tools after that). */
const MAX_TURNS = 3;

/** The fault server's seeded generator, so a run's workload replays. */
function seededRandom(seed: number): () => number {
  const source = createRandom(seed);
  return () => source.next();
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** The chain's resilience settings, scaled to the run (the defaults are sized for real providers). */
export function demoConfig(timing: DemoTiming): Omit<ResilientLLMOptions, 'name' | 'targets'> {
  return {
    retry: {
      maxAttempts: 3,
      baseDelayMs: timing.baseDelayMs,
      maxDelayMs: timing.maxDelayMs,
      maxRetryAfterMs: timing.maxRetryAfterMs,
    },
    timeouts: { attemptMs: timing.attemptMs, firstChunkMs: timing.firstChunkMs, idleChunkMs: timing.idleChunkMs, totalMs: timing.totalMs },
    // 10 rather than the default 5: under concurrency, failures come back faster than streamed
    // successes, so a 25 % rate-limit storm produces runs of 5–6 failures that would open the
    // breaker in the storm; the story wants it to open when the primary is down.
    breaker: { consecutiveFailures: 10, failureRate: 0.5, minCalls: 10, windowMs: timing.breakerWindowMs, openMs: timing.openMs, halfOpenProbes: 1, successThreshold: 2 },
    cache: { mode: 'on-failure' },
    degrade: { staticReply: 'Our assistant is busy right now; a human will follow up on your question shortly.' },
  };
}

function mockTargets(server: FaultServer): Target[] {
  // Placeholder keys: the fault server accepts anything, and nothing leaves 127.0.0.1.
  return [
    openaiTarget({ client: new OpenAI({ apiKey: 'sk-demo', baseURL: server.baseURL('openai', ROUTES.primary) }), model: 'gpt-4o' }),
    anthropicTarget({ client: new Anthropic({ apiKey: 'sk-ant-demo', baseURL: server.baseURL('anthropic', ROUTES.secondary) }), model: 'claude-haiku-4-5' }),
    openaiTarget({
      client: new OpenAI({ apiKey: 'sk-demo', baseURL: server.baseURL('openai', ROUTES.reduced) }),
      model: 'gpt-4o-mini',
      tier: 'reduced',
    }),
  ];
}

async function ask(llm: ResilientLLM, request: ChatRequest, streamed: boolean): Promise<ChatResult> {
  if (!streamed) return llm.chat(request);
  const stream = llm.stream(request);
  for await (const event of stream) void event; // a UI would render the deltas here
  return stream.result;
}

function toolResult(name: string): string {
  return name === 'get_order_status'
    ? JSON.stringify({ orderId: 'A-1042', status: 'shipped', eta: 'tomorrow' })
    : JSON.stringify({ results: [{ title: 'Refunds', snippet: 'Annual plans are refundable within 30 days.' }] });
}

/** Runs the demo: starts the fault server, plays the incident, drives the workload, returns the report. */
export async function runDemo(options: DemoOptions = {}): Promise<DemoReport> {
  const live = options.live ?? false;
  const timing = timingFor(options.durationSec ?? DEFAULT_DURATION_SEC);
  const conversations = options.conversations ?? (live ? 3 : 12);
  const seed = options.seed ?? 7;
  // A different stream from the fault server's (same algorithm, same seed would correlate them).
  const random = seededRandom(seed ^ 0x5bd1e995);

  const server = live ? undefined : await startFaultServer({ seed, defaultReply: { text: MOCK_ANSWER } });
  let targets: Target[];
  try {
    targets = server ? mockTargets(server) : liveTargets(options.env ?? process.env);
  } catch (error) {
    await server?.close();
    throw error;
  }
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  const stats = new DemoStats({
    phases: PHASES.length,
    windowMs: Math.min(5000, Math.max(1500, timing.durationMs / 15)),
    maxRetryAfterMs: timing.maxRetryAfterMs,
    openMs: timing.openMs,
  });
  const llm = createResilientLLM({
    name: CHAIN_NAME,
    targets,
    ...demoConfig(timing),
    observers: [stats.observer()],
  });
  stats.watch(() => llm.health());

  const info: RunInfo = {
    chain: CHAIN_NAME,
    targets: targets.map((t) => `${t.adapter.provider}/${t.adapter.model}${t.tier === 'reduced' ? ' (reduced)' : ''}`),
    timing,
    conversations,
    serverUrl: server?.url,
    live,
  };

  // ---- the incident: phase changes on a timer
  const stop = new AbortController();
  const onCallerAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  const phaseStarts: number[] = PHASES.map(() => Number.NaN);
  let handles: ScriptHandle[] = [];
  const enterPhase = (index: number) => {
    const phase = PHASES[index]!;
    stats.phase = index;
    phaseStarts[index] = stats.elapsedMs();
    if (server) handles = applyPhase(server, phase.key, timing, handles);
    else {
      // Real providers cannot be made to fail on cue: the outage is played with the operator
      // override instead (the primary's breaker forced open while it is "down").
      const down = phase.key === 'primary_down' || phase.key === 'hung_provider';
      llm.forceBreaker(0, down ? 'open' : 'auto');
    }
  };
  enterPhase(0);
  const timers = PHASES.slice(1).map((phase, i) => setTimeout(() => enterPhase(i + 1), phase.from * timing.durationMs));
  const endTimer = setTimeout(() => stop.abort(), timing.durationMs);

  options.view?.begin(info);
  const tick = options.view ? setInterval(() => options.view?.update(stats), options.view.intervalMs) : undefined;

  // ---- the workload
  let started = 0;
  const conversation = async (id: number) => {
    const partition = `tenant-${id % 4}`;
    const question = QUESTIONS[Math.floor(random() * QUESTIONS.length)]!;
    const withScreenshot = random() < SCREENSHOT_SHARE;
    const messages: Message[] = [
      // The long system prompt is the same in every conversation: a prompt-cache breakpoint (Anthropic).
      { role: 'system', content: SYSTEM_PROMPT, cacheControl: {} },
      {
        role: 'user',
        content: withScreenshot ? [{ type: 'text', text: `${question} Screenshot attached.` }, { type: 'image', image: SCREENSHOT }] : question,
      },
    ];
    for (let turn = 0; turn < MAX_TURNS && !stop.signal.aborted; turn++) {
      const streamed = random() < STREAM_SHARE;
      let result: ChatResult;
      try {
        result = await ask(llm, { messages: [...messages], tools: TOOLS, maxTokens: live ? 80 : 400, partition }, streamed);
      } catch (error) {
        stats.noteError(error instanceof BulwarkError ? error.errorType : 'untyped');
        return;
      }
      if (result.toolCalls.length === 0 || turn === MAX_TURNS - 1) {
        if (!stop.signal.aborted) await triage([...messages, { role: 'assistant', content: result.text || '(no answer)' }], partition, withScreenshot);
        return;
      }
      stats.noteToolTurn();
      messages.push({ role: 'assistant', content: result.text || null, toolCalls: result.toolCalls });
      for (const call of result.toolCalls) messages.push({ role: 'tool', toolCallId: call.id, content: toolResult(call.name) });
      await sleep(timing.thinkMs.min / 2, stop.signal); // running the tool
    }
  };
  // The conversation's ticket record, as structured output (JSON valid against TRIAGE_FORMAT).
  const triage = async (history: Message[], partition: string, withScreenshot: boolean) => {
    try {
      const result = await llm.chat({
        messages: [...history, { role: 'user', content: 'File this conversation as a ticket.' }],
        responseFormat: TRIAGE_FORMAT,
        maxTokens: live ? 80 : 200,
        partition,
      });
      stats.noteStructured(result.object !== undefined, withScreenshot);
    } catch (error) {
      stats.noteError(error instanceof BulwarkError ? error.errorType : 'untyped');
    }
  };
  const agent = async (slot: number) => {
    // Stagger the start so the first second is not one burst.
    await sleep(random() * timing.thinkMs.max, stop.signal);
    while (!stop.signal.aborted) {
      started++;
      await conversation(slot + started * conversations);
      await sleep(timing.thinkMs.min + random() * (timing.thinkMs.max - timing.thinkMs.min), stop.signal);
    }
  };
  await Promise.all(Array.from({ length: conversations }, (_, slot) => agent(slot)));

  // ---- wind down
  const elapsedMs = stats.elapsedMs();
  for (const timer of timers) clearTimeout(timer);
  clearTimeout(endTimer);
  if (tick) clearInterval(tick);
  options.signal?.removeEventListener('abort', onCallerAbort);
  options.view?.update(stats);
  options.view?.end(stats);
  await llm.close();
  await server?.close();
  // Let rejections from the last turn surface before the listener goes.
  await new Promise((resolve) => setImmediate(resolve));
  process.off('unhandledRejection', onUnhandled);

  const phases: PhaseReport[] = PHASES.map((phase, i) => ({
    phase,
    startMs: phaseStarts[i]!,
    endMs: i + 1 < PHASES.length && !Number.isNaN(phaseStarts[i + 1]!) ? phaseStarts[i + 1]! : elapsedMs,
    counts: stats.phases[i]!,
  })).filter((p) => !Number.isNaN(p.startMs));

  return {
    info,
    elapsedMs,
    phases,
    totals: stats.totals(),
    transitions: stats.transitions,
    conversations: started,
    unhandledRejections: unhandled,
    interrupted: options.signal?.aborted === true,
  };
}
