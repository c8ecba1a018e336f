import { createHash } from 'node:crypto';
import type { StateScript } from './sharedState.js';

/**
 * The Lua scripts behind shared breakers, retry budgets and the operator's forced tier. Each
 * runs atomically in Redis (EVALSHA, falling back to EVAL after a restart emptied the script
 * cache), so "who performed this transition" and "how many probes are out" have one answer
 * fleet-wide. Every script replies with one JSON string (cjson), whatever the client's RESP
 * version.
 *
 * A breaker record is a hash: state (closed | open | half_open), override (auto | open |
 * closed), openedAt, gen (bumped on every change of state or override), reason, successes
 * (probe successes in this half-open period), by (the instance that made the last change), at.
 * Probe slots are a sorted set of lease ids scored by their expiry, so a process that dies
 * holding a probe frees it when the lease runs out.
 *
 * Clocks: what only Redis compares — lease expiries and the retry budget's time buckets — runs
 * on Redis's own clock (TIME), so processes whose clocks disagree still agree on them. What a
 * process also compares locally (openedAt, to reject without a Redis call while open) is the
 * caller's clock: a skew between processes moves the end of an open period by that much, no more.
 *
 * Scripts reply `{ c = changed (0/1), f = state before, d = decision, r = record }`; `c = 1`
 * means this call performed the transition, which is how exactly one process counts it.
 */

const SERVER_CLOCK = `
local function server_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

const RECORD = `${SERVER_CLOCK}
local function rec_of(key)
  local h = redis.call('HGETALL', key)
  local r = { e = 0, state = 'closed', override = 'auto', openedAt = 0, gen = 0, reason = '', successes = 0, by = '', at = 0 }
  if #h > 0 then r.e = 1 end
  for i = 1, #h, 2 do
    local f, v = h[i], h[i + 1]
    if f == 'openedAt' or f == 'gen' or f == 'successes' or f == 'at' then r[f] = tonumber(v) or 0 else r[f] = v end
  end
  return r
end
local function save(key, r, ttl)
  redis.call('HSET', key, 'state', r.state, 'override', r.override, 'openedAt', r.openedAt, 'gen', r.gen,
    'reason', r.reason, 'successes', r.successes, 'by', r.by, 'at', r.at)
  redis.call('PEXPIRE', key, ttl)
  r.e = 1
end
local function effective(r)
  if r.override ~= 'auto' then return r.override end
  return r.state
end
local function reply(changed, from, decision, r)
  return cjson.encode({ c = changed, f = from, d = decision, r = r })
end
local function change(r, state, reason, now, by)
  r.state = state
  r.gen = r.gen + 1
  r.successes = 0
  r.reason = reason
  r.by = by
  r.at = now
  if state == 'open' then r.openedAt = now end
end
`;

const BUDGET = `
-- Sliding window in buckets of Redis's clock (every process must count in the same buckets): fields q:<bucket> (requests) and r:<bucket> (retries).
local function budget_totals(key, now, windowMs, buckets, write)
  local bucketMs = windowMs / buckets
  local current = math.floor(now / bucketMs)
  local oldest = current - buckets + 1
  local h = redis.call('HGETALL', key)
  local requests, retries = 0, 0
  for i = 1, #h, 2 do
    local kind, b = string.match(h[i], '^(%a):(%-?%d+)$')
    b = tonumber(b)
    if b == nil or b < oldest or b > current + 1 then
      if write then redis.call('HDEL', key, h[i]) end
    elseif kind == 'q' then
      requests = requests + tonumber(h[i + 1])
    elseif kind == 'r' then
      retries = retries + tonumber(h[i + 1])
    end
  end
  return requests, retries, current
end
local function allowed(requests, retries, ratio, reserve)
  -- the epsilon absorbs binary rounding, as the in-memory budget does
  return ratio * requests + reserve - retries + 1e-9
end
`;

/**
 * Acquire: KEYS breaker, probes; ARGV now, openMs, maxProbes, lease, leaseMs, by, ttl.
 * An open breaker whose openMs elapsed turns half-open here (the caller performed it); a
 * half-open one grants a probe slot while fewer than maxProbes unexpired leases exist (lease
 * expiries on Redis's clock).
 * Decision: pass (closed / forced closed), probe, reject.
 */
const ACQUIRE = `${RECORD}
local now, openMs, maxProbes = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local leaseMs, ttl = tonumber(ARGV[5]), tonumber(ARGV[7])
local r = rec_of(KEYS[1])
if r.override == 'open' then return reply(0, '', 'reject', r) end
if r.override == 'closed' then return reply(0, '', 'pass', r) end
local changed, from = 0, ''
if r.state == 'open' and now >= r.openedAt + openMs then
  from = 'open'
  change(r, 'half_open', 'open_elapsed', now, ARGV[6])
  redis.call('DEL', KEYS[2])
  save(KEYS[1], r, ttl)
  changed = 1
end
if r.state == 'closed' then return reply(changed, from, 'pass', r) end
if r.state == 'open' then return reply(changed, from, 'reject', r) end
local clock = server_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', clock)
if redis.call('ZCARD', KEYS[2]) < maxProbes then
  redis.call('ZADD', KEYS[2], clock + leaseMs, ARGV[4])
  redis.call('PEXPIRE', KEYS[2], leaseMs + 1000)
  return reply(changed, from, 'probe', r)
end
return reply(changed, from, 'reject', r)
`;

/**
 * Trip: KEYS breaker, probes; ARGV now, expectGen, reason, immediate (0/1), by, ttl.
 * Opens a closed automatic breaker when the caller's view is current (same gen, or the record
 * is gone after a Redis restart); an immediate failure (auth, permission, model not found)
 * opens any automatic breaker that is not open.
 */
const TRIP = `${RECORD}
local now, expectGen, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[6])
local r = rec_of(KEYS[1])
if r.override ~= 'auto' then return reply(0, '', '', r) end
local ok
if ARGV[4] == '1' then ok = r.state ~= 'open' else ok = r.state == 'closed' and (r.e == 0 or r.gen == expectGen) end
if not ok then return reply(0, '', '', r) end
local from = r.state
change(r, 'open', ARGV[3], now, ARGV[5])
redis.call('DEL', KEYS[2])
save(KEYS[1], r, ttl)
return reply(1, from, '', r)
`;

/**
 * Probe result: KEYS breaker, probes; ARGV now, gen, lease, outcome, successThreshold, by, ttl.
 * Frees the lease; in the same half-open period (gen), a success counts toward closing and a
 * failure reopens. 'release' only frees the slot.
 */
const PROBE = `${RECORD}
local now, gen, threshold, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[5]), tonumber(ARGV[7])
local outcome = ARGV[4]
redis.call('ZREM', KEYS[2], ARGV[3])
local r = rec_of(KEYS[1])
if outcome == 'release' or r.override ~= 'auto' then return reply(0, '', '', r) end
if outcome == 'immediate' and r.state ~= 'open' then
  local from = r.state
  change(r, 'open', 'immediate', now, ARGV[6])
  redis.call('DEL', KEYS[2])
  save(KEYS[1], r, ttl)
  return reply(1, from, '', r)
end
if r.state ~= 'half_open' or r.gen ~= gen then return reply(0, '', '', r) end
if outcome == 'success' then
  r.successes = r.successes + 1
  if r.successes < threshold then
    redis.call('HSET', KEYS[1], 'successes', r.successes)
    return reply(0, '', '', r)
  end
  change(r, 'closed', 'probes_succeeded', now, ARGV[6])
else
  change(r, 'open', 'probe_failed', now, ARGV[6])
end
redis.call('DEL', KEYS[2])
save(KEYS[1], r, ttl)
return reply(1, 'half_open', '', r)
`;

/**
 * Override: KEYS breaker, probes; ARGV override, now, by, ttl. 'auto' resumes automatic
 * operation from closed (as the in-memory breaker does). c = 1 when the effective state changed.
 */
const OVERRIDE = `${RECORD}
local now, ttl = tonumber(ARGV[2]), tonumber(ARGV[4])
local r = rec_of(KEYS[1])
if r.e == 1 and r.override == ARGV[1] then return reply(0, '', '', r) end
local before = effective(r)
r.override = ARGV[1]
if ARGV[1] == 'auto' then
  r.state = 'closed'
  redis.call('DEL', KEYS[2])
end
r.gen = r.gen + 1
r.successes = 0
r.reason = 'forced'
r.by = ARGV[3]
r.at = now
save(KEYS[1], r, ttl)
local changed = 0
if effective(r) ~= before then changed = 1 end
return reply(changed, before, '', r)
`;

/**
 * Restore: KEYS breaker, probes; ARGV expectGen (-1: only when the record is gone), state,
 * openedAt, override, reason, now, by, ttl, expectOverride ('' for none). Puts back what a
 * process learned while Redis was unreachable (or lost its data in a restart), unless someone
 * else changed it meanwhile — or, with expectOverride, unless someone changed the override (an
 * operator's override given during the outage stands over automatic changes).
 */
const RESTORE = `${RECORD}
local expectGen, ttl = tonumber(ARGV[1]), tonumber(ARGV[8])
local r = rec_of(KEYS[1])
local ok = r.e == 0 or (expectGen >= 0 and r.gen == expectGen) or (ARGV[9] ~= '' and r.override == ARGV[9])
if not ok then return reply(0, '', '', r) end
local before = effective(r)
r.state = ARGV[2]
r.openedAt = tonumber(ARGV[3])
r.override = ARGV[4]
r.reason = ARGV[5]
r.gen = r.gen + 1
r.successes = 0
r.by = ARGV[7]
r.at = tonumber(ARGV[6])
redis.call('DEL', KEYS[2])
save(KEYS[1], r, ttl)
return reply(1, before, '', r)
`;

/**
 * Read (no writes, so it also answers while Redis is out of memory): KEYS tier, then n
 * breaker keys, then n budget keys; ARGV now (unused: budgets run on Redis's clock), windowMs,
 * buckets, ratio, reserve.
 */
const READ = `${RECORD}${BUDGET}
local now, windowMs, buckets = server_ms(), tonumber(ARGV[2]), tonumber(ARGV[3])
local ratio, reserve = tonumber(ARGV[4]), tonumber(ARGV[5])
local n = (#KEYS - 1) / 2
local out = { t = redis.call('GET', KEYS[1]), b = {}, q = {} }
for i = 1, n do
  out.b[i] = rec_of(KEYS[1 + i])
  local requests, retries = budget_totals(KEYS[1 + n + i], now, windowMs, buckets, false)
  out.q[i] = { allowed(requests, retries, ratio, reserve), requests, retries }
end
return cjson.encode(out)
`;

/**
 * Budget: KEYS budget; ARGV now (unused: Redis's clock decides the buckets), windowMs, buckets,
 * ratio, reserve, addRequests, withdraw (0/1).
 * Adds the requests this process saw since its last flush, then takes one retry if the
 * fleet-wide budget has one: allowed = ratio × requests + reserve − retries over the window.
 */
const BUDGET_OP = `${SERVER_CLOCK}${BUDGET}
local now, windowMs, buckets = server_ms(), tonumber(ARGV[2]), tonumber(ARGV[3])
local ratio, reserve, add = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local requests, retries, current = budget_totals(KEYS[1], now, windowMs, buckets, true)
if add > 0 then
  redis.call('HINCRBY', KEYS[1], 'q:' .. current, add)
  requests = requests + add
end
local left = allowed(requests, retries, ratio, reserve)
local granted = 0
if ARGV[7] == '1' and left >= 1 then
  redis.call('HINCRBY', KEYS[1], 'r:' .. current, 1)
  retries = retries + 1
  left = left - 1
  granted = 1
end
if add > 0 or granted == 1 then redis.call('PEXPIRE', KEYS[1], math.ceil(windowMs * 2)) end
return cjson.encode({ g = granted, a = left, q = requests, r = retries })
`;

/**
 * Tier: KEYS tier; ARGV tier, ttl. Stored ('auto' included) so a missing key means lost data;
 * it expires like every key (a process still forcing a tier writes it again when it is gone).
 */
const TIER = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return cjson.encode({ ok = 1 })
`;

/**
 * Limit: KEYS log; ARGV now, windowMs, rpm (-1: none), tpm (-1: none), entry id, requests, tokens,
 * check (0/1). The sliding window of a target's rpm / tpm (limits/rateWindow.ts is the same rule in
 * one process): a sorted set of entries `id|requests|tokens` scored by the caller's clock (a skew
 * between processes moves their entries by that much, no more). With check = 1 it takes one call
 * and its estimated tokens when both fit (a call alone in an empty window always does), else says
 * which limit refused and in how many ms enough of the window frees up; check = 0 only adds (the
 * correction to the reported usage, a refund). Replies { ok, k = kind, w = wait ms, q = requests,
 * t = tokens in the window }.
 */
const LIMIT = `
local now, windowMs = tonumber(ARGV[1]), tonumber(ARGV[2])
local rpm, tpm = tonumber(ARGV[3]), tonumber(ARGV[4])
local addRequests, addTokens = tonumber(ARGV[6]), tonumber(ARGV[7])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - windowMs)
local raw = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local entries, requests, tokens = {}, 0, 0
for i = 1, #raw, 2 do
  local q, t = string.match(raw[i], '|(%-?%d+)|(%-?%d+)$')
  q, t = tonumber(q) or 0, tonumber(t) or 0
  requests, tokens = requests + q, tokens + t
  entries[#entries + 1] = { tonumber(raw[i + 1]), q, t }
end
local function free_in(field, used, target)
  for _, e in ipairs(entries) do
    used = used - e[field]
    if used <= target then return math.max(1, e[1] + windowMs - now) end
  end
  return windowMs
end
if ARGV[8] == '1' then
  if rpm >= 0 and requests + 1 > rpm then
    return cjson.encode({ ok = 0, k = 'requests', w = free_in(2, requests, rpm - 1), q = requests, t = tokens })
  end
  if tpm >= 0 and tokens > 0 and tokens + addTokens > tpm then
    return cjson.encode({ ok = 0, k = 'tokens', w = free_in(3, tokens, math.max(0, tpm - addTokens)), q = requests, t = tokens })
  end
end
if addRequests ~= 0 or addTokens ~= 0 then
  redis.call('ZADD', KEYS[1], now, ARGV[5] .. '|' .. ARGV[6] .. '|' .. ARGV[7])
  redis.call('PEXPIRE', KEYS[1], math.ceil(windowMs) + 1000)
  requests, tokens = requests + addRequests, tokens + addTokens
end
return cjson.encode({ ok = 1, q = requests, t = tokens })
`;

/**
 * Concurrency: KEYS leases; ARGV now, max, lease id, lease ms, take (1) / release (0). A target's
 * calls in flight fleet-wide (`limits.maxConcurrent` with sharedState), as leases: a sorted set of
 * lease ids scored by their expiry on the caller's clock. Expired leases go first — a process that
 * died mid-call frees its slots when their leases run out (the total deadline: no call outlives it).
 * take adds a lease when fewer than max are held; release removes one. Replies { ok, n = leases held }.
 */
const CONCURRENCY = `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if ARGV[5] == '0' then
  redis.call('ZREM', KEYS[1], ARGV[3])
  return cjson.encode({ ok = 1, n = redis.call('ZCARD', KEYS[1]) })
end
local held = redis.call('ZCARD', KEYS[1])
if held >= tonumber(ARGV[2]) then return cjson.encode({ ok = 0, n = held }) end
local leaseMs = tonumber(ARGV[4])
redis.call('ZADD', KEYS[1], now + leaseMs, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(leaseMs) + 1000)
return cjson.encode({ ok = 1, n = held + 1 })
`;

function script(name: string, source: string): StateScript {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

export const SCRIPTS = {
  acquire: script('acquire', ACQUIRE),
  trip: script('trip', TRIP),
  probe: script('probe', PROBE),
  override: script('override', OVERRIDE),
  restore: script('restore', RESTORE),
  read: script('read', READ),
  budget: script('budget', BUDGET_OP),
  tier: script('tier', TIER),
  limit: script('limit', LIMIT),
  concurrency: script('concurrency', CONCURRENCY),
} as const;
