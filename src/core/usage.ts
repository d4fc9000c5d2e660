/**
 * Sluice's one internal usage shape. Vendors disagree on what their counters include (OpenAI's
 * prompt_tokens include cached tokens; Anthropic's input_tokens exclude them), so every codec
 * normalises into this before anything is priced or limited.
 */
export interface Usage {
  /** All prompt tokens, cached ones included. */
  input: number;
  /** Prompt tokens read from the provider's cache (a subset of input). */
  cacheRead: number;
  /** Prompt tokens written to the provider's cache (a subset of input). */
  cacheWrite: number;
  /** All generated tokens, reasoning included. */
  output: number;
  /** Reasoning tokens (a subset of output). */
  reasoning: number;
  source: 'reported' | 'estimated';
}


/** A non-negative integer from an untrusted counter, 0 otherwise. */
export function tokenCount(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}
