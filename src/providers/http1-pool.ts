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
import net from 'node:net';
import { Http1ResponseParser, type ParsedHead } from './http1-response-parser.js';

export interface Http1PoolOptions {
  host: string;
  port: number;
  maxConnections: number;
  connectTimeoutMs: number;
  /** Close idle sockets after this; default 4000 (below the usual 5 s server keep-alive timeout). */
  idleTimeoutMs?: number;
}

export interface Http1BodyHandlers {
  /** Body bytes (view into a reused read buffer: copy if you keep them). Return 'pause' to stop reading until resume(), 'stop' when you want no more (the rest is drained in the background so the connection can be reused, or the socket destroyed after 5 s). */
  onData(bytes: Buffer): 'pause' | 'stop' | void;
  onEnd(): void;
  /** Connection cut, parse error, or abort; called at most once, never after onEnd. */
  onError(error: Error): void;
}

export interface Http1Response {
  status: number;
  headers: Record<string, string>;
  /** Starts delivering the body (call once). Body bytes that arrived with the head are delivered first, synchronously. */
  read(handlers: Http1BodyHandlers): void;
  resume(): void;
  /** Abandons the response: the socket is destroyed (not reused). */
  destroy(error?: Error): void;
}

export interface Http1Request {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
}

const readBufferSize = 64 * 1024;
const stopDrainMs = 5000;
/** The pool writes these itself; a caller's copy would make the framing ambiguous. */
const reservedHeaders = new Set(['host', 'content-length', 'transfer-encoding']);
/** Errors that, before any response byte on a reused socket, mean the peer closed it while idle. */
const keepAliveRaceCodes = new Set(['ECONNRESET', 'EPIPE']);

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

/** One socket, its read buffer, and the exchange (if any) it currently serves. */
class Connection {
  readonly socket: net.Socket;
  exchange: Exchange | null = null;
  /** Responses completed on this socket: > 0 means it is a reused keep-alive connection. */
  served = 0;
  dead = false;
  /** Inside the onread callback: releasing now would let a new exchange see the rest of this buffer. */
  inRead = false;
  private socketPaused = false;
  private pendingRelease: boolean | null = null;
  private connectTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(private readonly pool: Http1Pool, private readonly options: Http1PoolOptions) {
    const buffer = Buffer.allocUnsafe(readBufferSize);
    this.socket = net.connect({
      host: options.host,
      port: options.port,
      noDelay: true,
      onread: { buffer, callback: (nread) => this.onRead(nread, buffer) },
    });
    this.connectTimer = setTimeout(() => {
      this.fail(codedError(`connect ETIMEDOUT ${options.host}:${options.port}`, 'ETIMEDOUT'));
    }, options.connectTimeoutMs);
    this.socket.once('connect', () => this.clearTimers(false));
    this.socket.on('error', (error) => this.fail(error));
    this.socket.on('end', () => this.onEof());
    this.socket.on('close', () => this.fail(codedError('socket hang up', 'ECONNRESET')));
  }

  assign(exchange: Exchange): void {
    this.clearTimers(true);
    if (this.served > 0) this.socket.ref();
    this.exchange = exchange;
    this.resumeSocket(); // the previous consumer may have left it paused until its end was delivered
    exchange.attach(this);
  }

  /** Idle sockets keep reading so a peer's close is seen at once, and do not hold the process open. */
  goIdle(): void {
    this.exchange = null;
    this.socket.unref();
    this.resumeSocket();
    this.idleTimer = setTimeout(() => this.kill(), this.options.idleTimeoutMs ?? 4000);
    this.idleTimer.unref();
  }

  resumeSocket(): void {
    if (this.socketPaused && !this.inRead && !this.dead) {
      this.socketPaused = false;
      this.socket.resume();
    }
  }

  /** The exchange is over: back to the pool (or closed), deferred to the end of a read callback. */
  release(keepAlive: boolean): void {
    this.served++;
    if (this.inRead) { this.pendingRelease = keepAlive; return; }
    this.exchange = null;
    this.pool.release(this, keepAlive);
  }

  /** Destroys the socket and frees its slot; idempotent. */
  kill(dispatch = true): void {
    if (this.dead) return;
    this.dead = true;
    this.clearTimers(false);
    this.clearTimers(true);
    this.exchange = null;
    this.socket.destroy();
    this.pool.forget(this);
    if (dispatch) this.pool.dispatch();
  }

  /** A socket-level failure: kill, then tell the exchange, whose retry gets the freed slot first. */
  fail(error: Error): void {
    const exchange = this.exchange;
    const wasDead = this.dead;
    this.kill(false);
    exchange?.connectionFailed(error);
    if (!wasDead) this.pool.dispatch();
  }

  private onEof(): void {
    const exchange = this.exchange;
    if (!exchange) { this.kill(); return; } // an idle socket the peer closed: never hand it out
    exchange.connectionEnded();
  }

  /** Returns false to pause the socket: views into `buf` are still held. */
  private onRead(nread: number, buf: Buffer): boolean {
    const exchange = this.exchange;
    if (!exchange) { this.kill(); return false; } // bytes on an idle socket: no pipelining, so garbage
    this.inRead = true;
    try {
      exchange.received(buf.subarray(0, nread));
    } catch (error) {
      this.inRead = false;
      this.pendingRelease = null;
      this.fail(error instanceof Error ? error : new Error(String(error)));
      return false;
    }
    this.inRead = false;
    exchange.afterRead();
    if (this.pendingRelease !== null) {
      const keepAlive = this.pendingRelease;
      this.pendingRelease = null;
      this.exchange = null;
      this.pool.release(this, keepAlive);
    }
    const keepReading = !this.dead && (this.exchange === null || this.exchange.wantsData());
    this.socketPaused = !keepReading;
    return keepReading;
  }

  private clearTimers(idle: boolean): void {
    if (idle && this.idleTimer) { clearTimeout(this.idleTimer); this.idleTimer = null; }
    if (!idle && this.connectTimer) { clearTimeout(this.connectTimer); this.connectTimer = null; }
  }
}

const END = Symbol('end');
type Queued = Buffer | Error | typeof END;
type Phase = 'queued' | 'sent' | 'head' | 'reading' | 'stopped' | 'done';

/** One request/response, from the queue to the end of the body. */
class Exchange {
  private phase: Phase = 'queued';
  private conn: Connection | null = null;
  private parser: Http1ResponseParser | null = null;
  private head: ParsedHead | null = null;
  private handlers: Http1BodyHandlers | null = null;
  /** Body, end or error held until the consumer reads or resumes; views pin the socket paused. */
  private queue: Queued[] = [];
  private paused = false;
  private gotBytes = false;
  private reused = false;
  private retried = false;
  private stopTimer: NodeJS.Timeout | null = null;
  private readonly onAbort = (): void => this.abort();

  constructor(
    private readonly pool: Http1Pool,
    private readonly req: Http1Request,
    private readonly text: string,
    private readonly resolve: (response: Http1Response) => void,
    private readonly reject: (error: Error) => void,
  ) {}

  begin(): void {
    if (this.req.signal.aborted) { this.reject(abortError(this.req.signal)); return; }
    this.req.signal.addEventListener('abort', this.onAbort, { once: true });
    this.pool.acquire(this);
  }

  attach(conn: Connection): void {
    this.conn = conn;
    this.phase = 'sent';
    this.gotBytes = false;
    this.reused = conn.served > 0;
    this.parser = new Http1ResponseParser({
      onHead: (head) => this.onHead(head),
      onBody: (bytes) => this.onBody(bytes),
      onEnd: () => this.onEnd(),
    }, { noBody: this.req.method.toUpperCase() === 'HEAD' });
    conn.socket.write(this.text);
  }

  received(bytes: Buffer): void {
    this.gotBytes = true;
    this.parser!.push(bytes);
  }

  /** End of a read callback: deliver what a resume() during the callback left queued. */
  afterRead(): void {
    if (this.phase === 'reading' && !this.paused && this.queue.length > 0) this.flush();
  }

  wantsData(): boolean {
    if (this.phase === 'head') return false;
    if (this.phase === 'reading') return !this.paused && this.queue.length === 0;
    return true;
  }

  /** The peer closed its side: completes a close-delimited body, else it is a cut. */
  connectionEnded(): void {
    try {
      this.parser?.end();
    } catch {
      this.conn?.fail(codedError('socket hang up', 'ECONNRESET'));
    }
  }

  /** The connection died (already killed). */
  connectionFailed(error: Error): void {
    this.conn = null;
    switch (this.phase) {
      case 'queued':
      case 'sent': {
        const code = (error as { code?: unknown }).code;
        if (this.phase === 'sent' && this.reused && !this.gotBytes && !this.retried && typeof code === 'string' && keepAliveRaceCodes.has(code)) {
          this.retried = true;
          this.phase = 'queued';
          this.pool.retry(this);
          return;
        }
        this.finish();
        this.reject(error);
        return;
      }
      case 'stopped': this.finish(); return;
      case 'done': return;
      case 'head':
      case 'reading':
        if (this.parser?.complete) return; // the end is queued: the response was whole
        if (this.phase === 'head' || this.paused || this.queue.length > 0) this.queue.push(error);
        else this.failConsumer(error);
    }
  }

  private onHead(head: ParsedHead): void {
    this.head = head;
    this.phase = 'head';
    this.resolve({
      status: head.status,
      headers: head.headers,
      read: (handlers) => this.read(handlers),
      resume: () => this.resume(),
      destroy: (error) => this.destroy(error),
    });
  }

  private onBody(bytes: Buffer): void {
    if (this.phase === 'head' || (this.phase === 'reading' && (this.paused || this.queue.length > 0))) this.queue.push(bytes);
    else if (this.phase === 'reading') this.deliver(bytes);
  }

  private onEnd(): void {
    if (this.phase === 'head' || (this.phase === 'reading' && (this.paused || this.queue.length > 0))) this.queue.push(END);
    else if (this.phase === 'reading') this.complete();
    else if (this.phase === 'stopped') this.finishStopped();
  }

  private read(handlers: Http1BodyHandlers): void {
    if (this.handlers) throw new Error('Http1Response.read() called twice');
    this.handlers = handlers;
    if (this.phase !== 'head') return; // destroyed before reading
    this.phase = 'reading';
    this.flush();
  }

  private resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.conn?.inRead) return; // afterRead() flushes once the parser is done with the buffer
    this.flush();
  }

  private flush(): void {
    while (this.phase === 'reading' && !this.paused && this.queue.length > 0) {
      const item = this.queue.shift()!;
      if (item === END) { this.complete(); return; }
      if (item instanceof Error) { this.failConsumer(item); return; }
      this.deliver(item);
    }
    if (this.phase === 'reading' && !this.paused) this.conn?.resumeSocket();
  }

  private deliver(bytes: Buffer): void {
    let verdict: 'pause' | 'stop' | void;
    try {
      verdict = this.handlers!.onData(bytes);
    } catch (error) {
      // A throwing consumer cannot be trusted with the rest of the stream.
      this.conn?.kill();
      this.failConsumer(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (verdict === 'pause') this.paused = true;
    else if (verdict === 'stop') this.stop();
  }

  /** The consumer wants no more: drain in the background so the socket can be reused. */
  private stop(): void {
    this.phase = 'stopped';
    this.queue = [];
    if (this.parser?.complete) { this.finishStopped(); return; }
    if (!this.conn) { this.finish(); return; }
    this.stopTimer = setTimeout(() => { this.conn?.kill(); this.finish(); }, stopDrainMs);
    this.conn.resumeSocket();
  }

  private finishStopped(): void {
    const conn = this.conn;
    this.finish();
    conn?.release(this.head?.keepAlive ?? false);
  }

  private complete(): void {
    const conn = this.conn;
    this.finish();
    // Release before onEnd so a request issued from onEnd can reuse this socket.
    conn?.release(this.head?.keepAlive ?? false);
    this.handlers!.onEnd();
  }

  private failConsumer(error: Error): void {
    this.finish();
    this.handlers?.onError(error);
  }

  private abort(): void {
    const error = abortError(this.req.signal);
    const conn = this.conn;
    const phase = this.phase;
    this.conn = null;
    conn?.kill();
    if (phase === 'queued') { this.pool.cancelWait(this); this.finish(); this.reject(error); }
    else if (phase === 'sent') { this.finish(); this.reject(error); }
    else if (phase === 'head') this.queue = [error]; // read() will report it
    else if (phase === 'reading') { this.queue = []; this.failConsumer(error); }
    else this.finish();
  }

  private destroy(error?: Error): void {
    if (this.phase === 'done') return;
    const reading = this.phase === 'reading';
    const conn = this.conn;
    this.conn = null;
    this.finish();
    conn?.kill();
    if (reading && error) this.handlers?.onError(error);
  }

  /** Terminal: no more callbacks except the one the caller is about to make. */
  private finish(): void {
    this.phase = 'done';
    this.queue = [];
    if (this.stopTimer) { clearTimeout(this.stopTimer); this.stopTimer = null; }
    this.req.signal.removeEventListener('abort', this.onAbort);
  }
}

function requestText(req: Http1Request, options: Http1PoolOptions): string {
  let text = `${req.method} ${req.path} HTTP/1.1\r\nhost: ${options.host}:${options.port}\r\n`;
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(req.method) || /[\s]/.test(req.path)) throw new TypeError('invalid request line');
  for (const [name, value] of Object.entries(req.headers)) {
    if (reservedHeaders.has(name.toLowerCase())) continue;
    // Header injection guard: a CR or LF in a name or value would let a caller forge requests.
    if (/[\r\n:]/.test(name) || /[\r\n\0]/.test(value)) throw new TypeError(`invalid header ${JSON.stringify(name)}`);
    text += `${name}: ${value}\r\n`;
  }
  return `${text}content-length: ${Buffer.byteLength(req.body)}\r\n\r\n${req.body}`;
}

function codedError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

function abortError(signal: AbortSignal): Error {
  const error = new Error('The operation was aborted', { cause: signal.reason });
  error.name = 'AbortError';
  return Object.assign(error, { code: 'ABORT_ERR' });
}
