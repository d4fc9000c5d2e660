import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readGeminiError } from './errors.js';

test('a Gemini error body with RetryInfo: status, numeric code as text, delay rounded up', () => {
  const body = {
    error: {
      code: 429,
      message: 'Quota exceeded for this project.',
      status: 'RESOURCE_EXHAUSTED',
      details: [
        { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [] },
        { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '12.1s' },
      ],
    },
  };
  assert.deepEqual(readGeminiError(body), { message: 'Quota exceeded for this project.', type: 'RESOURCE_EXHAUSTED', code: '429', retryAfterSeconds: 13 });
  assert.equal(readGeminiError([body])?.retryAfterSeconds, 13, 'the array-wrapped form');
});

test('retry delays: whole seconds, Duration objects, garbage', () => {
  const withDelay = (retryDelay: unknown) => readGeminiError({ error: { code: 503, message: 'm', details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay }] } });
  assert.equal(withDelay('7s')?.retryAfterSeconds, 7);
  assert.equal(withDelay({ seconds: '2', nanos: 500000000 })?.retryAfterSeconds, 3);
  assert.equal(withDelay('soon')?.retryAfterSeconds, undefined);
  assert.equal(withDelay('7s')?.type, undefined);
});

test('not an error', () => {
  assert.equal(readGeminiError({ candidates: [] }), undefined);
  assert.equal(readGeminiError([{ candidates: [] }]), undefined);
  assert.equal(readGeminiError(null), undefined);
  assert.equal(readGeminiError('error'), undefined);
  assert.deepEqual(readGeminiError({ error: 'plain text' }), { message: 'plain text', type: undefined, code: undefined, retryAfterSeconds: undefined });
  assert.match(readGeminiError({ error: { code: 500 } })?.message ?? '', /500/, 'no message: the object itself');
});
