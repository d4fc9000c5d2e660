import { GatewayError } from '../core/gateway-error.js';

/** Error codes that mean the upstream took too long, not that it was unreachable. */
const timeoutCodes = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT']);

/**
 * A failure to talk to an upstream at all (refused, reset, DNS, timeout) as a GatewayError naming
 * the route. Aborts caused by the client are re-thrown as they are: they are not upstream faults.
 */
export function transportError(error: unknown, route: string): GatewayError {
  if (error instanceof GatewayError) return error;
  const code = errorCode(error);
  const detail = error instanceof Error ? error.message : String(error);
  if (code !== undefined && timeoutCodes.has(code)) {
    return new GatewayError('upstream_timeout', `Upstream ${route} timed out (${code}): ${detail}`, { route, cause: error });
  }
  const suffix = code !== undefined && !detail.includes(code) ? ` (${code})` : '';
  return new GatewayError('upstream_unreachable', `Upstream ${route} could not be reached: ${detail}${suffix}`, { route, cause: error });
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
