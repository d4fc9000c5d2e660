/**
 * An incremental HTTP/1.1 response parser with no I/O, for the raw-socket upstream client
 * (http1-pool.ts). Bytes can arrive split at any point; body bytes are handed out as subarray views
 * of the pushed buffer (no copies on the hot path), so they are valid only during onBody. Only the
 * head, chunk-size lines and trailers are ever buffered, and those are capped in size.
 * Strict on framing (CRLF everywhere, no folded headers, no pipelined bytes): a lenient parser in
 * front of a relay is how request/response smuggling starts.
 */

export interface ParsedHead {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  keepAlive: boolean;
}

export interface Http1ParserEvents {
  onHead(head: ParsedHead): void;
  /** Body bytes, de-chunked. `bytes` is a view into the caller's buffer: valid only during the call. */
  onBody(bytes: Buffer): void;
  /** The response is complete (last chunk + trailers, or content-length reached). */
  onEnd(): void;
}

export interface Http1ParserOptions {
  /** Cap on the head (and on the trailers); default 64 KiB. */
  maxHeadBytes?: number;
  /** The request was HEAD: the response has no body whatever its headers say. */
  noBody?: boolean;
}

export class Http1ParseError extends Error {
  override name = 'Http1ParseError';
}

type State = 'head' | 'length' | 'close' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailers' | 'done';

const CR = 13;
const LF = 10;
const headEnd = Buffer.from('\r\n\r\n');
const noBytes = Buffer.alloc(0);
/** A chunk-size line is a few hex digits plus rare extensions: anything longer is an attack. */
const maxChunkLine = 4096;
const tokenRe = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const statusLineRe = /^HTTP\/1\.([01]) (\d{3})(?: [^\r\n]*)?$/;
const hexRe = /^[0-9A-Fa-f]{1,13}/; // 13 hex digits stay below 2^53
const chunkExtRe = /^(?:[ \t]*;[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:[ \t]*=[ \t]*(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+|"(?:[^"\\]|\\.)*"))?)*[ \t]*$/;

export class Http1ResponseParser {
  private state: State = 'head';
  /** Chunk-size line or trailer line bytes seen so far but not yet complete (a copy). */
  private pending: Buffer = noBytes;
  private remaining = 0;
  private crlfSeen = 0;
  private trailerBytes = 0;
  private headBuffer: Buffer = Buffer.alloc(0);
  private headLength = 0;
  private readonly maxHeadBytes: number;
  private readonly noBody: boolean;

  constructor(private readonly events: Http1ParserEvents, options: Http1ParserOptions = {}) {
    this.maxHeadBytes = options.maxHeadBytes ?? 64 * 1024;
    this.noBody = options.noBody ?? false;
  }

  get complete(): boolean {
    return this.state === 'done';
  }

  push(bytes: Buffer): void {
    let pos = 0;
    while (pos < bytes.length) {
      switch (this.state) {
        case 'head': pos = this.readHead(bytes, pos); break;
        case 'length':
          pos = this.deliver(bytes, pos);
          if (this.remaining === 0) this.finish();
          break;
        case 'close':
          this.events.onBody(pos === 0 ? bytes : bytes.subarray(pos));
          pos = bytes.length;
          break;
        case 'chunk-size': pos = this.readChunkSize(bytes, pos); break;
        case 'chunk-data':
          pos = this.deliver(bytes, pos);
          if (this.remaining === 0) { this.state = 'chunk-crlf'; this.crlfSeen = 0; }
          break;
        case 'chunk-crlf': {
          const expected = this.crlfSeen === 0 ? CR : LF;
          if (bytes[pos] !== expected) throw new Http1ParseError('missing CRLF after chunk data');
          pos++;
          if (++this.crlfSeen === 2) this.state = 'chunk-size';
          break;
        }
        case 'trailers': pos = this.readTrailers(bytes, pos); break;
        case 'done': throw new Http1ParseError('unexpected bytes after the end of the response');
      }
    }
  }

  end(): void {
    if (this.state === 'close') { this.finish(); return; }
    if (this.state !== 'done') throw new Http1ParseError('connection closed before the response was complete');
  }

  private finish(): void {
    this.state = 'done';
    this.pending = noBytes;
    this.events.onEnd();
  }

  /** Accumulates until CRLFCRLF; returns the position in `bytes` just after the head. */
  private readHead(bytes: Buffer, pos: number): number {
    const prior = this.headLength;
    let joined: Buffer;
    if (prior === 0) {
      joined = bytes.subarray(pos);
    } else {
      // Append into a doubling buffer: a head trickled in byte by byte must not cost O(n^2) copies.
      const need = prior + bytes.length - pos;
      if (need > this.headBuffer.length) {
        const grown = Buffer.allocUnsafe(Math.min(Math.max(need, this.headBuffer.length * 2), this.maxHeadBytes + 4 + bytes.length));
        this.headBuffer.copy(grown, 0, 0, prior);
        this.headBuffer = grown;
      }
      bytes.copy(this.headBuffer, prior, pos);
      joined = this.headBuffer.subarray(0, need);
    }
    const at = joined.indexOf(headEnd, Math.max(0, prior - 3));
    if (at === -1) {
      if (joined.length > this.maxHeadBytes) throw new Http1ParseError('response head too large');
      if (prior === 0) {
        // Copy: the caller's buffer is reused after push returns.
        this.headBuffer = Buffer.allocUnsafe(Math.max(256, joined.length * 2));
        joined.copy(this.headBuffer);
      }
      this.headLength = joined.length;
      return bytes.length;
    }
    if (at + 4 > this.maxHeadBytes) throw new Http1ParseError('response head too large');
    this.headLength = 0;
    this.onHeadText(joined.toString('latin1', 0, at));
    return pos + (at + 4 - prior);
  }

  private onHeadText(text: string): void {
    const lines = text.split('\r\n');
    const match = statusLineRe.exec(lines[0] ?? '');
    if (!match) throw new Http1ParseError('bad status line');
    const minor = match[1];
    const status = Number(match[2]);
    if (status < 100) throw new Http1ParseError('bad status code');
    const headers = parseHeaderLines(lines.slice(1));
    if (status < 200) {
      // 101 would switch protocols: this client never asks for that.
      if (status === 101) throw new Http1ParseError('unexpected 101 Switching Protocols');
      return; // interim response (100 Continue, 103 Early Hints): the real one follows
    }
    const connection = (headers['connection'] ?? '').toLowerCase().split(',').map((t) => t.trim());
    let keepAlive = minor === '1' ? !connection.includes('close') : connection.includes('keep-alive');
    const te = headers['transfer-encoding'];
    const cl = headers['content-length'];
    if (this.noBody || status === 204 || status === 304) {
      this.events.onHead({ status, headers, keepAlive });
      this.finish();
      return;
    }
    if (te !== undefined) {
      const codings = te.toLowerCase().split(',').map((t) => t.trim());
      if (codings[codings.length - 1] === 'chunked') {
        if (cl !== undefined) keepAlive = false; // both framings present: do not trust the connection after
        this.state = 'chunk-size';
      } else {
        keepAlive = false;
        this.state = 'close';
      }
    } else if (cl !== undefined) {
      this.remaining = parseContentLength(cl);
      this.state = 'length';
    } else {
      keepAlive = false;
      this.state = 'close';
    }
    this.events.onHead({ status, headers, keepAlive });
    if (this.state === 'length' && this.remaining === 0) this.finish();
  }

  /** Reads one chunk-size line (possibly split across pushes). */
  /** Hands on up to `remaining` body bytes from `pos` (a view, no copy); returns the new position. */
  private deliver(bytes: Buffer, pos: number): number {
    const n = Math.min(this.remaining, bytes.length - pos);
    this.remaining -= n;
    this.events.onBody(bytes.subarray(pos, pos + n));
    return pos + n;
  }

  private readChunkSize(bytes: Buffer, pos: number): number {
    if (this.pending.length === 0) {
      const next = this.readPlainChunkSize(bytes, pos);
      if (next !== -1) return next;
    }
    const lf = bytes.indexOf(LF, pos);
    if (lf === -1) {
      this.appendPending(bytes.subarray(pos), maxChunkLine, 'chunk size line too long');
      return bytes.length;
    }
    const part = bytes.subarray(pos, lf + 1);
    const line = this.pending.length === 0 ? part : Buffer.concat([this.pending, part]);
    this.pending = noBytes;
    if (line.length > maxChunkLine) throw new Http1ParseError('chunk size line too long');
    if (line.length < 2 || line[line.length - 2] !== CR) throw new Http1ParseError('bad chunk size line');
    const text = line.toString('latin1', 0, line.length - 2);
    const hex = hexRe.exec(text);
    if (!hex || !chunkExtRe.test(text.slice(hex[0].length))) throw new Http1ParseError('bad chunk size');
    const size = parseInt(hex[0], 16);
    if (size === 0) this.state = 'trailers';
    else { this.remaining = size; this.state = 'chunk-data'; }
    return lf + 1;
  }

  /**
   * The line nearly every upstream sends, whole within this read: hex digits and CRLF. Read from
   * the bytes without a string, a regex match or a view (one per streamed event otherwise). Returns
   * the position after the line, or -1 for anything else (split across reads, extensions,
   * malformed), which the general path then reads or rejects.
   */
  private readPlainChunkSize(bytes: Buffer, pos: number): number {
    const maxEnd = Math.min(bytes.length, pos + 13); // 13 hex digits stay below 2^53
    let size = 0;
    let at = pos;
    for (; at < maxEnd; at++) {
      const digit = hexDigitValue(bytes[at] ?? 0);
      if (digit === -1) break;
      size = size * 16 + digit;
    }
    if (at === pos || at + 1 >= bytes.length || bytes[at] !== CR || bytes[at + 1] !== LF) return -1;
    if (size === 0) this.state = 'trailers';
    else { this.remaining = size; this.state = 'chunk-data'; }
    return at + 2;
  }

  /** Reads trailer lines up to the empty line; trailers are validated and dropped. */
  private readTrailers(bytes: Buffer, pos: number): number {
    while (pos < bytes.length) {
      const lf = bytes.indexOf(LF, pos);
      if (lf === -1) {
        this.appendPending(bytes.subarray(pos), this.maxHeadBytes, 'trailers too large');
        return bytes.length;
      }
      const part = bytes.subarray(pos, lf + 1);
      const line = this.pending.length === 0 ? part : Buffer.concat([this.pending, part]);
      pos = lf + 1;
      if (line.length < 2 || line[line.length - 2] !== CR) throw new Http1ParseError('bad trailer line');
      if (line.length === 2) {
        this.finish();
        return pos;
      }
      this.pending = noBytes;
      this.trailerBytes += line.length;
      if (this.trailerBytes > this.maxHeadBytes) throw new Http1ParseError('trailers too large');
      parseHeaderLines([line.toString('latin1', 0, line.length - 2)]);
    }
    return pos;
  }

  private appendPending(part: Buffer, cap: number, message: string): void {
    if (this.pending.length + part.length > cap) throw new Http1ParseError(message);
    this.pending = Buffer.concat([this.pending, part]); // copy: the caller's buffer is reused
  }
}

function hexDigitValue(byte: number): number {
  if (byte >= 48 && byte <= 57) return byte - 48; // 0-9
  const lower = byte | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1; // a-f, A-F
}

function parseHeaderLines(lines: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    if (line.startsWith(' ') || line.startsWith('\t')) throw new Http1ParseError('folded header line');
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!tokenRe.test(name)) throw new Http1ParseError('bad header line');
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (/[\0\r\n]/.test(value)) throw new Http1ParseError('bad header value');
    const key = name.toLowerCase();
    const prev = headers[key];
    headers[key] = prev === undefined ? value : `${prev}, ${value}`;
  }
  return headers;
}

/** Repeated identical values ("10, 10") are tolerated as RFC 9110 allows; differing ones are not. */
function parseContentLength(value: string): number {
  const parts = value.split(',').map((p) => p.trim());
  const first = parts[0] ?? '';
  if (!/^\d{1,15}$/.test(first) || parts.some((p) => p !== first)) throw new Http1ParseError('bad content-length');
  return Number(first);
}
