import { test } from 'node:test';
import assert from 'node:assert/strict';
import { geminiPath, geminiUpstreamCodec } from './gemini-codec.js';
import { GeminiStreamDecoder } from './stream-decoder.js';

test('paths for streaming and whole answers', () => {
  assert.equal(geminiPath('gemini-2.5-flash', true), '/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
  assert.equal(geminiPath('gemini-2.5-flash', false), '/models/gemini-2.5-flash:generateContent');
});

test('a models/ prefix is not doubled; separators in the name are encoded', () => {
  assert.equal(geminiPath('models/gemini-3-pro-preview', false), '/models/gemini-3-pro-preview:generateContent');
  assert.equal(geminiPath('odd:name/x', false), '/models/odd%3Aname%2Fx:generateContent');
});

test('the codec wires the encoder and both decoders', () => {
  assert.ok(geminiUpstreamCodec.createStreamDecoder('g/m') instanceof GeminiStreamDecoder);
  const body = JSON.parse(
    geminiUpstreamCodec.encodeRequest(
      { model: 'm', system: [], messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], tools: [], stopSequences: [], stream: true, includeUsage: false },
      { model: 'gemini-x' },
    ),
  ) as Record<string, unknown>;
  assert.deepEqual(body, { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] });
  assert.equal(geminiUpstreamCodec.decodeResponse({ candidates: [{ content: { parts: [{ text: 'yo' }] }, finishReason: 'STOP' }] }, 'g/m').finishReason, 'stop');
});
