import type { GatewayError } from '../../core/gateway-error.js';
import { isObject } from '../../core/json.js';

/** Anthropic's error `type` for each HTTP status (platform.claude.com/docs/en/api/errors). */
const typeByStatus: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

const anthropicTypes = new Set(Object.values(typeByStatus));

/**
 * The error `type` an Anthropic client is shown. An Anthropic upstream's own type is kept (an
 * in-band `overloaded_error` stays one, so the SDK's retry logic sees what it knows); anything
 * else is derived from the status, the way Anthropic itself does.
 */
export function anthropicErrorType(error: GatewayError): string {
  if (error.upstreamType !== undefined && anthropicTypes.has(error.upstreamType)) return error.upstreamType;
  const status = anthropicStatus(error);
  const byStatus = typeByStatus[status];
  if (byStatus !== undefined) return byStatus;
  return status >= 500 ? 'api_error' : 'invalid_request_error';
}

/**
 * The HTTP status an Anthropic client gets. The catalogue's statuses are OpenAI's; Anthropic
 * differs for billing: an exhausted balance is 402 `billing_error` there (429 means a rate limit,
 * which its SDK would retry), so the status is decided here, with the protocol, not by the code.
 */
export function anthropicStatus(error: GatewayError): number {
  return error.kind === 'billing' ? 402 : error.status;
}

function errorObject(error: GatewayError): { type: string; message: string } {
  return { type: anthropicErrorType(error), message: error.message };
}

/** An HTTP error body in Anthropic's shape. */
export function renderAnthropicErrorBody(error: GatewayError, requestId: string): string {
  return JSON.stringify({ type: 'error', error: errorObject(error), request_id: requestId });
}

/** A mid-stream failure: Anthropic sends an `error` event and closes (no request_id in-band). */
export function renderAnthropicStreamError(error: GatewayError): string {
  return `event: error\ndata: ${JSON.stringify({ type: 'error', error: errorObject(error) })}\n\n`;
}

/**
 * The error an Anthropic upstream reported: `{"type":"error","error":{"type","message"}}` (HTTP
 * bodies and `error` events), or a bare `{"error":{...}}` from proxies in front of it.
 */
export function readAnthropicUpstreamError(payload: unknown): { message: string; type: string | undefined } | undefined {
  if (!isObject(payload)) return undefined;
  const inner = payload.error;
  if (isObject(inner)) {
    return {
      message: typeof inner.message === 'string' ? inner.message : JSON.stringify(inner),
      type: typeof inner.type === 'string' ? inner.type : undefined,
    };
  }
  if (typeof inner === 'string') return { message: inner, type: undefined };
  if (payload.type === 'error') return { message: typeof payload.message === 'string' ? payload.message : JSON.stringify(payload), type: undefined };
  return undefined;
}
