import { GatewayError } from '../core/gateway-error.js';
import type { Limiter, TakeRequest, TakeResult } from './limiter.js';
import type { RedisHub } from './redis-hub.js';

/**
 * What Sluice does while Redis cannot be reached. `open` (the default): each instance enforces the
 * limits (and budgets) on its own, from memory, so a key may get up to N times its limit across N
 * instances, but nobody is turned away because a cache is down. `closed`: requests that need
 * shared state get 503 until Redis is back, so no limit can ever be exceeded.
 */
export type OutagePolicy = 'open' | 'closed';

/** Retry-After of the 503 under the closed policy: the reconnection delay is capped at 2 s. */
const UNAVAILABLE_RETRY_SECONDS = 2;

export function limitsUnavailable(what: string, cause?: unknown): GatewayError {
  return new GatewayError('limits_unavailable', `The shared ${what} store (Redis) cannot be reached right now; retry shortly.`, {
    retryAfter: String(UNAVAILABLE_RETRY_SECONDS),
    retryAfterMs: String(UNAVAILABLE_RETRY_SECONDS * 1000),
    cause,
  });
}

/**
 * Runs `shared` while Redis answers; otherwise `local` (open) or a 503 (closed). Redis is not even
 * tried while it is known to be down (no timeout on every request); it is again as soon as the
 * connection is back, so recovery needs nothing.
 */
export async function withOutagePolicy<T>(hub: RedisHub, policy: OutagePolicy, what: string, shared: () => Promise<T>, local: () => Promise<T>): Promise<T> {
  let cause: unknown;
  if (hub.available) {
    try {
      const result = await shared();
      hub.commandSucceeded();
      return result;
    } catch (error) {
      // A GatewayError is a decision (e.g. a refusal), not an outage.
      if (error instanceof GatewayError) throw error;
      hub.commandFailed(error);
      cause = error;
    }
  }
  if (policy === 'closed') throw limitsUnavailable(what, cause);
  return local();
}

/** The Redis limiter behind the outage policy, with a memory limiter as the per-instance fallback. */
export class ResilientLimiter implements Limiter {
  constructor(
    private readonly hub: RedisHub,
    private readonly shared: Limiter,
    private readonly local: Limiter,
    private readonly policy: OutagePolicy,
  ) {}

  take(request: TakeRequest): Promise<TakeResult> {
    return withOutagePolicy(this.hub, this.policy, 'rate limit', () => this.shared.take(request), () => this.local.take(request));
  }

  async close(): Promise<void> {
    await Promise.all([this.shared.close(), this.local.close()]);
  }
}
