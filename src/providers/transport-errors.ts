import type { Cancellation } from '../core/cancellation.js';
import { GatewayError } from '../core/gateway-error.js';

/** Error codes that mean the upstream took too long, not that it was unreachable. */
const timeoutCodes = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT']);

/**
 * A failure to talk to an upstream at all (refused, reset, DNS, timeout) as a GatewayError naming
 * the route. Callers check for client aborts first (isAbortError): those are not upstream faults.
 * The client sees the error code, not the upstream's address; the cause keeps the detail.
 */
export function transportError(error: unknown, route: string): GatewayError {
  if (error instanceof GatewayError) return error;
  const code = errorCode(error);
  if (code !== undefined && timeoutCodes.has(code)) {
    return new GatewayError('upstream_timeout', `Upstream ${route} timed out (${code}).`, { route, cause: error });
  }
  return new GatewayError('upstream_unreachable', `Upstream ${route} could not be reached (${code ?? 'connection failed'}).`, { route, cause: error });
}

/** The error an aborted call rejects with: what isAbortError recognises, the reason as its cause. */
export function abortError(signal: Cancellation): Error {
  const error = new Error('The operation was aborted', { cause: signal.reason });
  error.name = 'AbortError';
  return Object.assign(error, { code: 'ABORT_ERR' });
}

export function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || errorCode(error) === 'ABORT_ERR');
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  const cause = (error as { cause?: unknown }).cause;
  return cause === undefined ? undefined : errorCode(cause);
}
