import type { GatewayError } from '../core/gateway-error.js';
import type { ResponseSink } from './response-sink.js';

/** How the client's protocol renders errors: as an HTTP body, and as an in-stream frame. */
export interface ErrorDialect {
  /** The HTTP status in this protocol: the catalogue's, except where the protocol's convention
   *  differs (Anthropic: a spent budget is 402, not 429). */
  status(error: GatewayError): number;
  errorBody(error: GatewayError): string;
  streamErrorFrame(error: GatewayError): string;
}

/** Headers that let an SDK back off properly: the upstream's retry hints are forwarded, and a
 *  rate limit's own (`x-ratelimit-*`) are added. */
export function errorHeaders(error: GatewayError): Record<string, string> {
  const headers: Record<string, string> = { ...error.headers };
  if (error.retryAfter !== undefined) headers['retry-after'] = error.retryAfter;
  if (error.retryAfterMs !== undefined) headers['retry-after-ms'] = error.retryAfterMs;
  // A spent budget stays spent: the SDKs would otherwise retry a 429 (both honour this header).
  if (error.kind === 'billing') headers['x-should-retry'] = 'false';
  return headers;
}

/**
 * Reports a failure in the client's own protocol: a real HTTP status while nothing has been sent,
 * an in-stream error frame (and no success terminator) once the stream has started.
 */
export function respondError(sink: ResponseSink, dialect: ErrorDialect, error: GatewayError): void {
  if (sink.signal.aborted) return;
  if (sink.streaming) {
    sink.write(dialect.streamErrorFrame(error));
    sink.end();
  } else {
    sink.sendJson(dialect.status(error), dialect.errorBody(error), errorHeaders(error));
  }
}
