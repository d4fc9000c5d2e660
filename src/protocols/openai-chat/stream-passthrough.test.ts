import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SseEvent } from '../../sse/sse-decoder.js';
import { OpenAiStreamPassthrough } from './stream-passthrough.js';

const envelope = '"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m"';
const roleChunk = `{${envelope},"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`;
const contentChunk = (text: string): string => `{${envelope},"choices":[{"index":0,"delta":{"content":${JSON.stringify(text)}},"finish_reason":null}]}`;
const sse = (data: string): SseEvent => ({ event: undefined, data, id: undefined });
const finishChunk = `{${envelope},"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`;

/** An upstream that never reports usage: what was generated is all the estimate has. */
function relay(pieces: string[]): OpenAiStreamPassthrough {
  const passthrough = new OpenAiStreamPassthrough(true, 'test/m');
  passthrough.push(sse(roleChunk));
  for (const piece of pieces) assert.notEqual(passthrough.push(sse(contentChunk(piece))), '');
  passthrough.push(sse(finishChunk));
  passthrough.push(sse('[DONE]'));
  return passthrough;
}

test('generated() holds the text of every content chunk, relayed parsed or by the template', () => {
  const pieces = ['Hello', ', "quoted"', ' \\ back\nslash', ' ünïcødé 🌊', ' and a longer piece of text to pass thirteen characters'];
  const passthrough = relay([...pieces, ...pieces]);
  assert.equal(passthrough.usage, undefined);
  assert.deepEqual(passthrough.generated(), { text: [...pieces, ...pieces].join(''), scale: 1 });
});

test('past the sample limit, generated() scales a kept prefix to the whole answer', () => {
  const pieces = Array.from({ length: 2_000 }, (_, i) => `piece ${String(i).padStart(4, '0')} of text `);
  const total = pieces.join('').length;
  const { text, scale } = relay(pieces).generated();
  assert.ok(text.length >= 16 * 1024 && text.length < 17 * 1024, `kept ${text.length}`);
  assert.ok(pieces.join('').startsWith(text));
  assert.ok(Math.abs(text.length * scale - total) <= 1, `${text.length} x ${scale} != ${total}`);
});
