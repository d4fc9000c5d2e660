/**
 * A pooled HTTP/1.1 client for one plain-http upstream origin, on raw net.Sockets that read into one
 * reused 64 KiB buffer per socket (the `onread` option). That skips Node's http client and its
 * per-chunk Buffer allocations: about half the receive-side CPU on a streamed answer.
 *
 * The price of zero-copy: body bytes are views into the socket's read buffer, so whenever views are
 * held past the read callback (the head arrived but read() was not called yet, or the consumer
 * paused mid-buffer) the socket is paused until they are delivered, and the connection goes back to
 * the pool only after the consumer has seen the end. Connections are counted when opened and
 * uncounted exactly once when killed, so no failure path can shrink maxConnections for good.
 */
import { Connection } from './http1-connection.js';
import { Exchange } from './http1-exchange.js';
import { requestText, codedError, type Http1PoolOptions, type Http1Response, type Http1Request } from './http1-shared.js';

export type { Http1BodyHandlers, Http1PoolOptions, Http1Request, Http1Response } from './http1-shared.js';

export class Http1Pool {
  private readonly idle: Connection[] = [];
  private readonly waiters: Exchange[] = [];
  private readonly all = new Set<Connection>();
  private closed = false;

  constructor(readonly options: Http1PoolOptions) {}

  /** Sends one request on a pooled keep-alive connection (or a new one, up to maxConnections; beyond that, waits in FIFO order). Resolves when the response head arrives. */
  request(req: Http1Request): Promise<Http1Response> {
    return new Promise((resolve, reject) => {
      let text: string;
      try {
        text = requestText(req, this.options);
      } catch (error) {
        reject(error);
        return;
      }
      new Exchange(this, req, text, resolve, reject).begin();
    });
  }

  /** Destroys all sockets; queued requests reject. */
  close(): void {
    this.closed = true;
    const error = codedError('Http1Pool closed', 'ERR_POOL_CLOSED');
    for (const waiter of this.waiters.splice(0)) waiter.connectionFailed(error);
    for (const conn of [...this.all]) conn.fail(error);
  }

  /** @internal */
  acquire(exchange: Exchange): void {
    if (this.closed) { exchange.connectionFailed(codedError('Http1Pool closed', 'ERR_POOL_CLOSED')); return; }
    const idle = this.idle.pop(); // LIFO: the warmest socket; the others can time out
    if (idle) { idle.assign(exchange); return; }
    if (this.all.size < this.options.maxConnections) { this.open().assign(exchange); return; }
    this.waiters.push(exchange);
  }

  /** @internal A keep-alive race retry: a new connection, ahead of the queue. */
  retry(exchange: Exchange): void {
    if (this.closed) { exchange.connectionFailed(codedError('Http1Pool closed', 'ERR_POOL_CLOSED')); return; }
    if (this.all.size < this.options.maxConnections) this.open().assign(exchange);
    else this.waiters.unshift(exchange);
  }

  /** @internal */
  cancelWait(exchange: Exchange): void {
    const at = this.waiters.indexOf(exchange);
    if (at !== -1) this.waiters.splice(at, 1);
  }

  /** @internal The response on `conn` is over; reuse it if it may be, else close it. */
  release(conn: Connection, keepAlive: boolean): void {
    if (conn.dead) return;
    if (!keepAlive || this.closed) { conn.kill(); return; }
    const next = this.waiters.shift();
    if (next) { conn.assign(next); return; }
    conn.goIdle();
    this.idle.push(conn);
  }

  /** @internal Called exactly once per connection, from Connection.kill(). */
  forget(conn: Connection): void {
    this.all.delete(conn);
    const at = this.idle.indexOf(conn);
    if (at !== -1) this.idle.splice(at, 1);
  }

  /** @internal Fills freed slots with queued requests. */
  dispatch(): void {
    while (!this.closed && this.waiters.length > 0 && this.all.size < this.options.maxConnections) {
      this.open().assign(this.waiters.shift()!);
    }
  }

  private open(): Connection {
    const conn = new Connection(this, this.options);
    this.all.add(conn);
    return conn;
  }
}
