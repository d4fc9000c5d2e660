import { isObject, type JsonObject } from '../../core/json.js';
import { tokenCount, type Usage } from '../../core/usage.js';

/** Anthropic's four usage counters, the shape every Anthropic client reads. */
export interface AnthropicUsageObject {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  output_tokens: number;
}

/**
 * Anthropic usage -> Sluice usage. Anthropic's `input_tokens` EXCLUDE the prompt tokens read from
 * or written to its cache, so the neutral `input` (all prompt tokens) is the sum of the three.
 * Reasoning is `output_tokens_details.thinking_tokens` when newer API versions report it (it is a
 * subset of `output_tokens`), 0 otherwise: older responses do not break thinking out.
 */
export function usageFromAnthropic(raw: unknown): Usage | undefined {
  if (!isObject(raw)) return undefined;
  const cacheRead = tokenCount(raw.cache_read_input_tokens);
  const cacheWrite = tokenCount(raw.cache_creation_input_tokens);
  const output = tokenCount(raw.output_tokens);
  const details = isObject(raw.output_tokens_details) ? raw.output_tokens_details : {};
  return {
    input: tokenCount(raw.input_tokens) + cacheRead + cacheWrite,
    cacheRead,
    cacheWrite,
    output,
    reasoning: Math.min(output, tokenCount(details.thinking_tokens)),
    source: 'reported',
  };
}

/** Sluice usage -> Anthropic's counters: the cached parts are taken back out of `input_tokens`. */
export function anthropicUsageObject(usage: Usage): AnthropicUsageObject {
  const cacheRead = tokenCount(usage.cacheRead);
  const cacheWrite = tokenCount(usage.cacheWrite);
  return {
    input_tokens: Math.max(0, tokenCount(usage.input) - cacheRead - cacheWrite),
    cache_creation_input_tokens: cacheWrite,
    cache_read_input_tokens: cacheRead,
    output_tokens: tokenCount(usage.output),
  };
}

/**
 * Anthropic's usage counters are cumulative and a later `message_delta` overwrites the counters it
 * carries (the SDK's MessageStream does the same); absent or null ones keep their earlier value.
 */
export function mergeAnthropicUsage(earlier: JsonObject | undefined, later: unknown): JsonObject | undefined {
  if (!isObject(later)) return earlier;
  const merged: JsonObject = { ...earlier };
  for (const [key, value] of Object.entries(later)) if (value !== null && value !== undefined) merged[key] = value;
  return merged;
}
