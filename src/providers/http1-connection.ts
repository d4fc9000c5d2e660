import net from 'node:net';
import type { Exchange } from './http1-exchange.js';
import type { Http1Pool } from './http1-pool.js';
import { readBufferSize, codedError, type Http1PoolOptions } from './http1-shared.js';

/**
 * Every upstream socket of the process reads into this one buffer. A read callback runs to its end
 * before any other socket's read starts, and nothing keeps a view into the buffer past the callback
 * (the parser copies partial heads and lines, an exchange copies body bytes it has to queue), so
 * one buffer serves them all. A buffer per socket cost 64 KiB each: 16 MiB at 256 open streams.
 */
const sharedReadBuffer = Buffer.allocUnsafe(readBufferSize);

/** One socket and the exchange (if any) it currently serves. */
export class Connection {
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
    const buffer = sharedReadBuffer;
    this.socket = net.connect({
      host: options.host,
      port: options.port,
      noDelay: true,
      onread: { buffer, callback: (nread) => this.onRead(nread, buffer) },
    });
    // 0 means no limit (the config's convention), not "fail at once".
    if (options.connectTimeoutMs > 0) {
      this.connectTimer = setTimeout(() => {
        this.fail(codedError(`connect ETIMEDOUT ${options.host}:${options.port}`, 'ETIMEDOUT'));
      }, options.connectTimeoutMs);
    }
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

  /** Returns false to pause the socket: the consumer has asked to wait, or the head is not read yet. */
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
