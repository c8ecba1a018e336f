import type { RateLimitListener, RateLimitReport, ReportedLimit } from '../providers/rateLimitHeaders.js';
import type { SharedChainState } from '../state/sharedChainState.js';
import type { Clock } from '../time/clock.js';
import { RateWindow } from './rateWindow.js';
import type { Availability, LimitDenial, LimitGrant, LimitKind, LimitRemaining, LimitsConfig, LimitsHealth, RateLimitHeadersConfig } from './types.js';

/** The providers' limits are per minute; so are ours. */
export const LIMIT_WINDOW_MS = 60_000;
/**
 * A request waiting for a concurrency slot another process holds looks again this often (a slot
 * freed in this process wakes it at once; one freed elsewhere is only seen by asking the store).
 */
export const LEASE_RECHECK_MS = 250;

export interface TargetLimiterOptions {
  /** The target's breaker key: what the shared window and the telemetry are keyed by. */
  key: string;
  limits: LimitsConfig | undefined;
  headers: RateLimitHeadersConfig | false;
  clock: Clock;
  /** With `sharedState`: rpm / tpm are counted fleet-wide through the store. */
  shared?: SharedChainState | undefined;
  /** A provider header whose value was not usable (→ `bulwark.limit.header_errors`). */
  onHeaderError?: (header: string) => void;
  /**
   * With `sharedState`: how long a fleet-wide concurrency lease is held at most (the total deadline:
   * no call outlives it), so a process that dies mid-call frees its slots by then. Default 120 000.
   */
  leaseMs?: number;
}

/**
 * One target's limits: its own rpm / tpm / maxConcurrent, accounted before each call, and what its
 * provider's rate-limit headers last said. The walk asks `acquire()` before a call (skip when
 * refused, reason `limited`); pools and the walk's ordering ask `availability()` (no store call).
 *
 * - rpm / tpm: a sliding window, fleet-wide through the store's `limit` script with `sharedState`,
 *   in this process otherwise — and whenever the store is unreachable or slow (the local window
 *   always records this process's calls, so it can take over at once; it then counts this process's
 *   calls only, so a fleet may overshoot by its size while the store is down).
 * - tokens: a call is charged its estimate, then corrected to the usage its answer reported.
 * - maxConcurrent: calls in flight, fleet-wide with `sharedState` as leases in the store (one atomic
 *   script per call start, a background release at its end; a lease expires after `leaseMs`, so a
 *   process that died mid-call frees its slots by then), in this process otherwise — and whenever
 *   the store is unreachable or slow (this process's own count, which it always keeps, decides).
 * - provider headers: remaining 0 before the reset → refused; under `lowRemaining` → `low`.
 */
export class TargetLimiter {
  readonly key: string;
  readonly limits: LimitsConfig | undefined;
  private readonly clock: Clock;
  private readonly shared: SharedChainState | undefined;
  private readonly headers: RateLimitHeadersConfig | false;
  private readonly onHeaderError: ((header: string) => void) | undefined;
  private readonly window: RateWindow | undefined;
  private inFlight = 0;
  private readonly waiters = new Set<() => void>();
  /** The fleet-wide window as the last store reply showed it. */
  private fleet: { requests: number; tokens: number; at: number } | undefined;
  private provider: { requests?: ReportedLimit; tokens?: ReportedLimit } = {};
  private nextId = 0;
  private readonly leaseMs: number;
  /** Leases the fleet held at the last store reply (health; undefined without one). */
  private fleetLeases: number | undefined;
  /** Where adapters report the provider's headers (one object, no allocation per call). */
  readonly listener: RateLimitListener;

  constructor(options: TargetLimiterOptions) {
    this.key = options.key;
    this.limits = options.limits;
    this.clock = options.clock;
    this.shared = options.shared;
    this.headers = options.headers;
    this.onHeaderError = options.onHeaderError;
    this.leaseMs = options.leaseMs ?? 120_000;
    const { rpm, tpm } = options.limits ?? {};
    if (rpm !== undefined || tpm !== undefined) this.window = new RateWindow({ rpm, tpm, windowMs: LIMIT_WINDOW_MS });
    this.listener = { now: () => this.clock.now(), report: (report) => this.observe(report) };
  }

  /** How long a request that found every target limited may wait for this one. */
  get queueMs(): number {
    return this.limits?.queueMs ?? 0;
  }

  /** Without a store call: available, low (try after peers) or limited (skip). */
  availability(): Availability {
    const max = this.limits?.maxConcurrent;
    if (max !== undefined && this.inFlight >= max) return 'limited';
    // Without a window or a provider's report the answer depends on nothing time-bound: no clock read.
    if (!this.window && !this.reported()) return 'available';
    const now = this.clock.now();
    if (this.providerDenial(now)) return 'limited';
    if (this.window) {
      const left = this.shared?.available() && this.fleet ? this.fleetRemaining(now) : this.window.remaining(now);
      if (left.requests === 0 || left.tokens === 0) return 'limited';
    }
    return this.providerLow(now) ? 'low' : 'available';
  }

  /**
   * Admits one call charged the request's estimated tokens (`estimatedTokens(of)`, asked only when this
   * target has an rpm/tpm window), or says which limit refused it. Never throws and never waits longer
   * than one store call (bounded by the store's timeout). Answers at once, not through a promise, when
   * nothing is asked of a window or the store (no limits configured, or only a local maxConcurrent).
   */
  acquire<S>(estimatedTokens: (of: S) => number, of: S): LimitGrant | LimitDenial | Promise<LimitGrant | LimitDenial> {
    const max = this.limits?.maxConcurrent;
    // Time only matters to a window, a fleet-wide lease or a provider's report (no clock read otherwise).
    const now = this.window || this.reported() || (max !== undefined && this.shared) ? this.clock.now() : 0;
    if (max !== undefined && this.inFlight >= max) return { granted: false, kind: 'concurrent', source: 'local', retryInMs: undefined };
    const provider = this.providerDenial(now);
    if (provider) return provider;
    // Reserved before any store call, so concurrent acquires cannot overshoot maxConcurrent.
    this.inFlight++;
    if ((max === undefined || !this.shared) && !this.window) return this.grant(0, undefined, undefined);
    return this.acquireCounted(now, max, estimatedTokens, of);
  }

  /** The rest of `acquire` when a fleet-wide lease or a window has to count the call (its slot is reserved). */
  private async acquireCounted<S>(now: number, max: number | undefined, estimatedTokens: (of: S) => number, of: S): Promise<LimitGrant | LimitDenial> {
    let lease: string | undefined;
    if (max !== undefined && this.shared) {
      const taken = await this.takeLease(now, max);
      if (taken === false) {
        this.inFlight--;
        return { granted: false, kind: 'concurrent', source: 'local', retryInMs: LEASE_RECHECK_MS };
      }
      lease = taken;
    }
    let tokens = 0;
    let id: string | undefined;
    if (this.window) {
      tokens = Math.max(0, Math.round(estimatedTokens(of)));
      const refused = await this.take(now, tokens);
      if (typeof refused === 'object') {
        this.inFlight--;
        if (lease !== undefined) this.releaseLease(lease);
        return refused;
      }
      id = refused;
    }
    return this.grant(tokens, id, lease);
  }

  /** A fleet-wide concurrency lease: its id, false when the fleet holds every slot, undefined when the store cannot say (this process's count decides). */
  private async takeLease(now: number, max: number): Promise<string | false | undefined> {
    const shared = this.shared!;
    if (!shared.available()) {
      shared.reportUnavailable('limit.take');
      return undefined;
    }
    const id = `${shared.instanceId}-c${this.nextId++}`;
    const reply = await shared.lease(this.key, now, max, id, this.leaseMs, true);
    if (!reply) return undefined;
    this.fleetLeases = reply.held;
    return reply.ok ? id : false;
  }

  /** Gives a lease back in the background (never awaited by a request); a lease not given back expires. */
  private releaseLease(id: string): void {
    const shared = this.shared;
    const max = this.limits?.maxConcurrent;
    if (!shared?.available() || max === undefined) return;
    void shared.lease(this.key, this.clock.now(), max, id, this.leaseMs, false).then((reply) => {
      if (reply) this.fleetLeases = reply.held;
    });
  }

  /** Takes from the fleet-wide window (or the local one): the entry id, or the refusal. */
  private async take(now: number, tokens: number): Promise<string | LimitDenial> {
    const window = this.window!;
    const id = `${this.shared?.instanceId ?? 'local'}-${this.nextId++}`;
    if (this.shared?.available()) {
      const reply = await this.shared.limit(this.key, now, this.windowConfig(), { id, requests: 1, tokens }, true);
      if (reply) {
        this.fleet = { requests: reply.requests, tokens: reply.tokens, at: now };
        if (!reply.ok) return { granted: false, kind: reply.kind ?? 'requests', source: 'local', retryInMs: reply.retryInMs };
        // Keep this process's own history true, for when it has to decide alone.
        window.add(now, 1, tokens);
        return id;
      }
    } else if (this.shared) {
      this.shared.reportUnavailable('limit.take');
    }
    const refused = window.tryTake(now, tokens);
    return refused ? { granted: false, kind: refused.kind, source: 'local', retryInMs: refused.retryInMs } : id;
  }

  private grant(estimated: number, id: string | undefined, lease: string | undefined): LimitGrant {
    return new Grant(this, estimated, id, lease);
  }

  /** @internal A granted call ended (settled or cancelled): its slot, its lease and the waiters. */
  callEnded(lease: string | undefined): void {
    this.inFlight--;
    if (lease !== undefined) this.releaseLease(lease);
    if (this.waiters.size > 0) for (const wake of [...this.waiters]) wake();
  }

  /** @internal A granted call's tokens, corrected to what it reported (tpm only). */
  correctTokens(id: string, estimated: number, usedTokens: number): void {
    if (this.limits?.tpm === undefined) return;
    this.add(id, 0, Math.max(0, Math.round(usedTokens)) - estimated);
  }

  /** @internal A granted call never sent: its request and tokens given back. */
  refund(id: string, estimated: number): void {
    this.add(id, -1, -estimated);
  }

  /** A correction or refund, locally at once and to the store in the background (never awaited by a request). */
  private add(id: string, requests: number, tokens: number): void {
    if (requests === 0 && tokens === 0) return;
    const now = this.clock.now();
    this.window?.add(now, requests, tokens);
    if (this.fleet) {
      this.fleet.requests += requests;
      this.fleet.tokens += tokens;
    }
    if (this.shared?.available()) void this.shared.limit(this.key, now, this.windowConfig(), { id: `${id}c`, requests, tokens }, false);
  }

  /** What a provider's headers said on a successful response; garbage values are counted and ignored. */
  observe(report: RateLimitReport): void {
    for (const header of report.garbage) this.onHeaderError?.(header);
    if (this.headers === false) return;
    if (report.requests) this.provider.requests = report.requests;
    if (report.tokens) this.provider.tokens = report.tokens;
  }

  /**
   * Resolves after `ms`, or earlier when a call of this target ends (a concurrency slot freed);
   * rejects with the signal's reason when it aborts.
   */
  waitForCapacity(ms: number, signal: AbortSignal): Promise<void> {
    return waitForAny([this], ms, this.clock, signal);
  }

  /** @internal */
  addWaiter(wake: () => void): () => void {
    this.waiters.add(wake);
    return () => this.waiters.delete(wake);
  }

  /** `bulwark.limit.remaining` points and what `health()` shows. */
  health(): LimitsHealth | undefined {
    const now = this.clock.now();
    const remaining: LimitRemaining[] = [];
    const { rpm, tpm, maxConcurrent } = this.limits ?? {};
    if (this.window) {
      const left = this.shared?.available() && this.fleet ? this.fleetRemaining(now) : this.window.remaining(now);
      if (rpm !== undefined && left.requests !== undefined) remaining.push({ kind: 'requests', source: 'local', remaining: left.requests, limit: rpm });
      if (tpm !== undefined && left.tokens !== undefined) remaining.push({ kind: 'tokens', source: 'local', remaining: left.tokens, limit: tpm });
    }
    if (maxConcurrent !== undefined) {
      // Fleet-wide as of the last lease reply (with sharedState and the store reachable), else this process's.
      const held = this.shared?.available() && this.fleetLeases !== undefined ? this.fleetLeases : this.inFlight;
      remaining.push({ kind: 'concurrent', source: 'local', remaining: Math.max(0, maxConcurrent - held), limit: maxConcurrent });
    }
    for (const kind of ['requests', 'tokens'] as const) {
      const reported = this.current(kind, now);
      if (reported) remaining.push({ kind, source: 'provider', remaining: reported.remaining, limit: reported.limit });
    }
    if (remaining.length === 0 && this.limits === undefined) return undefined;
    return {
      availability: this.availability(),
      ...(rpm !== undefined && { rpm }),
      ...(tpm !== undefined && { tpm }),
      ...(maxConcurrent !== undefined && { maxConcurrent }),
      inFlight: this.inFlight,
      remaining,
    };
  }

  private windowConfig() {
    return { windowMs: LIMIT_WINDOW_MS, rpm: this.limits?.rpm, tpm: this.limits?.tpm };
  }

  /** The fleet window from the last reply; entries may have left it since, so this errs on the safe side. */
  private fleetRemaining(now: number): { requests: number | undefined; tokens: number | undefined } {
    const fleet = this.fleet!;
    // A reply older than the window says nothing any more.
    if (now - fleet.at >= LIMIT_WINDOW_MS) return this.window!.remaining(now);
    const { rpm, tpm } = this.limits ?? {};
    return { requests: rpm === undefined ? undefined : Math.max(0, rpm - fleet.requests), tokens: tpm === undefined ? undefined : Math.max(0, tpm - fleet.tokens) };
  }

  /** A provider report still in force (before its reset). */
  private current(kind: 'requests' | 'tokens', now: number): ReportedLimit | undefined {
    if (this.headers === false) return undefined;
    const reported = this.provider[kind];
    return reported && now < reported.resetAt ? reported : undefined;
  }

  /** Whether a provider's report is held (it may have expired: `current` says). */
  private reported(): boolean {
    return this.headers !== false && (this.provider.requests !== undefined || this.provider.tokens !== undefined);
  }

  private providerDenial(now: number): LimitDenial | undefined {
    for (const kind of ['requests', 'tokens'] as const satisfies readonly LimitKind[]) {
      const reported = this.current(kind, now);
      if (reported && reported.remaining <= 0) return { granted: false, kind, source: 'provider', retryInMs: Math.max(1, reported.resetAt - now) };
    }
    return undefined;
  }

  private providerLow(now: number): boolean {
    if (this.headers === false) return false;
    const threshold = this.headers.lowRemaining;
    for (const kind of ['requests', 'tokens'] as const) {
      const reported = this.current(kind, now);
      if (reported && reported.remaining < threshold * reported.limit) return true;
    }
    return false;
  }
}

/**
 * One admitted call: ended exactly once, by `settle` (it was sent; tpm corrected to the tokens it
 * reported) or `cancel` (never sent; its request and tokens given back). A class, not closures:
 * every call through a target takes one, limits configured or not (the count in flight is kept).
 */
class Grant implements LimitGrant {
  readonly granted = true;
  private open = true;
  constructor(
    private readonly limiter: TargetLimiter,
    private readonly estimated: number,
    private readonly id: string | undefined,
    private readonly lease: string | undefined,
  ) {}

  settle(usedTokens: number | undefined): void {
    if (!this.end() || this.id === undefined || usedTokens === undefined) return;
    this.limiter.correctTokens(this.id, this.estimated, usedTokens);
  }

  cancel(): void {
    if (!this.end() || this.id === undefined) return;
    this.limiter.refund(this.id, this.estimated);
  }

  private end(): boolean {
    if (!this.open) return false;
    this.open = false;
    this.limiter.callEnded(this.lease);
    return true;
  }
}

/**
 * Waits up to `ms` for capacity on any of `limiters`: resolves after `ms` or as soon as a call of
 * one of them ends; rejects with the signal's reason when it aborts first.
 */
export function waitForAny(limiters: readonly TargetLimiter[], ms: number, clock: Clock, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = new AbortController();
    const removers: Array<() => void> = [];
    const finish = (error?: unknown) => {
      for (const remove of removers) remove();
      signal.removeEventListener('abort', onAbort);
      timer.abort();
      if (error === undefined) resolve();
      else reject(error);
    };
    const onAbort = () => finish(signal.reason);
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    for (const limiter of limiters) removers.push(limiter.addWaiter(() => finish()));
    clock.sleep(ms, timer.signal).then(
      () => finish(),
      () => undefined,
    );
  });
}
