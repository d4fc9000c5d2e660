import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalRequestError, readChatRequest } from './chat-request.js';

const body = (fields: Record<string, unknown>): string => JSON.stringify({ model: 'm.gguf', messages: [{ role: 'user', content: 'hi' }], ...fields });

function refused(text: string, pattern: RegExp, param?: string): void {
  assert.throws(() => readChatRequest(text), (error: unknown) => {
    assert.ok(error instanceof LocalRequestError, String(error));
    assert.match(error.message, pattern);
    if (param !== undefined) assert.equal(error.param, param);
    return true;
  });
}

test('roles map to node-llama-cpp history items; text parts are joined', () => {
  const request = readChatRequest(body({
    messages: [
      { role: 'system', content: 'sys' },
      { role: 'developer', content: [{ type: 'text', text: 'dev' }] },
      { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] },
      { role: 'assistant', content: 'answer' },
      { role: 'user', content: 'again' },
    ],
  }));
  assert.deepEqual(request.history, [
    { type: 'system', text: 'sys' },
    { type: 'system', text: 'dev' },
    { type: 'user', text: 'ab' },
    { type: 'model', response: ['answer'] },
    { type: 'user', text: 'again' },
  ]);
});

test('tool results are put into the call that asked for them', () => {
  const request = readChatRequest(body({
    messages: [
      { role: 'user', content: 'weather?' },
      { role: 'assistant', content: null, tool_calls: [
        { id: 'a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        { id: 'b', type: 'function', function: { name: 'get_time', arguments: '' } },
      ] },
      { role: 'tool', tool_call_id: 'b', content: '12:00' },
      { role: 'tool', tool_call_id: 'a', content: [{ type: 'text', text: 'sunny' }] },
    ],
  }));
  assert.deepEqual(request.history[1], {
    type: 'model',
    response: [
      { type: 'functionCall', name: 'get_weather', params: { city: 'Paris' }, result: 'sunny' },
      { type: 'functionCall', name: 'get_time', params: {}, result: '12:00' },
    ],
  });
  refused(body({ messages: [{ role: 'tool', tool_call_id: 'x', content: 'r' }] }), /no earlier assistant message/, 'messages[0].tool_call_id');
  refused(body({ messages: [{ role: 'assistant', tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{' } }] }] }), /not valid JSON/);
});

test('tools become functions, unless tool_choice is none', () => {
  const tools = [{ type: 'function', function: { name: 'get_weather', description: 'd', parameters: { type: 'object', properties: {} } } }];
  assert.deepEqual(readChatRequest(body({ tools })).functions, { get_weather: { description: 'd', params: { type: 'object', properties: {} } } });
  assert.equal(readChatRequest(body({ tools, tool_choice: 'none' })).functions, undefined);
  assert.equal(readChatRequest(body({ tools: [] })).functions, undefined);
  refused(body({ tools: [{ type: 'function', function: {} }] }), /function tool with a name/, 'tools[0]');
});

test('sampling options and limits are read and checked', () => {
  const request = readChatRequest(body({ stream: true, max_tokens: 5, temperature: 0.5, top_p: 0.9, seed: 42, stop: ['x', ''] }));
  assert.deepEqual({ ...request, history: [] }, { history: [], functions: undefined, stream: true, maxTokens: 5, temperature: 0.5, topP: 0.9, seed: 42, stop: ['x'] });
  assert.equal(readChatRequest(body({ max_completion_tokens: 7, max_tokens: 3 })).maxTokens, 7);
  assert.deepEqual(readChatRequest(body({ stop: 'end' })).stop, ['end']);
  refused(body({ max_tokens: 0 }), /at least 1/, 'max_tokens');
  refused(body({ temperature: 3 }), /from 0 to 2/, 'temperature');
  refused(body({ seed: 1.5 }), /integer/, 'seed');
  refused(body({ stop: [1] }), /array of strings/, 'stop');
  refused(body({ n: 2 }), /one choice/, 'n');
});

test('what a local model cannot take is refused with the field named', () => {
  refused('{', /not valid JSON/);
  refused(body({ messages: [] }), /non-empty array/, 'messages');
  refused(body({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }), /image_url part; local models take text only/, 'messages[0].content');
  refused(body({ messages: [{ role: 'robot', content: 'x' }] }), /unknown role/, 'messages[0].role');
  refused(body({ response_format: { type: 'json_object' } }), /not supported/, 'response_format');
  assert.equal(readChatRequest(body({ response_format: { type: 'text' } })).stream, false);
});
