import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatMessage, NeutralRequest } from '../../core/chat-request.js';
import { GatewayError } from '../../core/gateway-error.js';
import { encodeGeminiRequest } from './request-encode.js';

const target = { model: 'gemini-test-001' };
const base: NeutralRequest = { model: 'public-name', system: [], messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], tools: [], stopSequences: [], stream: false, includeUsage: false };

function encode(changes: Partial<NeutralRequest>): Record<string, unknown> {
  return JSON.parse(encodeGeminiRequest({ ...base, ...changes }, target)) as Record<string, unknown>;
}

function rejection(changes: Partial<NeutralRequest>): GatewayError {
  try {
    encodeGeminiRequest({ ...base, ...changes }, target);
  } catch (error) {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, 'invalid_request');
    assert.equal(error.status, 400);
    return error;
  }
  assert.fail('expected a 400');
}

test('a minimal request: contents only, no model in the body', () => {
  assert.deepEqual(encode({}), { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] });
});

test('system prompt, sampling, stop sequences, output limit', () => {
  const body = encode({
    system: [{ type: 'text', text: 'Be brief.' }, { type: 'text', text: '' }, { type: 'text', text: 'Be kind.' }],
    maxTokens: 256,
    temperature: 0.2,
    topP: 0.9,
    topK: 40,
    stopSequences: ['END', '###'],
    parallelToolCalls: false,
    user: 'user-123',
  });
  assert.deepEqual(body.systemInstruction, { parts: [{ text: 'Be brief.' }, { text: 'Be kind.' }] });
  assert.deepEqual(body.generationConfig, { maxOutputTokens: 256, temperature: 0.2, topP: 0.9, topK: 40, stopSequences: ['END', '###'] });
  assert.deepEqual(Object.keys(body).sort(), ['contents', 'generationConfig', 'systemInstruction'], 'parallelToolCalls and user have no Gemini field');
});

test('more stop sequences than Gemini takes is a 400', () => {
  const error = rejection({ stopSequences: ['a', 'b', 'c', 'd', 'e', 'f'] });
  assert.equal(error.param, 'stopSequences');
  assert.match(error.message, /at most 5/);
  assert.deepEqual((encode({ stopSequences: ['a', 'b', 'c', 'd', 'e'] }).generationConfig as Record<string, unknown>).stopSequences, ['a', 'b', 'c', 'd', 'e']);
});

test('response formats: json_object and json_schema', () => {
  assert.deepEqual(encode({ responseFormat: { type: 'text' } }).generationConfig, undefined);
  assert.deepEqual(encode({ responseFormat: { type: 'json_object' } }).generationConfig, { responseMimeType: 'application/json' });
  const schema = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'], additionalProperties: false };
  assert.deepEqual(encode({ responseFormat: { type: 'json_schema', name: 'answer', schema, strict: true } }).generationConfig, {
    responseMimeType: 'application/json',
    responseJsonSchema: schema,
  });
});

test('reasoning: budget, effort through effortBudgets, disabled', () => {
  const config = (reasoning: NeutralRequest['reasoning']) => encode({ reasoning }).generationConfig;
  assert.deepEqual(config({ type: 'budget', budgetTokens: 5000 }), { thinkingConfig: { thinkingBudget: 5000, includeThoughts: true } });
  assert.deepEqual(config({ type: 'effort', effort: 'minimal' }), { thinkingConfig: { thinkingBudget: 1024, includeThoughts: true } });
  assert.deepEqual(config({ type: 'effort', effort: 'high' }), { thinkingConfig: { thinkingBudget: 24576, includeThoughts: true } });
  assert.deepEqual(config({ type: 'disabled' }), { thinkingConfig: { thinkingBudget: 0 } });
});

test('tools as functionDeclarations with parametersJsonSchema; every toolChoice', () => {
  const parameters = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
  const tools = [
    { name: 'weather', description: 'Current weather', parameters },
    { name: 'now', parameters: { type: 'object', properties: {} } },
  ];
  const body = encode({ tools });
  assert.deepEqual(body.tools, [
    {
      functionDeclarations: [
        { name: 'weather', description: 'Current weather', parametersJsonSchema: parameters },
        { name: 'now', parametersJsonSchema: { type: 'object', properties: {} } },
      ],
    },
  ]);
  assert.equal(body.toolConfig, undefined);
  const mode = (toolChoice: NeutralRequest['toolChoice']) => encode({ tools, toolChoice }).toolConfig;
  assert.deepEqual(mode({ type: 'auto' }), { functionCallingConfig: { mode: 'AUTO' } });
  assert.deepEqual(mode({ type: 'none' }), { functionCallingConfig: { mode: 'NONE' } });
  assert.deepEqual(mode({ type: 'required' }), { functionCallingConfig: { mode: 'ANY' } });
  assert.deepEqual(mode({ type: 'tool', name: 'now' }), { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['now'] } });
  assert.equal(rejection({ tools, toolChoice: { type: 'tool', name: 'missing' } }).param, 'toolChoice');
  assert.equal(rejection({ toolChoice: { type: 'required' } }).param, 'toolChoice');
  assert.equal(encode({ toolChoice: { type: 'none' } }).toolConfig, undefined);
});

test('history: tool calls with signatures, results found by id, images, merged user turns', () => {
  const messages: ChatMessage[] = [
    { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome? Here is a map:' }, { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'iVBORw0KGgo=' } }] },
    {
      role: 'assistant',
      content: [
        { type: 'reasoning', text: 'Two cities, two calls.', signature: { family: 'gemini', value: 'sig-thought' } },
        { type: 'tool-call', id: 'call_1', name: 'weather', arguments: '{"city":"Paris"}', signature: { family: 'gemini', value: 'sig-call' } },
        { type: 'tool-call', id: 'call_2', name: 'weather', arguments: '' },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool-result', toolCallId: 'call_1', content: [{ type: 'text', text: '18°C' }, { type: 'text', text: 'sunny' }] },
        { type: 'tool-result', toolCallId: 'call_2', name: 'weather', isError: true, content: [{ type: 'text', text: 'timeout' }] },
      ],
    },
    { role: 'user', content: [{ type: 'tool-result', toolCallId: 'call_1', content: [{ type: 'image', source: { kind: 'url', url: 'data:image/jpeg;base64,/9j/4AAQ' } }] }] },
    { role: 'assistant', content: [{ type: 'text', text: 'Paris is sunny.' }, { type: 'reasoning', text: '', signature: { family: 'gemini', value: 'sig-text' } }] },
    { role: 'user', content: [{ type: 'text', text: 'And this?' }, { type: 'image', source: { kind: 'url', url: 'https://example.com/photos/cat.JPG?size=large' } }] },
  ];
  assert.deepEqual(encode({ messages }).contents, [
    { role: 'user', parts: [{ text: 'Weather in Paris and Rome? Here is a map:' }, { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } }] },
    {
      role: 'model',
      parts: [
        { text: 'Two cities, two calls.', thought: true, thoughtSignature: 'sig-thought' },
        { functionCall: { name: 'weather', args: { city: 'Paris' } }, thoughtSignature: 'sig-call' },
        { functionCall: { name: 'weather', args: {} } },
      ],
    },
    {
      role: 'user',
      parts: [
        { functionResponse: { name: 'weather', response: { output: '18°C\nsunny' } } },
        { functionResponse: { name: 'weather', response: { error: 'timeout' } } },
        { functionResponse: { name: 'weather', response: { output: '' } } },
        { inlineData: { mimeType: 'image/jpeg', data: '/9j/4AAQ' } },
      ],
    },
    { role: 'model', parts: [{ text: 'Paris is sunny.', thoughtSignature: 'sig-text' }] },
    { role: 'user', parts: [{ text: 'And this?' }, { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/photos/cat.JPG?size=large' } }] },
  ]);
});

test('reasoning of other families, unsigned summaries and redacted reasoning are left out; signatures are never invented', () => {
  const messages: ChatMessage[] = [
    { role: 'user', content: [{ type: 'text', text: 'q' }] },
    {
      role: 'assistant',
      content: [
        { type: 'reasoning', text: 'Claude thinking', signature: { family: 'anthropic', value: 'anthropic-sig' } },
        { type: 'redacted-reasoning', data: 'opaque', family: 'anthropic' },
        { type: 'reasoning', text: 'unsigned summary' },
        { type: 'tool-call', id: 't1', name: 'f', arguments: '{}', signature: { family: 'openai', value: 'x' } },
      ],
    },
    { role: 'user', content: [{ type: 'tool-result', toolCallId: 't1', content: [{ type: 'text', text: 'done' }] }] },
    { role: 'assistant', content: [{ type: 'reasoning', text: 'only a foreign thought', signature: { family: 'openai', value: 'enc' } }] },
    { role: 'assistant', content: [{ type: 'tool-call', id: 't2', name: 'g', arguments: '{"a":1}' }, { type: 'reasoning', text: '', signature: { family: 'gemini', value: 'late-sig' } }] },
  ];
  assert.deepEqual(encode({ messages }).contents, [
    { role: 'user', parts: [{ text: 'q' }] },
    { role: 'model', parts: [{ functionCall: { name: 'f', args: {} } }] },
    { role: 'user', parts: [{ functionResponse: { name: 'f', response: { output: 'done' } } }] },
    { role: 'model', parts: [{ functionCall: { name: 'g', args: { a: 1 } } }, { text: '', thoughtSignature: 'late-sig' }] },
  ]);
});

test('percent-encoded data: URLs are decoded to base64 inline data', () => {
  const messages: ChatMessage[] = [{ role: 'user', content: [{ type: 'image', source: { kind: 'url', url: 'data:image/png,%89PNG%0D%0A' } }] }];
  const parts = (encode({ messages }).contents as { parts: { inlineData: { data: string; mimeType: string } }[] }[])[0]?.parts;
  assert.equal(parts?.[0]?.inlineData.mimeType, 'image/png');
  assert.deepEqual(Buffer.from(parts?.[0]?.inlineData.data ?? '', 'base64'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a]));
});

test('untranslatable input is a clear 400 naming the field', () => {
  const image = (url: string): Partial<NeutralRequest> => ({ messages: [{ role: 'user', content: [{ type: 'text', text: 'see' }, { type: 'image', source: { kind: 'url', url } }] }] });
  const noType = rejection(image('https://example.com/image'));
  assert.equal(noType.param, 'messages[0].content[1]');
  assert.match(noType.message, /inline data .* file URI with a known mime type/);
  assert.equal(rejection(image('https://example.com/anim.gif')).param, 'messages[0].content[1]');
  assert.equal(rejection(image('ftp://example.com/a.png')).param, 'messages[0].content[1]');
  assert.equal(rejection(image('not a url')).param, 'messages[0].content[1]');
  assert.match(rejection(image('data:;base64,AAAA')).message, /media type/);

  const orphan = rejection({ messages: [{ role: 'user', content: [{ type: 'tool-result', toolCallId: 'nowhere', content: [{ type: 'text', text: 'x' }] }] }] });
  assert.equal(orphan.param, 'messages[0].content[0].toolCallId');
  assert.match(orphan.message, /function name/);

  const call = (args: string): Partial<NeutralRequest> => ({
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'q' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'calling' }, { type: 'tool-call', id: 'c', name: 'f', arguments: args }] },
    ],
  });
  assert.equal(rejection(call('{"a":')).param, 'messages[1].content[1].arguments');
  assert.match(rejection(call('[1,2]')).message, /JSON object/);
  assert.equal(rejection({ messages: [{ role: 'user', content: [{ type: 'text', text: '' }] }] }).param, 'messages');
});
