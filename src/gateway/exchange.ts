import type { Usage } from '../core/usage.js';
import type { StreamTranslator } from '../protocols/stream-translator.js';
import type { ErrorDialect } from './respond-error.js';
import type { Route } from './route-table.js';

/** The protocols clients speak to Sluice. */
export type ClientProtocol = 'openai-chat' | 'anthropic-messages';

/** A whole non-streamed answer, ready for the client. */
export interface UnaryAnswer {
  body: string;
  usage: Usage | undefined;
  finishReasons: string[];
}

/** How one route is attempted: the request in its protocol, and how its answer is read. */
export interface AttemptPlan {
  body: string;
  /** Client headers forwarded on a same-protocol exchange. */
  forwardHeaders?: Record<string, string>;
  /** A fresh stream translator for this attempt. */
  translator(): StreamTranslator;
  /** The upstream's JSON answer (text) as the client's; throws a GatewayError for an in-band
   *  error or an answer that is not one. */
  unary(text: string): UnaryAnswer;
}

/**
 * One client request, decoded, seen by the relays: what they need to know about it, and a plan
 * per route. Same-protocol routes pass the body through; other routes get it re-encoded from the
 * neutral form on every hop (never a body encoded for another protocol).
 */
export interface Exchange {
  protocol: ClientProtocol;
  /** The public model name. */
  model: string;
  stream: boolean;
  dialect: ErrorDialect;
  /** What keeps a waiting stream alive in this protocol (SSE comment, Anthropic ping). */
  keepAliveFrame: string;
  /** Rejects with invalid_request when the request cannot be expressed for this route. */
  plan(route: Route): Promise<AttemptPlan>;
  /** The prompt's size in tokens, estimated with Sluice's tokenizer (budgets reserve with it
   *  before any upstream has counted). Computed once. */
  estimatePromptTokens(): Promise<number>;
  /** The most output the request allows: its max_tokens (`fallback` when it sets none) times the
   *  number of choices it asks for. */
  maxOutputTokens(fallback: number): number;
}
