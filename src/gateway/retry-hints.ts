/**
 * The one place a wait becomes `Retry-After` and `retry-after-ms`, for every 429/503/529 Sluice
 * sends (its own limits, routes cooling down, an upstream's refusal passed on).
 */

/** The SDKs ignore a Retry-After above 60 s (and fall back to their own short backoff). */
export const MAX_RETRY_MS = 60_000;

/** `Retry-After` (whole seconds, 1..60) and `retry-after-ms` (the SDKs prefer it) for a wait. */
export function retryHints(waitMs: number): { retryAfter: string; retryAfterMs: string } {
  const ms = Math.min(MAX_RETRY_MS, Math.max(1, Math.ceil(waitMs)));
  return { retryAfter: String(Math.ceil(ms / 1000)), retryAfterMs: String(ms) };
}
