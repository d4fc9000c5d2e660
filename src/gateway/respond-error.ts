import type { GatewayError } from '../core/gateway-error.js';
import type { ResponseSink } from './response-sink.js';

/** How the client's protocol renders errors: as an HTTP body, and as an in-stream frame. */
export interface ErrorDialect {
  errorBody(error: GatewayError): string;
  streamErrorFrame(error: GatewayError): string;
}

/** Headers that let an SDK back off properly: the upstream's retry hints are forwarded. */
export function errorHeaders(error: GatewayError): Record<string, string> {
  const headers: Record<string, string> = {};
  if (error.retryAfter !== undefined) headers['retry-after'] = error.retryAfter;
  if (error.retryAfterMs !== undefined) headers['retry-after-ms'] = error.retryAfterMs;
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
    sink.sendJson(error.status, dialect.errorBody(error), errorHeaders(error));
  }
}
