import { test } from 'node:test';
import assert from 'node:assert/strict';
import { usageFromOpenAi } from './usage.js';

test('OpenAI usage: cached tokens are a subset of prompt tokens', () => {
  assert.deepEqual(usageFromOpenAi({ prompt_tokens: 100, completion_tokens: 20, total_tokens: 120, prompt_tokens_details: { cached_tokens: 60 }, completion_tokens_details: { reasoning_tokens: 5 } }), {
    input: 100, cacheRead: 60, cacheWrite: 0, output: 20, reasoning: 5, source: 'reported',
  });
});

test('DeepSeek cache hits and xAI reasoning outside completion_tokens', () => {
  assert.equal(usageFromOpenAi({ prompt_tokens: 18, completion_tokens: 2, total_tokens: 20, prompt_cache_hit_tokens: 8 })?.cacheRead, 8);
  const xai = usageFromOpenAi({ prompt_tokens: 307, completion_tokens: 26, total_tokens: 560, completion_tokens_details: { reasoning_tokens: 227 } });
  assert.equal(xai?.output, 253);
  assert.equal(xai?.reasoning, 227);
});

test('garbage counters count as zero', () => {
  assert.deepEqual(usageFromOpenAi({ prompt_tokens: -1, completion_tokens: 'x' }), { input: 0, cacheRead: 0, cacheWrite: 0, output: 0, reasoning: 0, source: 'reported' });
  assert.equal(usageFromOpenAi(null), undefined);
});
