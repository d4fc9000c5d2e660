import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NeutralRequest } from '../../core/chat-request.js';
import { GatewayError } from '../../core/gateway-error.js';
import type { JsonObject } from '../../core/json.js';
import { decodeAnthropicRequest } from './request-decode.js';
import { encodeAnthropicRequest } from './request-encode.js';

const target = { model: 'claude-upstream-1' };

function neutral(extra: Partial<NeutralRequest> = {}): NeutralRequest {
  return {
    model: 'public', system: [], messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], tools: [],
    stopSequences: [], stream: false, includeUsage: false, ...extra,
  };
}

function encode(extra: Partial<NeutralRequest> = {}, upstream: { model: string; defaultMaxTokens?: number } = target): JsonObject {
  return JSON.parse(encodeAnthropicRequest(neutral(extra), upstream)) as JsonObject;
}

const weatherTool = { name: 'weather', description: 'Weather by city', parameters: { type: 'object', properties: { city: { type: 'string' } } } };

test('a minimal body: upstream model, max_tokens from the request, the route, or 4096', () => {
  assert.deepEqual(encode(), { model: 'claude-upstream-1', max_tokens: 4096, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] });
  assert.equal(encode({}, { model: 'x', defaultMaxTokens: 1000 }).max_tokens, 1000);
  assert.equal(encode({ maxTokens: 50 }, { model: 'x', defaultMaxTokens: 1000 }).max_tokens, 50);
});

test('conversation: tool results in user turns and first, images, merged turns, reasoning only when Anthropic signed it', () => {
  const body = encode({
    system: [{ type: 'text', text: 'Be brief.' }, { type: 'text', text: 'French.' }],
    messages: [
      { role: 'user', content: [
        { type: 'text', text: 'Look' },
        { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'iVBOR' } },
        { type: 'image', source: { kind: 'url', url: 'https://example.test/cat.jpg' } },
        { type: 'image', source: { kind: 'url', url: 'data:image/jpeg;base64,/9j/4AAQ' } },
      ] },
      { role: 'assistant', content: [
        { type: 'reasoning', text: 'mine', signature: { family: 'anthropic', value: 'c2ln' } },
        { type: 'reasoning', text: 'theirs', signature: { family: 'openai', value: 'enc' } },
        { type: 'reasoning', text: 'unsigned' },
        { type: 'redacted-reasoning', data: 'ZW5j', family: 'anthropic' },
        { type: 'redacted-reasoning', data: 'Z2Vt', family: 'gemini' },
        { type: 'text', text: '' },
        { type: 'tool-call', id: 'toolu_1', name: 'weather', arguments: '{"city":"Lyon"}' },
        { type: 'tool-call', id: 'call_2', name: 'clock', arguments: '' },
      ] },
      { role: 'user', content: [{ type: 'tool-result', toolCallId: 'toolu_1', content: [{ type: 'text', text: '12°C' }] }] },
      { role: 'user', content: [
        { type: 'text', text: 'and also' },
        { type: 'tool-result', toolCallId: 'call_2', content: [], isError: true },
      ] },
      { role: 'assistant', content: [{ type: 'reasoning', text: 'only foreign reasoning' }] },
      { role: 'user', content: [{ type: 'text', text: 'well?' }] },
    ],
  });
  assert.deepEqual(body.system, [{ type: 'text', text: 'Be brief.' }, { type: 'text', text: 'French.' }]);
  assert.deepEqual(body.messages, [
    { role: 'user', content: [
      { type: 'text', text: 'Look' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' } },
      { type: 'image', source: { type: 'url', url: 'https://example.test/cat.jpg' } },
      { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } },
    ] },
    { role: 'assistant', content: [
      { type: 'thinking', thinking: 'mine', signature: 'c2ln' },
      { type: 'redacted_thinking', data: 'ZW5j' },
      { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Lyon' } },
      { type: 'tool_use', id: 'call_2', name: 'clock', input: {} },
    ] },
    // Two user turns merged (the assistant turn between them vanished), tool results first.
    { role: 'user', content: [
      { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: '12°C' }] },
      { type: 'tool_result', tool_use_id: 'call_2', is_error: true },
      { type: 'text', text: 'and also' },
      { type: 'text', text: 'well?' },
    ] },
  ]);
});

test('tool results carry images; tool arguments that are not a JSON object are a 400', () => {
  const body = encode({ messages: [{ role: 'user', content: [{ type: 'tool-result', toolCallId: 't', content: [{ type: 'image', source: { kind: 'url', url: 'https://x.test/a.png' } }] }] }] });
  assert.deepEqual((body.messages as JsonObject[])[0], { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'image', source: { type: 'url', url: 'https://x.test/a.png' } }] }] });
  for (const args of ['{"city": "Ly', '[1,2]']) {
    assert.throws(() => encode({ messages: [{ role: 'user', content: [{ type: 'text', text: 'q' }] }, { role: 'assistant', content: [{ type: 'tool-call', id: 'c', name: 'n', arguments: args }] }] }), (error: unknown) => {
      assert.ok(error instanceof GatewayError);
      assert.equal(error.code, 'invalid_request');
      assert.match(error.message, /tool call 'c'/);
      return true;
    });
  }
  assert.throws(() => encode({ messages: [{ role: 'user', content: [{ type: 'image', source: { kind: 'url', url: 'data:image/png,raw' } }] }] }), GatewayError);
});

test('tools, tool_choice and parallel tool calls', () => {
  const body = encode({ tools: [weatherTool, { name: 'clock', parameters: {} }], toolChoice: { type: 'required' }, parallelToolCalls: false });
  assert.deepEqual(body.tools, [
    { name: 'weather', description: 'Weather by city', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
    { name: 'clock', input_schema: { type: 'object' } },
  ]);
  assert.deepEqual(body.tool_choice, { type: 'any', disable_parallel_tool_use: true });
  assert.deepEqual(encode({ tools: [weatherTool], toolChoice: { type: 'tool', name: 'weather' } }).tool_choice, { type: 'tool', name: 'weather' });
  assert.deepEqual(encode({ tools: [weatherTool], toolChoice: { type: 'auto' } }).tool_choice, { type: 'auto' });
  assert.deepEqual(encode({ tools: [weatherTool], toolChoice: { type: 'none' }, parallelToolCalls: false }).tool_choice, { type: 'none' });
  assert.deepEqual(encode({ tools: [weatherTool], parallelToolCalls: false }).tool_choice, { type: 'auto', disable_parallel_tool_use: true });
  assert.equal(encode({ tools: [weatherTool] }).tool_choice, undefined);
  assert.equal(encode({ toolChoice: { type: 'none' } }).tool_choice, undefined, 'no tool_choice without tools');
});

test('sampling, stop sequences, user, stream', () => {
  const body = encode({ temperature: 0.3, topP: 0.8, topK: 20, stopSequences: ['END'], user: 'u-1', stream: true });
  assert.equal(body.temperature, 0.3);
  assert.equal(body.top_p, 0.8);
  assert.equal(body.top_k, 20);
  assert.deepEqual(body.stop_sequences, ['END']);
  assert.deepEqual(body.metadata, { user_id: 'u-1' });
  assert.equal(body.stream, true);
  assert.equal(encode({ temperature: 1.6 }).temperature, 1, "OpenAI's range reaches 2, Anthropic's 1");
});

test('reasoning becomes thinking within Anthropic rules', () => {
  assert.deepEqual(encode({ maxTokens: 10000, reasoning: { type: 'budget', budgetTokens: 3000 } }).thinking, { type: 'enabled', budget_tokens: 3000 });
  const effort = encode({ maxTokens: 20000, reasoning: { type: 'effort', effort: 'medium' } });
  assert.deepEqual(effort.thinking, { type: 'enabled', budget_tokens: 8192 });
  assert.equal(effort.max_tokens, 20000);
  const small = encode({ maxTokens: 10000, reasoning: { type: 'budget', budgetTokens: 100 } });
  assert.deepEqual(small.thinking, { type: 'enabled', budget_tokens: 1024 }, 'raised to the 1024 floor');
  const tight = encode({ maxTokens: 500, reasoning: { type: 'effort', effort: 'high' } });
  assert.deepEqual(tight.thinking, { type: 'enabled', budget_tokens: 24576 });
  assert.equal(tight.max_tokens, 24576 + 500, 'max_tokens raised so the budget fits and the answer keeps its limit');
  assert.equal(encode({ reasoning: { type: 'effort', effort: 'minimal' } }).max_tokens, 4096);
  assert.equal(encode({ reasoning: { type: 'disabled' } }).thinking, undefined);
});

test('with thinking on, incompatible sampling is left out or raised; forced tools and foreign tool loops keep thinking off', () => {
  const body = encode({ maxTokens: 8000, reasoning: { type: 'budget', budgetTokens: 2000 }, temperature: 0.2, topK: 5, topP: 0.5 });
  assert.equal(body.temperature, undefined);
  assert.equal(body.top_k, undefined);
  assert.equal(body.top_p, 0.95);
  assert.equal(encode({ maxTokens: 8000, reasoning: { type: 'budget', budgetTokens: 2000 }, temperature: 1 }).temperature, 1);
  const forced = encode({ reasoning: { type: 'effort', effort: 'low' }, tools: [weatherTool], toolChoice: { type: 'required' }, temperature: 0.2 });
  assert.equal(forced.thinking, undefined);
  assert.equal(forced.temperature, 0.2);
  const loop: NeutralRequest['messages'] = [
    { role: 'user', content: [{ type: 'text', text: 'weather?' }] },
    { role: 'assistant', content: [{ type: 'reasoning', text: 'openai thought' }, { type: 'tool-call', id: 'c1', name: 'weather', arguments: '{}' }] },
    { role: 'user', content: [{ type: 'tool-result', toolCallId: 'c1', content: [{ type: 'text', text: 'sunny' }] }] },
  ];
  assert.equal(encode({ messages: loop, tools: [weatherTool], reasoning: { type: 'effort', effort: 'low' } }).thinking, undefined);
  const signed = structuredClone(loop);
  signed[1] = { role: 'assistant', content: [{ type: 'reasoning', text: 't', signature: { family: 'anthropic', value: 's' } }, { type: 'tool-call', id: 'c1', name: 'weather', arguments: '{}' }] };
  assert.deepEqual(encode({ messages: signed, tools: [weatherTool], reasoning: { type: 'effort', effort: 'low' } }).thinking, { type: 'enabled', budget_tokens: 2048 });
  const newTurn = [...loop, { role: 'assistant' as const, content: [{ type: 'text' as const, text: 'Sunny.' }] }, { role: 'user' as const, content: [{ type: 'text' as const, text: 'thanks' }] }];
  assert.ok(encode({ messages: newTurn, tools: [weatherTool], reasoning: { type: 'effort', effort: 'low' } }).thinking, 'a new user turn needs no replayed thinking');
});

test('response formats: json_schema becomes output_config.format; json_object cannot be expressed', () => {
  const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false };
  assert.deepEqual(encode({ responseFormat: { type: 'json_schema', name: 'x', schema, strict: true } }).output_config, { format: { type: 'json_schema', schema } });
  assert.equal(encode({ responseFormat: { type: 'text' } }).output_config, undefined);
  assert.throws(() => encode({ responseFormat: { type: 'json_object' } }), (error: unknown) => {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.status, 400);
    assert.equal(error.param, 'response_format');
    return true;
  });
});

test('round trip: an Anthropic request decoded then encoded is the same request', () => {
  const original = {
    model: 'claude-upstream-1',
    max_tokens: 5000,
    system: [{ type: 'text', text: 'Be brief.' }],
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'Weather in Lyon?' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' } }] },
      { role: 'assistant', content: [
        { type: 'thinking', thinking: 'Look it up.', signature: 'c2lnLW9uZQ==' },
        { type: 'redacted_thinking', data: 'ZW5j' },
        { type: 'text', text: 'Checking.' },
        { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Lyon', units: { temp: 'C' } } },
      ] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: '12°C' }], is_error: true }] },
    ],
    tools: [{ name: 'weather', description: 'Weather by city', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
    tool_choice: { type: 'auto', disable_parallel_tool_use: true },
    thinking: { type: 'enabled', budget_tokens: 2048 },
    top_p: 0.97,
    stop_sequences: ['END'],
    output_config: { format: { type: 'json_schema', schema: { type: 'object', properties: {} } } },
    metadata: { user_id: 'u-1' },
    stream: true,
  };
  const encoded = JSON.parse(encodeAnthropicRequest(decodeAnthropicRequest(original), target)) as JsonObject;
  assert.deepEqual(encoded, original);
});
