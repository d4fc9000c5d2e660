import { Http1ResponseParser, type ParsedHead } from './http1-response-parser.js';
import type { Connection } from './http1-connection.js';
import type { Http1Pool } from './http1-pool.js';
import { stopDrainMs, keepAliveRaceCodes, codedError, type Http1BodyHandlers, type Http1Response, type Http1Request } from './http1-shared.js';
import { abortError } from './transport-errors.js';

const END = Symbol('end');
type Queued = Buffer | Error | typeof END;
type Phase = 'queued' | 'sent' | 'head' | 'reading' | 'stopped' | 'done';

/** One request/response, from the queue to the end of the body. */
export class Exchange {
  private phase: Phase = 'queued';
  private conn: Connection | null = null;
  private parser: Http1ResponseParser | null = null;
  private head: ParsedHead | null = null;
  private handlers: Http1BodyHandlers | null = null;
  /** Body (copies: the read buffer is shared), end or error held until the consumer reads or resumes; the socket stays paused meanwhile. */
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
    this.req.signal.onAbort(this.onAbort);
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
    if (this.phase === 'head' || (this.phase === 'reading' && (this.paused || this.queue.length > 0))) this.queue.push(Buffer.from(bytes));
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
    this.req.signal.offAbort(this.onAbort);
  }
}
