import { SLOT_RETRY_MS } from './limiter.js';
import { RedisScript } from './redis-script.js';

/**
 * The Redis limiter's scripts. Each runs atomically on the server, so a take checks and updates
 * every bucket and the slot set with nothing in between, whatever the number of Sluice
 * instances. Time is the server's (TIME), so instances with skewed clocks still agree.
 * Buckets are hashes {level, at} (token-bucket.ts has the same formulas in TypeScript); a bucket
 * key expires once it would be full again, and a missing bucket is a full one. Slots are sorted
 * sets of lease ids scored by their expiry: a lease not renewed (its instance died) lapses.
 */

const clock = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function level_of(key, cap)
  local s = redis.call('HMGET', key, 'level', 'at')
  if not s[1] then return cap end
  return math.min(cap, tonumber(s[1]) + math.max(0, now - tonumber(s[2])) * cap / 60000)
end
local function store(key, cap, level)
  redis.call('HSET', key, 'level', tostring(level), 'at', now)
  -- Kept until it would be full again (a debt takes longer), plus a margin.
  redis.call('PEXPIRE', key, math.ceil((cap - level) * 60000 / cap) + 1000)
end
local function reset_ms(level, cap)
  if level >= cap then return 0 end
  return math.ceil((cap - level) * 60000 / cap)
end
`;

/**
 * KEYS: n bucket keys, then the slot key when there is a slot.
 * ARGV: n, hasSlot (0|1), slotMax, leaseId, leaseTtlMs, then perMinute and amount per bucket.
 * Reply: {ok, blockedKind (0 none, 1 bucket, 2 slot), blockedIndex (1-based), retryAfterMs,
 *         then remaining and resetMs per bucket (after the take when ok, as found otherwise)}.
 */
export const takeScript = new RedisScript(`${clock}
local n = tonumber(ARGV[1])
local levels = {}
local kind, index, wait = 0, 0, 0
for i = 1, n do
  local cap, amount = tonumber(ARGV[4 + 2 * i]), tonumber(ARGV[5 + 2 * i])
  local level = level_of(KEYS[i], cap)
  levels[i] = level
  if level < amount then
    local w = math.ceil((amount - level) * 60000 / cap)
    if w > wait then kind, index, wait = 1, i, w end
  end
end
local slot = KEYS[n + 1]
if kind == 0 and ARGV[2] == '1' then
  redis.call('ZREMRANGEBYSCORE', slot, '-inf', now)
  if redis.call('ZCARD', slot) >= tonumber(ARGV[3]) then kind, wait = 2, ${SLOT_RETRY_MS} end
end
local ok = 0
if kind == 0 then
  ok = 1
  for i = 1, n do
    local cap, amount = tonumber(ARGV[4 + 2 * i]), tonumber(ARGV[5 + 2 * i])
    levels[i] = levels[i] - amount
    if amount ~= 0 then store(KEYS[i], cap, levels[i]) end
  end
  if ARGV[2] == '1' then
    local ttl = tonumber(ARGV[5])
    redis.call('ZADD', slot, now + ttl, ARGV[4])
    redis.call('PEXPIRE', slot, ttl)
  end
end
local reply = {ok, kind, index, wait}
for i = 1, n do
  local cap = tonumber(ARGV[4 + 2 * i])
  reply[#reply + 1] = math.max(0, math.floor(levels[i]))
  reply[#reply + 1] = reset_ms(levels[i], cap)
end
return reply
`);

/**
 * KEYS: n bucket keys, then the slot key when there is a slot.
 * ARGV: n, hasSlot (0|1), leaseId, then perMinute and refund per bucket (negative: a charge).
 */
export const finishScript = new RedisScript(`${clock}
local n = tonumber(ARGV[1])
for i = 1, n do
  local cap, refund = tonumber(ARGV[2 + 2 * i]), tonumber(ARGV[3 + 2 * i])
  if refund ~= 0 then store(KEYS[i], cap, math.min(cap, level_of(KEYS[i], cap) + refund)) end
end
if ARGV[2] == '1' then redis.call('ZREM', KEYS[n + 1], ARGV[3]) end
return 1
`);

/**
 * Renews leases (concurrency slots, budget reservations) that are still held.
 * KEYS: the sorted sets; ARGV: ttlMs, then one member per key. XX: a lease already given back or
 * lapsed is not brought back.
 */
export const renewScript = new RedisScript(`${clock}
local ttl = tonumber(ARGV[1])
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], 'XX', now + ttl, ARGV[i + 1])
  redis.call('PEXPIRE', KEYS[i], ttl)
end
return #KEYS
`);
