import { randomUUID } from 'node:crypto';
import { BREAKER_OVERRIDES, type BreakerOverride, type CircuitState } from '../events/breakerTransition.js';
import { FORCED_TIERS, type ForcedTier } from '../request/tiers.js';
import type { Clock } from '../time/clock.js';
import { CIRCUIT_STATE_VALUES } from '../telemetry/names.js';
import { SCRIPTS } from './redisScripts.js';
import {
  StoreError,
  stateKeys,
  storeErrorTypeOf,
  type SharedStateStore,
  type StateScript,
  type StoreStatus,
} from './sharedState.js';
import type { StoreErrorEvent, StoreOperation } from '../events/storeError.js';

/** The retry budget window the budget script keeps (the shape of retry/'s BudgetWindowConfig). */
export interface BudgetWindowConfig {
  ratio: number;
  minRetriesPerSecond: number;
  windowMs: number;
}

/** A breaker's shared record, as the scripts keep it. */
export interface SharedBreakerRecord {
  /** False when Redis has no record (never written, or lost in a restart). */
  exists: boolean;
  state: CircuitState;
  override: BreakerOverride;
  openedAt: number;
  /** Bumped on every change of state or override. */
  gen: number;
  reason: string;
  successes: number;
  /** Instance that made the last change. */
  by: string;
  at: number;
}

/** A state script's reply: `changed` means this call performed the transition. */
export interface ScriptReply {
  changed: boolean;
  /** The state before, when changed. */
  from: CircuitState | undefined;
  decision: string;
  record: SharedBreakerRecord;
}

/** A limit script's reply: whether the take fitted, else which limit refused and when it frees up. */
export interface LimitReply {
  ok: boolean;
  kind?: 'requests' | 'tokens';
  retryInMs?: number;
  /** Requests and tokens in the fleet-wide window after the call. */
  requests: number;
  tokens: number;
}

/** A concurrency lease call: taken (or released), and the leases the fleet holds after it. */
export interface LeaseReply {
  ok: boolean;
  held: number;
}

export interface BudgetReply {
  granted: boolean;
  /** Retries the fleet may still take (fractional allowance). */
  allowed: number;
}

/** What a shared breaker is told at every sync. */
export interface SyncedBreaker {
  /**
   * How many store calls the breaker has issued. Redis runs one connection's commands in
   * order, so a sync read issued before the breaker's latest call is older than what that
   * call brought (or will bring): the sync leaves the breaker alone then.
   */
  readonly storeCalls: number;
  applySynced(record: SharedBreakerRecord): void;
}

/** What a shared retry budget is told at every sync, and gives to it. */
export interface SyncedBudget {
  /** Requests recorded since the last flush (handed over, so counted once). */
  takePending(): number;
  /** Gives back requests whose flush failed. */
  restorePending(count: number): void;
  applySynced(allowed: number): void;
}

const STATES: readonly string[] = CIRCUIT_STATE_VALUES;
const OVERRIDES: readonly string[] = BREAKER_OVERRIDES;
const TIERS: readonly string[] = FORCED_TIERS;
/** Breaker records and the forced tier outlive any incident, and vanish from a Redis nobody uses for a week. */
const RECORD_TTL_MS = 7 * 24 * 3600 * 1000;
const BUDGET_BUCKETS = 10;

export function defaultRecord(): SharedBreakerRecord {
  return { exists: false, state: 'closed', override: 'auto', openedAt: 0, gen: 0, reason: '', successes: 0, by: '', at: 0 };
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

export function parseRecord(raw: unknown): SharedBreakerRecord | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  const state = typeof r.state === 'string' && STATES.includes(r.state) ? (r.state as CircuitState) : undefined;
  const override = typeof r.override === 'string' && OVERRIDES.includes(r.override) ? (r.override as BreakerOverride) : undefined;
  if (!state || !override) return undefined;
  return {
    exists: r.e === 1,
    state,
    override,
    openedAt: num(r.openedAt),
    gen: num(r.gen),
    reason: typeof r.reason === 'string' ? r.reason : '',
    successes: num(r.successes),
    by: typeof r.by === 'string' ? r.by : '',
    at: num(r.at),
  };
}

function parseReply(json: string): ScriptReply {
  const v = JSON.parse(json) as Record<string, unknown>;
  const record = parseRecord(v.r);
  if (!record) throw new Error('no breaker record in the reply');
  const from = typeof v.f === 'string' && STATES.includes(v.f) ? (v.f as CircuitState) : undefined;
  return { changed: v.c === 1, from, decision: typeof v.d === 'string' ? v.d : '', record };
}

export interface SharedChainOptions {
  store: SharedStateStore;
  chain: string;
  clock: Clock;
  budget: BudgetWindowConfig;
  /** How long a probe slot is held at most (a process that dies holding one frees it then). */
  probeLeaseMs: number;
  /** Every failed store call (→ `bulwark.store.errors` and a span event). */
  report: (event: StoreErrorEvent) => void;
}

/**
 * One chain's link to the shared store in this process: runs the state scripts for its
 * breakers and budgets (reporting every failure and answering `undefined`, never throwing),
 * keeps the forced tier, and re-reads everything every `syncIntervalMs` in the background —
 * which is how a process learns what the others did, and how it finds Redis again after an
 * outage.
 */
export class SharedChainState {
  readonly instanceId = randomUUID().slice(0, 8);
  readonly store: SharedStateStore;
  readonly chain: string;
  private readonly clock: Clock;
  private readonly budgetConfig: BudgetWindowConfig;
  readonly probeLeaseMs: number;
  private readonly report: (event: StoreErrorEvent) => void;
  private readonly keys: ReturnType<typeof stateKeys>;
  private readonly breakers = new Map<string, SyncedBreaker>();
  private readonly budgets = new Map<string, SyncedBudget>();
  /** Hedge budgets: flushed with every sync like the retry budgets, each with its own window. */
  private readonly hedgeBudgets = new Map<string, { budget: SyncedBudget; window: BudgetWindowConfig }>();
  private readonly inFlight = new Set<Promise<unknown>>();

  private tier: ForcedTier = 'auto';
  private tierBusy = 0;
  /** Tier writes issued: a sync read issued before the latest one must not undo it. */
  private tierWrites = 0;
  /** The operator set a tier the store has not taken yet (it was unreachable). */
  private tierDirty = false;
  private readonly tierListeners: Array<(tier: ForcedTier) => void> = [];

  private timer: ReturnType<typeof setTimeout> | undefined;
  private syncing: Promise<void> | undefined;
  private closed = false;
  private lastSyncAt: number | undefined;
  /** Settles after the first sync (whatever its outcome): requests wait for it, bounded by the store timeout. */
  readonly firstSync: Promise<void>;
  private firstSyncDone = false;

  constructor(options: SharedChainOptions) {
    this.store = options.store;
    this.chain = options.chain;
    this.clock = options.clock;
    this.budgetConfig = options.budget;
    this.probeLeaseMs = options.probeLeaseMs;
    this.report = options.report;
    this.keys = stateKeys(options.store.keyPrefix, options.chain);
    this.firstSync = Promise.resolve().then(() => this.syncNow()).finally(() => {
      this.firstSyncDone = true;
    });
    this.schedule();
  }

  get synced(): boolean {
    return this.firstSyncDone;
  }

  register(key: string, breaker: SyncedBreaker, budget: SyncedBudget | undefined): void {
    this.breakers.set(key, breaker);
    if (budget) this.budgets.set(key, budget);
  }

  available(): boolean {
    return !this.closed && this.store.available();
  }

  status(): StoreStatus & { lastSyncAt?: number; instance: string } {
    return { ...this.store.status(), instance: this.instanceId, ...(this.lastSyncAt !== undefined && { lastSyncAt: this.lastSyncAt }) };
  }

  /** Reports a decision taken locally because the store was unreachable. */
  reportUnavailable(operation: StoreOperation): void {
    const status = this.store.status();
    this.emit({ operation, errorType: 'unavailable', storeKind: this.store.kind, message: status.lastError?.message ?? 'the shared store is unreachable' });
  }

  // ------------------------------------------------------------------------------- breakers

  acquire(key: string, now: number, lease: string, openMs: number, maxProbes: number): Promise<ScriptReply | undefined> {
    return this.breakerScript('breaker.acquire', SCRIPTS.acquire, key, [now, openMs, maxProbes, lease, this.probeLeaseMs, this.instanceId, RECORD_TTL_MS]);
  }

  trip(key: string, now: number, expectGen: number, reason: string, immediate: boolean): Promise<ScriptReply | undefined> {
    return this.breakerScript('breaker.record', SCRIPTS.trip, key, [now, expectGen, reason, immediate ? 1 : 0, this.instanceId, RECORD_TTL_MS]);
  }

  probeResult(key: string, now: number, gen: number, lease: string, outcome: 'success' | 'failure' | 'immediate' | 'release', successThreshold: number): Promise<ScriptReply | undefined> {
    return this.breakerScript('breaker.record', SCRIPTS.probe, key, [now, gen, lease, outcome, successThreshold, this.instanceId, RECORD_TTL_MS]);
  }

  override(key: string, override: BreakerOverride, now: number): Promise<ScriptReply | undefined> {
    return this.breakerScript('breaker.override', SCRIPTS.override, key, [override, now, this.instanceId, RECORD_TTL_MS]);
  }

  /**
   * Writes back a record changed here while the store was unreachable, if the stored one is
   * still generation `expectGen` (-1: only if it is gone) — or, with `expectOverride`, still
   * carries that override (an operator's override given here stands over automatic changes).
   */
  restore(key: string, expectGen: number, record: SharedBreakerRecord, now: number, expectOverride?: BreakerOverride): Promise<ScriptReply | undefined> {
    // A half-open period is not restored as such: the probes of the outage are gone. Restored
    // as open since openedAt, the next caller turns it half-open at once.
    const state = record.state === 'half_open' ? 'open' : record.state;
    return this.breakerScript('breaker.record', SCRIPTS.restore, key, [
      expectGen, state, record.openedAt, record.override, record.reason, now, this.instanceId, RECORD_TTL_MS, expectOverride ?? '',
    ]);
  }

  private async breakerScript(operation: StoreOperation, script: StateScript, key: string, args: Array<string | number>): Promise<ScriptReply | undefined> {
    const json = await this.run(operation, script, [this.keys.breaker(key), this.keys.probes(key)], args);
    if (json === undefined) return undefined;
    try {
      return parseReply(json);
    } catch (error) {
      this.emit({ operation, errorType: 'corrupt', storeKind: this.store.kind, message: `unreadable ${script.name} reply: ${describe(error)}` });
      return undefined;
    }
  }

  // -------------------------------------------------------------------------------- budgets

  async budget(key: string, now: number, addRequests: number, withdraw: boolean): Promise<BudgetReply | undefined> {
    return this.budgetAt(this.keys.budget(key), this.budgetConfig, now, addRequests, withdraw);
  }

  /** The same script on a hedging policy's budget (its own ratio and window; see Hedging). */
  hedgeBudget(scope: string, window: BudgetWindowConfig, now: number, addRequests: number, withdraw: boolean): Promise<BudgetReply | undefined> {
    return this.budgetAt(this.keys.hedgeBudget(scope), window, now, addRequests, withdraw);
  }

  /** A hedge budget whose requests every sync flushes (its allowance is read at each withdrawal). */
  registerHedgeBudget(scope: string, budget: SyncedBudget, window: BudgetWindowConfig): void {
    this.hedgeBudgets.set(scope, { budget, window });
  }

  private async budgetAt(redisKey: string, c: BudgetWindowConfig, now: number, addRequests: number, withdraw: boolean): Promise<BudgetReply | undefined> {
    const reserve = (c.minRetriesPerSecond * c.windowMs) / 1000;
    const json = await this.run(withdraw ? 'budget.withdraw' : 'budget.flush', SCRIPTS.budget, [redisKey], [
      now, c.windowMs, BUDGET_BUCKETS, c.ratio, reserve, addRequests, withdraw ? 1 : 0,
    ]);
    if (json === undefined) return undefined;
    try {
      const v = JSON.parse(json) as { g?: unknown; a?: unknown };
      return { granted: v.g === 1, allowed: num(v.a) };
    } catch (error) {
      this.emit({ operation: withdraw ? 'budget.withdraw' : 'budget.flush', errorType: 'corrupt', storeKind: this.store.kind, message: describe(error) });
      return undefined;
    }
  }

  // --------------------------------------------------------------------------------- limits

  /**
   * One call to a target's fleet-wide rpm / tpm window (`limit` script): `check` takes a call and its
   * estimated tokens when they fit; without it, adds a correction or a refund. Undefined (reported)
   * when the store failed: the caller's local window decides.
   */
  async limit(key: string, now: number, window: { windowMs: number; rpm: number | undefined; tpm: number | undefined }, entry: { id: string; requests: number; tokens: number }, check: boolean): Promise<LimitReply | undefined> {
    const operation = check ? 'limit.take' : 'limit.correct';
    const json = await this.run(operation, SCRIPTS.limit, [this.keys.limit(key)], [
      Math.floor(now), window.windowMs, window.rpm ?? -1, window.tpm ?? -1, entry.id, Math.round(entry.requests), Math.round(entry.tokens), check ? 1 : 0,
    ]);
    if (json === undefined) return undefined;
    try {
      const v = JSON.parse(json) as { ok?: unknown; k?: unknown; w?: unknown; q?: unknown; t?: unknown };
      const kind = v.k === 'requests' || v.k === 'tokens' ? v.k : undefined;
      return { ok: v.ok === 1, ...(kind && { kind }), ...(typeof v.w === 'number' && { retryInMs: v.w }), requests: num(v.q), tokens: num(v.t) };
    } catch (error) {
      this.emit({ operation, errorType: 'corrupt', storeKind: this.store.kind, message: describe(error) });
      return undefined;
    }
  }

  /**
   * Takes (`take`) or releases a fleet-wide concurrency lease of a target (`concurrency` script),
   * held for at most `leaseMs`. Store operations `limit.take` / `limit.correct`, as for the window.
   * Undefined (reported) when the store failed: this process's own count decides.
   */
  async lease(key: string, now: number, max: number, id: string, leaseMs: number, take: boolean): Promise<LeaseReply | undefined> {
    const operation = take ? 'limit.take' : 'limit.correct';
    const json = await this.run(operation, SCRIPTS.concurrency, [this.keys.leases(key)], [Math.floor(now), max, id, Math.ceil(leaseMs), take ? 1 : 0]);
    if (json === undefined) return undefined;
    try {
      const v = JSON.parse(json) as { ok?: unknown; n?: unknown };
      return { ok: v.ok === 1, held: num(v.n) };
    } catch (error) {
      this.emit({ operation, errorType: 'corrupt', storeKind: this.store.kind, message: describe(error) });
      return undefined;
    }
  }

  // ----------------------------------------------------------------------------------- tier

  get forcedTier(): ForcedTier {
    return this.tier;
  }

  /** Called with the tier another process (or an operator elsewhere) forced. */
  onForcedTier(listener: (tier: ForcedTier) => void): void {
    this.tierListeners.push(listener);
  }

  /** Forces a tier here at once and fleet-wide; resolves true once the store has it. */
  async setForcedTier(tier: ForcedTier): Promise<boolean> {
    this.tier = tier;
    this.tierBusy++;
    this.tierWrites++;
    try {
      const ok = await this.run('tier.set', SCRIPTS.tier, [this.keys.tier], [tier, RECORD_TTL_MS]);
      this.tierDirty = ok === undefined;
      return ok !== undefined;
    } finally {
      this.tierBusy--;
    }
  }

  private applyTier(raw: unknown): void {
    if (this.tierBusy > 0) return;
    const stored = typeof raw === 'string' && TIERS.includes(raw) ? (raw as ForcedTier) : undefined;
    // The operator's tier from an outage (or one lost in a Redis restart) is put back; a tier
    // another process stored is taken.
    if (this.tierDirty || (stored === undefined && this.tier !== 'auto')) {
      void this.setForcedTier(this.tier);
      return;
    }
    if (stored === undefined || stored === this.tier) return;
    this.tier = stored;
    for (const listener of this.tierListeners) {
      try {
        listener(stored);
      } catch {
        // a listener's bug must not stop the sync
      }
    }
  }

  // ----------------------------------------------------------------------------------- sync

  /** Re-reads the shared state now (the background loop calls it every `syncIntervalMs`). */
  syncNow(): Promise<void> {
    this.syncing ??= this.sync().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  private async sync(): Promise<void> {
    if (this.closed) return;
    const now = Math.floor(this.clock.now());
    const keys = [...this.breakers.keys()];
    const c = this.budgetConfig;
    const reserve = (c.minRetriesPerSecond * c.windowMs) / 1000;
    // Requests counted since the last flush go to the fleet-wide budgets (only writes: a Redis
    // out of memory still answers the read below).
    const flush = async (budget: SyncedBudget, send: (pending: number) => Promise<BudgetReply | undefined>) => {
      const pending = budget.takePending();
      if (pending === 0) return;
      if (!(await send(pending))) budget.restorePending(pending);
    };
    const flushes = [
      ...[...this.budgets].map(([key, budget]) => flush(budget, (pending) => this.budget(key, now, pending, false))),
      ...[...this.hedgeBudgets].map(([scope, { budget, window }]) => flush(budget, (pending) => this.hedgeBudget(scope, window, now, pending, false))),
    ];
    // What each breaker and the tier had issued when the read went out (see SyncedBreaker.storeCalls).
    const marks = keys.map((key) => this.breakers.get(key)?.storeCalls);
    const tierMark = this.tierWrites;
    const json = await this.run('sync', SCRIPTS.read, [this.keys.tier, ...keys.map((k) => this.keys.breaker(k)), ...keys.map((k) => this.keys.budget(k))], [
      now, c.windowMs, BUDGET_BUCKETS, c.ratio, reserve,
    ], true);
    await Promise.all(flushes);
    if (json === undefined || this.closed) return;
    let parsed: { t?: unknown; b?: unknown; q?: unknown };
    try {
      parsed = JSON.parse(json) as typeof parsed;
    } catch (error) {
      this.emit({ operation: 'sync', errorType: 'corrupt', storeKind: this.store.kind, message: describe(error) });
      return;
    }
    this.lastSyncAt = this.clock.now();
    // cjson encodes an empty list as {}.
    const records = Array.isArray(parsed.b) ? parsed.b : [];
    const budgets = Array.isArray(parsed.q) ? parsed.q : [];
    keys.forEach((key, i) => {
      const record = parseRecord(records[i]);
      const breaker = this.breakers.get(key);
      // A store call issued after the read brought (or will bring) a newer record than this.
      if (record && breaker && breaker.storeCalls === marks[i]) breaker.applySynced(record);
      const totals = budgets[i];
      if (Array.isArray(totals)) this.budgets.get(key)?.applySynced(num(totals[0]));
    });
    if (this.tierWrites === tierMark) this.applyTier(parsed.t);
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      void this.syncNow().finally(() => this.schedule());
    }, this.store.syncIntervalMs);
    // The sync must never keep a process alive on its own.
    this.timer.unref?.();
  }

  /** Stops the background sync and waits for store calls in flight (each bounded by the store timeout). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([...this.inFlight]);
  }

  // --------------------------------------------------------------------------------- plumbing

  /** Runs a script; undefined (after reporting) when the store failed, timed out or was unreachable. */
  private run(operation: StoreOperation, script: StateScript, keys: string[], args: Array<string | number>, probe = false): Promise<string | undefined> {
    let call: Promise<string>;
    try {
      call = this.store.runScript(script, keys, args, { probe });
    } catch (error) {
      // A store that throws instead of rejecting (its bug) must not fail requests nor stop the sync.
      call = Promise.reject(error);
    }
    const p = call.then(
      (json) => json,
      (error: unknown) => {
        this.emit({
          operation,
          errorType: storeErrorTypeOf(error),
          storeKind: error instanceof StoreError ? error.storeKind : this.store.kind,
          message: describe(error),
        });
        return undefined;
      },
    );
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
    return p;
  }

  private emit(event: StoreErrorEvent): void {
    try {
      this.report(event);
    } catch {
      // reporting must never break the request path
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
