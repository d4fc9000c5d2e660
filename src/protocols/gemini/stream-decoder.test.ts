import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatEvent } from '../../core/chat-event.js';
import { GatewayError } from '../../core/gateway-error.js';
import { SseDecoder, type SseEvent } from '../../sse/sse-decoder.js';
import { GeminiStreamDecoder } from './stream-decoder.js';

const route = 'google/gemini-test';

/** Our own GenerateContentResponse chunks (shapes as documented; ids and signatures invented). */
const meta = { modelVersion: 'gemini-test-001', responseId: 'resp-1' };
const chunk = (parts: unknown[], extra: object = {}) => ({ candidates: [{ content: { role: 'model', parts }, index: 0, ...extra }], ...meta });
const usage = (prompt: number, candidates: number, extra: object = {}) => ({
  usageMetadata: { promptTokenCount: prompt, candidatesTokenCount: candidates, totalTokenCount: prompt + candidates, ...extra },
});

/** Frames chunks the way Google's servers do (CRLF), then decodes them with Sluice's SSE decoder. */
function sse(chunks: object[]): SseEvent[] {
  const events: SseEvent[] = [];
  const decoder = new SseDecoder((event) => events.push(event));
  decoder.push(Buffer.from(chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`).join('')));
  decoder.end();
  return events;
}

function decode(chunks: object[], decoder = new GeminiStreamDecoder(route)): ChatEvent[] {
  return sse(chunks).flatMap((event) => decoder.push(event));
}

function failure(run: () => unknown): GatewayError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof GatewayError);
    return error;
  }
  assert.fail('expected a GatewayError');
}

test('a CRLF-framed text stream: start, text deltas with usage as it grows, then finish; complete without a terminator', () => {
  const decoder = new GeminiStreamDecoder(route);
  const events = decode(
    [
      { ...chunk([{ text: 'Hel' }]), ...usage(7, 1) },
      { ...chunk([{ text: 'lo\r\nthere' }]), ...usage(7, 3) },
      { ...chunk([{ text: '!' }], { finishReason: 'STOP' }), ...usage(7, 4) },
    ],
    decoder,
  );
  const reported = { input: 7, cacheRead: 0, cacheWrite: 0, output: 4, reasoning: 0, source: 'reported' };
  assert.deepEqual(events, [
    { type: 'start', id: 'resp-1', model: 'gemini-test-001', usage: { ...reported, output: 1 } },
    { type: 'text', text: 'Hel' },
    { type: 'text', text: 'lo\r\nthere' },
    { type: 'usage', usage: { ...reported, output: 3 } },
    { type: 'text', text: '!' },
    { type: 'usage', usage: reported },
    { type: 'finish', reason: 'stop' },
  ]);
  assert.equal(decoder.finished, false);
  assert.equal(decoder.completeWithoutTerminator, true);
});

test('a stream cut before its finishReason is not complete', () => {
  const decoder = new GeminiStreamDecoder(route);
  decode([chunk([{ text: 'partial' }])], decoder);
  assert.equal(decoder.completeWithoutTerminator, false);
});

test('thought parts are reasoning; a signature follows the text of the part that carried it', () => {
  const events = decode([
    chunk([{ text: 'Let me think', thought: true }]),
    chunk([{ text: ' harder.', thought: true, thoughtSignature: 'sig-thought' }]),
    chunk([{ text: 'Answer.' }]),
    { ...chunk([{ text: '', thoughtSignature: 'sig-final' }], { finishReason: 'STOP' }), ...usage(5, 2, { thoughtsTokenCount: 9 }) },
  ]);
  assert.deepEqual(events.slice(1), [
    { type: 'reasoning', text: 'Let me think' },
    { type: 'reasoning', text: ' harder.' },
    { type: 'reasoning-signature', signature: 'sig-thought', family: 'gemini' },
    { type: 'text', text: 'Answer.' },
    { type: 'reasoning-signature', signature: 'sig-final', family: 'gemini' },
    { type: 'usage', usage: { input: 5, cacheRead: 0, cacheWrite: 0, output: 11, reasoning: 9, source: 'reported' } },
    { type: 'finish', reason: 'stop' },
  ]);
});

test('two parallel functionCalls in one chunk: indexes 0 and 1, distinct generated ids, STOP -> tool-calls', () => {
  const events = decode([
    chunk(
      [
        { functionCall: { name: 'weather', args: { city: 'Paris' } }, thoughtSignature: 'sig-call' },
        { functionCall: { name: 'weather', args: { city: 'Rome' } } },
      ],
      { finishReason: 'STOP' },
    ),
  ]);
  const calls = events.filter((e) => e.type === 'tool-call');
  assert.equal(calls.length, 2);
  const [first, second] = calls;
  assert.deepEqual({ ...first, id: undefined }, { type: 'tool-call', index: 0, id: undefined, name: 'weather', argumentsDelta: '{"city":"Paris"}', signature: { family: 'gemini', value: 'sig-call' } });
  assert.deepEqual({ ...second, id: undefined }, { type: 'tool-call', index: 1, id: undefined, name: 'weather', argumentsDelta: '{"city":"Rome"}' });
  assert.match(first?.id ?? '', /^call_[0-9a-f]{24}$/);
  assert.match(second?.id ?? '', /^call_[0-9a-f]{24}$/);
  assert.notEqual(first?.id, second?.id);
  assert.deepEqual(events.at(-1), { type: 'finish', reason: 'tool-calls' });
});

test('parallel functionCalls in separate chunks, each at parts[0], still get indexes 0 and 1', () => {
  const events = decode([
    chunk([{ functionCall: { name: 'lookup', args: { q: 'a' }, id: 'fc-1' }, thoughtSignature: 'sig-1' }]),
    chunk([{ functionCall: { name: 'lookup', args: { q: 'b' }, id: 'fc-2' } }]),
    chunk([{ text: '' }], { finishReason: 'STOP' }),
  ]);
  const calls = events.filter((e) => e.type === 'tool-call');
  assert.deepEqual(calls, [
    { type: 'tool-call', index: 0, id: 'fc-1', name: 'lookup', argumentsDelta: '{"q":"a"}', signature: { family: 'gemini', value: 'sig-1' } },
    { type: 'tool-call', index: 1, id: 'fc-2', name: 'lookup', argumentsDelta: '{"q":"b"}' },
  ]);
  assert.deepEqual(events.at(-1), { type: 'finish', reason: 'tool-calls' });
});

test('a functionCall without args has arguments {}', () => {
  const events = decode([chunk([{ functionCall: { name: 'now' } }], { finishReason: 'STOP' })]);
  assert.equal(events.find((e) => e.type === 'tool-call' && e.argumentsDelta === '{}')?.type, 'tool-call');
});

test('Vertex streamed arguments are assembled and sent when the call closes', () => {
  const events = decode([
    chunk([{ text: 'Planning.', thought: true }]),
    chunk([{ functionCall: { name: 'open_file' }, thoughtSignature: 'sig-a' }]),
    chunk([{ functionCall: { name: 'edit', willContinue: true } }]),
    chunk([{ functionCall: { partialArgs: [{ jsonPath: '$.path', stringValue: 'src/', willContinue: true }], willContinue: true } }]),
    chunk([{ functionCall: { partialArgs: [{ jsonPath: '$.path', stringValue: 'a.ts' }], willContinue: true } }]),
    chunk([{ functionCall: { partialArgs: [{ jsonPath: '$.edits[0].line', numberValue: 3 }, { jsonPath: '$.edits[0].dry', boolValue: false }], willContinue: true } }]),
    chunk([{ functionCall: { partialArgs: [{ jsonPath: "$.edits[1]['new text']", stringValue: 'x"y' }, { jsonPath: '$.note', nullValue: 'NULL_VALUE' }], willContinue: true } }]),
    chunk([{ functionCall: {} }]),
    chunk([{ functionCall: { name: 'edit', willContinue: true } }]),
    chunk([{ functionCall: { partialArgs: [{ jsonPath: '$.path', stringValue: 'b.ts' }], willContinue: true } }]),
    chunk([{ functionCall: {} }]),
    { ...chunk([{ text: '' }], { finishReason: 'STOP' }), ...usage(20, 30, { thoughtsTokenCount: 10 }) },
  ]);
  const calls = events.filter((e) => e.type === 'tool-call');
  assert.deepEqual(
    calls.map(({ index, name, argumentsDelta, signature }) => ({ index, name, argumentsDelta, signature })),
    [
      { index: 0, name: 'open_file', argumentsDelta: '{}', signature: { family: 'gemini', value: 'sig-a' } },
      { index: 1, name: 'edit', argumentsDelta: '', signature: undefined },
      { index: 1, name: undefined, argumentsDelta: '{"path":"src/a.ts","edits":[{"line":3,"dry":false},{"new text":"x\\"y"}],"note":null}', signature: undefined },
      { index: 2, name: 'edit', argumentsDelta: '', signature: undefined },
      { index: 2, name: undefined, argumentsDelta: '{"path":"b.ts"}', signature: undefined },
    ],
  );
  assert.equal(typeof calls[1]?.id, 'string');
  assert.equal(calls[2]?.id, undefined);
  assert.deepEqual(events.at(-1), { type: 'finish', reason: 'tool-calls' });
});

test('a streamed call still open at the finishReason is closed first', () => {
  const events = decode([
    chunk([{ functionCall: { name: 'f', willContinue: true } }]),
    chunk([{ functionCall: { partialArgs: [{ jsonPath: '$.a', numberValue: 1 }], willContinue: true } }], { finishReason: 'STOP' }),
  ]);
  assert.deepEqual(events.slice(-2), [
    { type: 'tool-call', index: 0, argumentsDelta: '{"a":1}' },
    { type: 'finish', reason: 'tool-calls' },
  ]);
});

test('malformed streamed arguments are a protocol error', () => {
  const decoder = new GeminiStreamDecoder(route);
  decode([chunk([{ functionCall: { name: 'f', willContinue: true } }])], decoder);
  const error = failure(() => decode([chunk([{ functionCall: { partialArgs: [{ jsonPath: 'a.b', stringValue: 'x' }], willContinue: true } }])], decoder));
  assert.equal(error.code, 'upstream_protocol_error');
  assert.equal(error.route, route);
  assert.equal(failure(() => decode([chunk([{ functionCall: { partialArgs: [{ jsonPath: '$.a', stringValue: 'x' }] } }])])).code, 'upstream_protocol_error');
  assert.equal(failure(() => decode([chunk([{ functionCall: { name: 'f', args: [1] } }])])).code, 'upstream_protocol_error');
});

test('usage with cached and thoughts tokens; a later unchanged usage chunk adds nothing, a changed one is reported', () => {
  const decoder = new GeminiStreamDecoder(route);
  const cached = usage(1000, 50, { cachedContentTokenCount: 800, thoughtsTokenCount: 120 });
  const events = decode([{ ...chunk([{ text: 'ok' }], { finishReason: 'STOP' }), ...cached }, { ...meta, ...cached }], decoder);
  const expected = { input: 1000, cacheRead: 800, cacheWrite: 0, output: 170, reasoning: 120, source: 'reported' };
  assert.deepEqual(events.filter((e) => e.type === 'usage'), [{ type: 'usage', usage: expected }]);
  const later = decode([{ ...meta, ...usage(1000, 60, { cachedContentTokenCount: 800, thoughtsTokenCount: 120 }) }], decoder);
  assert.deepEqual(later, [{ type: 'usage', usage: { ...expected, output: 180 } }]);
  assert.deepEqual(decode([chunk([{ text: 'late' }])], decoder), [], 'content after the finish is ignored');
});

test('MAX_TOKENS is length, even after a tool call', () => {
  assert.deepEqual(decode([chunk([{ text: 'cut' }], { finishReason: 'MAX_TOKENS' })]).at(-1), { type: 'finish', reason: 'length' });
  const events = decode([chunk([{ functionCall: { name: 'f', args: {} } }], { finishReason: 'MAX_TOKENS' })]);
  assert.deepEqual(events.at(-1), { type: 'finish', reason: 'length' });
});

test('a safety stop and a blocked prompt are content-filter', () => {
  assert.deepEqual(decode([chunk([], { finishReason: 'SAFETY', safetyRatings: [] })]).at(-1), { type: 'finish', reason: 'content-filter' });
  const decoder = new GeminiStreamDecoder(route);
  const events = decode([{ promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, ...usage(12, 0), ...meta }], decoder);
  assert.deepEqual(events.map((e) => e.type), ['start', 'usage', 'finish']);
  assert.deepEqual(events.at(-1), { type: 'finish', reason: 'content-filter' });
  assert.equal(decoder.completeWithoutTerminator, true);
});

test('an in-band error event is an upstream_stream_error with Google status and code', () => {
  const decoder = new GeminiStreamDecoder(route);
  decode([chunk([{ text: 'a' }])], decoder);
  const error = failure(() =>
    decode(
      [{ error: { code: 429, message: 'Quota exceeded', status: 'RESOURCE_EXHAUSTED', details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '2.5s' }] } }],
      decoder,
    ),
  );
  assert.equal(error.code, 'upstream_stream_error');
  assert.equal(error.upstreamType, 'RESOURCE_EXHAUSTED');
  assert.equal(error.upstreamCode, '429');
  assert.equal(error.retryAfter, '3');
  assert.equal(error.route, route);
  assert.match(error.message, /Quota exceeded/);
  assert.equal(failure(() => decode([[{ error: { code: 500, message: 'boom', status: 'INTERNAL' } }]])).upstreamType, 'INTERNAL');
});

test('malformed JSON and non-object events are protocol errors', () => {
  const decoder = new GeminiStreamDecoder(route);
  const error = failure(() => decoder.push({ event: undefined, data: '{"candidates":[', id: undefined }));
  assert.equal(error.code, 'upstream_protocol_error');
  assert.equal(error.route, route);
  assert.equal(failure(() => decoder.push({ event: undefined, data: '42', id: undefined })).code, 'upstream_protocol_error');
  assert.equal(failure(() => decode([chunk(['text'])])).code, 'upstream_protocol_error');
});

test('parts Sluice never asks for are skipped; only candidates[0] is read', () => {
  const events = decode([
    {
      candidates: [
        { content: { role: 'model', parts: [{ executableCode: { code: 'x' } }, { text: 'one' }] }, finishReason: 'STOP' },
        { content: { role: 'model', parts: [{ text: 'two' }] }, finishReason: 'STOP' },
      ],
    },
  ]);
  assert.deepEqual(events, [{ type: 'start' }, { type: 'text', text: 'one' }, { type: 'finish', reason: 'stop' }]);
});
