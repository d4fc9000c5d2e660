import type { GatewayError } from '../core/gateway-error.js';
import { anthropicStatus, renderAnthropicErrorBody, renderAnthropicStreamError } from '../protocols/anthropic-messages/errors.js';
import type { ErrorDialect } from './respond-error.js';

/** Errors as Anthropic clients expect them; the HTTP body names the request id. */
export function anthropicDialect(requestId: string): ErrorDialect {
  return {
    status: anthropicStatus,
    errorBody: (error: GatewayError) => renderAnthropicErrorBody(error, requestId),
    streamErrorFrame: renderAnthropicStreamError,
  };
}
