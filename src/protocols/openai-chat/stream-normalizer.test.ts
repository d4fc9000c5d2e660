import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpenAiStreamNormalizer } from './stream-normalizer.js';

const envelope = { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm' };
const chunk = (delta: object, finish: string | null = null, extra: object = {}) =>
  ({ ...envelope, choices: [{ index: 0, delta, finish_reason: finish }], ...extra });

function run(normalizer: OpenAiStreamNormalizer, chunks: object[]): (Record<string, unknown> | undefined)[] {
  return chunks.map((c) => {
    const raw = JSON.stringify(c);
    const { json } = normalizer.normalize(JSON.parse(raw) as Record<string, unknown>, raw);
    return json === undefined ? undefined : (JSON.parse(json) as Record<string, unknown>);
  });
}

test('an unchanged chunk passes through as the very same text', () => {
  const n = new OpenAiStreamNormalizer(true);
  const raw = '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"x"},"finish_reason":null}],"usage":null,"x_vendor":{"a":1}}';
  const { json, content } = n.normalize(JSON.parse(raw) as Record<string, unknown>, raw);
  assert.equal(json, raw);
  assert.equal(content, true);
});

test('the first chunk of each choice gets a role; later ones are left alone', () => {
  const out = run(new OpenAiStreamNormalizer(false), [chunk({ content: 'a' }), chunk({ content: 'b' })]);
  assert.deepEqual((out[0]?.choices as { delta: object }[])[0]?.delta, { content: 'a', role: 'assistant' });
  assert.deepEqual((out[1]?.choices as { delta: object }[])[0]?.delta, { content: 'b' });
});

test('reasoning becomes reasoning_content', () => {
  const out = run(new OpenAiStreamNormalizer(false), [chunk({ role: 'assistant', reasoning: 'think' })]);
  assert.deepEqual((out[0]?.choices as { delta: object }[])[0]?.delta, { role: 'assistant', reasoning_content: 'think' });
});

test('usage: the client that did not ask sees none, the one that asked gets null on chunks and the usage chunk', () => {
  const usage = { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7, prompt_tokens_details: { cached_tokens: 3 } };
  const stream = [chunk({ role: 'assistant', content: 'a' }, null, { usage: null }), chunk({}, 'stop', { usage: null }), { ...envelope, choices: [], usage }];
  const quiet = new OpenAiStreamNormalizer(false);
  const q = run(quiet, stream);
  assert.equal(q[2], undefined);
  assert.ok(q.slice(0, 2).every((c) => c !== undefined && !('usage' in c)));
  assert.deepEqual(quiet.usage, { input: 5, cacheRead: 3, cacheWrite: 0, output: 2, reasoning: 0, source: 'reported' });
  const asked = run(new OpenAiStreamNormalizer(true), stream);
  assert.deepEqual(asked[2]?.usage, usage);
  assert.equal(asked[0]?.usage, null);
});

test('usage on the finish chunk moves to a separate trailing usage chunk', () => {
  const usage = { prompt_tokens: 4, completion_tokens: 1, total_tokens: 5 };
  const n = new OpenAiStreamNormalizer(true);
  const out = run(n, [chunk({ role: 'assistant', content: 'a' }), chunk({}, 'stop', { usage })]);
  assert.equal(out[1]?.usage, null);
  assert.equal(out[0]?.usage, null, 'usage: null is added where the upstream left it out');
  const trailing = JSON.parse(n.trailingUsageChunk() ?? 'null') as Record<string, unknown>;
  assert.deepEqual(trailing, { ...envelope, choices: [], usage });
  assert.equal(new OpenAiStreamNormalizer(false).trailingUsageChunk(), undefined);
});

test('tool calls: index 1 first, gaps and missing indexes become dense, with id and type', () => {
  const n = new OpenAiStreamNormalizer(false);
  const out = run(n, [
    chunk({ role: 'assistant', tool_calls: [{ index: 1, id: 'a', type: 'function', function: { name: 'f', arguments: '' } }] }),
    chunk({ tool_calls: [{ index: 1, function: { arguments: '{}' } }] }),
    chunk({ tool_calls: [{ index: 3, id: 'b', type: 'function', function: { name: 'g', arguments: '{}' } }] }),
    chunk({ tool_calls: [{ id: 'c', function: { name: 'h', arguments: '{}' } }] }),
  ]);
  const calls = out.map((c) => ((c?.choices as { delta: { tool_calls: Record<string, unknown>[] } }[])[0]?.delta.tool_calls ?? [])[0]);
  assert.deepEqual(calls.map((c) => c?.index), [0, 0, 1, 2]);
  assert.equal(calls[3]?.type, 'function');
  assert.equal(calls[3]?.id, 'c');
});

test('content detection marks the commit point', () => {
  const n = new OpenAiStreamNormalizer(false);
  const seen = [chunk({ role: 'assistant', content: '' }), chunk({ content: '' }), chunk({ content: 'x' })].map((c) => {
    const raw = JSON.stringify(c);
    return n.normalize(JSON.parse(raw) as Record<string, unknown>, raw).content;
  });
  assert.deepEqual(seen, [false, false, true]);
  const finishOnly = new OpenAiStreamNormalizer(false);
  const raw = JSON.stringify(chunk({}, 'stop'));
  assert.equal(finishOnly.normalize(JSON.parse(raw) as Record<string, unknown>, raw).content, true);
  assert.equal(finishOnly.allChoicesFinished, true);
});

test('the envelope stays constant and object is filled in', () => {
  const out = run(new OpenAiStreamNormalizer(false), [
    { id: 'x', created: 5, model: 'm', choices: [{ index: 0, delta: { content: 'a' } }] },
    { id: 'x', created: 6, model: 'm', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'b' } }] },
  ]);
  assert.equal(out[0]?.object, 'chat.completion.chunk');
  assert.equal(out[1]?.created, 5);
});

test('parallel calls that all say index 0 (Ollama) stay separate, told apart by id', () => {
  const n = new OpenAiStreamNormalizer(false);
  const out = run(n, [
    chunk({ role: 'assistant', tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'f', arguments: '{"city":' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
    chunk({ tool_calls: [{ index: 0, id: 'call_b', type: 'function', function: { name: 'g', arguments: '{"tz":"UTC"}' } }] }),
    chunk({ tool_calls: [{ index: 0, id: 'call_b', function: { arguments: '' } }] }),
  ]);
  const indexes = out.map((c) => ((c?.choices as { delta: { tool_calls: { index: number }[] } }[])[0]?.delta.tool_calls ?? [])[0]?.index);
  assert.deepEqual(indexes, [0, 0, 1, 1]);
});
