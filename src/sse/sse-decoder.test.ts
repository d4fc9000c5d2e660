import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseDecoder, SseEventTooLargeError, type SseDecoderOptions, type SseEvent } from './sse-decoder.js';

interface Decoded {
  events: SseEvent[];
  comments: string[];
}

/** Feed the pieces in order, then end(). */
function decode(pieces: Uint8Array[], options: SseDecoderOptions = {}): Decoded {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const decoder = new SseDecoder((e) => events.push(e), { ...options, onComment: (c) => comments.push(c) });
  for (const piece of pieces) decoder.push(piece);
  decoder.end();
  return { events, comments };
}

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

// The reference stream, one entry per line; the terminator is added per line-ending style.
const referenceLines = [
  ': this is a comment',
  'event: greeting',
  'data: hello',
  'data:world', // no space after the colon
  '',
  'data', // a field with no colon: data with an empty value
  '',
  ':no-space comment',
  'id: 42',
  'data:  two spaces', // only one space is stripped
  'data: emoji 😀, é, 中文, ∑',
  '',
  'event: ping', // an event with no data: not dispatched, and its type must not leak
  '',
  'data: after ping',
  '',
  'id: bad\0id', // contains NUL: ignored
  'retry: 1000',
  'unknown: field',
  'data: [DONE]',
  '',
];

// Computed by hand; every decoding below must yield exactly these.
const referenceEvents: SseEvent[] = [
  { event: 'greeting', data: 'hello\nworld', id: undefined },
  { event: undefined, data: '', id: undefined },
  { event: undefined, data: ' two spaces\nemoji 😀, é, 中文, ∑', id: '42' },
  { event: undefined, data: 'after ping', id: '42' },
  { event: undefined, data: '[DONE]', id: '42' },
];
const referenceComments = ['this is a comment', 'no-space comment'];

function streamWith(lines: string[], endings: (i: number) => string): Buffer {
  return Buffer.concat([BOM, bytes(lines.map((line, i) => line + endings(i)).join(''))]);
}

// Mixed endings: LF, CRLF and lone CR in rotation, except that a line after a lone CR never ends
// in a bare LF when it is empty (CR + LF would be a single CRLF terminator, not a blank line).
const rotation = ['\n', '\r\n', '\r'];
const mixedEndings: string[] = [];
referenceLines.forEach((line, i) => {
  const wanted = rotation[i % 3] ?? '\n';
  mixedEndings.push(line === '' && mixedEndings[i - 1] === '\r' && wanted === '\n' ? '\r\n' : wanted);
});
const reference = streamWith(referenceLines, (i) => mixedEndings[i] ?? '\n');

test('the reference stream really mixes LF, CRLF and lone CR', () => {
  const text = reference.toString('latin1');
  assert.match(text, /[^\r]\n/);
  assert.match(text, /\r\n/);
  assert.match(text, /\r[^\n]/);
  assert.deepEqual([...reference.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
});

function assertReference(result: Decoded, label: string): void {
  assert.deepEqual(result.events, referenceEvents, label);
  assert.deepEqual(result.comments, referenceComments, label);
}

test('reference stream decodes to the hand-computed events', () => {
  assertReference(decode([reference]), 'one push');
});

test('reference stream: every two-piece split yields the same events', () => {
  for (let i = 0; i <= reference.length; i++) {
    assertReference(decode([reference.subarray(0, i), reference.subarray(i)]), `split at ${i}`);
  }
});

test('reference stream: one byte at a time, as plain Uint8Arrays', () => {
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < reference.length; i++) pieces.push(new Uint8Array([reference[i] ?? 0]));
  assertReference(decode(pieces), 'byte by byte');
});

test('Uint8Array views with a byte offset into a larger buffer', () => {
  const backing = new Uint8Array(reference.length + 20);
  backing.set(reference, 10);
  const view = backing.subarray(10, 10 + reference.length);
  const mid = 57;
  assertReference(decode([view.subarray(0, mid), view.subarray(mid)]), 'views');
});

test('a short stream: every three-piece split yields the same events', () => {
  const short = Buffer.concat([BOM, bytes('event: a\r\ndata: 😀é\rdata:x\n\r\n: c\ndata\r\r')]);
  const expected: Decoded = {
    events: [
      { event: 'a', data: '😀é\nx', id: undefined },
      { event: undefined, data: '', id: undefined },
    ],
    comments: ['c'],
  };
  assert.deepEqual(decode([short]), expected);
  for (let i = 0; i <= short.length; i++) {
    for (let j = i; j <= short.length; j++) {
      const pieces = [short.subarray(0, i), short.subarray(i, j), short.subarray(j)];
      assert.deepEqual(decode(pieces), expected, `split at ${i}, ${j}`);
    }
  }
});

test('each line ending style (LF, CRLF, CR) yields identical events', () => {
  for (const ending of ['\n', '\r\n', '\r']) {
    const stream = streamWith(referenceLines, () => ending);
    assertReference(decode([stream]), JSON.stringify(ending));
    for (let i = 0; i <= stream.length; i++) {
      assertReference(decode([stream.subarray(0, i), stream.subarray(i)]), `${JSON.stringify(ending)} split at ${i}`);
    }
  }
});

test('CR at the end of a push and LF at the start of the next are one terminator', () => {
  // A spurious blank line would dispatch "a" on its own.
  const one = decode([bytes('data: a\r'), bytes('\ndata: b\r'), bytes('\n\r'), bytes('\n')]);
  assert.deepEqual(one.events, [{ event: undefined, data: 'a\nb', id: undefined }]);
  // An empty push in between must not forget the CR.
  const gap = decode([bytes('data: a\r'), new Uint8Array(0), bytes('\ndata: b\n\n')]);
  assert.deepEqual(gap.events, [{ event: undefined, data: 'a\nb', id: undefined }]);
  // But CR followed by CR is two terminators: a blank line.
  const twoCr = decode([bytes('data: a\r'), bytes('\rdata: b\n\n')]);
  assert.deepEqual(twoCr.events.map((e) => e.data), ['a', 'b']);
});

test('BOM: only one, only at the very start', () => {
  const two = decode([Buffer.concat([BOM, BOM, bytes('data: x\n\ndata: y\n\n')])]);
  assert.deepEqual(two.events.map((e) => e.data), ['y']); // second BOM makes "\uFEFFdata" an unknown field
  const later = decode([bytes('data: x\n'), BOM, bytes('data: y\n\n')]);
  assert.deepEqual(later.events.map((e) => e.data), ['x']);
  const none = decode([bytes('data: x\n\n')]);
  assert.deepEqual(none.events.map((e) => e.data), ['x']);
});

test('a partial BOM that turns out not to be one is kept as line bytes', () => {
  // If the held-back EF BB were dropped, ": c" would become a comment.
  const stream = Buffer.concat([BOM.subarray(0, 2), bytes(': c\ndata: ok\n\n')]);
  for (let i = 0; i <= stream.length; i++) {
    const result = decode([stream.subarray(0, i), stream.subarray(i)]);
    assert.deepEqual(result.comments, [], `split at ${i}`);
    assert.deepEqual(result.events.map((e) => e.data), ['ok'], `split at ${i}`);
  }
  const onlyPrefix = decode([BOM.subarray(0, 1)], { dispatchIncompleteAtEnd: true });
  assert.deepEqual(onlyPrefix, { events: [], comments: [] });
});

test('invalid UTF-8 becomes U+FFFD; multi-byte characters survive every split', () => {
  const stream = Buffer.concat([bytes('data: a'), Buffer.from([0xff, 0xc3]), bytes('b 𝄞€\n\n')]);
  for (let i = 0; i <= stream.length; i++) {
    const result = decode([stream.subarray(0, i), stream.subarray(i)]);
    assert.deepEqual(result.events.map((e) => e.data), ['a\uFFFD\uFFFDb 𝄞€'], `split at ${i}`);
  }
});

test('id: persists across events, empty id resets it, NUL is ignored', () => {
  const result = decode([bytes('id: 1\ndata: a\n\ndata: b\n\nid: x\0\ndata: c\n\nid\ndata: d\n\nid: 2\n\ndata: e\n\n')]);
  assert.deepEqual(result.events.map((e) => [e.data, e.id]), [
    ['a', '1'],
    ['b', '1'],
    ['c', '1'],
    ['d', undefined],
    ['e', '2'],
  ]);
});

test('event type is reset after each dispatch; empty event name is undefined', () => {
  const result = decode([bytes('event: x\ndata: 1\n\ndata: 2\n\nevent:\ndata: 3\n\nevent: a\nevent: b\ndata: 4\n\n')]);
  assert.deepEqual(result.events.map((e) => [e.event, e.data]), [
    ['x', '1'],
    [undefined, '2'],
    [undefined, '3'],
    ['b', '4'],
  ]);
});

test('a caller reusing its chunk memory does not corrupt a pending line', () => {
  const events: SseEvent[] = [];
  const decoder = new SseDecoder((e) => events.push(e));
  const chunk = Buffer.from('data: hel');
  decoder.push(chunk);
  chunk.fill(0x21); // "!!!!!!!!!"
  decoder.push(bytes('lo\n\n'));
  decoder.end();
  assert.deepEqual(events.map((e) => e.data), ['hello']);
});

test('size cap: an event just under the cap passes, one byte more throws, at every split', () => {
  const limit = 100;
  const fits = bytes(`data: ${'x'.repeat(94)}\n\n`); // the line is exactly 100 bytes
  const tooBig = bytes(`data: ${'x'.repeat(95)}\n\n`);
  for (let i = 0; i <= tooBig.length; i++) {
    const ok = decode([fits.subarray(0, i), fits.subarray(i)], { maxEventBytes: limit });
    assert.deepEqual(ok.events.map((e) => e.data.length), [94], `split at ${i}`);
    assert.throws(
      () => decode([tooBig.subarray(0, i), tooBig.subarray(i)], { maxEventBytes: limit }),
      (err: unknown) => err instanceof SseEventTooLargeError && err.limit === limit && /\b100\b/.test(err.message),
      `split at ${i}`,
    );
  }
});

test('size cap counts the whole event across data lines, and resets per event', () => {
  const line = `data: ${'y'.repeat(40)}\n`; // 47 bytes with LF; adds 41 to the data buffer
  assert.equal(decode([bytes(line + line + '\n')], { maxEventBytes: 100 }).events.length, 1);
  assert.throws(() => decode([bytes(line + line + line + '\n')], { maxEventBytes: 100 }), SseEventTooLargeError);
  const many = bytes((line + line + '\n').repeat(50));
  assert.equal(decode([many], { maxEventBytes: 100 }).events.length, 50);
});

test('size cap holds for data that never sees a newline (memory bounded)', () => {
  const limit = 1024;
  const decoder = new SseDecoder(() => assert.fail('no event expected'), { maxEventBytes: limit });
  decoder.push(bytes('data: '));
  const chunk = bytes('z'.repeat(64));
  let pushed = 6;
  let error: unknown;
  for (let i = 0; i < 1000 && error === undefined; i++) {
    try {
      decoder.push(chunk);
      pushed += chunk.length;
    } catch (err) {
      error = err;
    }
  }
  assert.ok(error instanceof SseEventTooLargeError);
  assert.equal(pushed, 6 + 64 * 15); // 966 accepted; the next 64 would make 1030 > 1024
  // Unusable afterwards.
  assert.throws(() => decoder.push(bytes('\n\n')), SseEventTooLargeError);
  assert.throws(() => decoder.end(), SseEventTooLargeError);
});

test('default cap is 8 MiB', () => {
  const decoder = new SseDecoder(() => {});
  const mib = Buffer.alloc(1024 * 1024, 0x61);
  decoder.push(bytes('data:'));
  for (let i = 0; i < 7; i++) decoder.push(mib);
  assert.throws(() => decoder.push(mib), (err: unknown) => err instanceof SseEventTooLargeError && err.limit === 8 * 1024 * 1024);
});

test('an overlong comment line also counts while it is pending', () => {
  assert.throws(() => decode([bytes(`: ${'c'.repeat(200)}`)], { maxEventBytes: 100 }), SseEventTooLargeError);
});

test('end(): an incomplete trailing event is discarded by default', () => {
  assert.deepEqual(decode([bytes('data: a\n\ndata: b\n')]).events.map((e) => e.data), ['a']);
  assert.deepEqual(decode([bytes('data: a\n\ndata: b')]).events.map((e) => e.data), ['a']);
});

test('end(): dispatchIncompleteAtEnd dispatches the trailing event, unterminated last line included', () => {
  const opts = { dispatchIncompleteAtEnd: true };
  assert.deepEqual(decode([bytes('data: a\n\nevent: e\ndata: b\n')], opts).events, [
    { event: undefined, data: 'a', id: undefined },
    { event: 'e', data: 'b', id: undefined },
  ]);
  assert.deepEqual(decode([bytes('event: e\ndata: b\ndata: c')], opts).events, [{ event: 'e', data: 'b\nc', id: undefined }]);
  assert.deepEqual(decode([bytes('data: b\r')], opts).events.map((e) => e.data), ['b']);
  assert.deepEqual(decode([bytes(': only a comment')], opts).events, []);
  assert.deepEqual(decode([bytes('event: e\n')], opts).events, []); // no data: nothing to dispatch
  assert.deepEqual(decode([bytes('data: a\n\n')], opts).events.length, 1); // no duplicate
});
