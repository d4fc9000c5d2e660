import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { keepAliveFrame, type ResponseSink } from '../gateway/response-sink.js';

const sseHeaders = {
  'content-type': 'text/event-stream; charset=utf-8',
  // no-transform: proxies and CDNs must not compress or buffer the stream.
  'cache-control': 'no-cache, no-transform',
  // nginx buffers proxied responses unless told otherwise.
  'x-accel-buffering': 'no',
};

/**
 * ResponseSink over a Node ServerResponse. A client disconnect aborts `signal`, which aborts the
 * upstream call.
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
  private readonly controller = new AbortController();
  private socket: Socket | undefined;
  private keepAlive: NodeJS.Timeout | undefined;
  /** Set by every write; the keep-alive timer only speaks after a whole interval without one. */
  private wroteSinceTick = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly baseHeaders: Record<string, string>,
    private readonly keepAliveMs: number,
  ) {
    res.once('close', () => {
      this.stopKeepAlive();
      if (!res.writableFinished) this.controller.abort();
    });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  sendJson(status: number, body: string, headers: Record<string, string> = {}): void {
    if (this.res.headersSent || this.res.destroyed) return;
    this.res.writeHead(status, {
      ...this.baseHeaders,
      ...headers,
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
    });
    this.res.end(body);
  }

  startStream(): void {
    if (this.streaming || this.res.headersSent) return;
    this.streaming = true;
    // The head is not flushed on its own: it leaves with the first frame, in the same packet.
    this.res.writeHead(200, { ...this.baseHeaders, ...sseHeaders });
    // Ticks at half the interval: a keep-alive goes out after one to one and a half intervals of
    // silence, and a write costs one boolean store instead of a timer reschedule.
    this.keepAlive = setInterval(() => this.tick(), Math.max(1, Math.floor(this.keepAliveMs / 2)));
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
    if (!stream.writableNeedDrain || stream.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        stream.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      stream.on('drain', done);
      this.res.on('close', done);
    });
  }

  end(): void {
    this.stopKeepAlive();
    if (!this.res.writableEnded) this.res.end();
  }

  private idleTicks = 0;

  private tick(): void {
    if (this.wroteSinceTick) {
      this.wroteSinceTick = false;
      this.idleTicks = 0;
      return;
    }
    if (++this.idleTicks < 2) return;
    this.idleTicks = 0;
    this.write(keepAliveFrame);
    this.wroteSinceTick = false;
  }

  private stopKeepAlive(): void {
    clearInterval(this.keepAlive);
    this.keepAlive = undefined;
  }
}
