import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { keepAliveFrame, type ResponseSink } from '../gateway/response-sink.js';
import { Cancellation } from '../core/cancellation.js';

const idleTicksPerKeepAlive = 4;

const sseHeaders = {
  'content-type': 'text/event-stream; charset=utf-8',
  // no-transform: proxies and CDNs must not compress or buffer the stream.
  'cache-control': 'no-cache, no-transform',
  // nginx buffers proxied responses unless told otherwise.
  'x-accel-buffering': 'no',
};

/**
 * ResponseSink over a Node ServerResponse. A client disconnect aborts `signal`, which aborts the
 * upstream call and releases anyone waiting in drained().
 *
 * Stream frames bypass `res.write`: after the first frame (which carries the head), each write is
 * one pre-framed HTTP chunk written straight to the socket (Nagle off), so it leaves at once as
 * one syscall. Node's
 * own chunked writer splits every write into four buffered socket writes plus a cork/uncork tick,
 * which measured ~15% of Sluice's CPU per streamed chunk. `res.end()` still writes the final
 * zero-length chunk, so Node's keep-alive bookkeeping is untouched. HTTP/1.0 clients (no chunked
 * encoding) go through `res.write`.
 */
export class NodeResponseSink implements ResponseSink {
  streaming = false;
  private readonly cancellation = new Cancellation();
  private socket: Socket | undefined;
  private keepAlive: NodeJS.Timeout | undefined;
  /** Set by every write; the keep-alive timer only speaks after a whole interval without one. */
  private wroteSinceTick = false;
  private keepAliveFrame = keepAliveFrame;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly baseHeaders: Record<string, string>,
    private readonly keepAliveMs: number,
  ) {
    const onClose = (): void => {
      this.stopKeepAlive();
      if (!res.writableFinished) this.cancellation.abort();
    };
    res.once('close', onClose);
    // A pipelined response gets no 'close' until it owns the socket; the socket closing is what
    // says its client is gone.
    const socket = req.socket;
    socket.once('close', onClose);
    res.once('finish', () => socket.off('close', onClose));
  }

  get signal(): Cancellation {
    return this.cancellation;
  }

  sendJson(status: number, body: string, headers: Record<string, string> = {}): void {
    if (this.res.headersSent || this.res.destroyed) return;
    this.res.writeHead(status, {
      ...this.baseHeaders,
      ...headers,
      // An answer given before the request body was read (401, 413...): close the connection
      // rather than have Node read and discard an upload nobody wants.
      ...(this.req.complete ? {} : { connection: 'close' }),
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
    });
    this.res.end(body);
  }

  startStream(keepAliveFrame: string): void {
    if (this.streaming || this.res.headersSent) return;
    this.streaming = true;
    this.keepAliveFrame = keepAliveFrame;
    // The head is not flushed on its own: it leaves with the first frame, in the same packet.
    this.res.writeHead(200, { ...this.baseHeaders, ...sseHeaders });
    // Ticks at a quarter of the interval: a keep-alive goes out after 1 to 1.25 intervals of
    // silence, and a write costs one boolean store instead of a timer reschedule.
    this.keepAlive = setInterval(() => this.tick(), Math.max(1, Math.floor(this.keepAliveMs / idleTicksPerKeepAlive)));
  }

  write(frames: string): boolean {
    if (this.res.destroyed || this.res.writableEnded || frames === '') return true;
    this.wroteSinceTick = true;
    const socket = this.socket;
    if (socket !== undefined) return socket.write(`${Buffer.byteLength(frames).toString(16)}\r\n${frames}\r\n`);
    // The first write sends the head with it; from then on chunks go straight to the socket.
    const flowing = this.res.write(frames);
    if (this.res.chunkedEncoding && this.res.socket !== null) this.socket = this.res.socket;
    return flowing;
  }

  drained(): Promise<void> {
    const stream = this.socket ?? this.res;
    const signal = this.cancellation;
    if (!stream.writableNeedDrain || stream.destroyed || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        stream.off('drain', done);
        signal.offAbort(done);
        resolve();
      };
      stream.on('drain', done);
      signal.onAbort(done);
    });
  }

  end(): void {
    this.stopKeepAlive();
    if (!this.res.writableEnded) this.res.end();
  }

  /** Stops the work behind this response (the upstream call) as if the client had left. */
  cancel(): void {
    this.cancellation.abort();
  }

  /** Resolves once the response has been fully handed to the socket, or the socket is gone. */
  settled(): Promise<void> {
    if (this.res.writableFinished || this.res.destroyed) return Promise.resolve();
    return new Promise((resolve) => this.res.once('close', () => resolve()));
  }

  private idleTicks = 0;

  private tick(): void {
    if (this.wroteSinceTick) {
      this.wroteSinceTick = false;
      this.idleTicks = 0;
      return;
    }
    if (++this.idleTicks < idleTicksPerKeepAlive) return;
    this.idleTicks = 0;
    this.write(this.keepAliveFrame);
    this.wroteSinceTick = false;
  }

  private stopKeepAlive(): void {
    clearInterval(this.keepAlive);
    this.keepAlive = undefined;
  }
}
