import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatEvent } from '../../core/chat-event.js';
import { GatewayError } from '../../core/gateway-error.js';
import type { SseEvent } from '../../sse/sse-decoder.js';
import { OpenAiStreamDecoder } from './neutral-stream-decoder.js';

const route = 'acme/model-x';
const envelope = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1700000000, model: 'model-x-2025' };
const chunk = (delta: object, finish: string | null = null, extra: object = {}) =>
  ({ ...envelope, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...extra });
const sse = (data: unknown, event?: string): SseEvent => ({ event, data: typeof data === 'string' ? data : JSON.stringify(data), id: undefined });

function decode(items: unknown[], decoder = new OpenAiStreamDecoder(route)): ChatEvent[] {
  return items.flatMap((item) => decoder.push(sse(item)));
}

function failure(items: SseEvent[]): GatewayError {
  const decoder = new OpenAiStreamDecoder(route);
  try {
    for (const item of items) decoder.push(item);
  } catch (error) {
    assert.ok(error instanceof GatewayError);
    return error;
  }
  assert.fail('expected a failure');
}

const usage = {
  prompt_tokens: 120, completion_tokens: 30, total_tokens: 150,
  prompt_tokens_details: { cached_tokens: 100 }, completion_tokens_details: { reasoning_tokens: 12 },
};
const neutralUsage = { input: 120, cacheRead: 100, cacheWrite: 0, output: 30, reasoning: 12, source: 'reported' };

test('a text stream: start, text, finish, then usage from the separate usage chunk, then [DONE]', () => {
  const decoder = new OpenAiStreamDecoder(route);
  const events = decode([
    chunk({ role: 'assistant', content: '', refusal: null }, null, { usage: null }),
    chunk({ content: 'Hel' }, null, { usage: null }),
    chunk({ content: 'lo' }, null, { usage: null }),
    chunk({}, 'stop', { usage: null }),
  ], decoder);
  assert.deepEqual(events, [
    { type: 'start', id: 'chatcmpl-1', model: 'model-x-2025' },
    { type: 'text', text: 'Hel' },
    { type: 'text', text: 'lo' },
    { type: 'finish', reason: 'stop' },
  ]);
  assert.equal(decoder.completeWithoutTerminator, true);
  assert.equal(decoder.finished, false);
  assert.deepEqual(decode([{ ...envelope, choices: [], usage }], decoder), [{ type: 'usage', usage: neutralUsage }]);
  assert.deepEqual(decoder.push(sse('[DONE]')), []);
  assert.equal(decoder.finished, true);
  assert.deepEqual(decoder.push(sse(chunk({ content: 'late' }))), [], 'nothing after [DONE]');
});

test('usage on the finish chunk (DeepSeek, Groq) comes before the finish event', () => {
  const events = decode([
    chunk({ role: 'assistant', content: null, reasoning_content: '' }),
    chunk({ content: 'ok', reasoning_content: null }),
    chunk({ content: '', reasoning_content: null }, 'stop', { usage: { ...usage, prompt_tokens_details: {}, prompt_cache_hit_tokens: 64 } }),
  ]);
  assert.deepEqual(events.slice(2), [
    { type: 'usage', usage: { ...neutralUsage, cacheRead: 64 } },
    { type: 'finish', reason: 'stop' },
  ]);
});

test('reasoning from reasoning_content, reasoning, both at once, and OpenRouter reasoning_details', () => {
  const events = decode([
    chunk({ role: 'assistant', reasoning_content: 'a' }),
    chunk({ reasoning: 'b' }),
    chunk({ reasoning: 'c', reasoning_content: 'c' }),
    chunk({ reasoning_details: [{ type: 'reasoning.text', text: 'd' }, { type: 'reasoning.encrypted', data: 'xyz' }, { type: 'reasoning.summary', summary: 'e' }] }),
    chunk({ reasoning: 'f', reasoning_details: [{ type: 'reasoning.text', text: 'f', signature: 'sig' }] }),
    chunk({ reasoning_content: null, content: 'answer' }),
  ]);
  assert.deepEqual(events.slice(1), [
    { type: 'reasoning', text: 'a' },
    { type: 'reasoning', text: 'b' },
    { type: 'reasoning', text: 'c' },
    { type: 'reasoning', text: 'de' },
    { type: 'reasoning', text: 'f' },
    { type: 'text', text: 'answer' },
  ]);
});

test('refusal text reaches the client as text', () => {
  const events = decode([chunk({ role: 'assistant', content: null, refusal: '' }), chunk({ refusal: "I can't" }), chunk({}, 'stop')]);
  assert.deepEqual(events.slice(1), [{ type: 'text', text: "I can't" }, { type: 'finish', reason: 'stop' }]);
});

test('parallel tool calls with fragmented arguments', () => {
  const events = decode([
    chunk({ role: 'assistant', content: null }),
    chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'weather', arguments: '' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"ci' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: 'ty":"Oslo"}' } }] }),
    chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'stock', arguments: '' } }] }),
    chunk({ tool_calls: [{ index: 1, function: { arguments: '{"t":"X"}' } }] }),
    chunk({}, 'tool_calls'),
  ]);
  assert.deepEqual(events.slice(1), [
    { type: 'tool-call', index: 0, id: 'call_a', name: 'weather', argumentsDelta: '' },
    { type: 'tool-call', index: 0, argumentsDelta: '{"ci' },
    { type: 'tool-call', index: 0, argumentsDelta: 'ty":"Oslo"}' },
    { type: 'tool-call', index: 1, id: 'call_b', name: 'stock', argumentsDelta: '' },
    { type: 'tool-call', index: 1, argumentsDelta: '{"t":"X"}' },
    { type: 'finish', reason: 'tool-calls' },
  ]);
});

test('tool indexes starting at 1 and with gaps become dense from 0', () => {
  // Claude behind an OpenAI-compatible endpoint: text, then the first call at index 1, no finish_reason until the end.
  const events = decode([
    chunk({ role: 'assistant', content: 'Listing' }),
    chunk({ role: 'assistant', content: null, tool_calls: [{ index: 1, id: 'toolu_1', type: 'function', function: { name: 'list' } }] }),
    chunk({ role: 'assistant', content: null, tool_calls: [{ index: 1, function: { arguments: '{}' } }] }),
    chunk({ tool_calls: [{ index: 3, id: 'toolu_2', type: 'function', function: { name: 'get', arguments: '{"a":' } }] }),
    chunk({ tool_calls: [{ index: 3, function: { arguments: '1}' } }] }),
    chunk({ content: null }, 'tool_calls'),
  ]);
  assert.deepEqual(events.filter((e) => e.type === 'tool-call'), [
    { type: 'tool-call', index: 0, id: 'toolu_1', name: 'list', argumentsDelta: '' },
    { type: 'tool-call', index: 0, argumentsDelta: '{}' },
    { type: 'tool-call', index: 1, id: 'toolu_2', name: 'get', argumentsDelta: '{"a":' },
    { type: 'tool-call', index: 1, argumentsDelta: '1}' },
  ]);
});

test('calls without index (Mistral) or all at index 0 with distinct ids (Ollama) get indexes and ids', () => {
  const mistral = decode([
    chunk({ role: 'assistant', content: '' }),
    chunk({ content: null, tool_calls: [{ function: { name: 'weather', arguments: '{"location":"Paris"}' } }] }, 'tool_calls', {
      usage: { prompt_tokens: 124, completion_tokens: 22, total_tokens: 146 },
    }),
  ]);
  const call = mistral[1];
  assert.ok(call?.type === 'tool-call');
  assert.match(call.id ?? '', /^call_[0-9a-f]{24}$/);
  assert.deepEqual({ ...call, id: 'x' }, { type: 'tool-call', index: 0, id: 'x', name: 'weather', argumentsDelta: '{"location":"Paris"}' });
  assert.deepEqual(mistral.slice(2).map((e) => e.type), ['usage', 'finish']);

  const ollama = decode([
    chunk({ role: 'assistant', tool_calls: [{ index: 0, id: 'c1', function: { name: 'a', arguments: '{}' } }] }),
    chunk({ tool_calls: [{ index: 0, id: 'c2', function: { name: 'b', arguments: '{}' } }] }),
    chunk({}, 'stop'),
  ]);
  assert.deepEqual(ollama.slice(1).map((e) => (e.type === 'tool-call' ? [e.index, e.id] : e.type === 'finish' ? e.reason : e.type)), [[0, 'c1'], [1, 'c2'], 'tool-calls']);
});

test('finish reasons map to neutral ones; only the first counts', () => {
  const cases: Array<[string, string]> = [
    ['stop', 'stop'], ['length', 'length'], ['tool_calls', 'tool-calls'], ['function_call', 'tool-calls'],
    ['content_filter', 'content-filter'], ['eos_token', 'other'],
  ];
  for (const [upstream, neutral] of cases) {
    const events = decode([chunk({ role: 'assistant', content: 'x' }), chunk({}, upstream), chunk({ content: 'after' }, 'stop')]);
    assert.deepEqual(events.slice(2), [{ type: 'finish', reason: neutral }], upstream);
  }
});

test('only choice 0 is read', () => {
  const events = decode([
    { ...envelope, choices: [{ index: 1, delta: { role: 'assistant', content: 'other' }, finish_reason: null }] },
    { ...envelope, choices: [{ index: 0, delta: { role: 'assistant', content: 'mine' }, finish_reason: null }] },
    { ...envelope, choices: [{ index: 1, delta: {}, finish_reason: 'stop' }] },
  ]);
  assert.deepEqual(events.slice(1), [{ type: 'text', text: 'mine' }]);
});

test('pings and an empty leading chunk (Azure prompt filter) are skipped; start takes the first real chunk', () => {
  const events = decode([{}, { id: '', object: '', created: 0, model: '', choices: [], prompt_filter_results: [] }, { ...chunk({ role: 'assistant', content: 'a' }), id: 'real' }]);
  assert.deepEqual(events, [{ type: 'start', id: 'real', model: 'model-x-2025' }, { type: 'text', text: 'a' }]);
});

test('a stream that ends without a finish_reason is not complete', () => {
  const decoder = new OpenAiStreamDecoder(route);
  decode([chunk({ role: 'assistant', content: 'a' })], decoder);
  assert.equal(decoder.completeWithoutTerminator, false);
});

test('in-band errors throw upstream_stream_error with the upstream type and code', () => {
  const openAi = failure([sse(chunk({ content: 'x' })), sse({ error: { message: 'The server had an error', type: 'server_error' } })]);
  assert.equal(openAi.code, 'upstream_stream_error');
  assert.equal(openAi.upstreamType, 'server_error');
  assert.equal(openAi.route, route);
  assert.match(openAi.message, /The server had an error/);

  const vllm = failure([sse({ object: 'error', message: 'bad request', type: 'BadRequestError', code: 400 })]);
  assert.equal(vllm.code, 'upstream_stream_error');
  assert.equal(vllm.upstreamCode, '400');

  const openRouter = failure([sse({ ...chunk({}, 'error'), error: { code: 502, message: 'Provider disconnected' } })]);
  assert.equal(openRouter.upstreamCode, '502');

  const named = failure([sse({ message: 'overloaded' }, 'error')]);
  assert.equal(named.code, 'upstream_stream_error');
});

test('malformed frames throw upstream_protocol_error', () => {
  const broken = failure([sse('{"id":"x","choices":[')]);
  assert.equal(broken.code, 'upstream_protocol_error');
  assert.equal(broken.route, route);
  assert.equal(failure([sse('42')]).code, 'upstream_protocol_error');
});

test('usage is final once the usage-only chunk arrives, not when usage rides on content chunks', () => {
  const streaming = new OpenAiStreamDecoder(route);
  decode([chunk({ content: 'a' }, null, { usage })], streaming);
  assert.equal(streaming.usageFinal, false, 'continuous usage on a content chunk is provisional');
  decode([{ ...envelope, choices: [], usage }], streaming);
  assert.equal(streaming.usageFinal, true);
  const empty = new OpenAiStreamDecoder(route);
  decode([{ ...envelope, choices: [] }], empty);
  assert.equal(empty.usageFinal, false, 'no usage, nothing final');
});
