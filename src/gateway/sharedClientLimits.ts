import { createHash, randomUUID } from 'node:crypto';
import type { SharedStateStore, StateScript } from '../state/sharedState.js';
import { ClientLimits, type LimitRefusal } from './clientLimits.js';
import type { ResolvedClient } from './gatewayConfig.js';

/**
 * Admission for one request under per-key limits (KEYS: the client's request log, its spend
 * buckets; ARGV: rpm or 0, spendUsdPerDay or 0, now, a unique member). Requests per minute are a
 * sorted set of admission times (an exact sliding minute); spend is a hash of hourly buckets (the
 * last 24 hours). The caller's clock is used, as for a breaker's openedAt: processes whose clocks
 * disagree move the windows by their skew, no more. Replies `{ ok = 1 }` or
 * `{ ok = 0, limit = 'rpm' | 'spendUsdPerDay', wait = ms }`.
 */
const ADMIT = `
local rpm, spend_limit, now, member = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local minute, hour = 60000, 3600000
if spend_limit > 0 then
  local current = math.floor(now / hour)
  local h = redis.call('HGETALL', KEYS[2])
  local spent = 0
  for i = 1, #h, 2 do
    local bucket = tonumber(h[i])
    if bucket <= current - 24 then redis.call('HDEL', KEYS[2], h[i]) else spent = spent + tonumber(h[i + 1]) end
  end
  if spent >= spend_limit then return cjson.encode({ ok = 0, limit = 'spendUsdPerDay', wait = hour - (now % hour) }) end
end
if rpm > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - minute)
  if redis.call('ZCARD', KEYS[1]) >= rpm then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return cjson.encode({ ok = 0, limit = 'rpm', wait = tonumber(oldest[2]) + minute - now })
  end
  redis.call('ZADD', KEYS[1], now, member)
  redis.call('PEXPIRE', KEYS[1], minute)
end
return cjson.encode({ ok = 1 })
`;

/** Adds an answer's cost to the current hour's bucket (KEYS: spend buckets; ARGV: usd, now). */
const SPEND = `
local bucket = tostring(math.floor(tonumber(ARGV[2]) / 3600000))
redis.call('HINCRBYFLOAT', KEYS[1], bucket, ARGV[1])
redis.call('PEXPIRE', KEYS[1], 25 * 3600000)
return cjson.encode({ ok = 1 })
`;

function script(name: string, source: string): StateScript {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}
const SCRIPTS = { admit: script('gateway.admit', ADMIT), spend: script('gateway.spend', SPEND) };

/**
 * Per-key limits shared by every gateway process on the same store: one atomic script per
 * admission. It wraps the in-process limits, which answer whenever the store cannot (unreachable,
 * timed out): the request is never failed for the store, and each process then counts alone.
 */
export class SharedClientLimits {
  private readonly local = new ClientLimits();

  constructor(private readonly store: SharedStateStore) {}

  async admit(client: ResolvedClient, now: number): Promise<LimitRefusal | undefined> {
    const { rpm, spendUsdPerDay } = client.limits;
    if (rpm === undefined && spendUsdPerDay === undefined) return undefined;
    if (!this.store.available()) return this.local.admit(client, now);
    try {
      const reply = JSON.parse(await this.store.runScript(SCRIPTS.admit, this.keys(client), [rpm ?? 0, spendUsdPerDay ?? 0, now, randomUUID()])) as {
        ok: number;
        limit?: LimitRefusal['limit'];
        wait?: number;
      };
      if (reply.ok === 1) return undefined;
      return reply.limit === 'rpm'
        ? { limit: 'rpm', retryAfterMs: reply.wait ?? 0, message: `Client '${client.name}' is over its limit of ${rpm} requests per minute` }
        : { limit: 'spendUsdPerDay', retryAfterMs: reply.wait ?? 0, message: `Client '${client.name}' has spent its limit of $${spendUsdPerDay} over the last 24 hours` };
    } catch {
      return this.local.admit(client, now);
    }
  }

  /** Resolves once the store has the cost (or could not take it: then only this process counts it). */
  async recordSpend(client: ResolvedClient, usd: number, now: number): Promise<void> {
    if (client.limits.spendUsdPerDay === undefined || !(usd > 0)) return;
    this.local.recordSpend(client, usd, now);
    if (!this.store.available()) return;
    await this.store.runScript(SCRIPTS.spend, [this.keys(client)[1]!], [usd, now]).catch(() => undefined);
  }

  /** One hash tag per client, so both keys live on one Redis Cluster slot. */
  private keys(client: ResolvedClient): [string, string] {
    const base = `${this.store.keyPrefix}bulwark:{gateway:${encodeURIComponent(client.name)}}`;
    return [`${base}:rpm`, `${base}:spend`];
  }
}
