import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeGeminiRequest } from './request-encode.js';
import { decodeGeminiResponse } from './response.js';

/** What Gemini answered, read by Sluice and replayed as history, is what Gemini wants back. */
function replay(parts: object[]): unknown {
  const answer = decodeGeminiResponse({ candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP' }] }, 'g/m');
  const body = JSON.parse(
    encodeGeminiRequest(
      {
        model: 'm',
        system: [],
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'q' }] },
          { role: 'assistant', content: answer.content },
        ],
        tools: [],
        stopSequences: [],
        stream: false,
        includeUsage: false,
      },
      { model: 'gemini-x' },
    ),
  ) as { contents: { parts: unknown[] }[] };
  return body.contents[1]?.parts;
}

test('signed thoughts, signed text and signed function calls come back where Gemini put them', () => {
  const parts = [
    { text: 'Thinking it over.', thought: true, thoughtSignature: 'sig-1' },
    { text: 'Here goes.', thoughtSignature: 'sig-2' },
    { functionCall: { name: 'search', args: { q: 'x', n: 2 } }, thoughtSignature: 'sig-3' },
    { functionCall: { name: 'search', args: { q: 'y', n: 2 } } },
  ];
  assert.deepEqual(replay(parts), parts);
});

test('a signature on an empty closing text part comes back on the text it followed', () => {
  assert.deepEqual(replay([{ text: 'Done.' }, { text: '', thoughtSignature: 'sig-end' }]), [{ text: 'Done.', thoughtSignature: 'sig-end' }]);
});
