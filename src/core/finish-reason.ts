/**
 * Why generation stopped, in Sluice's own words; each codec maps its protocol's reasons in and out
 * (OpenAI finish_reason, Anthropic stop_reason, Gemini finishReason).
 */
export type FinishReason =
  | 'stop' // natural end of turn
  | 'stop-sequence' // one of the request's stop sequences
  | 'length' // max tokens reached
  | 'tool-calls' // the model wants tool results
  | 'content-filter' // blocked by a safety or content filter
  | 'refusal' // the model declined (Anthropic `refusal`)
  | 'pause' // Anthropic `pause_turn`: a long server-tool turn to be continued
  | 'context-exceeded' // the context window is full
  | 'other'; // anything else the upstream said
