import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../core/gateway-error.js';
import { decodeOpenAiNeutralRequest } from './neutral-request-decode.js';

const base = { model: 'public-model', messages: [{ role: 'user', content: 'hi' }] };

function rejection(payload: unknown): GatewayError {
  try {
    decodeOpenAiNeutralRequest(payload);
  } catch (error) {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, 'invalid_request');
    assert.equal(error.status, 400);
    return error;
  }
  assert.fail('expected a rejection');
}

test('a minimal request', () => {
  assert.deepEqual(decodeOpenAiNeutralRequest(base), {
    model: 'public-model',
    system: [],
    messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
    tools: [],
    stopSequences: [],
    stream: false,
    includeUsage: false,
  });
});

test('system and developer messages become system text in order, wherever they stand', () => {
  const request = decodeOpenAiNeutralRequest({
    model: 'm',
    messages: [
      { role: 'system', content: 'one' },
      { role: 'developer', content: [{ type: 'text', text: 'two' }, { type: 'text', text: '' }, { type: 'text', text: 'three' }] },
      { role: 'user', content: 'q' },
      { role: 'system', content: 'four' },
    ],
  });
  assert.deepEqual(request.system.map((p) => p.text), ['one', 'two', 'three', 'four']);
  assert.equal(request.messages.length, 1);
});

test('user parts: text, base64 data: images, http(s) images', () => {
  const request = decodeOpenAiNeutralRequest({
    model: 'm',
    messages: [{
      role: 'user',
      content: [
        { type: 'text', text: 'look' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'high' } },
        { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
        { type: 'image_url', image_url: 'http://example.com/dog.jpg' },
      ],
    }],
  });
  assert.deepEqual(request.messages[0]?.content, [
    { type: 'text', text: 'look' },
    { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'iVBORw0KGgo=' } },
    { type: 'image', source: { kind: 'url', url: 'https://example.com/cat.jpg' } },
    { type: 'image', source: { kind: 'url', url: 'http://example.com/dog.jpg' } },
  ]);
});

test('assistant history: reasoning, text, tool calls; tool messages become one user message of results', () => {
  const request = decodeOpenAiNeutralRequest({
    model: 'm',
    messages: [
      { role: 'user', content: 'weather and stock?' },
      {
        role: 'assistant',
        reasoning_content: 'two tools',
        content: [{ type: 'text', text: 'Checking.' }, { type: 'refusal', refusal: 'no' }],
        refusal: null,
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
          { id: 'call_b', type: 'function', function: { name: 'stock', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_a', content: 'sunny' },
      { role: 'tool', tool_call_id: 'call_b', content: [{ type: 'text', text: '42' }] },
      { role: 'tool', tool_call_id: 'call_unknown', content: '' },
      { role: 'user', content: 'thanks' },
      { role: 'assistant', reasoning: 'vllm style', content: null },
    ],
  });
  assert.deepEqual(request.messages, [
    { role: 'user', content: [{ type: 'text', text: 'weather and stock?' }] },
    {
      role: 'assistant',
      content: [
        { type: 'reasoning', text: 'two tools' },
        { type: 'text', text: 'Checking.' },
        { type: 'tool-call', id: 'call_a', name: 'weather', arguments: '{"city":"Oslo"}' },
        { type: 'tool-call', id: 'call_b', name: 'stock', arguments: '{}' },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool-result', toolCallId: 'call_a', name: 'weather', content: [{ type: 'text', text: 'sunny' }] },
        { type: 'tool-result', toolCallId: 'call_b', name: 'stock', content: [{ type: 'text', text: '42' }] },
        { type: 'tool-result', toolCallId: 'call_unknown', content: [] },
      ],
    },
    { role: 'user', content: [{ type: 'text', text: 'thanks' }] },
    { role: 'assistant', content: [{ type: 'reasoning', text: 'vllm style' }] },
  ]);
});

test('every other field', () => {
  const request = decodeOpenAiNeutralRequest({
    ...base,
    tools: [
      { type: 'function', function: { name: 'weather', description: 'Weather now', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: true } },
      { type: 'function', function: { name: 'ping' } },
    ],
    tool_choice: { type: 'function', function: { name: 'weather' } },
    parallel_tool_calls: false,
    max_completion_tokens: 500,
    max_tokens: 100,
    temperature: 0.3,
    top_p: 0.9,
    top_k: 40,
    stop: ['END', ''],
    response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' }, strict: true, description: 'd' } },
    reasoning_effort: 'low',
    stream: true,
    stream_options: { include_usage: true, include_obfuscation: false },
    user: 'u-1',
    seed: 7, store: false, metadata: { a: 'b' }, service_tier: 'auto', prompt_cache_key: 'k', safety_identifier: 's',
    n: 1, logprobs: false, top_logprobs: 0, frequency_penalty: 0, presence_penalty: 0, logit_bias: {}, modalities: ['text'],
  });
  assert.deepEqual(request, {
    model: 'public-model',
    system: [],
    messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
    tools: [
      { name: 'weather', description: 'Weather now', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
      { name: 'ping', parameters: { type: 'object', properties: {} } },
    ],
    toolChoice: { type: 'tool', name: 'weather' },
    parallelToolCalls: false,
    maxTokens: 500,
    temperature: 0.3,
    topP: 0.9,
    topK: 40,
    stopSequences: ['END'],
    responseFormat: { type: 'json_schema', name: 'answer', schema: { type: 'object' }, strict: true, description: 'd' },
    reasoning: { type: 'effort', effort: 'low' },
    stream: true,
    includeUsage: true,
    user: 'u-1',
  });
});

test('field variants: tool_choice strings, stop string, max_tokens, formats, reasoning effort', () => {
  for (const choice of ['auto', 'none', 'required'] as const) {
    assert.deepEqual(decodeOpenAiNeutralRequest({ ...base, tool_choice: choice }).toolChoice, { type: choice });
  }
  assert.deepEqual(decodeOpenAiNeutralRequest({ ...base, stop: 'x' }).stopSequences, ['x']);
  assert.equal(decodeOpenAiNeutralRequest({ ...base, max_tokens: 64 }).maxTokens, 64);
  assert.deepEqual(decodeOpenAiNeutralRequest({ ...base, response_format: { type: 'json_object' } }).responseFormat, { type: 'json_object' });
  assert.deepEqual(decodeOpenAiNeutralRequest({ ...base, response_format: { type: 'text' } }).responseFormat, { type: 'text' });
  assert.deepEqual(decodeOpenAiNeutralRequest({ ...base, reasoning_effort: 'none' }).reasoning, { type: 'disabled' });
  assert.deepEqual(decodeOpenAiNeutralRequest({ ...base, reasoning_effort: 'minimal' }).reasoning, { type: 'effort', effort: 'minimal' });
  assert.deepEqual(decodeOpenAiNeutralRequest({ ...base, reasoning_effort: 'xhigh' }).reasoning, { type: 'effort', effort: 'high' });
  assert.equal(decodeOpenAiNeutralRequest({ ...base, stream_options: { include_usage: true } }).includeUsage, false, 'only for streams');
  const nulls = decodeOpenAiNeutralRequest({ ...base, tools: null, tool_choice: null, stop: null, temperature: null, response_format: null, n: null, audio: null });
  assert.equal(nulls.temperature, undefined);
  assert.deepEqual(nulls.tools, []);
});

test('what cannot be honoured is a 400 naming the field', () => {
  const refused: Array<[object, string]> = [
    [{ n: 2 }, 'n'],
    [{ logprobs: true }, 'logprobs'],
    [{ top_logprobs: 3 }, 'top_logprobs'],
    [{ audio: { voice: 'alloy', format: 'mp3' } }, 'audio'],
    [{ modalities: ['text', 'audio'] }, 'modalities'],
    [{ functions: [{ name: 'f' }] }, 'functions'],
    [{ function_call: 'auto' }, 'function_call'],
    [{ prediction: { type: 'content', content: 'x' } }, 'prediction'],
    [{ frequency_penalty: 0.5 }, 'frequency_penalty'],
    [{ presence_penalty: -1 }, 'presence_penalty'],
    [{ logit_bias: { '50256': -100 } }, 'logit_bias'],
    [{ web_search_options: {} }, 'web_search_options'],
    [{ tools: [{ type: 'custom', custom: { name: 'c' } }] }, 'tools[0].type'],
    [{ tool_choice: { type: 'allowed_tools', allowed_tools: {} } }, 'tool_choice.type'],
    [{ tool_choice: 'any' }, 'tool_choice'],
    [{ reasoning_effort: 'extreme' }, 'reasoning_effort'],
    [{ response_format: { type: 'yaml' } }, 'response_format.type'],
    [{ response_format: { type: 'json_schema', json_schema: { schema: {} } } }, 'response_format.json_schema.name'],
    [{ temperature: 'hot' }, 'temperature'],
    [{ max_completion_tokens: 0 }, 'max_completion_tokens'],
    [{ stop: ['a', 3] }, 'stop[1]'],
    [{ model: '' }, 'model'],
    [{ messages: [] }, 'messages'],
    [{ messages: [{ role: 'function', name: 'f', content: 'x' }] }, 'messages[0].role'],
    [{ messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role'],
    [{ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }] }] }, 'messages[0].content[0].type'],
    [{ messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'f' } }] }] }, 'messages[0].content[0].type'],
    [{ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }] }] }, 'messages[0].content[0].image_url.url'],
    [{ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/svg+xml,<svg/>' } }] }] }, 'messages[0].content[0].image_url.url'],
    [{ messages: [{ role: 'user', content: null }] }, 'messages[0].content'],
    [{ messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'https://x' } }] }] }, 'messages[0].content[0].type'],
    [{ messages: [{ role: 'assistant', content: null, function_call: { name: 'f', arguments: '{}' } }] }, 'messages[0].function_call'],
    [{ messages: [{ role: 'assistant', content: null, audio: { id: 'a1' } }] }, 'messages[0].audio'],
    [{ messages: [{ role: 'assistant', tool_calls: [{ id: 'c', type: 'custom', custom: { name: 'x', input: '' } }] }] }, 'messages[0].tool_calls[0].type'],
    [{ messages: [{ role: 'assistant', tool_calls: [{ type: 'function', function: { name: 'f', arguments: '{}' } }] }] }, 'messages[0].tool_calls[0].id'],
    [{ messages: [{ role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: {} } }] }] }, 'messages[0].tool_calls[0].function.arguments'],
    [{ messages: [{ role: 'user', content: 'x' }, { role: 'tool', content: 'r' }] }, 'messages[1].tool_call_id'],
  ];
  for (const [patch, param] of refused) {
    const error = rejection({ ...base, ...patch });
    assert.equal(error.param, param, JSON.stringify(patch));
    assert.ok(error.message.includes(`'${param}'`), error.message);
  }
  assert.equal(rejection('not an object').param, undefined);
});
