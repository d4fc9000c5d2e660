import type { Usage } from '../../core/usage.js';

export interface OpenAiUsageObject {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
}

/**
 * Sluice usage -> OpenAI's `usage` object. Sluice's `input` already includes cached tokens, as
 * OpenAI's `prompt_tokens` do, so nothing is added; OpenAI has no counter for cache writes, which
 * stay inside prompt_tokens.
 */
export function openAiUsageObject(usage: Usage): OpenAiUsageObject {
  return {
    prompt_tokens: usage.input,
    completion_tokens: usage.output,
    total_tokens: usage.input + usage.output,
    prompt_tokens_details: { cached_tokens: usage.cacheRead },
    completion_tokens_details: { reasoning_tokens: usage.reasoning },
  };
}
