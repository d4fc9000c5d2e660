import { isObject } from '../../core/json.js';
import { tokenCount, type Usage } from '../../core/usage.js';

const counters = ['promptTokenCount', 'candidatesTokenCount', 'thoughtsTokenCount', 'cachedContentTokenCount', 'totalTokenCount'];

/**
 * Gemini `usageMetadata` -> Sluice usage (https://ai.google.dev/api/generate-content#UsageMetadata).
 * `promptTokenCount` already includes `cachedContentTokenCount` ("when cached_content is set, this
 * is still the total effective prompt size"), so the cache counter is a subset of input. Gemini
 * reports thinking apart from the answer (`thoughtsTokenCount` is not in `candidatesTokenCount`;
 * `totalTokenCount` is their sum with the prompt), so output adds them. Gemini has no cache-write
 * charge. `toolUsePromptTokenCount` (Google's server-side tools) is not counted: Sluice never
 * enables those tools. Undefined when no counter is present at all, as on the first chunks of a
 * Vertex stream (`{"trafficType":"ON_DEMAND"}`): nothing reported is not a report of zero.
 */
export function usageFromGemini(raw: unknown): Usage | undefined {
  if (!isObject(raw) || !counters.some((key) => typeof raw[key] === 'number')) return undefined;
  const input = tokenCount(raw.promptTokenCount);
  const cacheRead = Math.min(input, tokenCount(raw.cachedContentTokenCount));
  const reasoning = tokenCount(raw.thoughtsTokenCount);
  const output = tokenCount(raw.candidatesTokenCount) + reasoning;
  return { input, cacheRead, cacheWrite: 0, output, reasoning, source: 'reported' };
}
