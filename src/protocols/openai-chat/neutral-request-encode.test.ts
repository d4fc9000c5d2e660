import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NeutralRequest } from '../../core/chat-request.js';
import type { UpstreamTarget } from '../codec.js';
import { encodeOpenAiRequest } from './neutral-request-encode.js';

const minimal: NeutralRequest = {
  model: 'public-model',
  system: [],
  messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
  tools: [],
  stopSequences: [],
  stream: false,
  includeUsage: false,
};

const encode = (request: NeutralRequest, target: UpstreamTarget = { model: 'up-model' }) =>
  JSON.parse(encodeOpenAiRequest(request, target)) as Record<string, unknown>;

/** What an Anthropic client's multi-turn tool conversation looks like once decoded. */
const anthropicHistory: NeutralRequest = {
  ...minimal,
  system: [{ type: 'text', text: 'You are terse.' }, { type: 'text', text: 'Use tools.' }],
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'Weather in Oslo and a chart?' }, { type: 'text', text: '<reminder/>' }] },
    {
      role: 'assistant',
      content: [
        { type: 'reasoning', text: 'Two tools', signature: { family: 'anthropic', value: 'EqQBsig' } },
        { type: 'redacted-reasoning', data: 'opaque', family: 'anthropic' },
        { type: 'reasoning', text: ' needed.' },
        { type: 'text', text: 'Checking.' },
        { type: 'tool-call', id: 'toolu_a', name: 'weather', arguments: '{"city":"Oslo"}' },
        { type: 'tool-call', id: 'toolu_b', name: 'chart', arguments: '' },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool-result', toolCallId: 'toolu_a', content: [{ type: 'text', text: 'sunny' }, { type: 'text', text: '21C' }] },
        { type: 'tool-result', toolCallId: 'toolu_b', isError: false, content: [{ type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'AAAA' } }] },
        { type: 'text', text: 'And tomorrow?' },
      ],
    },
    { role: 'assistant', content: [{ type: 'tool-call', id: 'toolu_c', name: 'weather', arguments: '{}' }] },
    { role: 'user', content: [{ type: 'tool-result', toolCallId: 'toolu_c', content: [{ type: 'text', text: 'rain' }] }] },
  ],
};

test('Anthropic-shaped history: system first, tool results as tool messages before the rest of the turn', () => {
  const body = encode(anthropicHistory);
  assert.deepEqual(body.messages, [
    { role: 'system', content: 'You are terse.\n\nUse tools.' },
    { role: 'user', content: 'Weather in Oslo and a chart?\n\n<reminder/>' },
    {
      role: 'assistant',
      content: 'Checking.',
      tool_calls: [
        { id: 'toolu_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
        { id: 'toolu_b', type: 'function', function: { name: 'chart', arguments: '{}' } },
      ],
    },
    { role: 'tool', tool_call_id: 'toolu_a', content: 'sunny\n\n21C' },
    { role: 'tool', tool_call_id: 'toolu_b', content: '' },
    { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }, { type: 'text', text: 'And tomorrow?' }] },
    { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_c', type: 'function', function: { name: 'weather', arguments: '{}' } }] },
    { role: 'tool', tool_call_id: 'toolu_c', content: 'rain' },
  ]);
  assert.ok(!JSON.stringify(body).includes('EqQBsig') && !JSON.stringify(body).includes('opaque'), 'no signature or redacted data');
});

test('reasoning is kept as plain text only when the upstream names a field for it', () => {
  for (const field of ['reasoning_content', 'reasoning'] as const) {
    const body = encode(anthropicHistory, { model: 'deepseek-reasoner', reasoningField: field });
    const assistant = (body.messages as Record<string, unknown>[])[2];
    assert.equal(assistant?.[field], 'Two tools needed.');
    assert.ok(!JSON.stringify(body).includes('EqQBsig'));
  }
  const messages = encode(anthropicHistory).messages as Record<string, unknown>[];
  assert.ok(messages.every((m) => !('reasoning_content' in m) && !('reasoning' in m)));
});

test('user images: URLs stay URLs, base64 becomes a data: URL', () => {
  const body = encode({
    ...minimal,
    messages: [{ role: 'user', content: [{ type: 'image', source: { kind: 'url', url: 'https://x/cat.png' } }, { type: 'text', text: 'what?' }] }],
  });
  assert.deepEqual(body.messages, [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/cat.png' } }, { type: 'text', text: 'what?' }] }]);
});

test('every request field', () => {
  const body = encode(
    {
      ...minimal,
      tools: [{ name: 'weather', description: 'Now', parameters: { type: 'object', properties: {} } }, { name: 'bare', parameters: { type: 'object' } }],
      toolChoice: { type: 'tool', name: 'weather' },
      parallelToolCalls: false,
      maxTokens: 256,
      temperature: 0.2,
      topP: 0.8,
      topK: 20,
      stopSequences: ['END'],
      responseFormat: { type: 'json_schema', name: 'a', schema: { type: 'object' }, strict: true },
      reasoning: { type: 'budget', budgetTokens: 5000 },
      stream: true,
      user: 'u-9',
    },
    { model: 'up-model', maxTokensField: 'max_completion_tokens' },
  );
  assert.deepEqual(body, {
    model: 'up-model',
    messages: [{ role: 'user', content: 'hi' }],
    tools: [
      { type: 'function', function: { name: 'weather', description: 'Now', parameters: { type: 'object', properties: {} } } },
      { type: 'function', function: { name: 'bare', parameters: { type: 'object' } } },
    ],
    tool_choice: { type: 'function', function: { name: 'weather' } },
    parallel_tool_calls: false,
    max_completion_tokens: 256,
    temperature: 0.2,
    top_p: 0.8,
    top_k: 20,
    stop: ['END'],
    response_format: { type: 'json_schema', json_schema: { name: 'a', schema: { type: 'object' }, strict: true } },
    reasoning_effort: 'medium',
    stream: true,
    stream_options: { include_usage: true },
    user: 'u-9',
  });
});

test('field variants: defaults, tool choices, reasoning, stream options', () => {
  const plain = encode({ ...minimal, maxTokens: 10, toolChoice: { type: 'required' }, parallelToolCalls: true });
  assert.deepEqual(plain, { model: 'up-model', messages: [{ role: 'user', content: 'hi' }], max_tokens: 10, stream: false }, 'tool settings need tools');
  const tools = [{ name: 't', parameters: {} }];
  for (const type of ['auto', 'none', 'required'] as const) assert.equal(encode({ ...minimal, tools, toolChoice: { type } }).tool_choice, type);
  assert.equal(encode({ ...minimal, reasoning: { type: 'effort', effort: 'high' } }).reasoning_effort, 'high');
  assert.equal(encode({ ...minimal, reasoning: { type: 'disabled' } }).reasoning_effort, undefined);
  assert.equal(encode({ ...minimal, reasoning: { type: 'budget', budgetTokens: 1024 } }).reasoning_effort, 'minimal');
  assert.deepEqual(encode({ ...minimal, responseFormat: { type: 'json_object' } }).response_format, { type: 'json_object' });
  assert.equal(encode({ ...minimal, stream: true }, { model: 'x', sendStreamOptions: false }).stream_options, undefined);
  assert.equal(encode({ ...minimal, stream: false }).stream_options, undefined);
});
