import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseDecoder, type SseEvent } from '../../sse/sse-decoder.js';
import { openAiClientCodec, openAiUpstreamCodec } from './openai-codec.js';

/** A DeepSeek-style upstream stream: reasoning, a tool call split at odd places, usage on the finish chunk. */
const upstreamWire = [
  '{"id":"u1","object":"chat.completion.chunk","created":1,"model":"r1","choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":""},"finish_reason":null}]}',
  '{"id":"u1","object":"chat.completion.chunk","created":1,"model":"r1","choices":[{"index":0,"delta":{"reasoning_content":"Need it."},"finish_reason":null}]}',
  '{"id":"u1","object":"chat.completion.chunk","created":1,"model":"r1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_00_x","type":"function","function":{"name":"weather","arguments":"{\\"ci"}}]},"finish_reason":null}]}',
  '{"id":"u1","object":"chat.completion.chunk","created":1,"model":"r1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ty\\":\\"Oslo\\"}"}}]},"finish_reason":null}]}',
  '{"id":"u1","object":"chat.completion.chunk","created":1,"model":"r1","choices":[{"index":0,"delta":{"content":""},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":18,"completion_tokens":9,"total_tokens":27,"prompt_cache_hit_tokens":16}}',
  '[DONE]',
].map((data) => `data: ${data}\n\n`).join('');

test('codecs wire up: an OpenAI-compatible stream through the neutral model back to an OpenAI client', () => {
  const decoder = openAiUpstreamCodec.createStreamDecoder('acme/r1');
  const encoder = openAiClientCodec.createStreamEncoder({ model: 'public', includeUsage: true });
  let out = '';
  const sse = new SseDecoder((event: SseEvent) => {
    for (const neutral of decoder.push(event)) out += encoder.push(neutral);
  });
  sse.push(Buffer.from(upstreamWire));
  sse.end();
  assert.equal(decoder.finished, true);
  out += encoder.finish();
  const chunks = out.split('\n\n').filter((b) => b !== '' && b !== 'data: [DONE]').map((b) => JSON.parse(b.slice(6)) as Record<string, unknown>);
  const deltas = chunks.map((c) => (c.choices as Array<{ delta: unknown; finish_reason: unknown }>)[0]);
  assert.deepEqual(deltas.map((d) => d?.delta), [
    { role: 'assistant', reasoning_content: 'Need it.' },
    { tool_calls: [{ index: 0, id: 'call_00_x', type: 'function', function: { name: 'weather', arguments: '{"ci' } }] },
    { tool_calls: [{ index: 0, function: { arguments: 'ty":"Oslo"}' } }] },
    {},
    undefined,
  ]);
  assert.equal(deltas[3]?.finish_reason, 'tool_calls');
  assert.deepEqual(chunks[4]?.usage, { prompt_tokens: 18, completion_tokens: 9, total_tokens: 27, prompt_tokens_details: { cached_tokens: 16 }, completion_tokens_details: { reasoning_tokens: 0 } });
  assert.ok(chunks.every((c) => c.id === 'chatcmpl-u1'));
});

test('codecs wire up: request and whole-answer paths', () => {
  const neutral = openAiClientCodec.decodeRequest({ model: 'public', messages: [{ role: 'user', content: 'hi' }], stream: true });
  const body = JSON.parse(openAiUpstreamCodec.encodeRequest(neutral, { model: 'up' })) as Record<string, unknown>;
  assert.deepEqual(body, { model: 'up', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
  const response = openAiUpstreamCodec.decodeResponse({ id: 'u2', choices: [{ index: 0, message: { role: 'assistant', content: 'yo' }, finish_reason: 'stop' }] }, 'acme/x');
  const completion = JSON.parse(openAiClientCodec.encodeResponse(response, { model: 'public' })) as { model: string; choices: Array<{ message: { content: string } }> };
  assert.equal(completion.model, 'public');
  assert.equal(completion.choices[0]?.message.content, 'yo');
});
