/**
 * The one Server-Sent Events decoder used for every upstream stream (WHATWG HTML, "event stream
 * interpretation"). It works on bytes, not on per-read strings: line terminators are ASCII, so
 * finding them in the bytes and decoding only whole lines keeps multi-byte UTF-8 characters that
 * straddle two network reads intact without a streaming text decoder.
 *
 * Size accounting (for maxEventBytes): an event's size is the bytes of its data buffer (each data
 * value plus its "\n", as received) plus the raw bytes of the line being read. Every line is
 * checked at its full length whether or not it arrived in one push, so whether a stream is
 * rejected never depends on how the socket happened to split it.
 */

export interface SseEvent {
  event: string | undefined;
  data: string;
  id: string | undefined;
}

export interface SseDecoderOptions {
  /** Cap on the bytes of one event (its data plus its pending unterminated line). Default 8 MiB. */
  maxEventBytes?: number;
  /** Called for each comment line (the text after ':' with one leading space stripped). Optional. */
  onComment?: (text: string) => void;
  /** At end(), dispatch an event whose lines were complete but that lacked the final blank line,
   *  and treat a trailing unterminated line as a complete line. Default false (spec: discard). */
  dispatchIncompleteAtEnd?: boolean;
}

export class SseEventTooLargeError extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`SSE event exceeds the limit of ${limit} bytes`);
    this.name = 'SseEventTooLargeError';
    this.limit = limit;
  }
}

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const DEFAULT_MAX_EVENT_BYTES = 8 * 1024 * 1024;

export class SseDecoder {
  private readonly onEvent: (event: SseEvent) => void;
  private readonly onComment: ((text: string) => void) | undefined;
  private readonly maxEventBytes: number;
  private readonly dispatchIncompleteAtEnd: boolean;

  /** Bytes of the current unterminated line, copied out of earlier pushes. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The previous push ended with CR: an LF starting the next push belongs to that terminator. */
  private skipLF = false;
  /** How many BOM bytes have been seen at the stream start; bomDone once the question is settled. */
  private bomMatched = 0;
  private bomDone = false;

  // Event being assembled. hasData distinguishes "no data line" from "data lines with empty
  // values" (the spec's empty data buffer check), and lets us join with "\n" as we go instead of
  // appending one per line and slicing the last one off at dispatch.
  private type: string | undefined = undefined;
  private data = '';
  private hasData = false;
  private dataBytes = 0;
  private lastId: string | undefined = undefined;

  private failed: SseEventTooLargeError | undefined = undefined;

  constructor(onEvent: (event: SseEvent) => void, options: SseDecoderOptions = {}) {
    this.onEvent = onEvent;
    this.onComment = options.onComment;
    this.maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
    this.dispatchIncompleteAtEnd = options.dispatchIncompleteAtEnd ?? false;
  }

  /**
   * Feed bytes as they arrive from the socket (any split point). Calls onEvent synchronously for
   * each dispatched event. Throws SseEventTooLargeError when the cap is exceeded (after that the
   * decoder is unusable). If onEvent throws, the error propagates and the rest of the chunk is lost.
   */
  push(chunk: Uint8Array): void {
    if (this.failed) throw this.failed;
    // A view, not a copy: we only need Buffer's indexOf/toString over the same memory.
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const len = buf.length;
    let pos = 0;

    if (!this.bomDone) {
      // At most three iterations, and only until the first bytes of the stream are settled.
      while (this.bomMatched < 3 && pos < len && buf[pos] === BOM[this.bomMatched]) {
        this.bomMatched++;
        pos++;
      }
      if (this.bomMatched === 3) {
        this.bomDone = true;
      } else if (pos === len) {
        return; // everything so far could still be a split BOM: wait for more bytes
      } else {
        // Not a BOM after all: the bytes held back from earlier pushes start the first line, and
        // this chunk is read from its beginning (none of the held bytes are terminators).
        this.bomDone = true;
        const held = this.bomMatched - pos;
        if (held > 0) {
          this.pending.push(BOM.subarray(0, held));
          this.pendingBytes = held;
        }
        pos = 0;
      }
    }

    if (this.skipLF && pos < len) {
      this.skipLF = false;
      if (buf[pos] === LF) pos++;
    }

    // Cache the next LF and CR positions: re-searching for a terminator kind that is absent (CR in
    // an LF-only stream) after every line would rescan the rest of the chunk each time.
    // -2 means "not searched yet"; -1 means "none left in this chunk".
    let nextLF = -2;
    let nextCR = -2;
    while (pos < len) {
      if (nextLF !== -1 && nextLF < pos) nextLF = buf.indexOf(LF, pos);
      if (nextCR !== -1 && nextCR < pos) nextCR = buf.indexOf(CR, pos);
      let end: number;
      if (nextLF === -1) {
        if (nextCR === -1) break;
        end = nextCR;
      } else {
        end = nextCR === -1 || nextLF < nextCR ? nextLF : nextCR;
      }

      // Checked before decoding, so an oversized line is never turned into a string.
      const lineBytes = this.pendingBytes + end - pos;
      if (this.dataBytes + lineBytes > this.maxEventBytes) this.fail();
      let line = '';
      if (this.pendingBytes === 0) {
        // Common case: the line lies within this push, decode it straight from the chunk.
        if (lineBytes > 0) line = buf.toString('utf8', pos, end);
      } else {
        this.pending.push(buf.subarray(pos, end));
        line = Buffer.concat(this.pending, lineBytes).toString('utf8');
        this.pending = [];
        this.pendingBytes = 0;
      }
      this.processLine(line, lineBytes);

      if (buf[end] === CR) {
        if (end + 1 === len) this.skipLF = true; // the LF of a CRLF may open the next push
        else if (buf[end + 1] === LF) end++;
      }
      pos = end + 1;
    }

    if (pos < len) {
      // Unterminated tail: check before storing so a never-ending line cannot grow memory past
      // the cap. It is copied because the caller may reuse the chunk's memory after we return.
      const tail = len - pos;
      if (this.dataBytes + this.pendingBytes + tail > this.maxEventBytes) this.fail();
      this.pending.push(Buffer.from(buf.subarray(pos)));
      this.pendingBytes += tail;
    }
  }

  /** The stream ended. */
  end(): void {
    if (this.failed) throw this.failed;
    if (!this.bomDone && this.bomMatched > 0) {
      // The stream was only a prefix of a BOM: those bytes are an (unterminated) line.
      this.pending.push(BOM.subarray(0, this.bomMatched));
      this.pendingBytes = this.bomMatched;
    }
    this.bomDone = true;
    if (this.dispatchIncompleteAtEnd) {
      if (this.pendingBytes > 0) {
        const lineBytes = this.pendingBytes;
        const line = Buffer.concat(this.pending, lineBytes).toString('utf8');
        this.pending = [];
        this.pendingBytes = 0;
        this.processLine(line, lineBytes); // already size-checked when it was stored
      }
      this.processLine('', 0); // the missing blank line
    }
    // Spec: whatever is left is an incomplete event and is discarded.
    this.pending = [];
    this.pendingBytes = 0;
    this.skipLF = false;
    this.resetEvent();
  }

  private processLine(line: string, lineBytes: number): void {
    if (lineBytes === 0) {
      this.dispatch();
      return;
    }
    const colon = line.indexOf(':');
    if (colon === 0) {
      if (this.onComment) this.onComment(line.slice(line.charCodeAt(1) === SPACE ? 2 : 1));
      return;
    }
    let field: string;
    let value: string;
    let valueStart: number;
    if (colon === -1) {
      field = line;
      value = '';
      valueStart = line.length;
    } else {
      field = line.slice(0, colon);
      valueStart = colon + 1;
      if (line.charCodeAt(valueStart) === SPACE) valueStart++;
      value = line.slice(valueStart);
    }
    switch (field) {
      case 'data':
        // "data" and the separator are ASCII, so valueStart characters are valueStart bytes.
        this.dataBytes += lineBytes - valueStart + 1;
        if (this.hasData) this.data += '\n' + value;
        else {
          this.data = value;
          this.hasData = true;
        }
        break;
      case 'event':
        this.type = value === '' ? undefined : value;
        break;
      case 'id':
        // An empty id resets the last event id; we report that state as undefined.
        if (!value.includes('\0')) this.lastId = value === '' ? undefined : value;
        break;
      default:
        break; // retry and unknown fields: nothing a gateway needs
    }
  }

  private dispatch(): void {
    if (!this.hasData) {
      this.resetEvent(); // spec: an event without data only resets the type
      return;
    }
    const event: SseEvent = { event: this.type, data: this.data, id: this.lastId };
    // Reset before calling out, so a throwing handler cannot make us deliver the event twice.
    this.resetEvent();
    this.onEvent(event);
  }

  private resetEvent(): void {
    this.type = undefined;
    this.data = '';
    this.hasData = false;
    this.dataBytes = 0;
  }

  private fail(): never {
    this.failed = new SseEventTooLargeError(this.maxEventBytes);
    this.pending = []; // release what we held
    this.pendingBytes = 0;
    this.resetEvent();
    throw this.failed;
  }
}
