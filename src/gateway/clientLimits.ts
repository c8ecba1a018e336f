import { BUILTIN_PRICES } from '../cost/pricing.js';
import { costOf, resolvePrice } from '../cost/computeCost.js';
import type { ResilientLLM } from '../createResilientLLM.js';
import type { ResilientLLMOptions } from '../config/types.js';
import { isPool } from '../pool/pool.js';
import type { ModelPrice, Target } from '../providers/adapter.js';
import type { ChatRequest } from '../request/types.js';
import { SlidingWindowCounter } from '../time/slidingWindowCounter.js';
import { estimateTokens } from '../validation/validateRequest.js';
import type { FrontFailure } from '../fronts/frontError.js';
import type { WireFront } from '../fronts/wireFront.js';
import type { ResolvedClient } from './gatewayConfig.js';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/**
 * How long a spend reservation holds when nobody settles it (its process died mid-request): the
 * request's estimate stops counting then. A request that outlives it is still charged its cost.
 */
export const RESERVATION_TTL_MS = 15 * MINUTE_MS;

/**
 * Why a request was refused before any upstream call. `rpm`: a slot frees up in `retryAfterMs`, so
 * the client may retry then; `spendUsdPerDay`: the day's budget is spent (or held by requests in
 * flight), which a retry in seconds does not change.
 */
export type LimitRefusal =
  | { limit: 'rpm'; retryAfterMs: number; message: string }
  | { limit: 'spendUsdPerDay'; retryAfterMs: number; message: string };

/** A request's spend estimate held against its client's budget: settled once with what it cost. */
export interface SpendReservation {
  /** Replaces the estimate with the actual cost (0 when nothing was spent). Only the first call counts. */
  settle(actualUsd: number, now: number): void | Promise<void>;
}

export type Admission = { refused: LimitRefusal; reservation?: undefined } | { refused?: undefined; reservation: SpendReservation | undefined };

const ADMITTED: Admission = { reservation: undefined };

/**
 * A refusal on the wire. Over the rpm limit the client may retry once the minute's oldest request
 * ages out: `x-should-retry: true` with `retry-after` / `retry-after-ms` to that moment, which the
 * official clients wait out (up to 60 s, the longest they honour — and the longest an rpm wait can
 * be). A spent budget is not freed by a retry in seconds: `x-should-retry: false` (the clients
 * give up at once), in each front's quota shape (OpenAI `insufficient_quota`).
 */
export function limitFailure(refused: LimitRefusal): FrontFailure {
  return refused.limit === 'rpm'
    ? { status: 429, kind: 'rate_limit', code: 'rate_limit_exceeded', message: refused.message, retry: true, retryAfterMs: refused.retryAfterMs }
    : { status: 429, kind: 'quota', code: 'insufficient_quota', message: refused.message, retry: false, retryAfterMs: refused.retryAfterMs };
}

export function rpmRefusal(client: ResolvedClient, retryAfterMs: number): LimitRefusal {
  return { limit: 'rpm', retryAfterMs, message: `Client '${client.name}' is over its limit of ${client.limits.rpm} requests per minute` };
}

export function spendRefusal(client: ResolvedClient, retryAfterMs: number, spentUsd: number, reservedUsd: number): LimitRefusal {
  const held = reservedUsd > 0 ? ` and $${round(reservedUsd)} held by requests in flight` : '';
  return {
    limit: 'spendUsdPerDay',
    retryAfterMs,
    message: `Client '${client.name}' has reached its limit of $${client.limits.spendUsdPerDay} over the last 24 hours ($${round(spentUsd)} spent${held})`,
  };
}

/** Whether a request estimated at `estimateUsd` fits the budget: what is spent and held, plus it, stays within the limit. */
export function spendFits(limitUsd: number, committedUsd: number, estimateUsd: number): boolean {
  return committedUsd < limitUsd && committedUsd + estimateUsd <= limitUsd;
}

/**
 * Per-key limits in this process: requests per minute as an exact sliding log (the last `rpm`
 * admission times), spend over the last 24 hours in hourly buckets. A request is admitted only
 * when what is spent, plus the estimates of the requests in flight, plus its own estimate, stays
 * within the limit; its estimate is held until it settles with its actual cost. So requests in
 * flight together cannot overshoot the limit by more than their estimates were short.
 */
export class ClientLimits {
  // Sync, so the in-memory path costs no promise; the shared variant (sharedClientLimits.ts) is async.
  private readonly rpm = new Map<string, { times: number[]; next: number }>();
  private readonly spend = new Map<string, SlidingWindowCounter<'usd'>>();
  private readonly reserved = new Map<string, number>();

  /** Admits the request (counting it, holding its estimate) or says which limit refuses it. */
  admit(client: ResolvedClient, now: number, estimateUsd = 0): Admission {
    const { rpm, spendUsdPerDay } = client.limits;
    if (spendUsdPerDay !== undefined) {
      const spent = this.spentUsd(client, now);
      const reserved = this.reserved.get(client.name) ?? 0;
      if (!spendFits(spendUsdPerDay, spent + reserved, estimateUsd)) return { refused: spendRefusal(client, DAY_MS / 24, spent, reserved) };
    }
    if (rpm !== undefined) {
      let log = this.rpm.get(client.name);
      if (!log) this.rpm.set(client.name, (log = { times: [], next: 0 }));
      if (log.times.length < rpm) {
        log.times.push(now);
      } else {
        // The ring's oldest admission: once it is a minute old, a slot is free.
        const oldest = log.times[log.next]!;
        if (now - oldest < MINUTE_MS) return { refused: rpmRefusal(client, oldest + MINUTE_MS - now) };
        log.times[log.next] = now;
        log.next = (log.next + 1) % rpm;
      }
    }
    return spendUsdPerDay === undefined ? ADMITTED : { reservation: this.reserve(client, estimateUsd) };
  }

  private reserve(client: ResolvedClient, estimateUsd: number): SpendReservation {
    const held = Math.max(0, estimateUsd);
    this.reserved.set(client.name, (this.reserved.get(client.name) ?? 0) + held);
    let settled = false;
    return {
      settle: (actualUsd, now) => {
        if (settled) return;
        settled = true;
        const left = (this.reserved.get(client.name) ?? 0) - held;
        // Sums of floats: what is left of a client's reservations once all settled is 0, not 1e-19.
        if (left > 1e-12) this.reserved.set(client.name, left);
        else this.reserved.delete(client.name);
        this.recordSpend(client, actualUsd, now);
      },
    };
  }

  /** Counts the cost of an answer against the client's daily spend. */
  recordSpend(client: ResolvedClient, usd: number, now: number): void {
    if (client.limits.spendUsdPerDay === undefined || !(usd > 0)) return;
    let counter = this.spend.get(client.name);
    if (!counter) this.spend.set(client.name, (counter = new SlidingWindowCounter(['usd'], DAY_MS, 24)));
    counter.add(now, 'usd', usd);
  }

  spentUsd(client: ResolvedClient, now: number): number {
    return this.spend.get(client.name)?.totals(now).usd ?? 0;
  }

  /** The estimates of this client's requests in flight. */
  reservedUsd(client: ResolvedClient): number {
    return this.reserved.get(client.name) ?? 0;
  }
}

/**
 * What a request may cost at most, as far as can be known before it runs: its prompt (≈ 4
 * characters a token, the estimate the context-window checks use) at the dearest input price of
 * the chain's targets, and its `max_tokens` (without one: as many tokens as the prompt) at the
 * dearest output price — the chain may answer from any of its targets. 0 when no target has a price.
 */
export function spendEstimateUsd(request: ChatRequest, price: ModelPrice | undefined): number {
  if (price === undefined) return 0;
  const inputTokens = estimateTokens(request);
  return costOf({ inputTokens, outputTokens: request.maxTokens ?? inputTokens }, price);
}

/**
 * A wire request's estimate: parsed by its front the way handleFront will parse it (a request the
 * front refuses is estimated at 0: it is answered 400 without reaching the chain).
 */
export function requestSpendEstimateUsd(front: WireFront, body: unknown, price: ModelPrice | undefined): number {
  if (price === undefined) return 0;
  let request: ChatRequest;
  try {
    request = front.parse(body).request;
  } catch {
    return 0;
  }
  return spendEstimateUsd(request, price);
}

/**
 * The dearest input and output prices among a chain's targets (pool members included), by each
 * target's own price or the chain's table over the built-in one. A chain the embedder built shows
 * only its models (health()), priced by the built-in table.
 */
export function priceCeiling(chain: ResilientLLM | Pick<ResilientLLMOptions, 'targets' | 'pricing'>): ModelPrice | undefined {
  const prices: ModelPrice[] = [];
  if ('health' in chain && typeof chain.health === 'function') {
    for (const t of chain.health().targets) pushPrice(prices, resolvePrice(t.model, BUILTIN_PRICES));
  } else {
    const options = chain as Pick<ResilientLLMOptions, 'targets' | 'pricing'>;
    const table = { ...BUILTIN_PRICES, ...options.pricing };
    for (const position of options.targets) {
      const targets: Target[] = isPool(position) ? position.options.members.map((m) => ('target' in m ? m.target : m)) : [position];
      for (const t of targets) pushPrice(prices, t.pricing ?? resolvePrice(t.adapter.model, table));
    }
  }
  if (prices.length === 0) return undefined;
  // A prompt-cache write can cost more than plain input (Anthropic: 1.25×): the ceiling covers it.
  return { inputPerMTok: Math.max(...prices.map((p) => Math.max(p.inputPerMTok, p.cacheWritePerMTok ?? 0))), outputPerMTok: Math.max(...prices.map((p) => p.outputPerMTok)) };
}

function pushPrice(prices: ModelPrice[], price: ModelPrice | undefined): void {
  if (price) prices.push(price);
}

function round(usd: number): string {
  return String(Math.round(usd * 1e6) / 1e6);
}
