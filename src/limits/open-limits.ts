import type { Logger } from '../observability/logger.js';
import { LeaseKeeper } from './lease-keeper.js';
import type { Limiter } from './limiter.js';
import { MemoryLimiter } from './memory-limiter.js';
import { ResilientLimiter, type OutagePolicy } from './outage-policy.js';
import { RedisBudget } from './redis-budget.js';
import { RedisCooldownBoard } from './redis-cooldown-board.js';
import { RedisHub } from './redis-hub.js';
import { RedisKeyNews } from './redis-key-news.js';
import { RedisLimiter } from './redis-limiter.js';
import { RouteQuotas, type RouteLimits } from './route-quotas.js';

export interface LimitsOptions {
  /** `redis:` from the config; undefined: everything in this process's memory. */
  redisUrl: string | undefined;
  outage: OutagePolicy;
  logger: Logger;
  /** Route label -> its deployment quota. */
  routeLimits: ReadonlyMap<string, RouteLimits>;
  /** Lease lifetime of slots and budget reservations in Redis (renewed every third of it). */
  leaseTtlMs?: number;
  commandTimeoutMs?: number;
}

/** What Redis shares between instances; absent without `redis:`. */
export interface SharedState {
  hub: RedisHub;
  outage: OutagePolicy;
  budget: RedisBudget;
  cooldowns: RedisCooldownBoard;
  keyNews: RedisKeyNews;
}

export interface Limits {
  /** Per-key buckets and slots. */
  limiter: Limiter;
  routeQuotas: RouteQuotas;
  shared: SharedState | undefined;
  /** Waits (briefly) for Redis before the first request, so an instance starting up does not
   *  begin on its own memory. Redis still down by then: the outage policy applies until it is up. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** How long start() waits for Redis. */
const START_WAIT_MS = 2_000;

/** Builds the limits from the config: in memory, or in Redis behind the outage policy. */
export function openLimits(options: LimitsOptions): Limits {
  const local = new MemoryLimiter();
  if (options.redisUrl === undefined) {
    return { limiter: local, routeQuotas: new RouteQuotas(local, options.routeLimits), shared: undefined, start: async () => {}, close: async () => {} };
  }
  const outageEffect = options.outage === 'open'
    ? 'each instance enforces rate limits and budgets from its own memory (redis_outage: open)'
    : 'requests that need rate limits or budgets get 503 (redis_outage: closed)';
  const hub = new RedisHub({ url: options.redisUrl, logger: options.logger, outageEffect, ...(options.commandTimeoutMs ? { commandTimeoutMs: options.commandTimeoutMs } : {}) });
  const leases = new LeaseKeeper(hub, options.leaseTtlMs ?? 30_000);
  const limiter = new ResilientLimiter(hub, new RedisLimiter(hub, leases, options.logger), local, options.outage);
  const shared: SharedState = { hub, outage: options.outage, budget: new RedisBudget(hub, leases), cooldowns: new RedisCooldownBoard(hub), keyNews: new RedisKeyNews(hub) };
  return {
    limiter,
    routeQuotas: new RouteQuotas(limiter, options.routeLimits),
    shared,
    start: async () => {
      await hub.whenReady(START_WAIT_MS);
    },
    close: async () => {
      // The limiter first: it hands back what it holds while Redis is still connected.
      await limiter.close().catch(() => {});
      leases.stop();
      await hub.close();
    },
  };
}
