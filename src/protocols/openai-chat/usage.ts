import { tokenCount, type Usage } from '../../core/usage.js';
import { isObject } from '../../core/json.js';

/**
 * OpenAI-style usage -> Sluice usage. `prompt_tokens` already include cached tokens (OpenAI,
 * DeepSeek, OpenRouter), so `input` is taken as is and the cache counters are subsets of it.
 * Cache hits: `prompt_tokens_details.cached_tokens` (OpenAI, OpenRouter) or
 * `prompt_cache_hit_tokens` (DeepSeek). Cache writes: OpenRouter's `cache_write_tokens`.
 */
export function usageFromOpenAi(raw: unknown): Usage | undefined {
  if (!isObject(raw)) return undefined;
  const promptDetails = isObject(raw.prompt_tokens_details) ? raw.prompt_tokens_details : {};
  const completionDetails = isObject(raw.completion_tokens_details) ? raw.completion_tokens_details : {};
  const input = tokenCount(raw.prompt_tokens);
  const cacheRead = Math.min(input, tokenCount(promptDetails.cached_tokens) || tokenCount(raw.prompt_cache_hit_tokens));
  const cacheWrite = Math.min(input - cacheRead, tokenCount(promptDetails.cache_write_tokens) || tokenCount(raw.cache_write_tokens));
  let output = tokenCount(raw.completion_tokens);
  const reasoningTokens = tokenCount(completionDetails.reasoning_tokens);
  // xAI's completion_tokens exclude reasoning (its total is prompt + completion + reasoning);
  // everyone else's include it. The total tells them apart.
  if (reasoningTokens > 0 && tokenCount(raw.total_tokens) === input + output + reasoningTokens) output += reasoningTokens;
  const reasoning = Math.min(output, reasoningTokens);
  return { input, cacheRead, cacheWrite, output, reasoning, source: 'reported' };
}
