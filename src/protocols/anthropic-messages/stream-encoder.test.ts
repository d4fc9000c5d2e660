import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatEvent } from '../../core/chat-event.js';
import { GatewayError } from '../../core/gateway-error.js';
import type { JsonObject } from '../../core/json.js';
import type { Usage } from '../../core/usage.js';
import { AnthropicStreamDecoder } from './stream-decoder.js';
import { anthropicPingFrame, AnthropicStreamEncoder } from './stream-encoder.js';
import { accumulate, maxTokensStream, parseFrames, textStream, thinkingParallelToolsStream, type Frame } from './test-support/stream-fixtures.js';

const options = { model: 'public-model', includeUsage: false };
const usage = (input: number, output: number, cacheRead = 0, cacheWrite = 0): Usage => ({ input, cacheRead, cacheWrite, output, reasoning: 0, source: 'reported' });

function encode(events: ChatEvent[], streamOptions: { model: string; includeUsage: boolean; estimatedInputTokens?: number } = options): Frame[] {
  const encoder = new AnthropicStreamEncoder(streamOptions);
  let out = '';
  for (const event of events) out += encoder.push(event);
  out += encoder.finish();
  assert.equal(encoder.finish(), '', 'finish is written once');
  return parseFrames(out);
}

test('text: message_start with the public model and the upstream id, one text block, message_delta, message_stop', () => {
  const frames = encode([
    { type: 'start', id: 'chatcmpl-1', model: 'gpt-upstream', usage: usage(30, 0) },
    { type: 'text', text: '' },
    { type: 'text', text: 'Hel' },
    { type: 'text', text: 'lo' },
    { type: 'usage', usage: usage(30, 4) },
    { type: 'finish', reason: 'stop' },
  ]);
  assert.deepEqual(frames.map((f) => f.event), ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
  assert.deepEqual(accumulate(frames), {
    id: 'chatcmpl-1', type: 'message', role: 'assistant', model: 'public-model',
    content: [{ type: 'text', text: 'Hello' }],
    stop_reason: 'end_turn', stop_sequence: null,
    usage: { input_tokens: 30, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 4 },
  });
  assert.deepEqual(frames[1]?.data, { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
});

test('no start event: a msg_ id and the estimated input tokens; an empty answer is still a whole stream', () => {
  const frames = encode([], { ...options, estimatedInputTokens: 12 });
  const message = accumulate(frames);
  assert.match(String(message.id), /^msg_[0-9a-f]{24}$/);
  assert.deepEqual((frames[0]?.data.message as JsonObject).usage, { input_tokens: 12, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 });
  assert.deepEqual(message.content, []);
  assert.equal(message.stop_reason, 'end_turn');
  assert.deepEqual(message.usage, { input_tokens: 12, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 });
  const first = new AnthropicStreamEncoder(options).push({ type: 'text', text: 'x' });
  assert.deepEqual(parseFrames(first).map((f) => f.event), ['message_start', 'content_block_start', 'content_block_delta']);
});

test('thinking with an Anthropic signature, then tool calls; cache usage back in Anthropic counters', () => {
  const message = accumulate(encode([
    { type: 'start', id: 'msg_x', usage: usage(2045, 3, 2000, 40) },
    { type: 'reasoning', text: 'Think' },
    { type: 'reasoning', text: 'ing.' },
    { type: 'reasoning-signature', signature: 'c2ln', family: 'anthropic' },
    { type: 'reasoning', text: 'Second thought.' },
    { type: 'tool-call', index: 0, id: 'toolu_1', name: 'weather', argumentsDelta: '' },
    { type: 'tool-call', index: 0, argumentsDelta: '{"city":' },
    { type: 'tool-call', index: 0, argumentsDelta: '"Lyon"}' },
    { type: 'usage', usage: usage(2045, 70, 2000, 40) },
    { type: 'finish', reason: 'tool-calls' },
  ]));
  assert.deepEqual(message.content, [
    { type: 'thinking', thinking: 'Thinking.', signature: 'c2ln' },
    { type: 'thinking', thinking: 'Second thought.', signature: '' },
    { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Lyon' } },
  ]);
  assert.equal(message.stop_reason, 'tool_use');
  assert.deepEqual(message.usage, { input_tokens: 5, cache_creation_input_tokens: 40, cache_read_input_tokens: 2000, output_tokens: 70 });
});

test("other families' signatures and redacted reasoning are never shown; Anthropic's redacted thinking is a block", () => {
  const frames = encode([
    { type: 'reasoning', text: 'a' },
    { type: 'reasoning-signature', signature: 'openai-enc', family: 'openai' },
    { type: 'reasoning', text: 'b' },
    { type: 'redacted-reasoning', data: 'Z2Vt', family: 'gemini' },
    { type: 'redacted-reasoning', data: 'ZW5j', family: 'anthropic' },
    { type: 'reasoning-signature', signature: 'sig-only', family: 'anthropic' },
    { type: 'text', text: 'done' },
  ]);
  assert.ok(!JSON.stringify(frames).includes('openai-enc'));
  assert.ok(!JSON.stringify(frames).includes('Z2Vt'));
  assert.deepEqual(accumulate(frames).content, [
    { type: 'thinking', thinking: 'a', signature: '' },
    { type: 'thinking', thinking: 'b', signature: '' },
    { type: 'redacted_thinking', data: 'ZW5j' },
    { type: 'thinking', thinking: '', signature: 'sig-only' },
    { type: 'text', text: 'done' },
  ]);
});

test('sequential parallel calls: the first streams live, the next is written whole when the block ends', () => {
  const encoder = new AnthropicStreamEncoder(options);
  const live = parseFrames(encoder.push({ type: 'tool-call', index: 0, id: 'call_a', name: 'weather', argumentsDelta: '{"city"' }) + encoder.push({ type: 'tool-call', index: 0, argumentsDelta: ':"Lyon"}' }));
  assert.deepEqual(live.map((f) => f.event), ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta']);
  assert.equal(encoder.push({ type: 'tool-call', index: 1, id: 'call_b', name: 'clock', argumentsDelta: '' }), '');
  assert.equal(encoder.push({ type: 'tool-call', index: 1, argumentsDelta: '{"tz":"CET"}' }), '');
  const rest = parseFrames(encoder.push({ type: 'finish', reason: 'stop' }) + encoder.finish());
  const message = accumulate([...live, ...rest]);
  assert.deepEqual(message.content, [
    { type: 'tool_use', id: 'call_a', name: 'weather', input: { city: 'Lyon' } },
    { type: 'tool_use', id: 'call_b', name: 'clock', input: { tz: 'CET' } },
  ]);
  assert.equal(message.stop_reason, 'tool_use', 'finish_reason "stop" with tool calls is still tool_use for an Anthropic client');
});

test('interleaved fragments of parallel calls land in the right blocks', () => {
  const message = accumulate(encode([
    { type: 'tool-call', index: 0, id: 'call_a', name: 'weather', argumentsDelta: '' },
    { type: 'tool-call', index: 1, id: 'call_b', name: 'weather', argumentsDelta: '{"ci' },
    { type: 'tool-call', index: 2, id: 'call_c', name: 'clock', argumentsDelta: '' },
    { type: 'tool-call', index: 0, argumentsDelta: '{"city":"Lyon"}' },
    { type: 'tool-call', index: 1, argumentsDelta: 'ty":"Oslo"}' },
    { type: 'text', text: 'Looking both up.' },
    { type: 'finish', reason: 'tool-calls' },
  ]));
  assert.deepEqual(message.content, [
    { type: 'tool_use', id: 'call_a', name: 'weather', input: { city: 'Lyon' } },
    { type: 'tool_use', id: 'call_b', name: 'weather', input: { city: 'Oslo' } },
    { type: 'tool_use', id: 'call_c', name: 'clock', input: {} },
    { type: 'text', text: 'Looking both up.' },
  ]);
});

test('arguments for a call whose block was already written fail the stream instead of being lost', () => {
  const encoder = new AnthropicStreamEncoder(options);
  encoder.push({ type: 'tool-call', index: 0, id: 'call_a', name: 'weather', argumentsDelta: '{' });
  encoder.push({ type: 'text', text: 'meanwhile' });
  assert.throws(() => encoder.push({ type: 'tool-call', index: 0, argumentsDelta: '}' }), (error: unknown) => error instanceof GatewayError && error.code === 'upstream_protocol_error');
});

test('a tool call without an id gets a toolu_ id', () => {
  const message = accumulate(encode([{ type: 'tool-call', index: 0, name: 'clock', argumentsDelta: '' }]));
  assert.match(String((message.content as JsonObject[])[0]?.id), /^toolu_[0-9a-f]{24}$/);
});

test('finish reasons: stop sequence, length, content filter, none given', () => {
  const reasonOf = (events: ChatEvent[]) => {
    const message = accumulate(encode([{ type: 'text', text: 'x' }, ...events]));
    return [message.stop_reason, message.stop_sequence];
  };
  assert.deepEqual(reasonOf([{ type: 'finish', reason: 'stop-sequence', stopSequence: '###' }]), ['stop_sequence', '###']);
  assert.deepEqual(reasonOf([{ type: 'finish', reason: 'length' }]), ['max_tokens', null]);
  assert.deepEqual(reasonOf([{ type: 'finish', reason: 'content-filter' }]), ['refusal', null]);
  assert.deepEqual(reasonOf([{ type: 'finish', reason: 'context-exceeded' }]), ['model_context_window_exceeded', null]);
  assert.deepEqual(reasonOf([]), ['end_turn', null]);
});

test('the ping frame', () => {
  assert.equal(anthropicPingFrame, 'event: ping\ndata: {"type":"ping"}\n\n');
});

test('Anthropic stream -> neutral -> Anthropic stream gives back the same message', () => {
  const replay = (events: typeof textStream) => {
    const decoder = new AnthropicStreamDecoder('anthropic/claude-test');
    const encoder = new AnthropicStreamEncoder({ ...options, model: 'claude-test-1' });
    let out = '';
    for (const event of events) for (const neutral of decoder.push(event)) out += encoder.push(neutral);
    return accumulate(parseFrames(out + encoder.finish()));
  };
  assert.deepEqual(replay(textStream), {
    id: 'msg_test01', type: 'message', role: 'assistant', model: 'claude-test-1', content: [{ type: 'text', text: 'Bonjour, le monde' }],
    stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 21, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 9 },
  });
  const tools = replay(thinkingParallelToolsStream);
  assert.deepEqual(tools.content, [
    { type: 'thinking', thinking: 'Two cities, two lookups.', signature: 'c2lnLW9uZQ==' },
    { type: 'tool_use', id: 'toolu_a1', name: 'weather', input: { city: 'Lyon' } },
    { type: 'tool_use', id: 'toolu_b2', name: 'weather', input: { city: 'Oslo' } },
  ]);
  assert.deepEqual(tools.usage, { input_tokens: 5, cache_creation_input_tokens: 40, cache_read_input_tokens: 2000, output_tokens: 88 });
  assert.equal(tools.stop_reason, 'tool_use');
  // Cut mid-JSON: the neutral stream cannot close the block any better than the upstream did,
  // so the partial arguments are what the client gets, marked max_tokens.
  const decoder = new AnthropicStreamDecoder('r');
  const encoder = new AnthropicStreamEncoder(options);
  let out = '';
  for (const event of maxTokensStream) for (const neutral of decoder.push(event)) out += encoder.push(neutral);
  const frames = parseFrames(out + encoder.finish());
  assert.equal((frames.at(-2)?.data.delta as JsonObject).stop_reason, 'max_tokens');
});
