import type { AssistantPart } from './chat-request.js';
import type { FinishReason } from './finish-reason.js';
import type { Usage } from './usage.js';

/** A whole (non-streamed) answer in neutral form: decoded from an upstream, encoded for a client. */
export interface NeutralResponse {
  id?: string;
  /** The upstream's model name; encoders show the public one. */
  model?: string;
  content: AssistantPart[];
  finishReason: FinishReason;
  stopSequence?: string;
  usage?: Usage;
}
