import type { FinishReason } from '../../core/finish-reason.js';

/** Gemini stopped because a safety, policy or quality filter blocked the output. */
const filtered = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
  'LANGUAGE',
]);

/**
 * Gemini `Candidate.finishReason` (https://ai.google.dev/api/generate-content#FinishReason) in
 * Sluice's words. Gemini says STOP after a function call too, so the caller says whether one was
 * emitted. A stop sequence also ends with STOP (Gemini does not say which sequence matched), so
 * it maps to 'stop', never 'stop-sequence'. MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL,
 * TOO_MANY_TOOL_CALLS, OTHER, FINISH_REASON_UNSPECIFIED and anything newer are 'other'.
 */
export function finishReasonFromGemini(reason: string, sawToolCall: boolean): FinishReason {
  if (reason === 'STOP') return sawToolCall ? 'tool-calls' : 'stop';
  if (reason === 'MAX_TOKENS') return 'length';
  return filtered.has(reason) ? 'content-filter' : 'other';
}
