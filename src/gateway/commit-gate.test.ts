import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommitGate } from './commit-gate.js';
import type { ResponseSink } from './response-sink.js';
import { Cancellation } from '../core/cancellation.js';

/** A sink that records what happens to it; `flowing` decides write()'s answer. */
class MemorySink implements ResponseSink {
  readonly signal = new Cancellation();
  streaming = false;
  readonly events: string[] = [];
  constructor(private readonly flowing = true) {}
  sendJson(): void {
    this.events.push('json');
  }
  startStream(_frame: string): void {
    this.streaming = true;
    this.events.push('head');
  }
  write(frames: string): boolean {
    this.events.push(`write:${frames}`);
    return this.flowing;
  }
  drained(): Promise<void> {
    return Promise.resolve();
  }
  end(): void {
    this.events.push('end');
  }
}

function memorySink(flowing = true): { sink: MemorySink; events: string[] } {
  const sink = new MemorySink(flowing);
  return { sink, events: sink.events };
}

test('frames are held until content, then released first, in order', () => {
  const { sink, events } = memorySink();
  let commits = 0;
  const gate = new CommitGate({ sink, maxHeldBytes: 1000, keepAliveFrame: ': keep-alive\n\n', onCommit: () => commits++ });
  assert.equal(gate.offer('role|', false), true);
  assert.equal(gate.offer('empty|', false), true);
  assert.deepEqual(events, [], 'nothing reaches the client before content');
  assert.equal(gate.committed, false);
  gate.offer('content|', true);
  gate.offer('more|', true);
  assert.deepEqual(events, ['head', 'write:role|empty|content|', 'write:more|']);
  assert.equal(commits, 1);
  assert.equal(gate.committed, true);
});

test('a stream already opened early (keep-alive head) is not opened twice', () => {
  const { sink, events } = memorySink();
  sink.startStream(': keep-alive\n\n');
  const gate = new CommitGate({ sink, maxHeldBytes: 1000, keepAliveFrame: ': keep-alive\n\n', onCommit: () => {} });
  gate.offer('x', true);
  assert.deepEqual(events, ['head', 'write:x']);
});

test('holding is bounded: past maxHeldBytes the stream commits without content', () => {
  const { sink, events } = memorySink();
  const gate = new CommitGate({ sink, maxHeldBytes: 10, keepAliveFrame: ': keep-alive\n\n', onCommit: () => {} });
  gate.offer('12345', false);
  gate.offer('67890', false);
  assert.equal(gate.committed, true);
  assert.deepEqual(events, ['head', 'write:1234567890']);
});

test('finish releases what is held, then the closing frames, then ends', () => {
  const { sink, events } = memorySink();
  let commits = 0;
  const gate = new CommitGate({ sink, maxHeldBytes: 1000, keepAliveFrame: ': keep-alive\n\n', onCommit: () => commits++ });
  gate.offer('role|', false);
  gate.finish('finish|', 'done|');
  assert.deepEqual(events, ['head', 'write:role|finish|done|', 'end']);
  assert.equal(commits, 1);
});

test('a slow client is reported so the caller stops reading the upstream', () => {
  const { sink } = memorySink(false);
  const gate = new CommitGate({ sink, maxHeldBytes: 1000, keepAliveFrame: ': keep-alive\n\n', onCommit: () => {} });
  assert.equal(gate.offer('held', false), true, 'holding never needs a drain');
  assert.equal(gate.offer('content', true), false);
  assert.equal(gate.offer('', true), true, 'nothing written, nothing to wait for');
});
