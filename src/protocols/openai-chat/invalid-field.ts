import { GatewayError } from '../../core/gateway-error.js';

/** A 400 for a client request field that cannot be translated, naming it as OpenAI's `param`. */
export function invalidField(param: string, detail: string): GatewayError {
  return new GatewayError('invalid_request', `Invalid value for '${param}': ${detail}`, { param });
}
