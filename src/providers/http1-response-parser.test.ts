import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Http1ParseError, Http1ResponseParser, type ParsedHead } from './http1-response-parser.js';

interface Outcome { heads: ParsedHead[]; body: string; ended: number; complete: boolean }

/** Feeds `pieces` in order; body bytes are copied at call time, since the parser hands out views. */
function run(pieces: Buffer[], closeAtEnd = false, noBody = false): Outcome {
  const out: Outcome = { heads: [], body: '', ended: 0, complete: false };
  const chunks: Buffer[] = [];
  const parser = new Http1ResponseParser({
    onHead: (head) => out.heads.push(head),
    onBody: (bytes) => chunks.push(Buffer.from(bytes)),
    onEnd: () => { out.ended++; },
  }, { noBody });
  for (const piece of pieces) {
    // Scribble over the piece after the push: views kept past the call would then be corrupted.
    const copy = Buffer.from(piece);
    parser.push(copy);
    copy.fill(0x21);
  }
  if (closeAtEnd) parser.end();
  out.body = Buffer.concat(chunks).toString('latin1');
  out.complete = parser.complete;
  return out;
}

/** Every way to feed `raw`: whole, two pieces at every offset, one byte at a time. */
function splits(raw: Buffer): Buffer[][] {
  const ways: Buffer[][] = [[raw]];
  for (let i = 1; i < raw.length; i++) ways.push([raw.subarray(0, i), raw.subarray(i)]);
  ways.push([...raw].map((b) => Buffer.from([b])));
  return ways;
}

function checkAllSplits(raw: string, expected: { status: number; headers?: Record<string, string>; keepAlive: boolean; body: string }, closeAtEnd = false): void {
  const bytes = Buffer.from(raw, 'latin1');
  for (const pieces of splits(bytes)) {
    const out = run(pieces, closeAtEnd);
    const where = `pieces ${pieces.map((p) => p.length).join('+')}`;
    assert.equal(out.heads.length, 1, where);
    const head = out.heads[0]!;
    assert.equal(head.status, expected.status, where);
    assert.equal(head.keepAlive, expected.keepAlive, where);
    if (expected.headers) assert.deepEqual(head.headers, expected.headers, where);
    assert.equal(out.body, expected.body, where);
    assert.equal(out.ended, 1, where);
    assert.equal(out.complete, true, where);
  }
}

const sse = 'data: {"a":1}\n\n' + 'data: {"b":2}\n\n' + 'data: [DONE]\n\n';

test('chunked SSE response', () => {
  const chunks = ['data: {"a":1}\n\n', 'data: {"b":2}\n\n', 'data: [DONE]\n\n'];
  const raw = 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nX-Dup: a\r\nx-dup: b\r\n\r\n' +
    chunks.map((c) => `${Buffer.byteLength(c).toString(16)}\r\n${c}\r\n`).join('') + '0\r\n\r\n';
  checkAllSplits(raw, {
    status: 200, keepAlive: true, body: sse,
    headers: { 'content-type': 'text/event-stream', 'transfer-encoding': 'chunked', 'x-dup': 'a, b' },
  });
});

test('content-length JSON response', () => {
  const json = '{"id":"x","choices":[{"text":"héllo"}]}';
  const len = Buffer.byteLength(json);
  const raw = `HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: ${len}\r\n\r\n` + Buffer.from(json).toString('latin1');
  checkAllSplits(raw, { status: 201, keepAlive: true, body: Buffer.from(json).toString('latin1') });
});

test('close-delimited response completes on end() and is not keep-alive', () => {
  checkAllSplits('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nhello world', { status: 200, keepAlive: false, body: 'hello world' }, true);
  checkAllSplits('HTTP/1.0 200 OK\r\nconnection: keep-alive\r\n\r\nabc', { status: 200, keepAlive: false, body: 'abc' }, true);
});

test('100 Continue is skipped', () => {
  checkAllSplits('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
    { status: 200, keepAlive: true, body: 'ok', headers: { 'content-length': '2' } });
});

test('trailers and chunk extensions', () => {
  checkAllSplits('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;name=value;q="a b"\r\nhello\r\n1 ; x\r\n!\r\n0;end=1\r\nx-checksum: abc\r\nx-other: 1\r\n\r\n',
    { status: 200, keepAlive: true, body: 'hello!' });
});

test('chunk sizes in either case, with leading zeros, up to 13 digits', () => {
  const a27 = 'a'.repeat(27);
  const b10 = 'b'.repeat(10);
  checkAllSplits(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1b\r\n${a27}\r\n0000A\r\n${b10}\r\n1B\r\n${a27}\r\n000\r\n\r\n`,
    { status: 200, keepAlive: true, body: a27 + b10 + a27 });
  checkAllSplits(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${'0'.repeat(12)}3\r\nxyz\r\n0\r\n\r\n`,
    { status: 200, keepAlive: true, body: 'xyz' });
  fails(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${'0'.repeat(13)}3\r\nxyz\r\n0\r\n\r\n`, /chunk size/);
  fails('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\r\nxyz\r\n0\r\n\r\n', /chunk size/);
  fails('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\rxyz\r\n0\r\n\r\n', /chunk size/);
  fails('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3g\r\nxyz\r\n0\r\n\r\n', /chunk size/);
});

test('keepAlive rules', () => {
  const head = (raw: string): ParsedHead => run([Buffer.from(raw)]).heads[0]!;
  assert.equal(head('HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n').keepAlive, false);
  assert.equal(head('HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\ncontent-length: 0\r\n\r\n').keepAlive, false);
  assert.equal(head('HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n').keepAlive, false);
  assert.equal(head('HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n').keepAlive, true);
  assert.equal(head('HTTP/1.1 200\r\ncontent-length: 0\r\n\r\n').keepAlive, true);
});

test('204, 304 and HEAD responses have no body', () => {
  for (const status of [204, 304]) {
    const out = run([Buffer.from(`HTTP/1.1 ${status} X\r\ncontent-length: 10\r\n\r\n`)]);
    assert.equal(out.ended, 1);
    assert.equal(out.heads[0]!.keepAlive, true);
  }
  const head = run([Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n')], false, true);
  assert.equal(head.ended, 1);
  assert.equal(head.body, '');
});

test('content-length 0 ends at the head', () => {
  const out = run([Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n')]);
  assert.equal(out.ended, 1);
});

function fails(raw: string | Buffer, pattern: RegExp, closeAtEnd = false): void {
  const bytes = typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw;
  // Errors must not depend on how the bytes were split.
  for (const pieces of [[bytes], [...bytes].map((b) => Buffer.from([b]))]) {
    assert.throws(() => run(pieces, closeAtEnd), (error: unknown) => error instanceof Http1ParseError && pattern.test(error.message));
  }
}

test('malformed responses throw Http1ParseError', () => {
  fails('HTTP/2 200 OK\r\n\r\n', /status line/);
  fails('HTTP/1.1 20 OK\r\n\r\n', /status line/);
  fails('ICY 200 OK\r\n\r\n', /status line/);
  fails('HTTP/1.1 200 OK\r\ncontent-length: 1\r\n folded\r\n\r\n', /folded/);
  fails('HTTP/1.1 200 OK\r\nbad header\r\n\r\n', /header/);
  fails('HTTP/1.1 200 OK\r\ncontent-length: 1x\r\n\r\n', /content-length/);
  fails('HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n', /content-length/);
  fails('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n', /chunk size/);
  fails('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5 junk\r\nhello\r\n0\r\n\r\n', /chunk size/);
  fails('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n', /chunk size/);
  fails('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhelloX\r\n0\r\n\r\n', /missing CRLF/);
  fails('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokEXTRA', /after the end/);
  fails('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\nX', /after the end/);
  fails('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nok', /closed before/, true);
  fails('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n', /closed before/, true);
  fails(`HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(70 * 1024)}\r\n\r\n`, /too large/);
  fails(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1${';x=y'.repeat(2000)}\r\n`, /too long/);
});

test('oversized head is rejected before the terminator arrives', () => {
  const parser = new Http1ResponseParser({ onHead() {}, onBody() {}, onEnd() {} }, { maxHeadBytes: 100 });
  assert.throws(() => parser.push(Buffer.from(`HTTP/1.1 200 OK\r\nx: ${'a'.repeat(200)}`)), Http1ParseError);
});

test('body is delivered as views into the pushed buffer', () => {
  const raw = Buffer.from('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
  const seen: Buffer[] = [];
  const parser = new Http1ResponseParser({ onHead() {}, onBody: (b) => seen.push(b), onEnd() {} });
  parser.push(raw);
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.buffer, raw.buffer);
  assert.equal(seen[0]!.toString(), 'hello');
});
