/**
 * Builders for OpenAI Chat Completions stream chunks, following the wire format of the real API
 * (see shared/reference/wire-formats.md section 2.3). Tests compose upstream streams from them.
 */
export interface ChunkOptions {
  id?: string;
  model?: string;
  created?: number;
  /** Add `"usage": null` as the real API does when include_usage is set. */
  usageNull?: boolean;
}

export function chunk(delta: Record<string, unknown>, finishReason: string | null = null, options: ChunkOptions = {}, index = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: options.id ?? 'chatcmpl-test',
    object: 'chat.completion.chunk',
    created: options.created ?? 1_700_000_000,
    model: options.model ?? 'upstream-model',
    system_fingerprint: 'fp_test',
    choices: [{ index, delta, logprobs: null, finish_reason: finishReason }],
  };
  if (options.usageNull) out.usage = null;
  return out;
}

export function usageChunk(promptTokens: number, completionTokens: number, options: ChunkOptions = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: options.id ?? 'chatcmpl-test',
    object: 'chat.completion.chunk',
    created: options.created ?? 1_700_000_000,
    model: options.model ?? 'upstream-model',
    system_fingerprint: 'fp_test',
    choices: [],
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens, ...extra },
  };
}

/** A complete text stream: role chunk, one chunk per word, finish chunk, usage chunk when asked. */
export function textStream(words: string[], options: ChunkOptions & { includeUsage?: boolean; finishReason?: string } = {}): (Record<string, unknown> | string)[] {
  const usageNull = options.includeUsage === true;
  const frames: (Record<string, unknown> | string)[] = [chunk({ role: 'assistant', content: '' }, null, { ...options, usageNull })];
  for (const word of words) frames.push(chunk({ content: word }, null, { ...options, usageNull }));
  frames.push(chunk({}, options.finishReason ?? 'stop', { ...options, usageNull }));
  if (options.includeUsage) frames.push(usageChunk(10, words.length, options));
  frames.push('[DONE]');
  return frames;
}
