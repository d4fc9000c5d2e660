/**
 * One error type for everything Sluice reports to a client. The code decides the HTTP status and
 * whether a failure before the commit point may move on to the next route; the client's protocol
 * decides how it is rendered (see protocols/<protocol>/errors.ts).
 */
export const errorCatalogue = {
  // The client's fault: never retried, never moved to another route.
  invalid_json: { status: 400, kind: 'invalid_request' },
  invalid_request: { status: 400, kind: 'invalid_request' },
  missing_api_key: { status: 401, kind: 'authentication' },
  invalid_api_key: { status: 401, kind: 'authentication' },
  origin_not_allowed: { status: 403, kind: 'permission' },
  model_not_allowed: { status: 403, kind: 'permission' }, // the key's `models` leave it out
  model_not_found: { status: 404, kind: 'not_found' },
  unknown_url: { status: 404, kind: 'not_found' },
  method_not_allowed: { status: 405, kind: 'invalid_request' },
  key_not_found: { status: 404, kind: 'not_found' }, // admin API
  key_name_taken: { status: 409, kind: 'invalid_request' }, // admin API
  request_too_large: { status: 413, kind: 'request_too_large' },
  // The key's budget cannot cover the request's worst case. 429 is OpenAI's status for it;
  // Anthropic's is 402, which its dialect applies (protocols/anthropic-messages/errors.ts).
  insufficient_quota: { status: 429, kind: 'billing' },
  // A key's requests, tokens or concurrent requests per minute are used up (gateway/rate-limit-error.ts).
  rate_limit_exceeded: { status: 429, kind: 'rate_limit' },
  // Every route of the model is over its deployment quota (routes' rpm/tpm).
  route_quota_exceeded: { status: 429, kind: 'rate_limit' },
  // The upstream's fault (or the network's).
  upstream_http_error: { status: 502, kind: 'upstream' }, // status replaced by the upstream's own
  upstream_unreachable: { status: 502, kind: 'upstream' },
  upstream_stream_error: { status: 502, kind: 'upstream' }, // in-band error event
  upstream_protocol_error: { status: 502, kind: 'upstream' }, // malformed JSON, oversized event
  upstream_incomplete: { status: 502, kind: 'upstream' }, // stream ended before it finished
  upstream_timeout: { status: 504, kind: 'timeout' },
  // Ours.
  internal_error: { status: 500, kind: 'internal' },
  shutting_down: { status: 503, kind: 'unavailable' },
  // A budgeted key's spend could not be read from the store, so it cannot be checked.
  budget_unavailable: { status: 503, kind: 'unavailable' },
  // Redis (shared limits and budgets) is down and `redis_outage: closed` says not to go on without it.
  limits_unavailable: { status: 503, kind: 'unavailable' },
} as const;

export type ErrorCode = keyof typeof errorCatalogue;
export type ErrorKind = (typeof errorCatalogue)[ErrorCode]['kind'];

export interface GatewayErrorOptions {
  /** HTTP status; defaults to the catalogue's. Upstream HTTP errors keep the upstream's status. */
  status?: number;
  /** The request field at fault (OpenAI `param`), e.g. `messages[0].role`. */
  param?: string;
  /** Vendor error type/code reported by an upstream, kept for the client. */
  upstreamType?: string;
  upstreamCode?: string;
  /** Upstream `retry-after` / `retry-after-ms`, forwarded to the client. */
  retryAfter?: string;
  retryAfterMs?: string;
  /** Which route failed, as `provider/model`. */
  route?: string;
  /** Which limit refused a rate-limited request (OpenAI's error `type`: "requests" or "tokens"). */
  limitType?: 'requests' | 'tokens';
  /** More response headers (e.g. `x-ratelimit-*` on a 429). */
  headers?: Record<string, string>;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly param: string | undefined;
  readonly upstreamType: string | undefined;
  readonly upstreamCode: string | undefined;
  readonly retryAfter: string | undefined;
  readonly retryAfterMs: string | undefined;
  readonly route: string | undefined;
  readonly limitType: 'requests' | 'tokens' | undefined;
  readonly headers: Readonly<Record<string, string>> | undefined;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = options.status ?? errorCatalogue[code].status;
    this.param = options.param;
    this.upstreamType = options.upstreamType;
    this.upstreamCode = options.upstreamCode;
    this.retryAfter = options.retryAfter;
    this.retryAfterMs = options.retryAfterMs;
    this.route = options.route;
    this.limitType = options.limitType;
    this.headers = options.headers;
  }

  get kind(): ErrorKind {
    return errorCatalogue[this.code].kind;
  }

}

/** Anything thrown becomes a GatewayError; unknown throwables are internal errors. */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new GatewayError('internal_error', `Internal error: ${message}`, { cause: error });
}
