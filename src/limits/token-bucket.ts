/**
 * Per-minute limits as token buckets: a bucket holds up to `perMinute` units and refills at
 * perMinute / 60 s, continuously. We chose buckets over a sliding window because a bucket is two
 * numbers (level, time) whatever the traffic, so a Redis script updates it in O(1) and atomically;
 * reconciling after a call is just giving units back (or taking more); and the wait until a
 * request fits is exact arithmetic, which is what Retry-After needs. A sliding-window log costs
 * one entry per request (memory grows with the limit) and cannot refund tokens cleanly; a fixed
 * window lets twice the limit through around its boundary. Like OpenAI's limits, a full bucket
 * allows a burst of the whole minute's quota, then a steady rate.
 *
 * The same formulas are written in Lua in limiter-scripts.ts; the unit tests hold both to them.
 */

export const MINUTE_MS = 60_000;

/** A bucket's stored state. A bucket never seen (or expired) is full. */
export interface BucketState {
  /** Units available at `at`; negative when usage exceeded what was reserved (a debt). */
  level: number;
  /** Epoch ms. */
  at: number;
}

/** The units available at `now`: the stored level plus what refilled since, up to the capacity. */
export function levelAt(state: BucketState | undefined, perMinute: number, now: number): number {
  if (state === undefined) return perMinute;
  const refilled = state.level + (Math.max(0, now - state.at) * perMinute) / MINUTE_MS;
  return Math.min(perMinute, refilled);
}

/** How long until `amount` units are available (0 when they are now). */
export function waitMs(level: number, amount: number, perMinute: number): number {
  if (level >= amount) return 0;
  return Math.ceil(((amount - level) * MINUTE_MS) / perMinute);
}

/** How long until the bucket is full again (OpenAI's `x-ratelimit-reset-*`). */
export function resetMs(level: number, perMinute: number): number {
  return level >= perMinute ? 0 : Math.ceil(((perMinute - level) * MINUTE_MS) / perMinute);
}
