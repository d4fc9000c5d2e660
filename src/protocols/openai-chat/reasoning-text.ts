import { isObject, type JsonObject } from '../../core/json.js';

/**
 * The reasoning text of a delta or message from an OpenAI-compatible server: `reasoning_content`
 * (DeepSeek, xAI), `reasoning` (vLLM, OpenRouter) or, from OpenRouter, only `reasoning_details`.
 * Servers that send two of them (vLLM during its rename, OpenRouter) carry the same text, so the
 * first non-empty one is used. Of reasoning_details only text and summary entries are read:
 * encrypted entries and signatures belong to the model behind OpenRouter and cannot be replayed
 * through this protocol.
 */
export function openAiReasoningText(source: JsonObject): string {
  for (const value of [source.reasoning_content, source.reasoning]) if (typeof value === 'string' && value !== '') return value;
  if (!Array.isArray(source.reasoning_details)) return '';
  let text = '';
  for (const detail of source.reasoning_details) {
    if (!isObject(detail)) continue;
    if (detail.type === 'reasoning.text' && typeof detail.text === 'string') text += detail.text;
    else if (detail.type === 'reasoning.summary' && typeof detail.summary === 'string') text += detail.summary;
  }
  return text;
}
