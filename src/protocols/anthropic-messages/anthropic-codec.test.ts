import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '../../core/json.js';
import { anthropicClientCodec, anthropicUpstreamCodec } from './anthropic-codec.js';
import { accumulate, parseFrames, thinkingParallelToolsStream } from './test-support/stream-fixtures.js';

test('client codec: request in, stream and whole answers out', () => {
  const request = anthropicClientCodec.decodeRequest({ model: 'public', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }], stream: true });
  assert.equal(request.stream, true);
  const encoder = anthropicClientCodec.createStreamEncoder({ model: 'public', includeUsage: false, estimatedInputTokens: 3 });
  const message = accumulate(parseFrames(encoder.push({ type: 'text', text: 'yo' }) + encoder.finish()));
  assert.equal(message.model, 'public');
  const body = JSON.parse(anthropicClientCodec.encodeResponse({ content: [{ type: 'text', text: 'yo' }], finishReason: 'stop' }, { model: 'public' })) as JsonObject;
  assert.equal(body.stop_reason, 'end_turn');
});

test('upstream codec: request out, stream and whole answers in', () => {
  const request = anthropicClientCodec.decodeRequest({ model: 'public', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
  assert.equal((JSON.parse(anthropicUpstreamCodec.encodeRequest(request, { model: 'claude-x' })) as JsonObject).model, 'claude-x');
  const decoder = anthropicUpstreamCodec.createStreamDecoder('anthropic/claude-x');
  const events = thinkingParallelToolsStream.flatMap((event) => decoder.push(event));
  assert.equal(events.filter((event) => event.type === 'tool-call' && event.id !== undefined).length, 2);
  assert.equal(decoder.finished, true);
  const response = anthropicUpstreamCodec.decodeResponse({ type: 'message', content: [{ type: 'text', text: 'a' }], stop_reason: 'end_turn' }, 'anthropic/claude-x');
  assert.equal(response.finishReason, 'stop');
});
