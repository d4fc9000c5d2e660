import { GatewayError, type GatewayErrorOptions } from '../core/gateway-error.js';
import type { Usage } from '../core/usage.js';
import type { GeneratedText } from '../protocols/generated-sample.js';
import { respondError, type ErrorDialect } from './respond-error.js';
import type { ResponseSink } from './response-sink.js';
import { retryHints } from './retry-hints.js';
import { inBandStatus } from './retry-policy.js';
import type { Route } from './route-table.js';

export type Outcome = 'ok' | 'upstream_error' | 'client_aborted' | 'rejected';

/** What the attempts at a request's routes came to; the request record is built from it. */
export interface RelayResult {
  outcome: Outcome;
  status: number;
  /** The route that answered (or the last one tried). */
  route: Route | undefined;
  usage: Usage | undefined;
  ttftMs: number | undefined;
  error: GatewayError | undefined;
  attempts: number;
  finishReasons: string[];
  /** What the last streamed attempt generated, decoded on demand (usage estimates). */
  generated: (() => GeneratedText) | undefined;
  /** `usage` is the upstream's final count (it arrived with or after the finish), not a partial one. */
  usageFinal: boolean;
}

export function newRelayResult(): RelayResult {
  return { outcome: 'upstream_error', status: 502, route: undefined, usage: undefined, ttftMs: undefined, error: undefined, attempts: 0, finishReasons: [], generated: undefined, usageFinal: false };
}

export interface FailureSettlement {
  model: string;
  sink: ResponseSink;
  dialect: ErrorDialect;
  /** When the request could be tried again after `error` (its Retry-After); undefined: unknown. */
  waitMs(error: GatewayError): number | undefined;
}

/**
 * The end of a request whose routes were all tried without success: either the client left, or
 * it hears about the failures in its own protocol. With no upstream call made (every route
 * cooling down, over quota, or unable to express the request) the request was refused, not failed.
 */
export function settleFailure(result: RelayResult, failures: GatewayError[], how: FailureSettlement): RelayResult {
  if (how.sink.signal.aborted) {
    result.outcome = 'client_aborted';
    result.status = 499;
    return result;
  }
  if (result.attempts === 0) result.outcome = 'rejected';
  const combined = combineFailures(how.model, failures);
  const error = retryStatuses.has(combined.status) ? withRetryHint(combined, how.waitMs(combined) ?? defaultRetryWaitMs) : combined;
  result.error = error;
  result.status = error.status;
  respondError(how.sink, how.dialect, error);
  return result;
}

/**
 * When every attempt failed, the client hears about the last failure, with the earlier ones named
 * in the message (repeats counted) so an operator can see the whole story in one line.
 */
export function combineFailures(model: string, failures: GatewayError[]): GatewayError {
  const last = failures[failures.length - 1];
  if (last === undefined) return new GatewayError('upstream_unreachable', `No route could be tried for model '${model}'.`);
  const shown = asClientSees(last);
  if (failures.length === 1) return shown;
  return amended(shown, { message: `All ${failures.length} attempts for model '${model}' failed: ${story(failures)}` });
}

/** Statuses the SDKs retry after the Retry-After they carry (529: Anthropic's overloaded). */
const retryStatuses = new Set([429, 503, 529]);
/** Retry-After when neither the upstream nor a cooldown says more. */
const defaultRetryWaitMs = 1000;
/** `error` with Retry-After (whole seconds, 1..60) and retry-after-ms for `waitMs`, clamped. */
function withRetryHint(error: GatewayError, waitMs: number): GatewayError {
  return amended(error, retryHints(waitMs));
}

/** A copy of `error` with some of its parts replaced (errors are immutable). */
function amended(error: GatewayError, changes: GatewayErrorOptions & { message?: string }): GatewayError {
  return new GatewayError(error.code, changes.message ?? error.message, {
    status: error.status,
    param: error.param,
    upstreamType: error.upstreamType,
    upstreamCode: error.upstreamCode,
    retryAfter: error.retryAfter,
    retryAfterMs: error.retryAfterMs,
    route: error.route,
    limitType: error.limitType,
    headers: error.headers,
    cause: error.cause,
    ...changes,
  });
}

/** "m1; m2 (x3)": consecutive repeats of one message (retries of a route) counted, not repeated. */
function story(failures: GatewayError[]): string {
  const parts: { message: string; count: number }[] = [];
  for (const failure of failures) {
    const previous = parts[parts.length - 1];
    if (previous?.message === failure.message) previous.count++;
    else parts.push({ message: failure.message, count: 1 });
  }
  return parts.map((p) => (p.count > 1 ? `${p.message} (x${p.count})` : p.message)).join('; ');
}

/**
 * An upstream's 401/403/404 (or another 4xx that is not about the request) means Sluice's own
 * route is set up wrong (its provider key, the model name): passing the status on would make the
 * client's SDK blame the client's key or model. It becomes a 502 that quotes the upstream.
 * An in-band error (after HTTP 200) that names a status, a rate limit or an overload gets that
 * status, as the same error sent as HTTP would have: the SDKs decide retries by it.
 */
function asClientSees(error: GatewayError): GatewayError {
  if (error.code === 'upstream_stream_error') {
    const status = inBandStatus(error);
    return status === undefined ? error : amended(error, { status });
  }
  if (error.code !== 'upstream_http_error' || !routeFaultStatus(error.status)) return error;
  return new GatewayError('upstream_http_error', error.message, { status: 502, route: error.route, cause: error });
}

function routeFaultStatus(status: number): boolean {
  return status >= 400 && status < 500 && ![400, 408, 409, 413, 422, 429].includes(status);
}
