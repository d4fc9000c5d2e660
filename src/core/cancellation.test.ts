import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cancellation } from './cancellation.js';

test('abort runs each listener once, with the reason set first', () => {
  const cancellation = new Cancellation();
  const seen: unknown[] = [];
  cancellation.onAbort(() => seen.push(['a', cancellation.aborted, cancellation.reason]));
  cancellation.onAbort(() => seen.push(['b']));
  const reason = new Error('why');
  cancellation.abort(reason);
  cancellation.abort(new Error('again'));
  assert.deepEqual(seen, [['a', true, reason], ['b']]);
  assert.equal(cancellation.reason, reason);
});

test('without a reason, the reason is an AbortError', () => {
  const cancellation = new Cancellation();
  assert.equal(cancellation.reason, undefined);
  cancellation.abort();
  const reason: unknown = cancellation.reason;
  assert.ok(reason instanceof Error);
  assert.equal(reason.name, 'AbortError');
});

test('a removed listener is not called, also when an earlier listener removes it during the abort', () => {
  const cancellation = new Cancellation();
  const calls: string[] = [];
  const removedBefore = (): void => { calls.push('removed before'); };
  const removedDuring = (): void => { calls.push('removed during'); };
  cancellation.onAbort(removedBefore);
  cancellation.offAbort(removedBefore);
  cancellation.onAbort(() => { calls.push('first'); cancellation.offAbort(removedDuring); });
  cancellation.onAbort(removedDuring);
  cancellation.abort();
  assert.deepEqual(calls, ['first']);
});

test('listeners added after the abort are not called (callers check aborted first)', () => {
  const cancellation = new Cancellation();
  cancellation.abort();
  let called = false;
  cancellation.onAbort(() => { called = true; });
  assert.equal(called, false);
});

test('signal is a real AbortSignal that follows, made before or after the abort', () => {
  const before = new Cancellation();
  const signal = before.signal;
  assert.ok(signal instanceof AbortSignal);
  assert.equal(signal.aborted, false);
  const reason = new Error('gone');
  before.abort(reason);
  assert.equal(signal.aborted, true);
  assert.equal(signal.reason, reason);

  const after = new Cancellation();
  after.abort(reason);
  assert.equal(after.signal.aborted, true);
  assert.equal(after.signal.reason, reason);
});
