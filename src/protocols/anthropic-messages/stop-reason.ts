import type { FinishReason } from '../../core/finish-reason.js';

/** Anthropic's `stop_reason` values and what they mean in Sluice's words. */
const finishByStopReason: Record<string, FinishReason> = {
  end_turn: 'stop',
  max_tokens: 'length',
  stop_sequence: 'stop-sequence',
  tool_use: 'tool-calls',
  refusal: 'refusal',
  pause_turn: 'pause',
  model_context_window_exceeded: 'context-exceeded',
};

const stopReasonByFinish: Record<FinishReason, string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  'stop-sequence': 'stop_sequence',
  'tool-calls': 'tool_use',
  refusal: 'refusal',
  pause: 'pause_turn',
  'context-exceeded': 'model_context_window_exceeded',
  // Anthropic has no filter reason: a filtered answer is, to the client, a refusal.
  'content-filter': 'refusal',
  // An Anthropic client only knows Anthropic's reasons; an unexplained stop is an ordinary end.
  other: 'end_turn',
};

/** An upstream `stop_reason` in Sluice's words; strings Anthropic may add later become 'other'. */
export function finishReasonFromAnthropic(stopReason: unknown): FinishReason {
  return typeof stopReason === 'string' && Object.hasOwn(finishByStopReason, stopReason) ? (finishByStopReason[stopReason] ?? 'other') : 'other';
}

/** The `stop_reason` an Anthropic client is shown for a neutral finish reason. */
export function anthropicStopReason(reason: FinishReason): string {
  return stopReasonByFinish[reason];
}
