import type { ServerResponse } from 'node:http';
import { keepAliveFrame, type ResponseSink } from '../gateway/response-sink.js';

const sseHeaders = {
  'content-type': 'text/event-stream; charset=utf-8',
  // no-transform: proxies and CDNs must not compress or buffer the stream.
  'cache-control': 'no-cache, no-transform',
  // nginx buffers proxied responses unless told otherwise.
  'x-accel-buffering': 'no',
};

/**
 * ResponseSink over a Node ServerResponse. The socket has Nagle off, and each write goes out as
 * it is made (Node corks only within the current tick), so a frame reaches the client before
 * the next upstream read. A client disconnect aborts `signal`, which aborts the upstream call.
 */
export class NodeResponseSink implements ResponseSink {
  streaming = false;
  private readonly controller = new AbortController();
  private keepAlive: NodeJS.Timeout | undefined;

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
    this.res.writeHead(200, { ...this.baseHeaders, ...sseHeaders });
    this.keepAlive = setTimeout(() => this.sendKeepAlive(), this.keepAliveMs);
  }

  write(frames: string): boolean {
    if (this.res.destroyed || this.res.writableEnded) return true;
    this.keepAlive?.refresh();
    return this.res.write(frames);
  }

  drained(): Promise<void> {
    const res = this.res;
    if (!res.writableNeedDrain || res.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  }

  end(): void {
    this.stopKeepAlive();
    if (!this.res.writableEnded) this.res.end();
  }

  private sendKeepAlive(): void {
    if (this.res.destroyed || this.res.writableEnded) return;
    this.res.write(keepAliveFrame);
    this.keepAlive?.refresh();
  }

  private stopKeepAlive(): void {
    clearTimeout(this.keepAlive);
    this.keepAlive = undefined;
  }
}
