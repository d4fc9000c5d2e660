import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseDecoder, type SseEvent } from './sse-decoder.js';
import { encodeSseComment, encodeSseData, encodeSseEvent } from './sse-encoder.js';

test('encodeSseData', () => {
  assert.equal(encodeSseData('{"a":1}'), 'data: {"a":1}\n\n');
  assert.equal(encodeSseData(''), 'data: \n\n');
  assert.equal(encodeSseData('a\nb\r\nc\rd'), 'data: a\ndata: b\ndata: c\ndata: d\n\n');
  assert.equal(encodeSseData('a\n'), 'data: a\ndata: \n\n');
  assert.equal(encodeSseData(' lead'), 'data:  lead\n\n');
});

test('encodeSseEvent', () => {
  assert.equal(encodeSseEvent('message_start', '{}'), 'event: message_start\ndata: {}\n\n');
  assert.equal(encodeSseEvent('x', 'a\nb'), 'event: x\ndata: a\ndata: b\n\n');
  assert.throws(() => encodeSseEvent('bad\nname', '{}'), TypeError);
});

test('encodeSseComment', () => {
  assert.equal(encodeSseComment('keep-alive'), ': keep-alive\n\n');
  assert.equal(encodeSseComment('a\r\nb'), ': a\n: b\n\n');
});

/** Deterministic pseudo-random numbers, so a failure can be reproduced. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const alphabet = ['a', 'Z', '0', ' ', ':', '\n', '\r', '\r\n', '"', '{', '}', 'é', '中', '😀', '𝄞', 'data: ', 'event:', '\uFEFF', '\0'];

test('round trip: encoded data decodes to the same data (line breaks normalised to \\n)', () => {
  const random = rng(42);
  const pick = (n: number): number => Math.floor(random() * n);
  const expected: SseEvent[] = [];
  let wire = ': hello\n\n';
  for (let i = 0; i < 300; i++) {
    let data = '';
    const parts = pick(12);
    for (let j = 0; j < parts; j++) data += alphabet[pick(alphabet.length)] ?? '';
    const named = random() < 0.5;
    wire += named ? encodeSseEvent(`e${i}`, data) : encodeSseData(data);
    if (random() < 0.1) wire += encodeSseComment(`ping ${i}`);
    expected.push({ event: named ? `e${i}` : undefined, data: data.replace(/\r\n|\r|\n/g, '\n'), id: undefined });
  }
  const buf = Buffer.from(wire, 'utf8');
  // Decode in random-sized pieces, several times with different cuts.
  for (let round = 0; round < 20; round++) {
    const events: SseEvent[] = [];
    const decoder = new SseDecoder((e) => events.push(e));
    for (let pos = 0; pos < buf.length; ) {
      const size = 1 + pick(round === 0 ? 1 : 40);
      decoder.push(buf.subarray(pos, pos + size));
      pos += size;
    }
    decoder.end();
    assert.deepEqual(events, expected, `round ${round}`);
  }
});

test('round trip keeps data without line breaks byte-identical', () => {
  for (const data of ['', ' ', '  x', '{"k":"v: w"}', '😀'.repeat(100), 'a:b', '\uFEFFbom']) {
    const events: SseEvent[] = [];
    const decoder = new SseDecoder((e) => events.push(e));
    decoder.push(Buffer.from(encodeSseData(data)));
    decoder.end();
    assert.deepEqual(events, [{ event: undefined, data, id: undefined }]);
  }
});
