import type { NeutralRequest } from '../core/chat-request.js';
import type { JsonObject } from '../core/json.js';
import { countTextTokens, estimatePromptTokens } from '../protocols/token-estimate.js';

/**
 * A prompt estimate for any request the gateway accepted. A passthrough request may use fields
 * the neutral form cannot express (its decode throws, though the upstream would take it); then
 * the prompt fields' JSON text is counted instead, which overestimates a little (quotes, keys):
 * the right direction for a budget reservation.
 */
export async function estimateRequestPrompt(decode: () => NeutralRequest, body: JsonObject, promptFields: readonly string[]): Promise<number> {
  let neutral: NeutralRequest | undefined;
  try {
    neutral = decode();
  } catch {
    neutral = undefined;
  }
  if (neutral !== undefined) return estimatePromptTokens(neutral);
  const text = promptFields.map((field) => (body[field] === undefined ? '' : JSON.stringify(body[field]))).join('\n');
  return countTextTokens(text);
}

/** A positive integer from a request field, or undefined. */
export function positiveInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}
