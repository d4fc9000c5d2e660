import { silentLogger, type Logger } from '../observability/logger.js';
import type { CooldownBoard } from './cooldown-board.js';
import { defaultHealthSettings, RouteHealth, type HealthSettings } from './route-health.js';
import { unlimitedRoutes, type RouteQuota } from './route-quota.js';
import { RouteStats } from './route-stats.js';
import { defaultRetrySettings, type RetrySettings } from './retry-policy.js';
import type { Cancellation } from '../core/cancellation.js';

/** Time for the attempt loop; injected so tests can run backoffs and cooldowns on a fake clock. */
export interface Clock {
  /** Epoch ms. */
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts (the caller checks which). */
  sleep(ms: number, signal: Cancellation): Promise<void>;
}

export const systemClock: Clock = {
  now: Date.now,
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        signal.offAbort(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.onAbort(done);
    }),
};

/**
 * What the attempt loop needs besides the request: the retry policy, the routes' breakers,
 * quotas and stats. One per gateway, shared by all its models (a route's health is the same
 * whichever model uses it).
 */
export interface Routing {
  retries: RetrySettings;
  health: RouteHealth;
  stats: RouteStats;
  quota: RouteQuota;
  logger: Logger;
  clock: Clock;
  /** [0, 1), for backoff jitter and the weighted strategy. */
  random: () => number;
}

export interface RoutingOptions {
  retries?: RetrySettings;
  health?: HealthSettings;
  quota?: RouteQuota;
  /** Where cooldowns are shared with other instances (default: this instance only). */
  cooldowns?: CooldownBoard;
  logger?: Logger;
  clock?: Clock;
  random?: () => number;
}

export function createRouting(options: RoutingOptions = {}): Routing {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  return {
    retries: options.retries ?? defaultRetrySettings,
    health: new RouteHealth(options.health ?? defaultHealthSettings, { board: options.cooldowns, logger, now: () => clock.now() }),
    stats: new RouteStats(),
    quota: options.quota ?? unlimitedRoutes,
    logger,
    clock,
    random: options.random ?? Math.random,
  };
}
