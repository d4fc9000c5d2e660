import type { Logger } from '../observability/logger.js';
import { finishScript } from './limiter-scripts.js';
import type { RedisHub } from './redis-hub.js';

/** Finishes kept while Redis does not take them, at most this many (beyond: leases lapse by themselves). */
const MAX_PENDING = 10_000;
const RETRY_EVERY_MS = 1_000;

interface PendingFinish {
  keys: string[];
  args: Array<string | number>;
  failedAt: number;
}

/**
 * Finishes (slot releases, token refunds) that failed in a Redis blip, replayed once it answers
 * (at reconnection, and every second meanwhile, since a hung server that comes back announces
 * nothing), as budgets do with costs they owe. Without this a blip would hold the key's slot until
 * its lease lapsed (30 s) and lose the refund. A finish older than a minute and the lease TTL is
 * dropped: by then its lease has lapsed and its bucket has refilled anyway.
 */
export class PendingFinishes {
  private pending: PendingFinish[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly keepMs: number;

  constructor(
    private readonly hub: RedisHub,
    leaseTtlMs: number,
    private readonly logger?: Logger,
  ) {
    this.keepMs = Math.max(60_000, leaseTtlMs);
    hub.onReady(() => void this.replay());
  }

  /** Runs the finish now; keeps it for a replay if Redis does not take it. */
  async run(keys: string[], args: Array<string | number>, failedAt?: number): Promise<void> {
    try {
      await finishScript.run(this.hub.redis, keys, args); // `redis` throws before the first connection
    } catch (error) {
      this.logger?.debug('rate limit: reconcile failed; kept until Redis answers', { error });
      this.keep({ keys, args, failedAt: failedAt ?? Date.now() });
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.pending = [];
  }

  private keep(finish: PendingFinish): void {
    if (this.pending.length >= MAX_PENDING || Date.now() - finish.failedAt > this.keepMs) return;
    this.pending.push(finish);
    if (this.timer === undefined) {
      this.timer = setInterval(() => {
        if (this.pending.length === 0) {
          clearInterval(this.timer);
          this.timer = undefined;
        } else if (this.hub.available) {
          void this.replay();
        }
      }, RETRY_EVERY_MS);
      this.timer.unref();
    }
  }

  private async replay(): Promise<void> {
    const pending = this.pending;
    this.pending = [];
    await Promise.all(pending.map(({ keys, args, failedAt }) => this.run(keys, args, failedAt)));
  }
}
