import assert from 'node:assert/strict';
import { isObject, type JsonObject } from '../../../core/json.js';
import type { SseEvent } from '../../../sse/sse-decoder.js';

/**
 * Hand-written Anthropic streams following the wire format (shared/reference/wire-formats.md §3.3),
 * and a checker for the Anthropic streams Sluice writes (§6).
 */

export function sse(payload: JsonObject, name: string | undefined = String(payload.type)): SseEvent {
  return { event: name, data: JSON.stringify(payload), id: undefined };
}

export function messageStart(usage: JsonObject, id = 'msg_test01', model = 'claude-test-1'): SseEvent {
  return sse({ type: 'message_start', message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage } });
}

export function blockStart(index: number, block: JsonObject): SseEvent {
  return sse({ type: 'content_block_start', index, content_block: block });
}

export function blockDelta(index: number, delta: JsonObject): SseEvent {
  return sse({ type: 'content_block_delta', index, delta });
}

export function blockStop(index: number): SseEvent {
  return sse({ type: 'content_block_stop', index });
}

export function messageDelta(stopReason: string | null, usage: JsonObject, stopSequence: string | null = null): SseEvent {
  return sse({ type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: stopSequence }, usage });
}

export const ping: SseEvent = { event: 'ping', data: '{"type": "ping"}', id: undefined };
export const messageStop: SseEvent = sse({ type: 'message_stop' });

const baseUsage = { input_tokens: 21, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 };

/** Plain text in three deltas. */
export const textStream: SseEvent[] = [
  messageStart(baseUsage),
  blockStart(0, { type: 'text', text: '' }),
  ping,
  blockDelta(0, { type: 'text_delta', text: 'Bonjour' }),
  blockDelta(0, { type: 'text_delta', text: ', le ' }),
  blockDelta(0, { type: 'text_delta', text: 'monde' }),
  blockStop(0),
  messageDelta('end_turn', { output_tokens: 9 }),
  messageStop,
];

/** Thinking with its signature, then two parallel tool calls with arguments in fragments; cache tokens. */
export const thinkingParallelToolsStream: SseEvent[] = [
  messageStart({ input_tokens: 5, cache_creation_input_tokens: 40, cache_read_input_tokens: 2000, output_tokens: 3 }, 'msg_tools01'),
  blockStart(0, { type: 'thinking', thinking: '', signature: '' }),
  blockDelta(0, { type: 'thinking_delta', thinking: 'Two cities, ' }),
  blockDelta(0, { type: 'thinking_delta', thinking: 'two lookups.' }),
  blockDelta(0, { type: 'thinking_delta', thinking: '' }),
  blockDelta(0, { type: 'signature_delta', signature: 'c2lnLW9uZQ==' }),
  blockStop(0),
  blockStart(1, { type: 'tool_use', id: 'toolu_a1', name: 'weather', input: {} }),
  blockDelta(1, { type: 'input_json_delta', partial_json: '' }),
  blockDelta(1, { type: 'input_json_delta', partial_json: '{"city": "Ly' }),
  blockDelta(1, { type: 'input_json_delta', partial_json: 'on"}' }),
  blockStop(1),
  ping,
  blockStart(2, { type: 'tool_use', id: 'toolu_b2', name: 'weather', input: {} }),
  blockDelta(2, { type: 'input_json_delta', partial_json: '{"city"' }),
  blockDelta(2, { type: 'input_json_delta', partial_json: ': "Oslo"}' }),
  blockStop(2),
  messageDelta('tool_use', { output_tokens: 88 }),
  messageStop,
];

/** Cut by max_tokens in the middle of a tool call's JSON: no content_block_stop for it. */
export const maxTokensStream: SseEvent[] = [
  messageStart(baseUsage),
  blockStart(0, { type: 'text', text: 'Writing' }),
  blockDelta(0, { type: 'text_delta', text: ' it.' }),
  blockStop(0),
  blockStart(1, { type: 'tool_use', id: 'toolu_cut', name: 'save', input: {} }),
  blockDelta(1, { type: 'input_json_delta', partial_json: '{"body": "lo' }),
  messageDelta('max_tokens', { output_tokens: 50 }),
  messageStop,
];

/** An in-band error after the stream started. */
export const errorStream: SseEvent[] = [
  messageStart(baseUsage),
  blockStart(0, { type: 'text', text: '' }),
  { event: 'error', data: '{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}', id: undefined },
];

export interface Frame {
  event: string;
  data: JsonObject;
}

/** Splits what an encoder wrote into events, checking the framing on the way. */
export function parseFrames(text: string): Frame[] {
  if (text === '') return [];
  assert.ok(text.endsWith('\n\n'), 'frames end with a blank line');
  return text
    .slice(0, -2)
    .split('\n\n')
    .map((chunk) => {
      const lines = chunk.split('\n');
      assert.equal(lines.length, 2, `one event line and one data line: ${chunk}`);
      const [eventLine = '', dataLine = ''] = lines;
      assert.ok(eventLine.startsWith('event: ') && dataLine.startsWith('data: '), chunk);
      const data: unknown = JSON.parse(dataLine.slice(6));
      assert.ok(isObject(data));
      assert.equal(data.type, eventLine.slice(7), 'the event name is the JSON type');
      return { event: eventLine.slice(7), data };
    });
}

/**
 * The §6 assertions on an Anthropic stream written by Sluice, and the message an SDK would
 * accumulate from it: one message_start first, blocks with consecutive indices, every delta on the
 * open block and of its type, every block closed, one message_delta, message_stop last.
 */
export function accumulate(frames: Frame[]): JsonObject {
  const [first, ...rest] = frames;
  assert.equal(first?.event, 'message_start');
  const message = { ...(first.data.message as JsonObject) };
  assert.deepEqual(message.content, []);
  assert.equal(message.stop_reason, null);
  assertUsageObject(message.usage);
  const content: JsonObject[] = [];
  let open: JsonObject | undefined;
  let sawDelta = false;
  for (const [i, { event, data }] of rest.entries()) {
    switch (event) {
      case 'content_block_start': {
        assert.equal(open, undefined, 'the previous block was closed');
        assert.equal(data.index, content.length, 'block indices are consecutive from 0');
        open = { ...(data.content_block as JsonObject) };
        if (open.type === 'tool_use') {
          assert.deepEqual(open.input, {});
          open.partial = '';
        }
        content.push(open);
        break;
      }
      case 'content_block_delta': {
        assert.ok(open !== undefined, 'a delta targets an open block');
        assert.equal(data.index, content.length - 1, 'a delta targets the open block');
        const delta = data.delta as JsonObject;
        const expected = { text_delta: ['text'], thinking_delta: ['thinking'], signature_delta: ['thinking'], input_json_delta: ['tool_use'] }[String(delta.type)];
        assert.ok(expected?.includes(String(open.type)), `${String(delta.type)} in a ${String(open.type)} block`);
        if (delta.type === 'text_delta') open.text = String(open.text) + String(delta.text);
        if (delta.type === 'thinking_delta') open.thinking = String(open.thinking) + String(delta.thinking);
        if (delta.type === 'signature_delta') open.signature = delta.signature;
        if (delta.type === 'input_json_delta') open.partial = String(open.partial) + String(delta.partial_json);
        break;
      }
      case 'content_block_stop':
        assert.ok(open !== undefined && data.index === content.length - 1, 'a stop closes the open block');
        if (open.type === 'tool_use') {
          open.input = open.partial === '' ? {} : JSON.parse(String(open.partial));
          delete open.partial;
        }
        open = undefined;
        break;
      case 'message_delta': {
        assert.equal(open, undefined, 'every block is closed before message_delta');
        assert.equal(sawDelta, false, 'one message_delta');
        sawDelta = true;
        const delta = data.delta as JsonObject;
        assert.equal(typeof delta.stop_reason, 'string');
        message.stop_reason = delta.stop_reason;
        message.stop_sequence = delta.stop_sequence;
        assertUsageObject(data.usage);
        message.usage = data.usage;
        break;
      }
      case 'message_stop':
        assert.equal(i, rest.length - 1, 'message_stop is last');
        break;
      default:
        assert.fail(`unexpected event ${event}`);
    }
  }
  assert.equal(rest.at(-1)?.event, 'message_stop');
  assert.ok(sawDelta, 'a message_delta was sent');
  message.content = content;
  return message;
}

function assertUsageObject(usage: unknown): void {
  assert.ok(isObject(usage));
  for (const key of ['input_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens', 'output_tokens']) {
    assert.ok(Number.isInteger(usage[key]), `usage.${key} is an integer`);
  }
}
