import { GatewayError } from '../core/gateway-error.js';
import type { BucketView } from '../limits/limiter.js';
import { MAX_RETRY_MS, retryHints } from './retry-hints.js';

/** Which limit a bucket stands for. */
export type LimitType = 'requests' | 'tokens';

/** A duration the way OpenAI writes `x-ratelimit-reset-*`: "20ms", "1s", "1.5s", "6m0s". */
export function formatReset(ms: number): string {
  const whole = Math.max(0, Math.ceil(ms));
  if (whole < 1000) return `${whole}ms`;
  const minutes = Math.floor(whole / 60_000);
  const seconds = (whole - minutes * 60_000) / 1000;
  return minutes > 0 ? `${minutes}m${seconds}s` : `${seconds}s`;
}

/** `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` for the buckets a request was checked against. */
export function rateLimitHeaders(buckets: ReadonlyArray<{ type: LimitType; view: BucketView }>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const { type, view } of buckets) {
    headers[`x-ratelimit-limit-${type}`] = String(view.perMinute);
    headers[`x-ratelimit-remaining-${type}`] = String(view.remaining);
    headers[`x-ratelimit-reset-${type}`] = formatReset(view.resetMs);
  }
  return headers;
}

/** "1.2s", "45s": how OpenAI's messages say when to try again. */
function inSeconds(ms: number): string {
  return `${Math.round(Math.min(MAX_RETRY_MS, ms) / 100) / 10}s`;
}

export interface RateLimitedOptions {
  keyName: string;
  type: LimitType;
  view: BucketView;
  requested: number;
  waitMs: number;
  headers: Record<string, string>;
}

/** 429 for a key's exhausted RPM or TPM, worded like OpenAI's. */
export function rateLimited(options: RateLimitedOptions): GatewayError {
  const { keyName, type, view, requested, waitMs } = options;
  const name = type === 'requests' ? 'requests per min (RPM)' : 'tokens per min (TPM)';
  return new GatewayError(
    'rate_limit_exceeded',
    `Rate limit reached for API key '${keyName}' on ${name}: Limit ${view.perMinute}, Remaining ${view.remaining}, Requested ${requested}. Please try again in ${inSeconds(waitMs)}.`,
    { limitType: type, headers: options.headers, ...retryHints(waitMs) },
  );
}

/**
 * 429 for a request that by itself exceeds the key's TPM: waiting never helps, so the SDKs are told
 * not to retry. It still carries the hints every 429 has, at the longest wait the SDKs honour, so
 * a client that retries anyway does not hammer.
 */
export function requestTooLarge(keyName: string, limit: number, requested: number, headers: Record<string, string>): GatewayError {
  return new GatewayError(
    'rate_limit_exceeded',
    `Request too large for API key '${keyName}' on tokens per min (TPM): Limit ${limit}, Requested ${requested} ` +
      '(the prompt, estimated, plus max_tokens). Lower max_tokens or shorten the prompt.',
    { limitType: 'tokens', headers: { 'x-should-retry': 'false', ...headers }, ...retryHints(MAX_RETRY_MS) },
  );
}

/** 429 for a key with `max_concurrent` requests already in flight. */
export function tooManyConcurrent(keyName: string, max: number, headers: Record<string, string>): GatewayError {
  return new GatewayError(
    'rate_limit_exceeded',
    `Too many concurrent requests for API key '${keyName}': Limit ${max} in flight. Please try again when one has finished.`,
    { limitType: 'requests', headers, ...retryHints(1000) },
  );
}

/** 429 when every route of a model is over its deployment quota (for the routing loop). */
export function routesOverQuota(model: string, waitMs: number): GatewayError {
  return new GatewayError(
    'route_quota_exceeded',
    `Every upstream of the model '${model}' is at its rate limit. Please try again in ${inSeconds(waitMs)}.`,
    { limitType: 'requests', ...retryHints(waitMs) },
  );
}
