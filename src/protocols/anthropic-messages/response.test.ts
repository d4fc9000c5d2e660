import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NeutralResponse } from '../../core/chat-response.js';
import { GatewayError } from '../../core/gateway-error.js';
import { decodeAnthropicResponse, encodeAnthropicResponse } from './response.js';

const route = 'anthropic/claude-test';

const message = {
  id: 'msg_resp01',
  type: 'message',
  role: 'assistant',
  model: 'claude-test-1',
  content: [
    { type: 'thinking', thinking: 'Check both.', signature: 'c2ln' },
    { type: 'redacted_thinking', data: 'ZW5j' },
    { type: 'text', text: 'Looking up.', citations: null },
    { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Lyon' } },
    { type: 'tool_use', id: 'toolu_2', name: 'weather', input: { city: 'Oslo' } },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: { input_tokens: 5, cache_creation_input_tokens: 40, cache_read_input_tokens: 2000, output_tokens: 88, service_tier: 'standard' },
};

test('an Anthropic message in neutral form', () => {
  assert.deepEqual(decodeAnthropicResponse(message, route), {
    id: 'msg_resp01',
    model: 'claude-test-1',
    content: [
      { type: 'reasoning', text: 'Check both.', signature: { family: 'anthropic', value: 'c2ln' } },
      { type: 'redacted-reasoning', data: 'ZW5j', family: 'anthropic' },
      { type: 'text', text: 'Looking up.' },
      { type: 'tool-call', id: 'toolu_1', name: 'weather', arguments: '{"city":"Lyon"}' },
      { type: 'tool-call', id: 'toolu_2', name: 'weather', arguments: '{"city":"Oslo"}' },
    ],
    finishReason: 'tool-calls',
    usage: { input: 2045, cacheRead: 2000, cacheWrite: 40, output: 88, reasoning: 0, source: 'reported' },
  });
});

test('stop sequence, max_tokens, unsigned thinking and server tool blocks', () => {
  const decoded = decodeAnthropicResponse({
    ...message,
    content: [
      { type: 'thinking', thinking: 'unsigned', signature: '' },
      { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} },
      { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [] },
      { type: 'text', text: 'A' },
    ],
    stop_reason: 'stop_sequence',
    stop_sequence: '###',
  }, route);
  assert.deepEqual(decoded.content, [{ type: 'reasoning', text: 'unsigned' }, { type: 'text', text: 'A' }]);
  assert.equal(decoded.finishReason, 'stop-sequence');
  assert.equal(decoded.stopSequence, '###');
  assert.equal(decodeAnthropicResponse({ ...message, stop_reason: 'max_tokens' }, route).finishReason, 'length');
});

test('an error body is an upstream error with its type; a non-message is a protocol error', () => {
  assert.throws(() => decodeAnthropicResponse({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' }, request_id: 'req_1' }, route), (error: unknown) => {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, 'upstream_stream_error');
    assert.equal(error.upstreamType, 'overloaded_error');
    assert.equal(error.route, route);
    return true;
  });
  for (const bad of [{ type: 'message' }, 'text', null]) {
    assert.throws(() => decodeAnthropicResponse(bad, route), (error: unknown) => error instanceof GatewayError && error.code === 'upstream_protocol_error');
  }
});

test('a neutral answer as an Anthropic message: public model, signatures only when Anthropic signed', () => {
  const response: NeutralResponse = {
    id: 'chatcmpl-9',
    model: 'gpt-upstream',
    content: [
      { type: 'reasoning', text: 'foreign thoughts', signature: { family: 'openai', value: 'enc' } },
      { type: 'reasoning', text: 'signed', signature: { family: 'anthropic', value: 'c2ln' } },
      { type: 'redacted-reasoning', data: 'Z2Vt', family: 'gemini' },
      { type: 'redacted-reasoning', data: 'ZW5j', family: 'anthropic' },
      { type: 'text', text: '' },
      { type: 'text', text: 'Here.' },
      { type: 'tool-call', id: 'call_1', name: 'weather', arguments: '{"city":"Lyon"}' },
      { type: 'tool-call', id: '', name: 'clock', arguments: '' },
    ],
    finishReason: 'stop',
    usage: { input: 2045, cacheRead: 2000, cacheWrite: 40, output: 88, reasoning: 10, source: 'reported' },
  };
  const body = JSON.parse(encodeAnthropicResponse(response, { model: 'public-model' })) as Record<string, unknown>;
  const content = body.content as Array<Record<string, unknown>>;
  assert.match(String(content[5]?.id), /^toolu_/);
  assert.deepEqual({ ...body, content: content.map((block, i) => (i === 5 ? { ...block, id: 'generated' } : block)) }, {
    id: 'chatcmpl-9',
    type: 'message',
    role: 'assistant',
    model: 'public-model',
    content: [
      { type: 'thinking', thinking: 'foreign thoughts' },
      { type: 'thinking', thinking: 'signed', signature: 'c2ln' },
      { type: 'redacted_thinking', data: 'ZW5j' },
      { type: 'text', text: 'Here.' },
      { type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Lyon' } },
      { type: 'tool_use', id: 'generated', name: 'clock', input: {} },
    ],
    stop_reason: 'tool_use',
    stop_sequence: null,
    usage: { input_tokens: 5, cache_creation_input_tokens: 40, cache_read_input_tokens: 2000, output_tokens: 88 },
  });
});

test('no usage, stop sequence, a msg_ id when the upstream gave none', () => {
  const body = JSON.parse(encodeAnthropicResponse({ content: [{ type: 'text', text: 'x' }], finishReason: 'stop-sequence', stopSequence: '###' }, { model: 'm' })) as Record<string, unknown>;
  assert.match(String(body.id), /^msg_/);
  assert.equal(body.stop_reason, 'stop_sequence');
  assert.equal(body.stop_sequence, '###');
  assert.deepEqual(body.usage, { input_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 });
});

test('tool arguments that are not a JSON object are an upstream protocol error', () => {
  for (const args of ['{"city": "Ly', '"text"']) {
    assert.throws(
      () => encodeAnthropicResponse({ content: [{ type: 'tool-call', id: 'c', name: 'n', arguments: args }], finishReason: 'tool-calls' }, { model: 'm' }),
      (error: unknown) => error instanceof GatewayError && error.code === 'upstream_protocol_error',
    );
  }
});

test('round trip: Anthropic message -> neutral -> Anthropic message', () => {
  const again = JSON.parse(encodeAnthropicResponse(decodeAnthropicResponse(message, route), { model: 'claude-test-1' })) as Record<string, unknown>;
  const { service_tier: _tier, ...usage } = message.usage;
  assert.deepEqual(again, {
    ...message,
    content: message.content.map((block) => (block.type === 'text' ? { type: 'text', text: block.text } : block)),
    usage,
  });
});
