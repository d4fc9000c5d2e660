import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../core/gateway-error.js';
import type { SseEvent } from '../../sse/sse-decoder.js';
import { AnthropicStreamPassthrough } from './stream-passthrough.js';
import { blockDelta, blockStart, errorStream, messageStart, ping, sse, textStream, thinkingParallelToolsStream } from './test-support/stream-fixtures.js';

const route = 'anthropic/claude-test';

function raw(event: string | undefined, data: string): SseEvent {
  return { event, data, id: undefined };
}

test('events pass through with their data untouched; message_start shows the public model', () => {
  const passthrough = new AnthropicStreamPassthrough('public-model', route);
  const padded = raw('content_block_delta', '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}        ');
  const out = [
    passthrough.push(raw('message_start', '{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-upstream","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":21,"cache_read_input_tokens":100,"output_tokens":1,"service_tier":"standard"}}}   ')),
    passthrough.push(ping),
    passthrough.push(raw('content_block_start', '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}')),
    passthrough.push(padded),
    passthrough.push(ping),
    passthrough.push(raw('brand_new_event', '{"type":"brand_new_event","future":true}')),
    passthrough.push(raw('content_block_stop', '{"type":"content_block_stop","index":0 }')),
    passthrough.push(raw('message_delta', '{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null,"stop_details":null},"usage":{"output_tokens":9}}')),
    passthrough.push(raw('message_stop', '{"type":"message_stop"}')),
  ];
  assert.deepEqual(JSON.parse(out[0]?.split('\n')[1]?.slice(6) ?? ''), {
    type: 'message_start',
    message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'public-model', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 21, cache_read_input_tokens: 100, output_tokens: 1, service_tier: 'standard' } },
  });
  assert.ok(out[0]?.startsWith('event: message_start\ndata: '));
  assert.equal(out[1], '', 'a ping before content is dropped: the relay has its own keep-alives');
  assert.equal(out[3], `event: content_block_delta\ndata: ${padded.data}\n\n`);
  assert.equal(out[4], 'event: ping\ndata: {"type": "ping"}\n\n');
  assert.equal(out[5], 'event: brand_new_event\ndata: {"type":"brand_new_event","future":true}\n\n');
  assert.equal(out[6], 'event: content_block_stop\ndata: {"type":"content_block_stop","index":0 }\n\n');
  assert.match(out[7] ?? '', /"stop_details":null/);
  assert.equal(out[8], 'event: message_stop\ndata: {"type":"message_stop"}\n\n');
  assert.equal(passthrough.finished, true);
  assert.equal(passthrough.completeWithoutTerminator, false);
  assert.equal(passthrough.closingFrames(), '');
  assert.deepEqual(passthrough.finishReasons, ['end_turn']);
  assert.deepEqual(passthrough.usage, { input: 121, cacheRead: 100, cacheWrite: 0, output: 9, reasoning: 0, source: 'reported' });
  assert.equal(passthrough.push(raw('message_stop', '{"type":"message_stop"}')), '', 'nothing after the terminator');
});

test('the commit point: the first non-empty text, thinking or tool input, or a block that is content by itself', () => {
  const sawContentAfter = (events: SseEvent[]) => {
    const passthrough = new AnthropicStreamPassthrough('p', route);
    for (const event of events) passthrough.push(event);
    return passthrough.sawContent;
  };
  const start = messageStart({ input_tokens: 1, output_tokens: 1 });
  assert.equal(sawContentAfter([start, blockStart(0, { type: 'text', text: '' }), blockDelta(0, { type: 'text_delta', text: '' })]), false);
  assert.equal(sawContentAfter([start, blockStart(0, { type: 'thinking', thinking: '', signature: '' }), blockDelta(0, { type: 'signature_delta', signature: 's' })]), false);
  assert.equal(sawContentAfter([start, blockStart(0, { type: 'text', text: '' }), blockDelta(0, { type: 'text_delta', text: 'a' })]), true);
  assert.equal(sawContentAfter([start, blockStart(0, { type: 'thinking', thinking: '' }), blockDelta(0, { type: 'thinking_delta', thinking: 'b' })]), true);
  assert.equal(sawContentAfter([start, blockStart(0, { type: 'text', text: 'prefilled' })]), true);
  assert.equal(sawContentAfter([start, blockStart(0, { type: 'tool_use', id: 't', name: 'n', input: {} })]), true);
  assert.equal(sawContentAfter([start, blockStart(0, { type: 'redacted_thinking', data: 'x' })]), true);
});

test('usage is cumulative and stop reasons are the upstream strings', () => {
  const passthrough = new AnthropicStreamPassthrough('p', route);
  for (const event of thinkingParallelToolsStream) passthrough.push(event);
  assert.deepEqual(passthrough.usage, { input: 2045, cacheRead: 2000, cacheWrite: 40, output: 88, reasoning: 0, source: 'reported' });
  assert.deepEqual(passthrough.finishReasons, ['tool_use']);
  assert.equal(passthrough.sawContent, true);
});

test('an event without an event line goes out named by its JSON type', () => {
  const passthrough = new AnthropicStreamPassthrough('p', route);
  passthrough.push(textStream[0] as SseEvent);
  assert.equal(passthrough.push(sse({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }, undefined)), 'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n');
  assert.equal(passthrough.push(raw(undefined, '{"no":"type"}')), '');
  // A JSON type that cannot be an event name (a line break would split the frame) defers to the event line.
  assert.equal(passthrough.push(raw('named', '{"type":"bad\\nname"}')), 'event: named\ndata: {"type":"bad\\nname"}\n\n');
});

test('multi-line data stays multi-line', () => {
  const passthrough = new AnthropicStreamPassthrough('p', route);
  assert.equal(passthrough.push(raw('content_block_stop', '{"type":"content_block_stop",\n"index":0}')), 'event: content_block_stop\ndata: {"type":"content_block_stop",\ndata: "index":0}\n\n');
});

test('an error event throws the upstream error, with its type', () => {
  const passthrough = new AnthropicStreamPassthrough('p', route);
  assert.throws(() => { for (const event of errorStream) passthrough.push(event); }, (error: unknown) => {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, 'upstream_stream_error');
    assert.equal(error.upstreamType, 'overloaded_error');
    assert.equal(error.route, route);
    return true;
  });
  assert.throws(() => new AnthropicStreamPassthrough('p', route).push(sse({ type: 'error', error: { type: 'api_error', message: 'x' } }, undefined)), GatewayError);
});

test('malformed events are protocol errors, before content and after it (deltas checked without parsing)', () => {
  const protocolError = (error: unknown): boolean => error instanceof GatewayError && error.code === 'upstream_protocol_error';
  const passthrough = new AnthropicStreamPassthrough('p', route);
  assert.throws(() => passthrough.push(raw('message_start', '{"type":"message_start",')), protocolError);
  assert.throws(() => passthrough.push(raw('message_start', '{"type":"message_start"}')), protocolError);
  passthrough.push(blockStart(0, { type: 'text', text: 'x' }));
  const compact = '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a \\"b\\" \\u00e9"}}';
  assert.equal(passthrough.push(raw('content_block_delta', compact)), `event: content_block_delta\ndata: ${compact}\n\n`);
  const spaced = '{ "type": "content_block_delta", "index": 0, "delta": { "type": "text_delta", "text": "c" } }';
  assert.equal(passthrough.push(raw('content_block_delta', spaced)), `event: content_block_delta\ndata: ${spaced}\n\n`);
  assert.throws(() => passthrough.push(raw('content_block_delta', '{"broken')), protocolError);
  // The usual shape with a broken string inside (bad escape, raw newline, cut short).
  for (const bad of ['"a\\x"', '"a\nb"', '"a']) {
    const data = `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":${bad}}}`;
    assert.throws(() => passthrough.push(raw('content_block_delta', data)), protocolError, data);
  }
  assert.throws(() => passthrough.push(raw('content_block_stop', '{"type":"content_block_stop","index":0')), protocolError);
  assert.equal(passthrough.push(raw('content_block_stop', '{"type":"content_block_stop","index":0}')), 'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n');
});

test('a repeated message_start is dropped (the SDK would throw on it)', () => {
  const passthrough = new AnthropicStreamPassthrough('p', route);
  assert.notEqual(passthrough.push(messageStart({ input_tokens: 4 }, 'msg_first')), '');
  assert.equal(passthrough.push(messageStart({ input_tokens: 9 }, 'msg_second')), '');
  assert.equal(passthrough.usage?.input, 4);
});

test('generated() holds the text of every delta, compact or not, and never a signature', () => {
  const passthrough = new AnthropicStreamPassthrough('p', route);
  passthrough.push(messageStart({ input_tokens: 3, output_tokens: 1 }));
  passthrough.push(blockStart(0, { type: 'thinking', thinking: '' }));
  passthrough.push(blockDelta(0, { type: 'thinking_delta', thinking: 'Let me think: ' })); // the commit point, parsed
  passthrough.push(blockDelta(0, { type: 'thinking_delta', thinking: 'a "quoted" ünïcødé 🌊 thought. ' }));
  passthrough.push(blockDelta(0, { type: 'signature_delta', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxsignature' }));
  passthrough.push(blockStart(1, { type: 'text', text: '' }));
  passthrough.push(blockDelta(1, { type: 'text_delta', text: 'Answer\nline two.' }));
  passthrough.push(raw('content_block_delta', '{ "type": "content_block_delta", "index": 1, "delta": { "type": "text_delta", "text": " Spaced." } }'));
  passthrough.push(blockStart(2, { type: 'tool_use', id: 't', name: 'n', input: {} }));
  passthrough.push(blockDelta(2, { type: 'input_json_delta', partial_json: '{"city": "Paris"}' }));
  assert.deepEqual(passthrough.generated(), { text: 'Let me think: a "quoted" ünïcødé 🌊 thought. Answer\nline two. Spaced.{"city": "Paris"}', scale: 1 });
});
