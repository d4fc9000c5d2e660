import { randomUUID } from 'node:crypto';
import type { Logger } from '../observability/logger.js';
import { takeScript } from './limiter-scripts.js';
import type { LeaseKeeper, Lease } from './lease-keeper.js';
import type { BucketView, Grant, Limiter, TakeRequest, TakeResult } from './limiter.js';
import { PendingFinishes } from './pending-finishes.js';
import type { RedisHub } from './redis-hub.js';
import { integers } from './redis-script.js';

/**
 * Buckets and slots in Redis, shared by every instance that uses the same server and prefix. A
 * take is one script call (limiter-scripts.ts). Its rejection means Redis could not answer:
 * the caller applies the outage policy (outage-policy.ts).
 */
/** How long a finished request's refund and slot release may wait to share a write with the next take. */
const FINISH_DELAY_MS = 20;

export class RedisLimiter implements Limiter {
  private readonly finishes: PendingFinishes;
  private deferred: Array<[string[], Array<string | number>]> = [];
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly hub: RedisHub,
    private readonly leases: LeaseKeeper,
    logger?: Logger,
  ) {
    this.finishes = new PendingFinishes(hub, leases.ttlMs, logger);
  }

  async take(request: TakeRequest): Promise<TakeResult> {
    // Finishes waiting to be sent go first, in this tick: auto-pipelining puts them in the same
    // socket write as this take, and Redis applies the refunds before it.
    this.flush();
    const { buckets, slot } = request;
    const keys = buckets.map((b) => this.hub.key('bucket', b.key));
    if (slot !== undefined) keys.push(this.hub.key('slots', slot.key));
    const leaseId = randomUUID();
    const args = [buckets.length, slot === undefined ? 0 : 1, slot?.max ?? 0, leaseId, this.leases.ttlMs, ...buckets.flatMap((b) => [b.perMinute, b.amount])];
    const reply = integers(await takeScript.run(this.hub.redis, keys, args));
    const [ok, kind, index, wait] = reply;
    const views: BucketView[] = buckets.map((b, i) => ({ perMinute: b.perMinute, remaining: reply[4 + 2 * i] ?? 0, resetMs: reply[5 + 2 * i] ?? 0 }));
    if (ok !== 1) {
      const blockedBy = kind === 2 ? { kind: 'slot' as const, max: slot?.max ?? 0 } : { kind: 'bucket' as const, index: (index ?? 1) - 1 };
      return { ok: false, buckets: views, retryAfterMs: wait ?? 0, blockedBy };
    }
    const lease = slot === undefined ? undefined : { key: this.hub.key('slots', slot.key), member: leaseId };
    if (lease !== undefined) this.leases.hold(lease);
    return { ok: true, buckets: views, grant: this.grant(request, keys, lease) };
  }

  async close(): Promise<void> {
    this.flush();
    this.finishes.stop();
  }

  /**
   * A finish is sent with the next take, or after FINISH_DELAY_MS when none comes: one socket
   * write per request instead of two (a write to loopback Redis cost more of the gateway's CPU
   * than anything else on the path). Delaying a refund or a slot release can only make the limits
   * stricter for those milliseconds, never let more through.
   */
  private defer(keys: string[], args: Array<string | number>): void {
    this.deferred.push([keys, args]);
    if (this.flushTimer === undefined) {
      this.flushTimer = setTimeout(() => this.flush(), FINISH_DELAY_MS);
      this.flushTimer.unref();
    }
  }

  private flush(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.deferred.length === 0) return;
    const due = this.deferred;
    this.deferred = [];
    // Not awaited: the requests are over. If Redis fails now, they are replayed once it answers.
    for (const [keys, args] of due) void this.finishes.run(keys, args);
  }

  private grant(request: TakeRequest, keys: string[], lease: Lease | undefined): Grant {
    let finished = false;
    return {
      finish: (used) => {
        if (finished) return;
        finished = true;
        if (lease !== undefined) this.leases.drop(lease);
        const refunds = request.buckets.map((b, i) => b.amount - (used[i] ?? b.amount));
        if (lease === undefined && refunds.every((r) => r === 0)) return;
        const args = [request.buckets.length, lease === undefined ? 0 : 1, lease?.member ?? '', ...request.buckets.flatMap((b, i) => [b.perMinute, refunds[i] ?? 0])];
        this.defer(keys, args);
      },
    };
  }
}
