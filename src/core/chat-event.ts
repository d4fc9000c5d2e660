import type { FinishReason } from './finish-reason.js';
import type { ProviderFamily } from './chat-request.js';
import type { Usage } from './usage.js';

/**
 * The neutral stream: what an upstream decoder emits and a client encoder consumes when an
 * exchange is translated. Flat deltas; block boundaries are derived by encoders that need them
 * (Anthropic): a block ends when an event of another kind, or for another tool call, arrives.
 * One choice only: `n > 1` is refused before translation.
 */
export type ChatEvent =
  /** Once, first: what the upstream said about the message before any content. */
  | { type: 'start'; id?: string; model?: string; usage?: Usage }
  | { type: 'text'; text: string }
  | { type: 'reasoning'; text: string }
  /** Closes the current reasoning block with its signature (sent right before the block ends). */
  | { type: 'reasoning-signature'; signature: string; family: ProviderFamily }
  | { type: 'redacted-reasoning'; data: string; family: ProviderFamily }
  /**
   * A fragment of tool call number `index` (0-based, dense, in order of appearance). The first
   * fragment of each call carries `id` and `name`; later ones only `argumentsDelta`.
   */
  | { type: 'tool-call'; index: number; id?: string; name?: string; argumentsDelta: string; signature?: { family: ProviderFamily; value: string } }
  /** Cumulative usage so far; the last one wins. */
  | { type: 'usage'; usage: Usage }
  | { type: 'finish'; reason: FinishReason; stopSequence?: string };

/** Whether an event is content for the commit point (the client has something to show). */
export function isContentEvent(event: ChatEvent): boolean {
  switch (event.type) {
    case 'text':
    case 'reasoning':
      return event.text !== '';
    case 'tool-call':
      return event.name !== undefined || event.argumentsDelta !== '';
    case 'redacted-reasoning':
      return true;
    default:
      return false;
  }
}
