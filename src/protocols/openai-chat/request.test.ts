import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../core/gateway-error.js';
import { decodeChatRequest, encodeUpstreamChatBody } from './request.js';

const valid = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };

function rejection(payload: unknown): GatewayError {
  try {
    decodeChatRequest(payload);
  } catch (error) {
    assert.ok(error instanceof GatewayError);
    return error;
  }
  assert.fail('expected a rejection');
}

test('invalid bodies are rejected naming the field', () => {
  assert.equal(rejection({ model: 'm' }).param, 'messages');
  assert.equal(rejection({ ...valid, messages: [{ role: 'robot', content: 'x' }] }).param, 'messages[0].role');
  assert.equal(rejection({ ...valid, temperature: 'hot' }).param, 'temperature');
  assert.equal(rejection({ ...valid, model: '' }).param, 'model');
  assert.equal(rejection([valid]).status, 400);
  assert.match(rejection({ model: 'm' }).message, /messages.*required/);
});

test('vendor fields survive and include_usage is forced on upstream for streams only', () => {
  const request = decodeChatRequest({ ...valid, stream: true, top_k: 3, stream_options: { include_obfuscation: false } });
  assert.equal(request.includeUsage, false);
  const body = JSON.parse(encodeUpstreamChatBody(request, { model: 'upstream/x', sendStreamOptions: true, reasoningField: undefined })) as Record<string, unknown>;
  assert.equal(body.model, 'upstream/x');
  assert.equal(body.top_k, 3);
  assert.deepEqual(body.stream_options, { include_obfuscation: false, include_usage: true });
  const plain = JSON.parse(encodeUpstreamChatBody(decodeChatRequest(valid), { model: 'x', sendStreamOptions: true, reasoningField: undefined })) as Record<string, unknown>;
  assert.equal(plain.stream_options, undefined);
  const noOptions = JSON.parse(encodeUpstreamChatBody(request, { model: 'x', sendStreamOptions: false, reasoningField: undefined })) as Record<string, unknown>;
  assert.equal(noOptions.stream_options, undefined);
});

test('reasoning in assistant history is renamed to what the upstream expects, without touching the client body', () => {
  const request = decodeChatRequest({
    model: 'm',
    messages: [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'a', reasoning_content: 'thought' },
      { role: 'user', content: 'q2' },
    ],
  });
  const vllm = JSON.parse(encodeUpstreamChatBody(request, { model: 'x', sendStreamOptions: true, reasoningField: 'reasoning' })) as { messages: Record<string, unknown>[] };
  assert.deepEqual(vllm.messages[1], { role: 'assistant', content: 'a', reasoning: 'thought' });
  assert.deepEqual((request.body.messages as Record<string, unknown>[])[1], { role: 'assistant', content: 'a', reasoning_content: 'thought' });
  const deepseek = JSON.parse(encodeUpstreamChatBody(request, { model: 'x', sendStreamOptions: true, reasoningField: 'reasoning_content' })) as { messages: Record<string, unknown>[] };
  assert.deepEqual(deepseek.messages[1], { role: 'assistant', content: 'a', reasoning_content: 'thought' });
});
