import { SlidingWindowCounter } from '../time/slidingWindowCounter.js';
import type { ResolvedClient } from './gatewayConfig.js';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** Why a request was refused before any upstream call. */
export type LimitRefusal =
  | { limit: 'rpm'; retryAfterMs: number; message: string }
  | { limit: 'spendUsdPerDay'; retryAfterMs: number; message: string };

/**
 * Per-key limits in this process: requests per minute as an exact sliding log (the last `rpm`
 * admission times), spend over the last 24 hours in hourly buckets. Spend is checked before a
 * request and counted when its cost is known, so requests in flight together can overshoot the
 * limit by what they cost.
 */
export class ClientLimits {
  // Sync, so the in-memory path costs no promise; the shared variant (sharedClientLimits.ts) is async.
  private readonly rpm = new Map<string, { times: number[]; next: number }>();
  private readonly spend = new Map<string, SlidingWindowCounter<'usd'>>();

  /** Admits the request (and counts it) or says which limit refuses it. */
  admit(client: ResolvedClient, now: number): LimitRefusal | undefined {
    const { rpm, spendUsdPerDay } = client.limits;
    if (spendUsdPerDay !== undefined) {
      const spent = this.spentUsd(client, now);
      if (spent >= spendUsdPerDay) {
        return { limit: 'spendUsdPerDay', retryAfterMs: DAY_MS / 24, message: `Client '${client.name}' has spent its limit of $${spendUsdPerDay} over the last 24 hours` };
      }
    }
    if (rpm !== undefined) {
      let log = this.rpm.get(client.name);
      if (!log) this.rpm.set(client.name, (log = { times: [], next: 0 }));
      if (log.times.length < rpm) {
        log.times.push(now);
      } else {
        // The ring's oldest admission: once it is a minute old, a slot is free.
        const oldest = log.times[log.next]!;
        if (now - oldest < MINUTE_MS) {
          return { limit: 'rpm', retryAfterMs: oldest + MINUTE_MS - now, message: `Client '${client.name}' is over its limit of ${rpm} requests per minute` };
        }
        log.times[log.next] = now;
        log.next = (log.next + 1) % rpm;
      }
    }
    return undefined;
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
}
