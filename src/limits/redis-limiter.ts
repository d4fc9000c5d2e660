import { randomUUID } from 'node:crypto';
import type { Logger } from '../observability/logger.js';
import { readTake, takeArgs, takeScript, type TakeReply } from './limiter-scripts.js';
import type { LeaseKeeper, Lease } from './lease-keeper.js';
import type { BucketView, Grant, Limiter, TakeRequest, TakeResult } from './limiter.js';
import { LocalAllowances, WINDOW_MS, type RemotePlan } from './local-allowance.js';
import { PendingFinishes } from './pending-finishes.js';
import type { RedisHub } from './redis-hub.js';

/**
 * Buckets and slots in Redis, shared by every instance that uses the same server and prefix. A
 * take is one script call (limiter-scripts.ts), unless the key is busy enough for this instance
 * to hold an allowance of it (local-allowance.ts). A rejection means Redis could not answer: the
 * caller applies the outage policy (outage-policy.ts).
 */
/** How long a finished request's refund and slot release may wait to share a write with the next take. */
const FINISH_DELAY_MS = 20;
/** Members per ZREM when a window hands slots back (they travel as script arguments). */
const MEMBERS_PER_CALL = 1_000;

export class RedisLimiter implements Limiter {
  private readonly finishes: PendingFinishes;
  private readonly allowances: LocalAllowances;
  private deferred: Array<[string[], Array<string | number>]> = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private windowTimer: NodeJS.Timeout | undefined;
  private readonly topUps = new Set<Promise<void>>();

  constructor(
    private readonly hub: RedisHub,
    private readonly leases: LeaseKeeper,
    logger?: Logger,
    now?: () => number,
  ) {
    this.finishes = new PendingFinishes(hub, leases.ttlMs, logger);
    this.allowances = new LocalAllowances(now);
  }

  async take(request: TakeRequest): Promise<TakeResult> {
    const { buckets, slot } = request;
    const keys = buckets.map((b) => this.hub.key('bucket', b.key));
    const slotKey = slot === undefined ? undefined : this.hub.key('slots', slot.key);
    this.startWindows();
    // During an outage, every take asks Redis: an answer from memory here would look like Redis
    // answering (hub.commandSucceeded) and end the outage while Redis still hangs.
    const local = this.hub.healthy ? this.allowances.tryLocal(request, keys, slotKey) : undefined;
    if (local !== undefined) {
      this.topUp(keys);
      return { ok: true, buckets: local.views, grant: this.grant(request, keys, slotKey, local.member, false) };
    }
    // Finishes waiting to be sent go first, in this tick: auto-pipelining puts them in the same
    // socket write as this take, and Redis applies the refunds before it.
    void this.flush();
    const plan = this.allowances.planRemote(keys, slotKey);
    const leaseId = randomUUID();
    const args = takeArgs(
      buckets.map((b, i) => ({ perMinute: b.perMinute, amount: b.amount, giveBack: plan.giveBack[i] ?? 0, want: plan.want[i] ?? 0 })),
      slot === undefined ? undefined : { max: slot.max, leaseId, wantExtra: plan.wantSlots, giveBack: plan.freeGiven },
      this.leases.ttlMs,
    );
    let reply: TakeReply;
    try {
      reply = readTake(await takeScript.run(this.hub.redis, slotKey === undefined ? keys : [...keys, slotKey], args), buckets.length, leaseId);
    } catch (error) {
      this.allowances.settleRemote(keys, slotKey, plan, undefined);
      this.recoverGiveBack(keys, slotKey, buckets.map((b) => b.perMinute), plan);
      throw error;
    }
    const remaining = reply.buckets.map((b) => b.remaining);
    const extras = reply.buckets.map((b) => b.extra);
    for (const member of reply.extraMembers) this.leases.hold({ key: slotKey as string, member });
    this.allowances.settleRemote(keys, slotKey, plan, { remaining, extras, extraMembers: reply.extraMembers, granted: reply.ok });
    const views: BucketView[] = buckets.map((b, i) => ({ perMinute: b.perMinute, remaining: (remaining[i] ?? 0) + (extras[i] ?? 0), resetMs: reply.buckets[i]?.resetMs ?? 0 }));
    if (!reply.ok) {
      const blockedBy = reply.blockedKind === 2 ? { kind: 'slot' as const, max: slot?.max ?? 0 } : { kind: 'bucket' as const, index: reply.blockedIndex };
      return { ok: false, buckets: views, retryAfterMs: reply.retryAfterMs, blockedBy };
    }
    const member = slotKey === undefined ? undefined : leaseId;
    return { ok: true, buckets: views, grant: this.grant(request, keys, slotKey, member, true) };
  }

  async close(): Promise<void> {
    if (this.windowTimer !== undefined) clearInterval(this.windowTimer);
    this.windowTimer = undefined;
    // Hand everything back before the connection closes: a slot left in Redis would stay taken
    // until its lease lapsed. Top-ups still out are waited for: what they bring goes back too.
    await Promise.all(this.topUps);
    await Promise.all([...this.endWindow(true), ...this.flush()]);
    this.finishes.stop();
  }

  private startWindows(): void {
    if (this.windowTimer !== undefined) return;
    this.windowTimer = setInterval(() => {
      void this.endWindow();
      if (!this.allowances.active) {
        clearInterval(this.windowTimer);
        this.windowTimer = undefined;
      }
    }, WINDOW_MS);
    this.windowTimer.unref();
  }

  /**
   * Refills bucket allowances running low, in the background: the requests go on being served from
   * what is left meanwhile. A top-up is a take of nothing that asks for extras. Refused or failed,
   * it simply brings nothing.
   */
  private topUp(keys: readonly string[]): void {
    for (const bucket of this.allowances.lowOnes(keys)) this.track(this.topUpBucket(bucket));
  }

  /** Top-ups never reject (they catch); close() waits for those still out. */
  private track(topUp: Promise<void>): void {
    this.topUps.add(topUp);
    void topUp.then(() => this.topUps.delete(topUp));
  }

  private async topUpBucket(bucket: { key: string; perMinute: number; want: number }): Promise<void> {
    let units = 0;
    try {
      const args = takeArgs([{ perMinute: bucket.perMinute, amount: 0, giveBack: 0, want: bucket.want }], undefined, this.leases.ttlMs);
      units = readTake(await takeScript.run(this.hub.redis, [bucket.key], args), 1, '').buckets[0]?.extra ?? 0;
    } catch {
      // A failed top-up brings nothing; requests go to Redis one by one, or to the outage policy.
    }
    this.allowances.settleTopUp(bucket.key, units);
  }

  /** Hands back what the allowance held this window: one finish per bucket or slot set. */
  private endWindow(last = false): Array<Promise<void>> {
    const sent: Array<Promise<void>> = [];
    for (const { bucket, slot } of this.allowances.endWindow(last)) {
      if (bucket !== undefined) sent.push(this.finishes.run([bucket.key], [1, bucket.perMinute, bucket.refund]));
      if (slot !== undefined) sent.push(...this.releaseMembers(slot.key, slot.members));
    }
    return sent;
  }

  private releaseMembers(key: string, members: readonly string[]): Array<Promise<void>> {
    for (const member of members) this.leases.drop({ key, member });
    const sent: Array<Promise<void>> = [];
    for (let i = 0; i < members.length; i += MEMBERS_PER_CALL) {
      sent.push(this.finishes.run([key], [0, ...members.slice(i, i + MEMBERS_PER_CALL)]));
    }
    return sent;
  }

  /**
   * A take that failed may or may not have run on the server. Its give-back is settled on the
   * strict side: slots handed back and charges owed are replayed (a ZREM twice is harmless, a
   * charge twice only stricter), units handed back are dropped (returning them twice would let
   * more through; the bucket refills within a minute anyway).
   */
  private recoverGiveBack(keys: readonly string[], slotKey: string | undefined, perMinute: readonly number[], plan: RemotePlan): void {
    keys.forEach((key, i) => {
      const back = plan.giveBack[i] ?? 0;
      if (back < 0) void this.finishes.run([key], [1, perMinute[i] ?? 1, back]);
    });
    if (slotKey !== undefined && plan.freeGiven.length > 0) void this.releaseMembers(slotKey, plan.freeGiven);
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
      this.flushTimer = setTimeout(() => void this.flush(), FINISH_DELAY_MS);
      this.flushTimer.unref();
    }
  }

  /** Not awaited but by close(): the requests are over. If Redis fails now, they are replayed once it answers. */
  private flush(): Array<Promise<void>> {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.deferred.length === 0) return [];
    const due = this.deferred;
    this.deferred = [];
    return due.map(([keys, args]) => this.finishes.run(keys, args));
  }

  /** `newLease`: the member was just added in Redis (a pooled one is held since it joined the pool). */
  private grant(request: TakeRequest, keys: readonly string[], slotKey: string | undefined, member: string | undefined, newLease: boolean): Grant {
    let finished = false;
    const lease: Lease | undefined = slotKey === undefined || member === undefined ? undefined : { key: slotKey, member };
    if (lease !== undefined && newLease) this.leases.hold(lease);
    return {
      finish: (used) => {
        if (finished) return;
        finished = true;
        // Busy buckets and pools keep refunds and slots here (handed back at the window's end).
        const refunds = request.buckets.map((b, i) => this.allowances.refund(keys[i] as string, b.amount - (used[i] ?? b.amount)));
        const released = lease === undefined ? true : this.allowances.release(lease.key, lease.member);
        if (lease !== undefined && !released) this.leases.drop(lease);
        if (released && refunds.every((r) => r === 0)) return;
        const args = [keys.length, ...request.buckets.flatMap((b, i) => [b.perMinute, refunds[i] ?? 0]), ...(released ? [] : [lease?.member ?? ''])];
        this.defer(lease === undefined || released ? [...keys] : [...keys, lease.key], args);
      },
    };
  }
}
