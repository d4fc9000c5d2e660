import { randomUUID } from 'node:crypto';
import type { LeaseKeeper } from './lease-keeper.js';
import type { RedisHub } from './redis-hub.js';
import { integers, RedisScript } from './redis-script.js';

/** One key's budget in one period. */
export interface BudgetScope {
  keyId: string;
  period: string;
  /** Epoch ms the period began (0 for a budget that never resets). */
  start: number;
  /** Epoch ms it ends; undefined for a budget that never resets. */
  end: number | undefined;
}

export interface BudgetReservation {
  scope: BudgetScope;
  member: string;
}

export type ReserveReply =
  | { status: 'reserved'; reservation: BudgetReservation }
  | { status: 'refused'; spent: number; reserved: number }
  /** The period's spend is not in Redis yet: seed it from the ledger, then reserve again. */
  | { status: 'unseeded' };

/**
 * KEYS: spent, reservations. ARGV: budget, worst, member, leaseTtlMs.
 * Reservations are a sorted set of "<id>:<nano-USD>" scored by lease expiry: the reserved total
 * is summed from the live members, so a reservation whose instance died simply lapses.
 * Reply: {1 reserved | 0 refused | 2 unseeded, spent, reserved}.
 */
const reserveScript = new RedisScript(`
local spent = redis.call('GET', KEYS[1])
if not spent then return {2, 0, 0} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local reserved = 0
for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do reserved = reserved + tonumber(string.match(m, '(%d+)$')) end
spent = tonumber(spent)
if spent + reserved + tonumber(ARGV[2]) > tonumber(ARGV[1]) then return {0, spent, reserved} end
local ttl = tonumber(ARGV[4])
redis.call('ZADD', KEYS[2], now + ttl, ARGV[3])
redis.call('PEXPIRE', KEYS[2], ttl)
return {1, spent, reserved}
`);

/** KEYS: reservations (the admitted period's), spent (the current period's). ARGV: member, cost.
 *  Reply: 1 settled, 0 the spent counter is missing (seed it, then settle again). */
const settleScript = new RedisScript(`
if ARGV[1] ~= '' then redis.call('ZREM', KEYS[1], ARGV[1]) end
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
if ARGV[2] ~= '0' then redis.call('INCRBY', KEYS[2], ARGV[2]) end
return 1
`);

/** Spend counters outlive their period by a day (requests that straddle the boundary). */
const AFTER_PERIOD_MS = 86_400_000;

/**
 * Budget counters shared by every instance: per key and period, what was spent (seeded once from
 * the ledger with SET NX, then increased by each settled request) and what requests in flight
 * reserved (leases, renewed while the request runs). Rejections mean Redis could not answer; the
 * caller applies the outage policy.
 */
export class RedisBudget {
  constructor(
    private readonly hub: RedisHub,
    private readonly leases: LeaseKeeper,
  ) {}

  async reserve(scope: BudgetScope, budget: number, worst: number): Promise<ReserveReply> {
    const member = `${randomUUID()}:${worst}`;
    const [status, spent, reserved] = integers(await reserveScript.run(this.hub.redis, this.keys(scope), [budget, worst, member, this.leases.ttlMs]));
    if (status === 2) return { status: 'unseeded' };
    if (status === 0) return { status: 'refused', spent: spent ?? 0, reserved: reserved ?? 0 };
    this.leases.hold({ key: this.keys(scope)[1] ?? '', member });
    return { status: 'reserved', reservation: { scope, member } };
  }

  /** Sets the period's spend from the ledger unless another instance already did (SET NX). */
  async seed(scope: BudgetScope, spent: number, now = Date.now()): Promise<void> {
    const [spentKey] = this.keys(scope);
    if (spentKey === undefined) return;
    if (scope.end === undefined) await this.hub.redis.set(spentKey, spent, 'NX');
    else await this.hub.redis.set(spentKey, spent, 'PX', Math.max(1, scope.end - now + AFTER_PERIOD_MS), 'NX');
  }

  /**
   * Replaces a reservation with the real cost, counted in `current` (the period the request ended
   * in, which the ledger dates it by). 'unseeded': `current` has no counter yet.
   */
  async settle(reservation: BudgetReservation | undefined, current: BudgetScope, costNanoUsd: number): Promise<'settled' | 'unseeded'> {
    if (reservation !== undefined) this.leases.drop({ key: this.keys(reservation.scope)[1] ?? '', member: reservation.member });
    const reservations = reservation === undefined ? this.keys(current)[1] : this.keys(reservation.scope)[1];
    const keys = [reservations ?? '', this.keys(current)[0] ?? ''];
    const reply = await settleScript.run(this.hub.redis, keys, [reservation?.member ?? '', Math.round(costNanoUsd)]);
    return Number(reply) === 1 ? 'settled' : 'unseeded';
  }

  private keys(scope: BudgetScope): [string, string] {
    const base = this.hub.key('budget', scope.keyId, scope.period, String(scope.start));
    return [`${base}:spent`, `${base}:reserved`];
  }
}
