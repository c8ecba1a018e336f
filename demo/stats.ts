/**
 * What the demo shows, collected through the engine's observer seam (the same hooks the
 * OpenTelemetry observer uses): per phase for the summary, and over a sliding window for the
 * live view.
 */
import type { BreakerTransition, ChainHealth, EngineObserver, Outcome, RequestEnd, RequestObserver, Tier } from '../src/index.js';

export type Served = Tier | 'failed';
export const SERVED: readonly Served[] = ['full', 'reduced', 'cached', 'static', 'failed'];
const MODEL_ANSWERED: ReadonlySet<Outcome> = new Set(['success', 'success_after_retry', 'success_via_fallback']);

export interface TransitionRecord {
  atMs: number;
  phase: number;
  breaker: string;
  from: string;
  to: string;
  reason: string;
}

/** Everything counted in one phase of the incident. */
export interface PhaseCounts {
  requests: number;
  streamed: number;
  withTools: number;
  /** Ticket records answered as schema-valid JSON (structured output), and how many came with a screenshot. */
  structured: number;
  withImage: number;
  served: Record<Served, number>;
  outcomes: Partial<Record<Outcome, number>>;
  attempts: number;
  failedAttempts: Record<string, number>;
  retries: number;
  /** Waits that honoured a provider's Retry-After (the delay taken, ms). */
  retryAfterWaits: number[];
  /** Failed attempts whose Retry-After was above `maxRetryAfterMs` (sent on to the next target at once). */
  retryAfterAboveCap: number;
  hops: Record<string, number>;
  hopsTo: Record<string, number>;
  circuitRejections: Record<string, number>;
  probes: { ok: number; failed: number };
  degraded: Record<string, number>;
  transitions: TransitionRecord[];
  costUsd: number;
  modelAnswered: number;
  latenciesMs: number[];
  errors: Record<string, number>;
}

function emptyCounts(): PhaseCounts {
  return {
    requests: 0,
    streamed: 0,
    withTools: 0,
    structured: 0,
    withImage: 0,
    served: { full: 0, reduced: 0, cached: 0, static: 0, failed: 0 },
    outcomes: {},
    attempts: 0,
    failedAttempts: {},
    retries: 0,
    retryAfterWaits: [],
    retryAfterAboveCap: 0,
    hops: {},
    hopsTo: {},
    circuitRejections: {},
    probes: { ok: 0, failed: 0 },
    degraded: {},
    transitions: [],
    costUsd: 0,
    modelAnswered: 0,
    latenciesMs: [],
    errors: {},
  };
}

const bump = (map: Record<string, number>, key: string, by = 1) => {
  map[key] = (map[key] ?? 0) + by;
};

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

interface WindowSample {
  atMs: number;
  served: Served;
  outcome: Outcome;
  durationMs: number;
  retries: number;
  costUsd: number;
}

/** The live view's numbers over the last few seconds. */
export interface LiveSnapshot {
  elapsedMs: number;
  phase: number;
  total: number;
  inFlight: number;
  requestsPerSec: number;
  servedShare: Record<Served, number>;
  retryRate: number;
  fallbackActivation: number;
  costPerSuccessUsd: number;
  p95Ms: number;
  breakers: Array<{ key: string; state: string; nextProbeInMs: number | undefined; tier: string }>;
  recentTransitions: TransitionRecord[];
}

export class DemoStats {
  readonly phases: PhaseCounts[];
  readonly transitions: TransitionRecord[] = [];
  readonly startedAt = performance.now();
  #phase = 0;
  #inFlight = 0;
  #total = 0;
  #window: WindowSample[] = [];
  readonly #windowMs: number;
  readonly #maxRetryAfterMs: number;
  readonly #openMs: number;
  #health: (() => ChainHealth) | undefined;

  constructor(options: { phases: number; windowMs: number; maxRetryAfterMs: number; openMs: number }) {
    this.phases = Array.from({ length: options.phases }, emptyCounts);
    this.#windowMs = options.windowMs;
    this.#maxRetryAfterMs = options.maxRetryAfterMs;
    this.#openMs = options.openMs;
  }

  get phase(): number {
    return this.#phase;
  }

  set phase(index: number) {
    this.#phase = index;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Lets the live view read breaker states (set once the client exists). */
  watch(health: () => ChainHealth): void {
    this.#health = health;
  }

  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  #current(): PhaseCounts {
    return this.phases[this.#phase]!;
  }

  /** Caller-side: a conversation turn that asked with tools, and errors the caller saw. */
  noteStructured(valid: boolean, withImage: boolean): void {
    if (valid) this.#current().structured++;
    if (withImage) this.#current().withImage++;
  }

  noteToolTurn(): void {
    this.#current().withTools++;
  }

  noteError(errorType: string): void {
    bump(this.#current().errors, errorType);
  }

  /** The engine observer that feeds these statistics. */
  observer(): EngineObserver {
    return {
      onRequestStart: (info) => this.#onRequest(info.stream),
      onBreakerTransition: (t) => this.#onTransition(t),
    };
  }

  #onTransition(t: BreakerTransition): void {
    const record: TransitionRecord = { atMs: this.elapsedMs(), phase: this.#phase, breaker: t.breaker, from: t.from, to: t.to, reason: t.reason };
    this.transitions.push(record);
    this.#current().transitions.push(record);
  }

  #onRequest(stream: boolean): RequestObserver {
    this.#inFlight++;
    if (stream) this.#current().streamed++;
    return {
      onAttemptStart: (attempt) => {
        const probe = attempt.kind === 'probe';
        return {
          onEnd: (end) => {
            const counts = this.#current();
            counts.attempts++;
            const errorType = end.errorType ?? end.error?.errorType;
            if (errorType !== undefined) {
              bump(counts.failedAttempts, errorType);
              if (end.error?.retryAfterMs !== undefined && end.error.retryAfterMs > this.#maxRetryAfterMs) counts.retryAfterAboveCap++;
            }
            if (probe && (end.response || errorType)) {
              if (errorType === undefined) counts.probes.ok++;
              else counts.probes.failed++;
            }
          },
        };
      },
      onRetryScheduled: (e) => {
        const counts = this.#current();
        if (e.retryAfterMs !== undefined && e.retryAfterMs >= e.delayMs) counts.retryAfterWaits.push(e.delayMs);
      },
      onFallback: (e) => {
        const counts = this.#current();
        bump(counts.hops, e.reason);
        bump(counts.hopsTo, `${e.to.provider}/${e.to.model}`);
      },
      onCircuitRejected: (e) => bump(this.#current().circuitRejections, e.breaker),
      onDegraded: (e) => bump(this.#current().degraded, `${e.tier}:${e.reason}`),
      onEnd: (end) => this.#onEnd(end),
    };
  }

  #onEnd(end: RequestEnd): void {
    this.#inFlight--;
    this.#total++;
    const counts = this.#current();
    const served: Served = end.outcome === 'failed' ? 'failed' : (end.result?.tier ?? 'failed');
    counts.requests++;
    counts.served[served]++;
    bump(counts.outcomes as Record<string, number>, end.outcome);
    counts.retries += end.retries;
    counts.costUsd += end.costUsd;
    counts.latenciesMs.push(end.durationMs);
    if (MODEL_ANSWERED.has(end.outcome)) counts.modelAnswered++;
    this.#window.push({ atMs: this.elapsedMs(), served, outcome: end.outcome, durationMs: end.durationMs, retries: end.retries, costUsd: end.costUsd });
  }

  /** Numbers for the live view, over the last `windowMs`. */
  snapshot(): LiveSnapshot {
    const now = this.elapsedMs();
    const since = now - this.#windowMs;
    let drop = 0;
    while (drop < this.#window.length && this.#window[drop]!.atMs < since) drop++;
    if (drop > 0) this.#window.splice(0, drop);
    const w = this.#window;
    const span = Math.max(1, Math.min(this.#windowMs, now)) / 1000;
    const servedShare: Record<Served, number> = { full: 0, reduced: 0, cached: 0, static: 0, failed: 0 };
    let retries = 0;
    let viaFallback = 0;
    let cost = 0;
    let successes = 0;
    for (const s of w) {
      servedShare[s.served]++;
      retries += s.retries;
      cost += s.costUsd;
      if (s.outcome === 'success_via_fallback') viaFallback++;
      if (MODEL_ANSWERED.has(s.outcome)) successes++;
    }
    for (const key of SERVED) servedShare[key] = w.length ? servedShare[key] / w.length : 0;
    const lastOpen = new Map<string, number>();
    for (const t of this.transitions) if (t.to === 'open') lastOpen.set(t.breaker, t.atMs);
    const health = this.#health?.();
    const breakers = (health?.targets ?? [])
      .filter((t, i, all) => all.findIndex((o) => o.breaker === t.breaker) === i)
      .map((t) => {
        const openedAt = lastOpen.get(t.breaker);
        const nextProbeInMs = t.state === 'open' && openedAt !== undefined ? Math.max(0, openedAt + this.#openMs - now) : undefined;
        return { key: t.breaker, state: t.state, nextProbeInMs, tier: t.tier };
      });
    return {
      elapsedMs: now,
      phase: this.#phase,
      total: this.#total,
      inFlight: this.#inFlight,
      requestsPerSec: w.length / span,
      servedShare,
      retryRate: w.length ? retries / w.length : 0,
      fallbackActivation: w.length ? viaFallback / w.length : 0,
      costPerSuccessUsd: successes ? cost / successes : Number.NaN,
      p95Ms: percentile(
        w.map((s) => s.durationMs),
        95,
      ),
      breakers,
      recentTransitions: this.transitions.slice(-3),
    };
  }

  /** All phases added up. */
  totals(): PhaseCounts {
    const total = emptyCounts();
    for (const p of this.phases) {
      total.requests += p.requests;
      total.streamed += p.streamed;
      total.withTools += p.withTools;
      total.structured += p.structured;
      total.withImage += p.withImage;
      for (const k of SERVED) total.served[k] += p.served[k];
      for (const [k, v] of Object.entries(p.outcomes)) bump(total.outcomes as Record<string, number>, k, v);
      total.attempts += p.attempts;
      for (const [k, v] of Object.entries(p.failedAttempts)) bump(total.failedAttempts, k, v);
      total.retries += p.retries;
      total.retryAfterWaits.push(...p.retryAfterWaits);
      total.retryAfterAboveCap += p.retryAfterAboveCap;
      for (const [k, v] of Object.entries(p.hops)) bump(total.hops, k, v);
      for (const [k, v] of Object.entries(p.hopsTo)) bump(total.hopsTo, k, v);
      for (const [k, v] of Object.entries(p.circuitRejections)) bump(total.circuitRejections, k, v);
      total.probes.ok += p.probes.ok;
      total.probes.failed += p.probes.failed;
      for (const [k, v] of Object.entries(p.degraded)) bump(total.degraded, k, v);
      total.transitions.push(...p.transitions);
      total.costUsd += p.costUsd;
      total.modelAnswered += p.modelAnswered;
      total.latenciesMs.push(...p.latenciesMs);
      for (const [k, v] of Object.entries(p.errors)) bump(total.errors, k, v);
    }
    return total;
  }
}
