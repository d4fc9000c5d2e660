import { GatewayError } from '../core/gateway-error.js';
import type { Usage } from '../core/usage.js';
import type { GeneratedText } from '../protocols/generated-sample.js';
import { respondError, type ErrorDialect } from './respond-error.js';
import type { ResponseSink } from './response-sink.js';
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

/**
 * The end of a request whose routes were all tried without success: either the client left, or
 * it hears about the failures in its own protocol.
 */
export function settleFailure(result: RelayResult, failures: GatewayError[], how: { model: string; sink: ResponseSink; dialect: ErrorDialect }): RelayResult {
  if (how.sink.signal.aborted) {
    result.outcome = 'client_aborted';
    result.status = 499;
    return result;
  }
  const error = combineFailures(how.model, failures);
  result.error = error;
  result.status = error.status;
  respondError(how.sink, how.dialect, error);
  return result;
}

/**
 * When every route failed, the client hears about the last failure, with the earlier ones named
 * in the message so an operator can see the whole story in one line.
 */
export function combineFailures(model: string, failures: GatewayError[]): GatewayError {
  const last = failures[failures.length - 1];
  if (last === undefined) return new GatewayError('upstream_unreachable', `No route could be tried for model '${model}'.`);
  if (failures.length === 1) return last;
  const story = failures.map((f) => f.message).join('; ');
  return new GatewayError(last.code, `All ${failures.length} routes for model '${model}' failed: ${story}`, {
    status: last.status,
    param: last.param,
    upstreamType: last.upstreamType,
    upstreamCode: last.upstreamCode,
    retryAfter: last.retryAfter,
    retryAfterMs: last.retryAfterMs,
    route: last.route,
  });
}
