import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../core/gateway-error.js';
import { decodeGeminiResponse } from './response.js';

const route = 'google/gemini-test';

test('a whole answer: thought, text with its signature, usage, id and model', () => {
  const response = decodeGeminiResponse(
    {
      candidates: [
        {
          content: {
            role: 'model',
            parts: [
              { text: 'Counting letters.', thought: true },
              { text: 'Three.', thoughtSignature: 'sig-text' },
            ],
          },
          finishReason: 'STOP',
          index: 0,
        },
      ],
      usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 3, thoughtsTokenCount: 40, cachedContentTokenCount: 4, totalTokenCount: 53 },
      modelVersion: 'gemini-test-001',
      responseId: 'resp-9',
    },
    route,
  );
  assert.deepEqual(response, {
    id: 'resp-9',
    model: 'gemini-test-001',
    content: [
      { type: 'reasoning', text: 'Counting letters.' },
      { type: 'text', text: 'Three.' },
      { type: 'reasoning', text: '', signature: { family: 'gemini', value: 'sig-text' } },
    ],
    finishReason: 'stop',
    usage: { input: 10, cacheRead: 4, cacheWrite: 0, output: 43, reasoning: 40, source: 'reported' },
  });
});

test('a signed thought keeps its signature on the reasoning part', () => {
  const response = decodeGeminiResponse({ candidates: [{ content: { parts: [{ text: 'hmm', thought: true, thoughtSignature: 's' }, { text: 'ok' }] }, finishReason: 'STOP' }] }, route);
  assert.deepEqual(response.content, [
    { type: 'reasoning', text: 'hmm', signature: { family: 'gemini', value: 's' } },
    { type: 'text', text: 'ok' },
  ]);
});

test('function calls: ids, arguments as JSON text, signature, tool-calls finish', () => {
  const response = decodeGeminiResponse(
    {
      candidates: [
        {
          content: {
            parts: [
              { functionCall: { name: 'weather', args: { city: 'Oslo' } }, thoughtSignature: 'sig-fc' },
              { functionCall: { name: 'time', id: 'fc-7' } },
            ],
          },
          finishReason: 'STOP',
        },
      ],
    },
    route,
  );
  const [first, second] = response.content;
  assert.equal(first?.type, 'tool-call');
  assert.equal(second?.type, 'tool-call');
  if (first?.type !== 'tool-call' || second?.type !== 'tool-call') return;
  assert.match(first.id, /^call_/);
  assert.deepEqual({ ...first, id: 'x' }, { type: 'tool-call', id: 'x', name: 'weather', arguments: '{"city":"Oslo"}', signature: { family: 'gemini', value: 'sig-fc' } });
  assert.deepEqual(second, { type: 'tool-call', id: 'fc-7', name: 'time', arguments: '{}' });
  assert.equal(response.finishReason, 'tool-calls');
});

test('MAX_TOKENS, a safety stop and a blocked prompt', () => {
  assert.equal(decodeGeminiResponse({ candidates: [{ content: { parts: [{ text: 'a' }] }, finishReason: 'MAX_TOKENS' }] }, route).finishReason, 'length');
  assert.equal(decodeGeminiResponse({ candidates: [{ finishReason: 'RECITATION' }] }, route).finishReason, 'content-filter');
  const blocked = decodeGeminiResponse({ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 8, totalTokenCount: 8 } }, route);
  assert.deepEqual(blocked, { content: [], finishReason: 'content-filter', usage: { input: 8, cacheRead: 0, cacheWrite: 0, output: 0, reasoning: 0, source: 'reported' } });
});

test('an error body throws upstream_stream_error; a non-object throws upstream_protocol_error', () => {
  assert.throws(
    () => decodeGeminiResponse({ error: { code: 400, message: 'Invalid argument', status: 'INVALID_ARGUMENT' } }, route),
    (error: unknown) => error instanceof GatewayError && error.code === 'upstream_stream_error' && error.upstreamType === 'INVALID_ARGUMENT' && error.upstreamCode === '400' && error.route === route,
  );
  assert.throws(() => decodeGeminiResponse('nope', route), (error: unknown) => error instanceof GatewayError && error.code === 'upstream_protocol_error');
});
