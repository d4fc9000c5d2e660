import type { UpstreamTarget } from '../protocols/codec.js';
import type { Cancellation } from '../core/cancellation.js';

/** The wire protocol an upstream speaks; decides whether a request passes through or is translated. */
export type UpstreamProtocol = 'openai-chat' | 'anthropic-messages' | 'gemini';

/** What a body reader answers to each piece: go on, 'pause' until resume(), or 'stop' reading. */
export type BodyVerdict = 'pause' | 'stop' | undefined;

export interface BodyHandlers {
  /** Body bytes as they arrive; a view that may be reused after the call: copy what you keep. */
  onData(bytes: Buffer): BodyVerdict;
  onEnd(): void;
  /** The body failed (cut, malformed, aborted); at most once, never after onEnd. */
  onError(error: Error): void;
}

/**
 * An upstream body, pushed to its reader synchronously as bytes arrive: no stream machinery or
 * promise per chunk on the hot path. 'stop' means the reader is done: the rest is drained in the
 * background so the connection can be reused.
 */
export interface UpstreamBody {
  /** Starts delivering the body; call once. */
  read(handlers: BodyHandlers): void;
  resume(): void;
  /** Abandons the body: its connection is closed, not reused. */
  destroy(error?: Error): void;
}

/** An upstream's HTTP answer, headers received, body not yet read. */
export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Read it to the end, or destroy it: an abandoned body holds a pooled connection. */
  body: UpstreamBody;
}

/** How requests reach one upstream origin. */
export interface Transport {
  /** POSTs `body` to `path` (appended to the base URL's path); resolves once the response head arrives. */
  post(path: string, headers: Record<string, string>, body: string, signal: Cancellation): Promise<UpstreamResponse>;
  close(): void;
}

export interface UpstreamCall {
  /** The upstream's model name (some protocols put it in the URL). */
  model: string;
  /** The request body in the upstream's protocol. */
  body: string;
  stream: boolean;
  /** Aborted when the client goes away: the upstream connection is closed at once. */
  signal: Cancellation;
  /** Client headers worth forwarding on a same-protocol exchange (e.g. `anthropic-beta`). */
  forwardHeaders?: Record<string, string>;
}

/** Per-phase limits on an upstream, in milliseconds; 0 = no limit. */
export interface UpstreamTimeouts {
  connectMs: number;
  /** From sending the request to the first content. */
  firstTokenMs: number;
  /** Longest silence after the first content. */
  idleMs: number;
}

/**
 * A provider adapter: transport, auth, base URL and named quirk flags. It never interprets the
 * answer; the protocol codecs do.
 */
export interface Provider {
  readonly name: string;
  readonly protocol: UpstreamProtocol;
  readonly timeouts: UpstreamTimeouts;
  /** The upstream model name with this provider's quirk flags, for the request encoder. */
  target(model: string): UpstreamTarget;
  /** Sends one chat request (Chat Completions, Messages or generateContent, per protocol). */
  send(call: UpstreamCall): Promise<UpstreamResponse>;
  /** Anthropic's POST /v1/messages/count_tokens, where the upstream has one. */
  countTokens?(call: UpstreamCall): Promise<UpstreamResponse>;
  close(): Promise<void>;
}
