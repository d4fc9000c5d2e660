import { SLOT_RETRY_MS } from './limiter.js';
import { integers, RedisScript } from './redis-script.js';

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
 * ARGV: n, hasSlot (0|1), slotMax, leaseId, leaseTtlMs, extraSlotsWanted, then per bucket
 *       perMinute, amount, giveBack, extraWanted; then the slot members given back.
 * giveBack is what this instance held of the bucket (local-allowance.ts; negative: what it owes),
 * applied first whatever the outcome, like the members given back. Extras are granted only from
 * the half of a bucket above half full, and slots only up to half of max: below that, every
 * request is decided here, one at a time, so a limit that is nearly reached stays exact.
 * Reply: {ok, blockedKind (0 none, 1 bucket, 2 slot), blockedIndex (1-based), retryAfterMs,
 *         extraSlots, then remaining, resetMs and extra per bucket (after the take when ok)}.
 */
export const takeScript = new RedisScript(`${clock}
local n = tonumber(ARGV[1])
local levels = {}
local kind, index, wait = 0, 0, 0
for i = 1, n do
  local b = 3 + 4 * i
  local cap, amount, back = tonumber(ARGV[b]), tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2])
  local level = math.min(cap, level_of(KEYS[i], cap) + back)
  levels[i] = level
  if level < amount then
    local w = math.ceil((amount - level) * 60000 / cap)
    if w > wait then kind, index, wait = 1, i, w end
  end
end
local slot = KEYS[n + 1]
local extraSlots = 0
if ARGV[2] == '1' then
  if #ARGV >= 7 + 4 * n then redis.call('ZREM', slot, unpack(ARGV, 7 + 4 * n, #ARGV)) end
  if kind == 0 then
    local max = tonumber(ARGV[3])
    redis.call('ZREMRANGEBYSCORE', slot, '-inf', now)
    local held = redis.call('ZCARD', slot)
    if held >= max then
      kind, wait = 2, ${SLOT_RETRY_MS}
    else
      extraSlots = math.max(0, math.min(tonumber(ARGV[6]), math.floor(max / 2) - held - 1))
    end
  end
end
local extras = {}
local ok = 0
if kind == 0 then ok = 1 end
for i = 1, n do
  local b = 3 + 4 * i
  local cap, amount, back, want = tonumber(ARGV[b]), tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3])
  local extra = 0
  if ok == 1 then
    extra = math.max(0, math.min(want, math.floor(levels[i] - amount - cap / 2)))
    levels[i] = levels[i] - amount - extra
  end
  extras[i] = extra
  if back ~= 0 or (ok == 1 and amount + extra ~= 0) then store(KEYS[i], cap, levels[i]) end
end
if ok == 1 and ARGV[2] == '1' then
  local ttl = tonumber(ARGV[5])
  redis.call('ZADD', slot, now + ttl, ARGV[4])
  for j = 1, extraSlots do redis.call('ZADD', slot, now + ttl, ARGV[4] .. ':' .. j) end
  redis.call('PEXPIRE', slot, ttl)
end
local reply = {ok, kind, index, wait, extraSlots}
for i = 1, n do
  local cap = tonumber(ARGV[3 + 4 * i])
  reply[#reply + 1] = math.max(0, math.floor(levels[i]))
  reply[#reply + 1] = reset_ms(levels[i], cap)
  reply[#reply + 1] = extras[i]
end
return reply
`);

/** One bucket of a take call: its capacity, the units taken, given back first, and extra wanted. */
export interface TakeBucketArgs {
  perMinute: number;
  amount: number;
  giveBack: number;
  want: number;
}

/** The slot part of a take call: max, this take's lease id, extra members wanted, free members given back. */
export interface TakeSlotArgs {
  max: number;
  leaseId: string;
  wantExtra: number;
  giveBack: readonly string[];
}

/** takeScript's ARGV, in the order its header describes. */
export function takeArgs(buckets: readonly TakeBucketArgs[], slot: TakeSlotArgs | undefined, leaseTtlMs: number): Array<string | number> {
  return [buckets.length, slot === undefined ? 0 : 1, slot?.max ?? 0, slot?.leaseId ?? '', leaseTtlMs, slot?.wantExtra ?? 0,
    ...buckets.flatMap((b) => [b.perMinute, b.amount, b.giveBack, b.want]), ...(slot?.giveBack ?? [])];
}

export interface TakeReply {
  ok: boolean;
  blockedKind: number;
  /** 0-based. */
  blockedIndex: number;
  retryAfterMs: number;
  buckets: Array<{ remaining: number; resetMs: number; extra: number }>;
  /** The extra slot members granted (named as the script names them). */
  extraMembers: string[];
}

/** takeScript's reply, for a call with `bucketCount` buckets and lease id `leaseId`. */
export function readTake(raw: unknown, bucketCount: number, leaseId: string): TakeReply {
  const reply = integers(raw);
  const [ok, kind, index, wait, extraSlots = 0] = reply;
  return {
    ok: ok === 1,
    blockedKind: kind ?? 0,
    blockedIndex: (index ?? 1) - 1,
    retryAfterMs: wait ?? 0,
    buckets: Array.from({ length: bucketCount }, (_, i) => ({ remaining: reply[5 + 3 * i] ?? 0, resetMs: reply[6 + 3 * i] ?? 0, extra: reply[7 + 3 * i] ?? 0 })),
    extraMembers: Array.from({ length: extraSlots }, (_, j) => `${leaseId}:${j + 1}`),
  };
}

/**
 * Refunds (negative: charges) and slot releases: a finished request, or what an instance hands
 * back of its allowance.
 * KEYS: n bucket keys, then the slot key when members are given back.
 * ARGV: n, then perMinute and refund per bucket, then the members given back.
 */
export const finishScript = new RedisScript(`${clock}
local n = tonumber(ARGV[1])
for i = 1, n do
  local cap, refund = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  if refund ~= 0 then store(KEYS[i], cap, math.min(cap, level_of(KEYS[i], cap) + refund)) end
end
if #ARGV >= 2 + 2 * n then redis.call('ZREM', KEYS[n + 1], unpack(ARGV, 2 + 2 * n, #ARGV)) end
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
