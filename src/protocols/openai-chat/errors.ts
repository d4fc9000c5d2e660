import { GatewayError, type ErrorKind } from '../../core/gateway-error.js';
import { isObject } from '../../core/json.js';

/** OpenAI's error `type` for each kind of failure. */
const typeByKind: Record<ErrorKind, string> = {
  invalid_request: 'invalid_request_error',
  authentication: 'authentication_error',
  permission: 'permission_error',
  not_found: 'invalid_request_error',
  request_too_large: 'invalid_request_error',
  billing: 'insufficient_quota',
  rate_limit: 'rate_limit_exceeded',
  upstream: 'upstream_error',
  timeout: 'timeout_error',
  internal: 'server_error',
  unavailable: 'server_error',
};

export interface OpenAiErrorObject {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/** The `error` object of OpenAI's error shape, used both for HTTP bodies and in-stream frames. */
export function openAiErrorObject(error: GatewayError): OpenAiErrorObject {
  return {
    message: error.message,
    type: error.upstreamType ?? typeByKind[error.kind],
    param: error.param ?? null,
    code: error.upstreamCode ?? error.code,
  };
}

export function renderOpenAiErrorBody(error: GatewayError): string {
  return JSON.stringify({ error: openAiErrorObject(error) });
}

/** A mid-stream failure: OpenAI sends a bare `data: {"error": ...}` frame and closes, no [DONE]. */
export function renderOpenAiStreamError(error: GatewayError): string {
  return `data: ${renderOpenAiErrorBody(error)}\n\n`;
}

export interface UpstreamErrorDetails {
  message: string;
  type: string | undefined;
  code: string | undefined;
  param: string | undefined;
}

/**
 * Reads the error an upstream reported, whatever its dialect: OpenAI `{"error":{...}}`, vLLM's
 * top-level `{"object":"error","message":...}`, `{"error":"text"}`, Anthropic's
 * `{"type":"error","error":{"type","message"}}`, or Gemini's `{"error":{"code","message","status"}}`.
 */
export function readUpstreamError(payload: unknown): UpstreamErrorDetails | undefined {
  if (!isObject(payload)) return undefined;
  const inner = payload.error;
  if (typeof inner === 'string') return { message: inner, type: undefined, code: undefined, param: undefined };
  const source = isObject(inner) ? inner : payload.object === 'error' || payload.type === 'error' ? payload : undefined;
  if (source === undefined) return undefined;
  const message = typeof source.message === 'string' ? source.message : JSON.stringify(source);
  const type = typeof source.type === 'string' ? source.type : typeof source.status === 'string' ? source.status : undefined;
  const code = source.code === undefined || source.code === null ? undefined : String(source.code);
  const param = typeof source.param === 'string' ? source.param : undefined;
  return { message, type, code, param };
}
