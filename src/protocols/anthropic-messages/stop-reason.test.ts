import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FinishReason } from '../../core/finish-reason.js';
import { anthropicStopReason, finishReasonFromAnthropic } from './stop-reason.js';

const pairs: Array<[string, FinishReason]> = [
  ['end_turn', 'stop'],
  ['max_tokens', 'length'],
  ['stop_sequence', 'stop-sequence'],
  ['tool_use', 'tool-calls'],
  ['refusal', 'refusal'],
  ['pause_turn', 'pause'],
  ['model_context_window_exceeded', 'context-exceeded'],
];

test('every Anthropic stop_reason maps both ways', () => {
  for (const [anthropic, neutral] of pairs) {
    assert.equal(finishReasonFromAnthropic(anthropic), neutral);
    assert.equal(anthropicStopReason(neutral), anthropic);
  }
});

test('reasons Anthropic lacks: content-filter is a refusal, other an end_turn; unknown strings are other', () => {
  assert.equal(anthropicStopReason('content-filter'), 'refusal');
  assert.equal(anthropicStopReason('other'), 'end_turn');
  assert.equal(finishReasonFromAnthropic('something_new'), 'other');
  assert.equal(finishReasonFromAnthropic('toString'), 'other');
  assert.equal(finishReasonFromAnthropic(null), 'other');
});
