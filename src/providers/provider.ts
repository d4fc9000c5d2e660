/** The wire protocol an upstream speaks; decides whether a request passes through or is translated. */
export type UpstreamProtocol = 'openai-chat';

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
  post(path: string, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<UpstreamResponse>;
  close(): void;
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
