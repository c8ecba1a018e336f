/**
 * The incident the demo plays, as data: five phases whose lengths are fractions of the run, and what
 * each phase does to each route of the fault server. Every duration that matters for the story
 * (phase lengths, Retry-After, breaker open time, timeouts) scales with `--duration`, so a 10 s run
 * tells the same story as the default 75 s one.
 */
import { fault, type FaultServer, type Fault, type Latency, type RandomFault, type Script, type ScriptHandle } from '../src/testing/index.js';

export type PhaseKey = 'normal' | 'rate_limit_storm' | 'primary_down' | 'hung_provider' | 'recovery';

export interface Phase {
  key: PhaseKey;
  title: string;
  /** What the fault server does in this phase, in one line. */
  happening: string;
  /** Start and end as fractions of the run. */
  from: number;
  to: number;
}

export const PHASES: readonly Phase[] = [
  { key: 'normal', title: 'normal traffic', happening: 'every provider healthy', from: 0, to: 0.15 },
  {
    key: 'rate_limit_storm',
    title: 'rate-limit storm',
    happening: 'the primary answers 429 to ~25 % of calls, with Retry-After (some far above the cap)',
    from: 0.15,
    to: 0.35,
  },
  { key: 'primary_down', title: 'primary down', happening: 'the primary answers 5xx or resets every call', from: 0.35, to: 0.55 },
  {
    key: 'hung_provider',
    title: 'hung provider',
    happening: 'primary still down; the secondary accepts calls and never answers; the local model is saturated (30 % 503)',
    from: 0.55,
    to: 0.75,
  },
  { key: 'recovery', title: 'recovery', happening: 'every provider healthy again', from: 0.75, to: 1 },
];

/** The default run length: long enough to watch, short enough to sit through. */
export const DEFAULT_DURATION_SEC = 75;

/** Routes of the fault server, one per target. */
export const ROUTES = { primary: 'primary', secondary: 'secondary', reduced: 'local' } as const;

/** Durations derived from the run length (ms). */
export interface DemoTiming {
  durationMs: number;
  /** durationMs / the default duration. */
  scale: number;
  /** Short Retry-After the storm sends (below the cap: waited out). */
  retryAfterMs: number;
  /** Bulwark's `retry.maxRetryAfterMs`. */
  maxRetryAfterMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
  openMs: number;
  breakerWindowMs: number;
  attemptMs: number;
  firstChunkMs: number;
  idleChunkMs: number;
  totalMs: number;
  /** Pause between an agent's turns. */
  thinkMs: { min: number; max: number };
}

const clamp = (value: number, min: number, max: number) => Math.round(Math.min(max, Math.max(min, value)));

export function timingFor(durationSec: number): DemoTiming {
  if (!(durationSec > 0) || !Number.isFinite(durationSec)) throw new RangeError(`duration must be a positive number of seconds, got ${durationSec}`);
  const durationMs = Math.round(durationSec * 1000);
  const scale = durationMs / (DEFAULT_DURATION_SEC * 1000);
  return {
    durationMs,
    scale,
    retryAfterMs: clamp(700 * scale, 120, 700),
    maxRetryAfterMs: clamp(4000 * scale, 800, 4000),
    baseDelayMs: clamp(250 * scale, 40, 250),
    maxDelayMs: clamp(2000 * scale, 300, 2000),
    openMs: clamp(4000 * scale, 500, 4000),
    breakerWindowMs: clamp(10_000 * scale, 2000, 10_000),
    attemptMs: clamp(2500 * scale, 800, 2500),
    firstChunkMs: clamp(1500 * scale, 500, 1500),
    idleChunkMs: clamp(1500 * scale, 500, 1500),
    totalMs: clamp(8000 * scale, 2500, 8000),
    thinkMs: { min: clamp(250 * scale, 60, 250), max: clamp(900 * scale, 200, 900) },
  };
}

/** The phase running at `elapsedMs` (the last one after the end). */
export function phaseAt(elapsedMs: number, timing: DemoTiming): number {
  const f = elapsedMs / timing.durationMs;
  const i = PHASES.findIndex((p) => f >= p.from && f < p.to);
  return i === -1 ? PHASES.length - 1 : i;
}

// ------------------------------------------------------------------------------ what the server does

/** The tools every conversation offers, and what the mock model calls. */
export const TOOL_CALLS = [
  { name: 'search_docs', arguments: { query: 'refund policy for annual plans' } },
  { name: 'get_order_status', arguments: { orderId: 'A-1042' } },
] as const;

/** Share of successful answers that are tool calls rather than text. */
const TOOL_CALL_SHARE = 0.35;
/** Stream pacing: ~10–20 chunks per answer. */
const CHUNK_DELAY_MS = 8;

const LATENCY: Record<keyof typeof ROUTES, Latency> = {
  primary: { kind: 'normal', meanMs: 140, stdDevMs: 45, minMs: 40, maxMs: 400 },
  secondary: { kind: 'normal', meanMs: 190, stdDevMs: 60, minMs: 50, maxMs: 450 },
  reduced: { kind: 'normal', meanMs: 70, stdDevMs: 20, minMs: 20, maxMs: 200 },
};

/** Faults first, then tool-call answers for a share of what is left, then plain answers. */
function answering(faults: RandomFault[], latency: Latency): Script {
  const faultShare = faults.reduce((sum, f) => sum + f.probability, 0);
  const toolShare = TOOL_CALL_SHARE * (1 - faultShare);
  const toolReplies = TOOL_CALLS.map((call) => ({
    probability: toolShare / TOOL_CALLS.length,
    fault: fault.ok({ toolCalls: [{ name: call.name, arguments: { ...call.arguments } }], chunkDelayMs: CHUNK_DELAY_MS }),
  }));
  return { random: [...faults, ...toolReplies], then: fault.ok({ chunkDelayMs: CHUNK_DELAY_MS }), latency };
}

const healthy = (route: keyof typeof ROUTES): Script => answering([], LATENCY[route]);

const primaryDown: Script = {
  random: [
    { probability: 0.6, fault: fault.serverError(503) },
    { probability: 0.25, fault: fault.serverError(502) },
    { probability: 0.15, fault: fault.reset() },
  ],
  latency: { kind: 'uniform', minMs: 5, maxMs: 30 },
};

function scriptsFor(phase: PhaseKey, timing: DemoTiming): Record<keyof typeof ROUTES, Script> {
  switch (phase) {
    case 'normal':
    case 'recovery':
      return { primary: healthy('primary'), secondary: healthy('secondary'), reduced: healthy('reduced') };
    case 'rate_limit_storm': {
      const storm: Fault[] = [
        fault.rateLimit({ retryAfterMs: timing.retryAfterMs, resetRequestsMs: timing.retryAfterMs }),
        fault.rateLimit({ retryAfterSeconds: 30, limit: 'tokens' }),
      ];
      return {
        primary: answering(
          [
            { probability: 0.18, fault: storm[0]! },
            { probability: 0.06, fault: storm[1]! },
          ],
          LATENCY.primary,
        ),
        secondary: healthy('secondary'),
        reduced: healthy('reduced'),
      };
    }
    case 'primary_down':
      return { primary: primaryDown, secondary: healthy('secondary'), reduced: healthy('reduced') };
    case 'hung_provider':
      return {
        primary: primaryDown,
        secondary: { then: fault.hang() },
        reduced: answering([{ probability: 0.3, fault: fault.overloaded({ status: 503 }) }], LATENCY.reduced),
      };
  }
}

/** Installs a phase's scripts on the server, replacing the previous phase's. */
export function applyPhase(server: FaultServer, phase: PhaseKey, timing: DemoTiming, previous: readonly ScriptHandle[] = []): ScriptHandle[] {
  const scripts = scriptsFor(phase, timing);
  const handles = (Object.keys(ROUTES) as Array<keyof typeof ROUTES>).map((route) => server.script({ route: ROUTES[route] }, scripts[route]));
  for (const handle of previous) handle.remove();
  return handles;
}
