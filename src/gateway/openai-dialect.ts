import type { GatewayError } from '../core/gateway-error.js';
import { openAiErrorObject, renderOpenAiErrorBody, renderOpenAiStreamError } from '../protocols/openai-chat/errors.js';
import type { ErrorDialect } from './respond-error.js';

/** Errors as OpenAI clients expect them. */
export const openAiDialect: ErrorDialect = {
  // The catalogue's statuses are OpenAI's.
  status: (error) => error.status,
  errorBody: (error) => (error.kind === 'rate_limit' ? renderRateLimitBody(error) : renderOpenAiErrorBody(error)),
  streamErrorFrame: renderOpenAiStreamError,
};

/**
 * OpenAI's own 429: `type` names the limit ("requests" or "tokens") and `code` is always
 * `rate_limit_exceeded`, e.g. {"message": "Rate limit reached for ... on requests per min (RPM):
 * Limit 3, Used 3, Requested 1. ...", "type": "requests", "param": null, "code": "rate_limit_exceeded"}.
 */
function renderRateLimitBody(error: GatewayError): string {
  const object = openAiErrorObject(error);
  return JSON.stringify({ error: { ...object, type: error.limitType ?? object.type, code: 'rate_limit_exceeded' } });
}
