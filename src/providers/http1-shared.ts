import type { Cancellation } from '../core/cancellation.js';

/** Types and small helpers shared by the HTTP/1.1 pool's parts (http1-pool.ts explains the design). */

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
  signal: Cancellation;
}

export const readBufferSize = 64 * 1024;
export const stopDrainMs = 5000;
/** The pool writes these itself; a caller's copy would make the framing ambiguous. */
export const reservedHeaders = new Set(['host', 'content-length', 'transfer-encoding']);
/** Errors that, before any response byte on a reused socket, mean the peer closed it while idle. */
export const keepAliveRaceCodes = new Set(['ECONNRESET', 'EPIPE']);

export function requestText(req: Http1Request, options: Http1PoolOptions): string {
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

export function codedError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

