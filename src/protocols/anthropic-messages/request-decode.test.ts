import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../core/gateway-error.js';
import { checkAnthropicRequest, decodeAnthropicRequest } from './request-decode.js';

const minimal = { model: 'claude-test', max_tokens: 256, messages: [{ role: 'user', content: 'hi' }] };

function rejection(payload: unknown, check: (p: unknown) => unknown = decodeAnthropicRequest): GatewayError {
  try {
    check(payload);
  } catch (error) {
    assert.ok(error instanceof GatewayError, String(error));
    assert.equal(error.code, 'invalid_request');
    assert.equal(error.status, 400);
    return error;
  }
  assert.fail('expected a rejection');
}

test('a minimal request', () => {
  assert.deepEqual(decodeAnthropicRequest(minimal), {
    model: 'claude-test', system: [], messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], tools: [],
    maxTokens: 256, stopSequences: [], stream: false, includeUsage: false,
  });
});

test('every block type, system entries and all the knobs', () => {
  const request = decodeAnthropicRequest({
    model: 'claude-test',
    max_tokens: 4000,
    system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
    messages: [
      { role: 'user', content: [
        { type: 'text', text: 'Look:', citations: null },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' } },
        { type: 'image', source: { type: 'url', url: 'https://example.test/cat.jpg' } },
      ] },
      { role: 'system', content: 'Answer in French.' },
      { role: 'assistant', content: [
        { type: 'thinking', thinking: 'Need the weather.', signature: 'c2ln' },
        { type: 'redacted_thinking', data: 'ZW5j' },
        { type: 'text', text: 'Checking.' },
        { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Lyon' } },
      ] },
      { role: 'user', content: [
        { type: 'tool_result', tool_use_id: 'toolu_1', content: '12°C' },
        { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: 'rain' }, { type: 'image', source: { type: 'url', url: 'https://example.test/radar.png' } }], is_error: true },
        { type: 'tool_result', tool_use_id: 'toolu_3' },
      ] },
    ],
    tools: [{ name: 'weather', description: 'Weather by city', input_schema: { type: 'object', properties: { city: { type: 'string' } } }, cache_control: { type: 'ephemeral' } }],
    tool_choice: { type: 'any', disable_parallel_tool_use: true },
    stop_sequences: ['END'],
    temperature: 0.5,
    top_p: 0.9,
    top_k: 40,
    thinking: { type: 'enabled', budget_tokens: 2048 },
    metadata: { user_id: 'user-42' },
    stream: true,
    output_config: { format: { type: 'json_schema', schema: { type: 'object', properties: { a: { type: 'string' } } } } },
    service_tier: 'auto',
  });
  assert.deepEqual(request.system, [{ type: 'text', text: 'Be brief.' }, { type: 'text', text: 'Answer in French.' }]);
  assert.equal(request.messages.length, 3);
  assert.deepEqual(request.messages[0], { role: 'user', content: [
    { type: 'text', text: 'Look:' },
    { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'iVBOR' } },
    { type: 'image', source: { kind: 'url', url: 'https://example.test/cat.jpg' } },
  ] });
  assert.deepEqual(request.messages[1], { role: 'assistant', content: [
    { type: 'reasoning', text: 'Need the weather.', signature: { family: 'anthropic', value: 'c2ln' } },
    { type: 'redacted-reasoning', data: 'ZW5j', family: 'anthropic' },
    { type: 'text', text: 'Checking.' },
    { type: 'tool-call', id: 'toolu_1', name: 'weather', arguments: '{"city":"Lyon"}' },
  ] });
  assert.deepEqual(request.messages[2], { role: 'user', content: [
    { type: 'tool-result', toolCallId: 'toolu_1', content: [{ type: 'text', text: '12°C' }] },
    { type: 'tool-result', toolCallId: 'toolu_2', content: [{ type: 'text', text: 'rain' }, { type: 'image', source: { kind: 'url', url: 'https://example.test/radar.png' } }], isError: true },
    { type: 'tool-result', toolCallId: 'toolu_3', content: [] },
  ] });
  assert.deepEqual(request.tools, [{ name: 'weather', description: 'Weather by city', parameters: { type: 'object', properties: { city: { type: 'string' } } } }]);
  assert.deepEqual(request.toolChoice, { type: 'required' });
  assert.equal(request.parallelToolCalls, false);
  assert.deepEqual(request.stopSequences, ['END']);
  assert.equal(request.temperature, 0.5);
  assert.equal(request.topP, 0.9);
  assert.equal(request.topK, 40);
  assert.deepEqual(request.reasoning, { type: 'budget', budgetTokens: 2048 });
  assert.equal(request.user, 'user-42');
  assert.equal(request.stream, true);
  assert.deepEqual(request.responseFormat, { type: 'json_schema', name: 'response', schema: { type: 'object', properties: { a: { type: 'string' } } }, strict: true });
});

test('tool_choice variants', () => {
  const withChoice = (tool_choice: unknown) => decodeAnthropicRequest({ ...minimal, tool_choice });
  assert.deepEqual(withChoice({ type: 'auto' }).toolChoice, { type: 'auto' });
  assert.equal(withChoice({ type: 'auto' }).parallelToolCalls, undefined);
  assert.deepEqual(withChoice({ type: 'none' }).toolChoice, { type: 'none' });
  assert.deepEqual(withChoice({ type: 'tool', name: 'weather' }).toolChoice, { type: 'tool', name: 'weather' });
  assert.equal(rejection({ ...minimal, tool_choice: { type: 'tool' } }).param, 'tool_choice.name');
  assert.equal(rejection({ ...minimal, tool_choice: { type: 'maybe' } }).param, 'tool_choice.type');
});

test('thinking and effort become the neutral reasoning request', () => {
  const reasoning = (extra: object) => decodeAnthropicRequest({ ...minimal, max_tokens: 30000, ...extra }).reasoning;
  assert.deepEqual(reasoning({ thinking: { type: 'disabled' } }), { type: 'disabled' });
  assert.equal(reasoning({ thinking: { type: 'adaptive' } }), undefined);
  assert.deepEqual(reasoning({ thinking: { type: 'adaptive', display: 'omitted' }, output_config: { effort: 'low' } }), { type: 'effort', effort: 'low' });
  assert.deepEqual(reasoning({ output_config: { effort: 'max' } }), { type: 'effort', effort: 'high' });
  assert.deepEqual(reasoning({ output_config: { effort: 'medium' } }), { type: 'effort', effort: 'medium' });
  assert.deepEqual(reasoning({ thinking: { type: 'enabled', budget_tokens: 1024 }, output_config: { effort: 'high' } }), { type: 'budget', budgetTokens: 1024 });
  assert.equal(reasoning({}), undefined);
});

test('the structured-outputs beta spelling output_format is read too', () => {
  const request = decodeAnthropicRequest({ ...minimal, output_format: { type: 'json_schema', schema: { type: 'object' } } });
  assert.deepEqual(request.responseFormat, { type: 'json_schema', name: 'response', schema: { type: 'object' }, strict: true });
});

test('invalid requests are refused naming the field', () => {
  const cases: Array<[unknown, string, RegExp?]> = [
    [{ max_tokens: 1, messages: minimal.messages }, 'model', /required/],
    [{ ...minimal, model: '' }, 'model', /non-empty/],
    [{ model: 'm', messages: minimal.messages }, 'max_tokens', /required/],
    [{ ...minimal, max_tokens: 0 }, 'max_tokens', /positive/],
    [{ ...minimal, max_tokens: 1.5 }, 'max_tokens', /expected int/],
    [{ ...minimal, messages: [] }, 'messages', /at least one/],
    [{ ...minimal, messages: 'hi' }, 'messages'],
    [{ ...minimal, messages: [{ role: 'system', content: 'only a system prompt' }] }, 'messages', /user or assistant/],
    [{ ...minimal, messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role', /expected one of/],
    [{ ...minimal, messages: [{ role: 'user', content: 7 }] }, 'messages[0].content'],
    [{ ...minimal, messages: [{ role: 'user', content: [{ text: 'no type' }] }] }, 'messages[0].content[0].type', /required/],
    [{ ...minimal, messages: [{ role: 'user', content: ['bare'] }] }, 'messages[0].content[0]'],
    [{ ...minimal, messages: [{ role: 'user', content: [{ type: 'text' }] }] }, 'messages[0].content[0].text', /required/],
    [{ ...minimal, messages: [{ role: 'user', content: [{ type: 'image' }] }] }, 'messages[0].content[0].source'],
    [{ ...minimal, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', data: 'x' } }] }] }, 'messages[0].content[0].source.media_type'],
    [{ ...minimal, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'ftp' } }] }] }, 'messages[0].content[0].source.type'],
    [{ ...minimal, messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'n', input: 'x' }] }] }, 'messages[1].content[0].input'],
    [{ ...minimal, messages: [{ role: 'assistant', content: [{ type: 'tool_result', tool_use_id: 't' }] }] }, 'messages[0].content[0].type', /user messages/],
    [{ ...minimal, messages: [{ role: 'user', content: [{ type: 'thinking', thinking: 'x', signature: 's' }] }] }, 'messages[0].content[0].type', /assistant messages/],
    [{ ...minimal, messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: 1 }] }] }] }, 'messages[0].content[0].content[0].text'],
    [{ ...minimal, system: 5 }, 'system'],
    [{ ...minimal, system: [{ type: 'image' }] }, 'system[0].type'],
    [{ ...minimal, temperature: 1.5 }, 'temperature'],
    [{ ...minimal, top_k: -1 }, 'top_k'],
    [{ ...minimal, stop_sequences: 'END' }, 'stop_sequences'],
    [{ ...minimal, stream: 'yes' }, 'stream'],
    [{ ...minimal, metadata: { user_id: 5 } }, 'metadata.user_id'],
    [{ ...minimal, tools: [{ name: 'x' }] }, 'tools[0].input_schema', /required/],
    [{ ...minimal, tools: [{ name: 'x', input_schema: { type: 'array' } }] }, 'tools[0].input_schema.type'],
    [{ ...minimal, thinking: { type: 'enabled', budget_tokens: 512 } }, 'thinking.budget_tokens', /1024/],
    [{ ...minimal, max_tokens: 2000, thinking: { type: 'enabled', budget_tokens: 2000 } }, 'thinking.budget_tokens', /greater/],
    [{ ...minimal, thinking: { type: 'sometimes' } }, 'thinking.type'],
    [{ ...minimal, output_config: { effort: 'extreme' } }, 'output_config.effort'],
    [{ ...minimal, output_config: { format: { type: 'json_object' } } }, 'output_config.format.type'],
    [{ ...minimal, temprature: 0.2 }, 'temprature', /Extra inputs/],
  ];
  for (const [payload, param, message] of cases) {
    const error = rejection(payload);
    assert.equal(error.param, param, `${JSON.stringify(payload)} -> ${error.message}`);
    if (message) assert.match(error.message, message);
    assert.ok(error.message.includes(param), error.message);
  }
  assert.equal(rejection([minimal]).param, undefined);
  assert.equal(rejection(null).status, 400);
});

test('what only Anthropic can do is refused as untranslatable, never dropped', () => {
  const cases: Array<[unknown, string]> = [
    [{ ...minimal, messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'x' } }] }] }, 'messages[0].content[0].type'],
    [{ ...minimal, messages: [{ role: 'user', content: [{ type: 'search_result', source: 's', title: 't', content: [] }] }] }, 'messages[0].content[0].type'],
    [{ ...minimal, messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: [{ type: 'server_tool_use', id: 's', name: 'web_search', input: {} }] }] }, 'messages[1].content[0].type'],
    [{ ...minimal, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'file_1' } }] }] }, 'messages[0].content[0].source.type'],
    [{ ...minimal, messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'document', source: {} }] }] }] }, 'messages[0].content[0].content[0].type'],
    [{ ...minimal, messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: [{ type: 'text', text: 'cited', citations: [{ type: 'char_location' }] }] }] }, 'messages[1].content[0].citations'],
    [{ ...minimal, tools: [{ type: 'web_search_20250305', name: 'web_search' }] }, 'tools[0].type'],
    [{ ...minimal, tools: [{ type: 'bash_20250124', name: 'bash' }] }, 'tools[0].type'],
    [{ ...minimal, tools: [{ name: 'x', input_schema: { type: 'object' }, input_examples: [{ a: 1 }] }] }, 'tools[0].input_examples'],
    [{ ...minimal, container: 'container_1' }, 'container'],
    [{ ...minimal, mcp_servers: [{ type: 'url', url: 'https://mcp.test', name: 'm' }] }, 'mcp_servers'],
    [{ ...minimal, context_management: { edits: [] } }, 'context_management'],
    [{ ...minimal, thinking: { type: 'between_tools' } }, 'thinking.type'],
    [{ ...minimal, output_config: { task_budget: { type: 'tokens', total: 1000 } } }, 'output_config.task_budget'],
  ];
  for (const [payload, param] of cases) {
    const error = rejection(payload);
    assert.equal(error.param, param, error.message);
    assert.match(error.message, /cannot be translated/);
  }
});

test('the passthrough check: light, unknown fields allowed, body untouched', () => {
  const body = { ...minimal, stream: true, container: 'c', anything: { new: true } };
  const checked = checkAnthropicRequest(body);
  assert.equal(checked.model, 'claude-test');
  assert.equal(checked.stream, true);
  assert.equal(checked.body, body);
  assert.equal(checkAnthropicRequest(minimal).stream, false);
  assert.equal(rejection({ ...minimal, max_tokens: undefined }, checkAnthropicRequest).param, 'max_tokens');
  assert.equal(rejection({ ...minimal, model: 3 }, checkAnthropicRequest).param, 'model');
  assert.equal(rejection({ ...minimal, messages: [] }, checkAnthropicRequest).param, 'messages');
  assert.equal(rejection({ ...minimal, messages: [{ content: 'x' }] }, checkAnthropicRequest).param, 'messages[0].role');
  assert.equal(rejection({ ...minimal, stream: 1 }, checkAnthropicRequest).param, 'stream');
  assert.equal(rejection('x', checkAnthropicRequest).status, 400);
});
