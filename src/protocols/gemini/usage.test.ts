import { test } from 'node:test';
import assert from 'node:assert/strict';
import { usageFromGemini } from './usage.js';

test('cached tokens are a subset of the prompt; thoughts are added to the answer', () => {
  assert.deepEqual(
    usageFromGemini({ promptTokenCount: 2000, cachedContentTokenCount: 1500, candidatesTokenCount: 100, thoughtsTokenCount: 300, totalTokenCount: 2400 }),
    { input: 2000, cacheRead: 1500, cacheWrite: 0, output: 400, reasoning: 300, source: 'reported' },
  );
});

test('no counters is no usage; garbage counters count as zero', () => {
  assert.equal(usageFromGemini({ trafficType: 'ON_DEMAND' }), undefined);
  assert.equal(usageFromGemini(undefined), undefined);
  assert.deepEqual(usageFromGemini({ promptTokenCount: -3, candidatesTokenCount: 2.7, cachedContentTokenCount: 99, totalTokenCount: 0 }), {
    input: 0, cacheRead: 0, cacheWrite: 0, output: 2, reasoning: 0, source: 'reported',
  });
});
