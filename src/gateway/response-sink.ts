import type { Cancellation } from '../core/cancellation.js';

/**
 * How the gateway answers a client, without knowing HTTP. The server implements it on a Node
 * response; tests can implement it in memory.
 */
export interface ResponseSink {
  /** Aborted the moment the client disconnects before the response is complete. */
  readonly signal: Cancellation;
  /** SSE headers have been sent: from now on failures are reported in-stream. */
  readonly streaming: boolean;
  /** A complete JSON response (success or error). */
  sendJson(status: number, body: string, headers?: Record<string, string>): void;
  /** Sends the SSE response head and starts keep-alives (`frame`: the protocol's) during silence. */
  startStream(keepAliveFrame: string): void;
  /** Writes SSE frames at once; false means the client is slow: wait for drained() before more. */
  write(frames: string): boolean;
  /** Resolves when the client has taken the pending bytes, or has gone away (signal aborted). */
  drained(): Promise<void>;
  /** Ends the response. */
  end(): void;
}

/** An SSE comment: ignored by every SDK, keeps proxies from closing an idle connection. */
export const keepAliveFrame = ': keep-alive\n\n';
