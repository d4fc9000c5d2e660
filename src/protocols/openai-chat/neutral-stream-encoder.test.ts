import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { ChatEvent } from '../../core/chat-event.js';
import type { FinishReason } from '../../core/finish-reason.js';
import type { Usage } from '../../core/usage.js';
import { OpenAiStreamEncoder } from './neutral-stream-encoder.js';
import { openAiUsageObject } from './usage-encode.js';

type Json = Record<string, unknown>;
interface Choice { index: number; delta: Json; logprobs: null; finish_reason: string | null }

const usage: Usage = { input: 120, cacheRead: 100, cacheWrite: 5, output: 30, reasoning: 12, source: 'reported' };

function encode(events: ChatEvent[], includeUsage = true): string {
  const encoder = new OpenAiStreamEncoder({ model: 'public-model', includeUsage });
  return events.map((e) => encoder.push(e)).join('') + encoder.finish();
}

/** The frames as JSON (the final [DONE] checked and removed). */
function frames(wire: string): Json[] {
  assert.ok(wire.endsWith('data: [DONE]\n\n'), 'ends with [DONE]');
  const blocks = wire.split('\n\n').filter((b) => b !== '');
  assert.ok(blocks.every((b) => b.startsWith('data: ') && !b.includes('\n')), 'bare one-line data frames only');
  return blocks.slice(0, -1).map((b) => JSON.parse(b.slice(6)) as Json);
}

const choiceOf = (frame: Json | undefined): Choice => (frame?.choices as Choice[])[0] as Choice;

test('openAiUsageObject: input already holds cached tokens', () => {
  assert.deepEqual(openAiUsageObject(usage), {
    prompt_tokens: 120, completion_tokens: 30, total_tokens: 150,
    prompt_tokens_details: { cached_tokens: 100 }, completion_tokens_details: { reasoning_tokens: 12 },
  });
});

test('a text answer with include_usage: one envelope, role first, usage null, finish, usage chunk, [DONE]', () => {
  const out = frames(encode([
    { type: 'start', id: 'msg_01abc', model: 'claude-x' },
    { type: 'text', text: 'Hel' },
    { type: 'text', text: '' },
    { type: 'text', text: 'lo' },
    { type: 'usage', usage },
    { type: 'finish', reason: 'stop' },
  ]));
  assert.equal(out.length, 4);
  for (const frame of out) {
    assert.deepEqual(Object.keys(frame), ['id', 'object', 'created', 'model', 'choices', 'usage']);
    assert.equal(frame.id, 'chatcmpl-msg_01abc');
    assert.equal(frame.object, 'chat.completion.chunk');
    assert.equal(frame.model, 'public-model');
    assert.equal(frame.created, out[0]?.created);
  }
  assert.deepEqual(choiceOf(out[0]), { index: 0, delta: { role: 'assistant', content: 'Hel' }, logprobs: null, finish_reason: null });
  assert.deepEqual(choiceOf(out[1]).delta, { content: 'lo' });
  assert.deepEqual(choiceOf(out[2]), { index: 0, delta: {}, logprobs: null, finish_reason: 'stop' });
  assert.ok(out.slice(0, 3).every((f) => f.usage === null));
  assert.deepEqual(out[3]?.choices, []);
  assert.deepEqual(out[3]?.usage, openAiUsageObject(usage));
});

test('without include_usage: no usage key and no usage chunk', () => {
  const out = frames(encode([{ type: 'text', text: 'a' }, { type: 'usage', usage }, { type: 'finish', reason: 'stop' }], false));
  assert.equal(out.length, 2);
  assert.ok(out.every((f) => !('usage' in f)));
  assert.match(String(out[0]?.id), /^chatcmpl-[0-9a-f]{24}$/, 'a random id when the upstream gave none');
});

test('reasoning goes out as reasoning_content; signatures and redacted reasoning are dropped', () => {
  const encoder = new OpenAiStreamEncoder({ model: 'm', includeUsage: false });
  assert.equal(encoder.push({ type: 'reasoning-signature', signature: 'sig', family: 'anthropic' }), '');
  assert.equal(encoder.push({ type: 'redacted-reasoning', data: 'xx', family: 'anthropic' }), '');
  const out = frames(encoder.push({ type: 'reasoning', text: 'think' }) + encoder.push({ type: 'text', text: 'say' }) + encoder.finish());
  assert.deepEqual(out.map((f) => choiceOf(f).delta), [{ role: 'assistant', reasoning_content: 'think' }, { content: 'say' }, {}]);
});

test('tool calls: the first fragment carries index, id, type and name; the finish becomes tool_calls', () => {
  const out = frames(encode([
    { type: 'start' },
    { type: 'tool-call', index: 0, id: 'toolu_a', name: 'weather', argumentsDelta: '' },
    { type: 'tool-call', index: 0, argumentsDelta: '{"city":' },
    { type: 'tool-call', index: 0, argumentsDelta: '' },
    { type: 'tool-call', index: 0, argumentsDelta: '"Oslo"}' },
    { type: 'tool-call', index: 1, name: 'stock', argumentsDelta: '{}' },
    { type: 'finish', reason: 'stop' },
  ], false));
  const deltas = out.map((f) => choiceOf(f).delta);
  assert.deepEqual(deltas[0], { role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'toolu_a', type: 'function', function: { name: 'weather', arguments: '' } }] });
  assert.deepEqual(deltas[1], { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] });
  assert.deepEqual(deltas[2], { tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] });
  const second = (deltas[3]?.tool_calls as Json[])[0];
  assert.match(String(second?.id), /^call_/, 'a missing id is invented');
  assert.equal(choiceOf(out[4]).finish_reason, 'tool_calls');
});

test('finish reasons map to OpenAI ones', () => {
  const cases: Array<[FinishReason, string]> = [
    ['stop', 'stop'], ['stop-sequence', 'stop'], ['length', 'length'], ['context-exceeded', 'length'], ['tool-calls', 'tool_calls'],
    ['content-filter', 'content_filter'], ['refusal', 'content_filter'], ['pause', 'stop'], ['other', 'stop'],
  ];
  for (const [reason, expected] of cases) {
    const out = frames(encode([{ type: 'text', text: 'x' }, { type: 'finish', reason }], false));
    assert.equal(choiceOf(out[1]).finish_reason, expected, reason);
  }
});

test('finish() closes a stream that got no finish event; nothing follows a finish', () => {
  const plain = frames(encode([{ type: 'text', text: 'x' }], false));
  assert.equal(choiceOf(plain[1]).finish_reason, 'stop');
  const tools = frames(encode([{ type: 'tool-call', index: 0, id: 'c', name: 'f', argumentsDelta: '{}' }], false));
  assert.equal(choiceOf(tools[1]).finish_reason, 'tool_calls');
  const late = frames(encode([{ type: 'text', text: 'x' }, { type: 'finish', reason: 'length' }, { type: 'text', text: 'late' }, { type: 'finish', reason: 'stop' }], false));
  assert.equal(late.length, 2);
  assert.equal(choiceOf(late[1]).finish_reason, 'length');
});

test('an empty answer still has a role and a finish; unknown usage falls back to the prompt estimate', () => {
  const encoder = new OpenAiStreamEncoder({ model: 'm', includeUsage: true, estimatedInputTokens: 42 });
  const out = frames(encoder.finish());
  assert.deepEqual(choiceOf(out[0]), { index: 0, delta: { role: 'assistant' }, logprobs: null, finish_reason: 'stop' });
  assert.deepEqual(out[1]?.usage, openAiUsageObject({ input: 42, cacheRead: 0, cacheWrite: 0, output: 0, reasoning: 0, source: 'estimated' }));
});

test("the official SDK's stream helper rebuilds the answer", async () => {
  const wire = encode([
    { type: 'start', id: 'msg_1' },
    { type: 'reasoning', text: 'hmm' },
    { type: 'text', text: 'Checking.' },
    { type: 'tool-call', index: 0, id: 'toolu_a', name: 'weather', argumentsDelta: '{"city":"Oslo"}' },
    { type: 'tool-call', index: 1, id: 'toolu_b', name: 'stock', argumentsDelta: '{"t":' },
    { type: 'tool-call', index: 1, argumentsDelta: '"X"}' },
    { type: 'usage', usage },
    { type: 'finish', reason: 'tool-calls' },
  ]);
  const client = new OpenAI({
    apiKey: 'test',
    baseURL: 'http://sluice.invalid/v1',
    maxRetries: 0,
    fetch: async () => new Response(wire, { headers: { 'content-type': 'text/event-stream' } }),
  });
  const completion = await client.chat.completions
    .stream({ model: 'public-model', messages: [{ role: 'user', content: 'hi' }], stream_options: { include_usage: true } })
    .finalChatCompletion();
  const choice = completion.choices[0];
  assert.equal(choice?.finish_reason, 'tool_calls');
  assert.equal(choice?.message.content, 'Checking.');
  assert.deepEqual(choice?.message.tool_calls?.map((c) => (c.type === 'function' ? [c.id, c.function.name, c.function.arguments] : [])), [
    ['toolu_a', 'weather', '{"city":"Oslo"}'],
    ['toolu_b', 'stock', '{"t":"X"}'],
  ]);
  assert.equal(completion.usage?.total_tokens, 150);
});
