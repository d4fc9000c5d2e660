import type { ChatEvent } from '../core/chat-event.js';
import type { NeutralRequest } from '../core/chat-request.js';
import type { NeutralResponse } from '../core/chat-response.js';
import type { SseEvent } from '../sse/sse-decoder.js';

/**
 * The contracts each wire-protocol codec fulfils for translated exchanges (N + M, never N x M):
 * a client codec (OpenAI Chat, Anthropic Messages) decodes client requests and encodes client
 * answers; an upstream codec (OpenAI Chat, Anthropic Messages, Gemini) encodes upstream requests
 * and decodes upstream answers. Codecs are pure: no network, no config, no clock beyond ids.
 * Every decoder throws a GatewayError (code invalid_request for client input; upstream_stream_error
 * for an in-band upstream error; upstream_protocol_error for a malformed upstream frame).
 */

/** What an upstream route needs its request to say, and the quirk flags of its provider. */
export interface UpstreamTarget {
  /** The upstream's model name. */
  model: string;
  /** OpenAI-compatible quirk: the upstream accepts `stream_options`. */
  sendStreamOptions?: boolean;
  /** OpenAI-compatible quirk: what the upstream calls reasoning in assistant history. */
  reasoningField?: 'reasoning_content' | 'reasoning';
  /** OpenAI-compatible quirk: which field carries the output limit. `max_tokens` is what every
   *  OpenAI-compatible server accepts; OpenAI's reasoning models want `max_completion_tokens`. */
  maxTokensField?: 'max_tokens' | 'max_completion_tokens';
  /** For protocols that require max_tokens (Anthropic) when the client gave none. */
  defaultMaxTokens?: number;
}

/** Turns an upstream stream, event by event, into neutral events. One per attempt. */
export interface UpstreamStreamDecoder {
  /** Neutral events for one upstream SSE event (often none). */
  push(event: SseEvent): ChatEvent[];
  /** The upstream's terminator arrived ([DONE], message_stop). */
  readonly finished: boolean;
  /** At EOF without a terminator: whether what arrived is nevertheless a complete answer
   *  (Gemini has no terminator: a finishReason makes it complete). */
  readonly completeWithoutTerminator: boolean;
  /** The usage seen is the upstream's last word even without a finish (OpenAI's trailing usage
   *  chunk): a stream cut after it is settled with it, not estimated. */
  readonly usageFinal?: boolean;
}

export interface UpstreamCodec {
  /** The upstream request body (JSON text) for this route. Throws invalid_request (400) for what
   *  this protocol cannot express, never silently dropping it. */
  encodeRequest(request: NeutralRequest, target: UpstreamTarget): string;
  createStreamDecoder(route: string): UpstreamStreamDecoder;
  /** A whole non-streamed upstream answer (parsed JSON) in neutral form. */
  decodeResponse(payload: unknown, route: string): NeutralResponse;
}

export interface ClientStreamOptions {
  /** The public model name shown to the client. */
  model: string;
  /** OpenAI: the client asked for the usage chunk. */
  includeUsage: boolean;
  /** Prompt tokens known or estimated before the upstream reports them (Anthropic message_start). */
  estimatedInputTokens?: number;
}

/** Turns neutral events into the client's wire frames (complete SSE events, ready to write). */
export interface ClientStreamEncoder {
  /** Frames for one neutral event ('' for none). */
  push(event: ChatEvent): string;
  /** Frames that end a successful stream: open blocks closed, final usage, the terminator. */
  finish(): string;
}

export interface ClientCodec {
  /** A client request (parsed JSON) in neutral form; throws invalid_request naming the field. */
  decodeRequest(payload: unknown): NeutralRequest;
  createStreamEncoder(options: ClientStreamOptions): ClientStreamEncoder;
  /** The client's JSON body for a whole answer. */
  encodeResponse(response: NeutralResponse, options: { model: string }): string;
}
