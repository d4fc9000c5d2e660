import type { GatewayError } from '../core/gateway-error.js';

/** How a request is retried before its commit point (config `retries:`), in milliseconds. */
export interface RetrySettings {
  /** Upstream calls per request, across all its routes. */
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** An upstream asking for a longer wait is not waited for: other routes are tried. */
  maxRetryAfterMs: number;
  /** No attempt starts later than this after the request arrived; 0 = none. */
  deadlineMs: number;
}

export const defaultRetrySettings: RetrySettings = {
  maxAttempts: 4,
  initialBackoffMs: 200,
  maxBackoffMs: 8000,
  maxRetryAfterMs: 60_000,
  deadlineMs: 120_000,
};

/** What one failed attempt means for the request, and for the route's health. */
export interface FailureVerdict {
  /**
   * `stop`: the request itself is at fault (a different route would refuse it too): the client
   * hears it now. `other_routes`: this route cannot serve the request (misconfigured, or this
   * request does not suit it): never again for this request, but the others may. `retry`: a
   * passing fault: this route may be tried again after a backoff, the others at once.
   */
  next: 'stop' | 'other_routes' | 'retry';
  /** How the route's breaker counts it: `ok` means the upstream answered sensibly. */
  health: 'ok' | 'failure' | 'rate_limited';
}

/** Statuses that say the request is wrong, whichever route gets it. */
const clientStatuses = new Set([400, 413, 422]);
/** In-band error codes/types that say the same from inside a 200 stream (vLLM, SGLang). */
const clientInBand = new Set(['400', '413', '422', 'invalid_request_error']);
const rateLimitInBand = new Set(['429', 'rate_limit_error', 'rate_limit_exceeded']);

/**
 * Decides in one place what an attempt's failure allows, after the openai-node SDK's rules
 * (src/client.ts shouldRetry: 408, 409, 429, 5xx) plus what a gateway knows more: 401/403/404
 * from an upstream are Sluice's own misconfiguration (provider key, model name), not the client's.
 */
export function judgeFailure(error: GatewayError): FailureVerdict {
  switch (error.code) {
    case 'upstream_http_error':
      return judgeStatus(error.status);
    case 'upstream_unreachable':
    case 'upstream_timeout':
    case 'upstream_protocol_error':
    case 'upstream_incomplete':
      return { next: 'retry', health: 'failure' };
    case 'upstream_stream_error':
      return judgeInBand(error);
    default:
      // Sluice's own errors (a request it cannot encode, an internal fault): another try would
      // meet the same, and the upstream did nothing wrong.
      return { next: 'stop', health: 'ok' };
  }
}

function judgeStatus(status: number): FailureVerdict {
  if (clientStatuses.has(status)) return { next: 'stop', health: 'ok' };
  if (status === 429) return { next: 'retry', health: 'rate_limited' };
  if (status === 408 || status === 409 || status >= 500) return { next: 'retry', health: 'failure' };
  // 401, 402, 403, 404, 405, a redirect...: this route is set up wrong; another may be right.
  return { next: 'other_routes', health: 'failure' };
}

/** An error event before the first token (`data: {"error":...}`, Anthropic `event: error`). */
function judgeInBand(error: GatewayError): FailureVerdict {
  const said = [error.upstreamCode, error.upstreamType];
  if (said.some((s) => s !== undefined && rateLimitInBand.has(s))) return { next: 'retry', health: 'rate_limited' };
  // A request this upstream refused (e.g. vLLM's context length) may suit another route's model;
  // the upstream itself is healthy.
  if (said.some((s) => s !== undefined && clientInBand.has(s))) return { next: 'other_routes', health: 'ok' };
  return { next: 'retry', health: 'failure' };
}

/**
 * The HTTP status an in-band error stands for, when it is what the client hears: a status it
 * names (400, 413, 422), 429 for a rate limit, 529 for Anthropic's overloaded_error; undefined
 * for anything else (it stays a 502).
 */
export function inBandStatus(error: GatewayError): number | undefined {
  const said = [error.upstreamCode, error.upstreamType].filter((s): s is string => s !== undefined);
  if (said.some((s) => rateLimitInBand.has(s))) return 429;
  if (said.includes('overloaded_error')) return 529;
  const named = said.find((s) => clientStatuses.has(Number(s)));
  if (named !== undefined) return Number(named);
  if (said.includes('invalid_request_error')) return 400;
  if (said.includes('request_too_large')) return 413;
  return undefined;
}

/**
 * The wait an upstream asked for, in ms: `retry-after-ms` first, then `retry-after` (seconds or an
 * HTTP date), as the OpenAI and Anthropic SDKs read them. Undefined when absent or unreadable.
 */
export function requestedWaitMs(error: GatewayError, now: number): number | undefined {
  const ms = error.retryAfterMs === undefined ? NaN : Number(error.retryAfterMs);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const header = error.retryAfter?.trim();
  if (header === undefined || header === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The wait before the `retry`-th retry (0-based) with full jitter: uniform in [0, min(max,
 * initial * 2^retry)] (AWS "Exponential Backoff and Jitter"), so clients failing together do not
 * come back together. `random` returns [0, 1).
 */
export function backoffMs(retry: number, settings: RetrySettings, random: () => number): number {
  const ceiling = Math.min(settings.maxBackoffMs, settings.initialBackoffMs * 2 ** Math.min(retry, 30));
  return Math.floor(random() * ceiling);
}
