import type { Readable } from 'node:stream';

/** The wire protocol an upstream speaks; decides whether a request passes through or is translated. */
export type UpstreamProtocol = 'openai-chat';

/** An upstream's HTTP answer, headers received, body not yet read. */
export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Read it to the end, or destroy it: an abandoned body holds a pooled connection. */
  body: Readable;
}

export interface UpstreamCall {
  /** The request body in the upstream's protocol. */
  body: string;
  stream: boolean;
  /** Aborted when the client goes away: the upstream connection is closed at once. */
  signal: AbortSignal;
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
  /** Quirk: the upstream accepts `stream_options` (some OpenAI-compatible servers reject it). */
  readonly sendStreamOptions: boolean;
  /** Quirk: what the upstream calls reasoning in assistant messages it is sent. */
  readonly reasoningField: 'reasoning_content' | 'reasoning' | undefined;
  readonly timeouts: UpstreamTimeouts;
  chatCompletions(call: UpstreamCall): Promise<UpstreamResponse>;
  close(): Promise<void>;
}
