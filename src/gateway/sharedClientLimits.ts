import { createHash, randomUUID } from 'node:crypto';
import type { SharedStateStore, StateScript } from '../state/sharedState.js';
import { ClientLimits, RESERVATION_TTL_MS, rpmRefusal, spendRefusal, type Admission, type SpendReservation } from './clientLimits.js';
import type { ResolvedClient } from './gatewayConfig.js';

/**
 * Admission for one request under per-key limits, atomically (KEYS: the client's request log, its
 * spend buckets, its reservations; ARGV: rpm or 0, spendUsdPerDay or 0, now, a unique member, the
 * request's spend estimate, the reservation's lifetime). Requests per minute are a sorted set of
 * admission times (an exact sliding minute); spend is a hash of hourly buckets (the last 24 hours);
 * reservations a hash of member → 'estimate:expiresAt' (an expired one — its process died before
 * settling — no longer counts). Admitted when spent + held + estimate stays within the limit, and
 * then the estimate is held under the member. The caller's clock is used, as for a breaker's
 * openedAt: processes whose clocks disagree move the windows by their skew, no more. Replies
 * `{ ok = 1 }` or `{ ok = 0, limit = 'rpm' | 'spendUsdPerDay', wait = ms, spent, reserved }`.
 */
const ADMIT = `
local rpm, spend_limit, now, member = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local estimate, ttl = tonumber(ARGV[5]), tonumber(ARGV[6])
local minute, hour = 60000, 3600000
if spend_limit > 0 then
  local current = math.floor(now / hour)
  local h = redis.call('HGETALL', KEYS[2])
  local spent = 0
  for i = 1, #h, 2 do
    local bucket = tonumber(h[i])
    if bucket <= current - 24 then redis.call('HDEL', KEYS[2], h[i]) else spent = spent + tonumber(h[i + 1]) end
  end
  local r = redis.call('HGETALL', KEYS[3])
  local reserved = 0
  for i = 1, #r, 2 do
    local usd, expires = string.match(r[i + 1], '^([^:]+):(.+)$')
    if tonumber(expires) <= now then redis.call('HDEL', KEYS[3], r[i]) else reserved = reserved + tonumber(usd) end
  end
  local committed = spent + reserved
  if committed >= spend_limit or committed + estimate > spend_limit then
    return cjson.encode({ ok = 0, limit = 'spendUsdPerDay', wait = hour - (now % hour), spent = spent, reserved = reserved })
  end
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
if spend_limit > 0 then
  redis.call('HSET', KEYS[3], member, ARGV[5] .. ':' .. tostring(now + ttl))
  redis.call('PEXPIRE', KEYS[3], ttl)
end
return cjson.encode({ ok = 1 })
`;

/**
 * A request settles: its reservation goes, its actual cost goes into the current hour's bucket
 * (KEYS: spend buckets, reservations; ARGV: usd, now, member). One script: the budget never
 * counts both the estimate and the cost, nor neither.
 */
const SETTLE = `
redis.call('HDEL', KEYS[2], ARGV[3])
local usd = tonumber(ARGV[1])
if usd > 0 then
  local bucket = tostring(math.floor(tonumber(ARGV[2]) / 3600000))
  redis.call('HINCRBYFLOAT', KEYS[1], bucket, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], 25 * 3600000)
end
return cjson.encode({ ok = 1 })
`;

function script(name: string, source: string): StateScript {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}
const SCRIPTS = { admit: script('gateway.admit', ADMIT), settle: script('gateway.settle', SETTLE) };

/**
 * Per-key limits shared by every gateway process on the same store: one atomic script per
 * admission (rpm, and spend with the request's estimate held) and one per settlement. It wraps the
 * in-process limits, which answer whenever the store cannot (unreachable, timed out): the request
 * is never failed for the store, and each process then counts alone.
 */
export class SharedClientLimits {
  private readonly local = new ClientLimits();

  constructor(private readonly store: SharedStateStore) {}

  async admit(client: ResolvedClient, now: number, estimateUsd = 0): Promise<Admission> {
    const { rpm, spendUsdPerDay } = client.limits;
    if (rpm === undefined && spendUsdPerDay === undefined) return { reservation: undefined };
    if (!this.store.available()) return this.local.admit(client, now, estimateUsd);
    const member = randomUUID();
    const estimate = Math.max(0, estimateUsd);
    let reply: { ok: number; limit?: 'rpm' | 'spendUsdPerDay'; wait?: number; spent?: number; reserved?: number };
    try {
      reply = JSON.parse(await this.store.runScript(SCRIPTS.admit, this.keys(client), [rpm ?? 0, spendUsdPerDay ?? 0, now, member, estimate, RESERVATION_TTL_MS])) as typeof reply;
    } catch {
      return this.local.admit(client, now, estimateUsd);
    }
    if (reply.ok !== 1) {
      return { refused: reply.limit === 'rpm' ? rpmRefusal(client, reply.wait ?? 0) : spendRefusal(client, reply.wait ?? 0, reply.spent ?? 0, reply.reserved ?? 0) };
    }
    return { reservation: spendUsdPerDay === undefined ? undefined : this.reservation(client, member) };
  }

  /** Settles in the store (and counts the cost in this process too, for when the store is away). */
  private reservation(client: ResolvedClient, member: string): SpendReservation {
    let settled = false;
    return {
      settle: async (actualUsd, now) => {
        if (settled) return;
        settled = true;
        const usd = actualUsd > 0 ? actualUsd : 0;
        this.local.recordSpend(client, usd, now);
        const [, spend, reserved] = this.keys(client);
        // Unsettled (store away): the reservation expires on its own, the cost stays counted here.
        await this.store.runScript(SCRIPTS.settle, [spend, reserved], [usd, now, member]).catch(() => undefined);
      },
    };
  }

  /** One hash tag per client, so its keys live on one Redis Cluster slot. */
  private keys(client: ResolvedClient): [string, string, string] {
    const base = `${this.store.keyPrefix}bulwark:{gateway:${encodeURIComponent(client.name)}}`;
    return [`${base}:rpm`, `${base}:spend`, `${base}:reserved`];
  }
}
