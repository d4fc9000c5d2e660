import { GatewayError } from '../core/gateway-error.js';

/** Fatal on invalid UTF-8: silently replacing bytes would change what the user sent. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A client's request body as JSON, or the 400 that says what is wrong with it. */
export function parseJsonBody(body: Buffer): unknown {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new GatewayError('invalid_json', 'The request body is not valid UTF-8.');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new GatewayError('invalid_json', `The request body is not valid JSON: ${detail}`);
  }
}
