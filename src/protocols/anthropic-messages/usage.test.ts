import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anthropicUsageObject, mergeAnthropicUsage, usageFromAnthropic } from './usage.js';

test('Anthropic input_tokens exclude cache reads and writes: neutral input is the sum', () => {
  assert.deepEqual(usageFromAnthropic({ input_tokens: 5, cache_creation_input_tokens: 40, cache_read_input_tokens: 2000, output_tokens: 88 }), {
    input: 2045, cacheRead: 2000, cacheWrite: 40, output: 88, reasoning: 0, source: 'reported',
  });
});

test('thinking tokens, when reported, are the reasoning subset of output', () => {
  assert.equal(usageFromAnthropic({ input_tokens: 1, output_tokens: 100, output_tokens_details: { thinking_tokens: 60 } })?.reasoning, 60);
  assert.equal(usageFromAnthropic({ input_tokens: 1, output_tokens: 10, output_tokens_details: { thinking_tokens: 60 } })?.reasoning, 10);
});

test('missing or garbage counters count as zero; a non-object is no usage', () => {
  assert.deepEqual(usageFromAnthropic({ output_tokens: 'x', input_tokens: -3 }), { input: 0, cacheRead: 0, cacheWrite: 0, output: 0, reasoning: 0, source: 'reported' });
  assert.equal(usageFromAnthropic(null), undefined);
  assert.equal(usageFromAnthropic([1]), undefined);
});

test('neutral usage back to Anthropic counters: cached tokens are taken out of input_tokens', () => {
  assert.deepEqual(anthropicUsageObject({ input: 2045, cacheRead: 2000, cacheWrite: 40, output: 88, reasoning: 0, source: 'reported' }), {
    input_tokens: 5, cache_creation_input_tokens: 40, cache_read_input_tokens: 2000, output_tokens: 88,
  });
  // OpenAI-style usage where the cache counters were not a subset never goes negative.
  assert.equal(anthropicUsageObject({ input: 10, cacheRead: 30, cacheWrite: 0, output: 1.7, reasoning: 0, source: 'estimated' }).input_tokens, 0);
  assert.equal(anthropicUsageObject({ input: 10, cacheRead: 0, cacheWrite: 0, output: 1.7, reasoning: 0, source: 'estimated' }).output_tokens, 1);
});

test('round trip Anthropic -> neutral -> Anthropic keeps the four counters', () => {
  const raw = { input_tokens: 7, cache_creation_input_tokens: 3, cache_read_input_tokens: 11, output_tokens: 13 };
  const usage = usageFromAnthropic(raw);
  assert.ok(usage);
  assert.deepEqual(anthropicUsageObject(usage), raw);
});

test('a later usage object overwrites the counters it carries, nulls included as absent', () => {
  const start = { input_tokens: 7, cache_read_input_tokens: 11, output_tokens: 1 };
  assert.deepEqual(mergeAnthropicUsage(start, { output_tokens: 40, input_tokens: null }), { input_tokens: 7, cache_read_input_tokens: 11, output_tokens: 40 });
  assert.equal(mergeAnthropicUsage(start, undefined), start);
  assert.deepEqual(mergeAnthropicUsage(undefined, { output_tokens: 2 }), { output_tokens: 2 });
});
