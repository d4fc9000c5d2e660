import { test } from 'node:test';
import assert from 'node:assert/strict';
import { finishReasonFromGemini } from './finish-reason.js';

test('Gemini finish reasons in Sluice words', () => {
  assert.equal(finishReasonFromGemini('STOP', false), 'stop');
  assert.equal(finishReasonFromGemini('STOP', true), 'tool-calls');
  assert.equal(finishReasonFromGemini('MAX_TOKENS', true), 'length');
  for (const reason of ['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'LANGUAGE']) {
    assert.equal(finishReasonFromGemini(reason, false), 'content-filter', reason);
  }
  for (const reason of ['MALFORMED_FUNCTION_CALL', 'UNEXPECTED_TOOL_CALL', 'TOO_MANY_TOOL_CALLS', 'OTHER', 'FINISH_REASON_UNSPECIFIED', 'SOMETHING_NEW']) {
    assert.equal(finishReasonFromGemini(reason, true), 'other', reason);
  }
});
