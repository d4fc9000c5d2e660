import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContentChunkTemplate, scanStringLiteral } from './content-chunk-template.js';
import { OpenAiStreamNormalizer } from './stream-normalizer.js';

test('scanStringLiteral accepts exactly the valid JSON string literals', () => {
  for (const literal of ['""', '"a"', '"\\"q\\""', '"\\u00e9\\n\\t\\/\\\\"', '"é 🌊"']) {
    assert.equal(scanStringLiteral(`x${literal}y`, 1), literal.length + 1, literal);
  }
  for (const bad of ['"a', '"\\x"', '"\\u12"', '"a\nb"', 'a"', '"\\"']) assert.equal(scanStringLiteral(bad, 0), -1, bad);
});

const chunk = (content: string) => `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"finish_reason":null}],"usage":null}`;

test('a chunk that differs only in its content string is relayed by the template', () => {
  const template = new ContentChunkTemplate();
  template.learn(chunk('Hello'), chunk('Hello'), 'Hello');
  const raw = chunk(' world "quoted" é');
  const match = template.apply(raw);
  assert.deepEqual(match && { json: match.json, content: match.content }, { json: raw, content: true });
  // The literal's position: what the passthrough decodes for its usage estimate.
  assert.equal(match && JSON.parse(raw.slice(match.literalStart, match.literalEnd)), ' world "quoted" é');
  assert.deepEqual(template.apply(chunk('')), { json: chunk(''), content: false, literalStart: raw.indexOf('"content":') + 10, literalEnd: raw.indexOf('"content":') + 12 });
  // Anything else differing, or a broken literal, goes the long way.
  assert.equal(template.apply(chunk('x').replace('"created":1', '"created":2')), undefined);
  assert.equal(template.apply(chunk('x').replace('"x"', '"x')), undefined);
  assert.equal(template.apply(chunk('x').replace('"x"', '"a"b"')), undefined);
  assert.equal(template.apply(chunk('x').replace('"x"', '"\u0001"')), undefined);
});

test('the normaliser output is reproduced exactly for matching chunks (usage removed for a quiet client)', () => {
  const slow = new OpenAiStreamNormalizer(false);
  const fast = new OpenAiStreamNormalizer(false);
  const stream = ['first', 'second', 'with "quotes" and \\ slash', 'ünïcødé 🌊', ''].map(chunk);
  for (const raw of stream) {
    const expected = slow.normalize(JSON.parse(raw) as Record<string, unknown>, raw);
    const matched = fast.normalizeUnparsed(raw);
    const got = matched === undefined ? fast.normalize(JSON.parse(raw) as Record<string, unknown>, raw) : { json: matched.json, content: matched.content };
    assert.deepEqual(got, expected);
  }
  // The first chunk (role inserted) never becomes the template; the later ones do.
  assert.equal(new OpenAiStreamNormalizer(false).normalizeUnparsed(stream[0]!), undefined);
  assert.ok(fast.normalizeUnparsed(chunk('again')) !== undefined);
});

test('a logprobs chunk (a second "content" key) never becomes a template', () => {
  const n = new OpenAiStreamNormalizer(true);
  const withLogprobs = (c: string) => `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"${c}"},"logprobs":{"content":[{"token":"${c}","logprob":-1}],"refusal":null},"finish_reason":null}],"usage":null}`;
  for (const c of ['a', 'b']) n.normalize(JSON.parse(withLogprobs(c)) as Record<string, unknown>, withLogprobs(c));
  assert.equal(n.normalizeUnparsed(withLogprobs('c')), undefined);
});
