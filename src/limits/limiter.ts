/**
 * What every limiter (memory, Redis, and the outage policy around Redis) offers: take units from
 * several per-minute buckets and, optionally, a concurrency slot, all or nothing; later reconcile
 * the units with what was really used and give the slot back.
 */

/** Take `amount` units from the bucket `key` (capacity and refill: `perMinute`). */
export interface BucketTake {
  key: string;
  perMinute: number;
  amount: number;
}

/** Take one of `max` slots under `key` (a concurrency limit). */
export interface SlotTake {
  key: string;
  max: number;
}

export interface TakeRequest {
  buckets: readonly BucketTake[];
  slot?: SlotTake;
}

/** A bucket as the take left it, for the `x-ratelimit-*` headers. */
export interface BucketView {
  perMinute: number;
  /** Whole units left. */
  remaining: number;
  /** Until the bucket is full again. */
  resetMs: number;
}

export type Blocker = { kind: 'bucket'; index: number } | { kind: 'slot'; max: number };

export type TakeResult =
  | { ok: true; buckets: BucketView[]; grant: Grant }
  | { ok: false; buckets: BucketView[]; retryAfterMs: number; blockedBy: Blocker };

/** What an admitted take holds. */
export interface Grant {
  /**
   * Reconciles and releases, once (later calls do nothing): bucket i keeps `used[i]` units of the
   * `amount` it took (the rest is refunded; more is charged as a debt that later takes wait out),
   * and the slot is given back. Never throws, never waits.
   */
  finish(used: readonly number[]): void;
}

export interface Limiter {
  /** Rejects only when the limiter cannot decide (e.g. Redis unreachable). */
  take(request: TakeRequest): Promise<TakeResult>;
  close(): Promise<void>;
}

/** How long a client should wait when only a concurrency slot is missing: a slot frees when any
 *  request ends, which nobody can predict, so a short poll. */
export const SLOT_RETRY_MS = 1_000;
