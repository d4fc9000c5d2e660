import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dropUnsignedThinking } from './unsigned-thinking.js';

test('removes thinking blocks without a signature from assistant history, keeps everything else', () => {
  const body = {
    model: 'm',
    vendor_field: { keep: true },
    messages: [
      { role: 'user', content: 'hi' },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'from another family' },
          { type: 'thinking', thinking: 'also foreign', signature: '' },
          { type: 'thinking', thinking: 'signed', signature: 'EqQB' },
          { type: 'tool_use', id: 'toolu_1', name: 'f', input: {} },
        ],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'ok' }] },
    ],
  };
  const cleaned = dropUnsignedThinking(body);
  assert.deepEqual(cleaned.vendor_field, { keep: true });
  assert.deepEqual((cleaned.messages as { content: unknown }[])[1]?.content, [
    { type: 'thinking', thinking: 'signed', signature: 'EqQB' },
    { type: 'tool_use', id: 'toolu_1', name: 'f', input: {} },
  ]);
  assert.deepEqual(body.messages[1]?.content.length, 4, 'the client body is not mutated');
});

test('returns the same object when nothing needs removing', () => {
  const body = { model: 'm', messages: [{ role: 'assistant', content: [{ type: 'thinking', thinking: 't', signature: 's' }] }] };
  assert.equal(dropUnsignedThinking(body), body);
});
