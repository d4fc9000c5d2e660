import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NeutralResponse } from '../../core/chat-response.js';
import { GatewayError } from '../../core/gateway-error.js';
import { decodeOpenAiResponse, encodeOpenAiResponse } from './neutral-response.js';

const route = 'acme/model-x';
const completion = (message: object, finish: string | null = 'stop', extra: object = {}) => ({
  id: 'chatcmpl-9', object: 'chat.completion', created: 1700000000, model: 'model-x-2025',
  choices: [{ index: 0, message: { role: 'assistant', ...message }, logprobs: null, finish_reason: finish }],
  ...extra,
});

function failure(payload: unknown): GatewayError {
  try {
    decodeOpenAiResponse(payload, route);
  } catch (error) {
    assert.ok(error instanceof GatewayError);
    return error;
  }
  assert.fail('expected a failure');
}

test('decode: text, reasoning_content, usage with cached tokens', () => {
  const usage = { prompt_tokens: 50, completion_tokens: 20, total_tokens: 70, prompt_tokens_details: { cached_tokens: 32 }, completion_tokens_details: { reasoning_tokens: 8 } };
  assert.deepEqual(decodeOpenAiResponse(completion({ content: 'Hi.', reasoning_content: 'greet', refusal: null }, 'stop', { usage }), route), {
    content: [{ type: 'reasoning', text: 'greet' }, { type: 'text', text: 'Hi.' }],
    finishReason: 'stop',
    id: 'chatcmpl-9',
    model: 'model-x-2025',
    usage: { input: 50, cacheRead: 32, cacheWrite: 0, output: 20, reasoning: 8, source: 'reported' },
  });
});

test('decode: reasoning field, tool calls (ids filled, parsed arguments as text), finish mapping', () => {
  const response = decodeOpenAiResponse(completion({
    content: null,
    reasoning: 'need weather',
    tool_calls: [
      { id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
      { function: { name: 'stock', arguments: { t: 'X' } } },
    ],
  }, 'stop'), route);
  assert.equal(response.finishReason, 'tool-calls', "a turn with tool calls that says 'stop' is tool-calls");
  assert.deepEqual(response.content[0], { type: 'reasoning', text: 'need weather' });
  assert.deepEqual(response.content[1], { type: 'tool-call', id: 'call_a', name: 'weather', arguments: '{"city":"Oslo"}' });
  const second = response.content[2];
  assert.ok(second?.type === 'tool-call');
  assert.match(second.id, /^call_/);
  assert.equal(second.arguments, '{"t":"X"}');
  assert.equal(response.usage, undefined);

  const reasons: Array<[string | null, string]> = [['length', 'length'], ['content_filter', 'content-filter'], ['tool_calls', 'tool-calls'], ['weird', 'other'], [null, 'stop']];
  for (const [upstream, neutral] of reasons) assert.equal(decodeOpenAiResponse(completion({ content: 'x' }, upstream), route).finishReason, neutral);
  assert.deepEqual(decodeOpenAiResponse(completion({ content: [{ type: 'text', text: 'a' }], refusal: 'no' }), route).content, [
    { type: 'text', text: 'a' },
    { type: 'text', text: 'no' },
  ]);
});

test('decode: error bodies and malformed answers fail', () => {
  const error = failure({ error: { message: 'Rate limited', type: 'rate_limit_error', code: 'rate_limit' } });
  assert.equal(error.code, 'upstream_stream_error');
  assert.equal(error.upstreamType, 'rate_limit_error');
  assert.equal(error.upstreamCode, 'rate_limit');
  assert.equal(error.route, route);
  assert.equal(failure({ object: 'error', message: 'bad', code: 400 }).code, 'upstream_stream_error');
  assert.equal(failure({ id: 'x', choices: [] }).code, 'upstream_protocol_error');
  assert.equal(failure('text').code, 'upstream_protocol_error');
});

test('encode: a chat.completion with reasoning, tool calls, null content and usage', () => {
  const response: NeutralResponse = {
    id: 'msg_01',
    model: 'claude-x',
    content: [
      { type: 'reasoning', text: 'think', signature: { family: 'anthropic', value: 'sig' } },
      { type: 'redacted-reasoning', data: 'opaque', family: 'anthropic' },
      { type: 'tool-call', id: 'toolu_a', name: 'weather', arguments: '{"city":"Oslo"}' },
    ],
    finishReason: 'tool-calls',
    usage: { input: 100, cacheRead: 60, cacheWrite: 10, output: 12, reasoning: 4, source: 'reported' },
  };
  const body = JSON.parse(encodeOpenAiResponse(response, { model: 'public-model' })) as Record<string, unknown>;
  assert.equal(typeof body.created, 'number');
  assert.deepEqual({ ...body, created: 0 }, {
    id: 'chatcmpl-msg_01',
    object: 'chat.completion',
    created: 0,
    model: 'public-model',
    choices: [{
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        reasoning_content: 'think',
        tool_calls: [{ id: 'toolu_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }],
        refusal: null,
      },
      logprobs: null,
      finish_reason: 'tool_calls',
    }],
    usage: {
      prompt_tokens: 100, completion_tokens: 12, total_tokens: 112,
      prompt_tokens_details: { cached_tokens: 60 }, completion_tokens_details: { reasoning_tokens: 4 },
    },
  });
});

test('encode: plain text, finish mapping, no usage when none was reported', () => {
  const body = JSON.parse(encodeOpenAiResponse({ content: [{ type: 'text', text: 'Hel' }, { type: 'text', text: 'lo' }], finishReason: 'stop-sequence' }, { model: 'm' })) as Record<string, unknown>;
  const choice = (body.choices as Array<{ message: Record<string, unknown>; finish_reason: string }>)[0];
  assert.deepEqual(choice?.message, { role: 'assistant', content: 'Hello', refusal: null });
  assert.equal(choice?.finish_reason, 'stop');
  assert.match(String(body.id), /^chatcmpl-[0-9a-f]{24}$/);
  assert.equal('usage' in body, false);
  const empty = JSON.parse(encodeOpenAiResponse({ content: [], finishReason: 'length' }, { model: 'm' })) as { choices: Array<{ message: { content: unknown }; finish_reason: string }> };
  assert.equal(empty.choices[0]?.message.content, '');
  assert.equal(empty.choices[0]?.finish_reason, 'length');
});
