import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatEvent } from '../../core/chat-event.js';
import { GatewayError } from '../../core/gateway-error.js';
import type { SseEvent } from '../../sse/sse-decoder.js';
import { AnthropicStreamDecoder } from './stream-decoder.js';
import {
  blockDelta, blockStart, blockStop, errorStream, maxTokensStream, messageDelta, messageStart, messageStop, sse, textStream, thinkingParallelToolsStream,
} from './test-support/stream-fixtures.js';

function decode(events: SseEvent[]): { events: ChatEvent[]; decoder: AnthropicStreamDecoder } {
  const decoder = new AnthropicStreamDecoder('anthropic/claude-test');
  return { events: events.flatMap((event) => decoder.push(event)), decoder };
}

function failure(events: SseEvent[]): GatewayError {
  try {
    decode(events);
  } catch (error) {
    assert.ok(error instanceof GatewayError);
    return error;
  }
  assert.fail('expected a failure');
}

test('text stream: start, text deltas, usage, finish; message_stop finishes', () => {
  const { events, decoder } = decode(textStream);
  assert.deepEqual(events, [
    { type: 'start', id: 'msg_test01', model: 'claude-test-1', usage: { input: 21, cacheRead: 0, cacheWrite: 0, output: 1, reasoning: 0, source: 'reported' } },
    { type: 'text', text: 'Bonjour' },
    { type: 'text', text: ', le ' },
    { type: 'text', text: 'monde' },
    { type: 'usage', usage: { input: 21, cacheRead: 0, cacheWrite: 0, output: 9, reasoning: 0, source: 'reported' } },
    { type: 'finish', reason: 'stop' },
  ]);
  assert.equal(decoder.finished, true);
  assert.equal(decoder.completeWithoutTerminator, false);
  assert.deepEqual(decoder.push(messageStop), [], 'nothing after the terminator');
});

test('thinking with signature, then parallel tool calls in fragments; cache tokens normalised', () => {
  const { events } = decode(thinkingParallelToolsStream);
  assert.deepEqual(events, [
    { type: 'start', id: 'msg_tools01', model: 'claude-test-1', usage: { input: 2045, cacheRead: 2000, cacheWrite: 40, output: 3, reasoning: 0, source: 'reported' } },
    { type: 'reasoning', text: 'Two cities, ' },
    { type: 'reasoning', text: 'two lookups.' },
    { type: 'reasoning-signature', signature: 'c2lnLW9uZQ==', family: 'anthropic' },
    { type: 'tool-call', index: 0, id: 'toolu_a1', name: 'weather', argumentsDelta: '' },
    { type: 'tool-call', index: 0, argumentsDelta: '{"city": "Ly' },
    { type: 'tool-call', index: 0, argumentsDelta: 'on"}' },
    { type: 'tool-call', index: 1, id: 'toolu_b2', name: 'weather', argumentsDelta: '' },
    { type: 'tool-call', index: 1, argumentsDelta: '{"city"' },
    { type: 'tool-call', index: 1, argumentsDelta: ': "Oslo"}' },
    { type: 'usage', usage: { input: 2045, cacheRead: 2000, cacheWrite: 40, output: 88, reasoning: 0, source: 'reported' } },
    { type: 'finish', reason: 'tool-calls' },
  ]);
});

test('max_tokens in the middle of tool JSON: the fragments so far, then length', () => {
  const { events, decoder } = decode(maxTokensStream);
  assert.deepEqual(events.slice(1), [
    { type: 'text', text: 'Writing' },
    { type: 'text', text: ' it.' },
    { type: 'tool-call', index: 0, id: 'toolu_cut', name: 'save', argumentsDelta: '' },
    { type: 'tool-call', index: 0, argumentsDelta: '{"body": "lo' },
    { type: 'usage', usage: { input: 21, cacheRead: 0, cacheWrite: 0, output: 50, reasoning: 0, source: 'reported' } },
    { type: 'finish', reason: 'length' },
  ]);
  assert.equal(decoder.finished, true);
});

test('redacted thinking, stop sequences, message_delta usage overwriting start usage', () => {
  const { events } = decode([
    messageStart({ input_tokens: 10, cache_read_input_tokens: 5, output_tokens: 1 }),
    blockStart(0, { type: 'redacted_thinking', data: 'ZW5jcnlwdGVk' }),
    blockStop(0),
    blockStart(1, { type: 'thinking', thinking: 'pre-filled', signature: 'c2ln' }),
    blockStop(1),
    messageDelta('stop_sequence', { input_tokens: 12, output_tokens: 30, output_tokens_details: { thinking_tokens: 20 } }, '###'),
    messageStop,
  ]);
  assert.deepEqual(events.slice(1), [
    { type: 'redacted-reasoning', data: 'ZW5jcnlwdGVk', family: 'anthropic' },
    { type: 'reasoning', text: 'pre-filled' },
    { type: 'reasoning-signature', signature: 'c2ln', family: 'anthropic' },
    { type: 'usage', usage: { input: 17, cacheRead: 5, cacheWrite: 0, output: 30, reasoning: 20, source: 'reported' } },
    { type: 'finish', reason: 'stop-sequence', stopSequence: '###' },
  ]);
});

test('server tool blocks and citations are ignored, their deltas too; tool indices stay dense', () => {
  const { events } = decode([
    messageStart({ input_tokens: 1, output_tokens: 1 }),
    blockStart(0, { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} }),
    blockDelta(0, { type: 'input_json_delta', partial_json: '{"query":"x"}' }),
    blockStop(0),
    blockStart(1, { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [] }),
    blockStop(1),
    blockStart(2, { type: 'text', text: '' }),
    blockDelta(2, { type: 'citations_delta', citation: { type: 'web_search_result_location', cited_text: 'x' } }),
    blockDelta(2, { type: 'text_delta', text: 'Found it.' }),
    blockDelta(2, { type: 'input_json_delta', partial_json: '{}' }),
    blockStop(2),
    blockStart(3, { type: 'tool_use', id: 'toolu_1', name: 'save', input: {} }),
    blockStop(3),
    sse({ type: 'brand_new_event', x: 1 }),
    messageDelta(null, { output_tokens: 3 }),
    messageDelta('pause_turn', { output_tokens: 4 }),
  ]);
  assert.deepEqual(events.slice(1), [
    { type: 'text', text: 'Found it.' },
    { type: 'tool-call', index: 0, id: 'toolu_1', name: 'save', argumentsDelta: '' },
    { type: 'usage', usage: { input: 1, cacheRead: 0, cacheWrite: 0, output: 3, reasoning: 0, source: 'reported' } },
    { type: 'usage', usage: { input: 1, cacheRead: 0, cacheWrite: 0, output: 4, reasoning: 0, source: 'reported' } },
    { type: 'finish', reason: 'pause' },
  ]);
});

test('the JSON type decides, an event line is not needed', () => {
  const { events } = decode([sse({ type: 'message_start', message: { id: 'msg_1', usage: { input_tokens: 2 } } }, undefined), sse({ type: 'message_stop' }, 'whatever')]);
  assert.equal(events[0]?.type, 'start');
});

test('in-band errors keep the upstream type', () => {
  const error = failure(errorStream);
  assert.equal(error.code, 'upstream_stream_error');
  assert.equal(error.upstreamType, 'overloaded_error');
  assert.equal(error.route, 'anthropic/claude-test');
  assert.match(error.message, /Overloaded/);
  const typed = failure([sse({ type: 'error', error: { type: 'api_error', message: 'boom' } }, undefined)]);
  assert.equal(typed.code, 'upstream_stream_error');
  assert.equal(typed.upstreamType, 'api_error');
  const garbled = failure([{ event: 'error', data: 'not json', id: undefined }]);
  assert.equal(garbled.code, 'upstream_stream_error');
  assert.match(garbled.message, /not json/);
});

test('malformed frames are protocol errors', () => {
  for (const bad of [
    { event: 'content_block_delta', data: '{"type":"content_block_delta","index":0,', id: undefined },
    { event: 'message_start', data: '[1]', id: undefined },
  ]) {
    const error = failure([bad]);
    assert.equal(error.code, 'upstream_protocol_error');
    assert.equal(error.route, 'anthropic/claude-test');
  }
  assert.equal(failure([messageStart({}), blockDelta(4, { type: 'text_delta', text: 'x' })]).code, 'upstream_protocol_error');
  assert.equal(failure([messageStart({}), sse({ type: 'content_block_start', content_block: { type: 'text', text: '' } })]).code, 'upstream_protocol_error');
});

test('a repeated message_start is ignored: the first one stands', () => {
  const { events } = decode([messageStart({ input_tokens: 4 }, 'msg_first'), messageStart({ input_tokens: 9 }, 'msg_second'), blockStart(0, { type: 'text', text: 'x' })]);
  assert.deepEqual(events.map((event) => event.type), ['start', 'text']);
  assert.equal(events[0]?.type === 'start' ? events[0].id : undefined, 'msg_first');
});
