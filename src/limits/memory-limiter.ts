import { levelAt, resetMs, waitMs, type BucketState } from './token-bucket.js';
import { SLOT_RETRY_MS, type BucketView, type Grant, type Limiter, type TakeRequest, type TakeResult } from './limiter.js';

export interface MemoryLimiterOptions {
  now?: () => number;
}

/**
 * Buckets and slots in this process. Every take is one synchronous step (no await between the
 * check and the update), so concurrent requests on one instance can never pass a limit together.
 * It is the default, and the per-instance fallback while Redis is unreachable.
 */
export class MemoryLimiter implements Limiter {
  private readonly buckets = new Map<string, BucketState>();
  private readonly slots = new Map<string, number>();
  private readonly now: () => number;
  private sweptAt = 0;

  constructor(options: MemoryLimiterOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  async take(request: TakeRequest): Promise<TakeResult> {
    const now = this.now();
    this.sweep(now);
    const levels = request.buckets.map((b) => levelAt(this.buckets.get(b.key), b.perMinute, now));
    const views = (after: (i: number) => number): BucketView[] =>
      request.buckets.map((b, i) => ({ perMinute: b.perMinute, remaining: Math.max(0, Math.floor(after(i))), resetMs: resetMs(after(i), b.perMinute) }));
    let retryAfterMs = 0;
    let blocked = -1;
    request.buckets.forEach((b, i) => {
      const wait = waitMs(levels[i] ?? 0, b.amount, b.perMinute);
      if (wait > retryAfterMs) [retryAfterMs, blocked] = [wait, i];
    });
    if (blocked >= 0) return { ok: false, buckets: views((i) => levels[i] ?? 0), retryAfterMs, blockedBy: { kind: 'bucket', index: blocked } };
    const { slot } = request;
    if (slot !== undefined && (this.slots.get(slot.key) ?? 0) >= slot.max) {
      return { ok: false, buckets: views((i) => levels[i] ?? 0), retryAfterMs: SLOT_RETRY_MS, blockedBy: { kind: 'slot', max: slot.max } };
    }
    request.buckets.forEach((b, i) => this.buckets.set(b.key, { level: (levels[i] ?? 0) - b.amount, at: now }));
    if (slot !== undefined) this.slots.set(slot.key, (this.slots.get(slot.key) ?? 0) + 1);
    return { ok: true, buckets: views((i) => (levels[i] ?? 0) - (request.buckets[i]?.amount ?? 0)), grant: this.grant(request) };
  }

  async close(): Promise<void> {}

  private grant(request: TakeRequest): Grant {
    let finished = false;
    return {
      finish: (used) => {
        if (finished) return;
        finished = true;
        const now = this.now();
        request.buckets.forEach((b, i) => {
          const refund = b.amount - (used[i] ?? b.amount);
          if (refund === 0) return;
          const level = levelAt(this.buckets.get(b.key), b.perMinute, now);
          this.buckets.set(b.key, { level: Math.min(b.perMinute, level + refund), at: now });
        });
        const { slot } = request;
        if (slot === undefined) return;
        const held = (this.slots.get(slot.key) ?? 1) - 1;
        if (held > 0) this.slots.set(slot.key, held);
        else this.slots.delete(slot.key);
      },
    };
  }

  /** Forgets buckets that have refilled (a missing bucket is a full one), once a minute, so keys
   *  that stopped calling cost no memory. */
  private sweep(now: number): void {
    if (now - this.sweptAt < 60_000) return;
    this.sweptAt = now;
    for (const [key, state] of this.buckets) {
      // Capacity is not stored; a minute idle refills any bucket that was not in debt.
      if (now - state.at >= 60_000 && state.level >= 0) this.buckets.delete(key);
    }
  }
}
