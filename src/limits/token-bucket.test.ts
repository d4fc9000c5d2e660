import { test } from 'node:test';
import assert from 'node:assert/strict';
import { levelAt, resetMs, waitMs } from './token-bucket.js';
import { MemoryLimiter } from './memory-limiter.js';

test('levelAt: a bucket never seen is full; it refills at perMinute per 60 s, up to its capacity', () => {
  assert.equal(levelAt(undefined, 60, 1000), 60);
  assert.equal(levelAt({ level: 0, at: 0 }, 60, 1000), 1);
  assert.equal(levelAt({ level: 0, at: 0 }, 60, 30_000), 30);
  assert.equal(levelAt({ level: 10, at: 0 }, 60, 600_000), 60);
  // A debt (usage beyond the reservation) is paid back by the refill first.
  assert.equal(levelAt({ level: -30, at: 0 }, 60, 30_000), 0);
  // A clock that steps back refills nothing (and takes nothing).
  assert.equal(levelAt({ level: 5, at: 10_000 }, 60, 9_000), 5);
});

test('waitMs: until `amount` fits, exact, rounded up; 0 when it fits now', () => {
  assert.equal(waitMs(10, 10, 60), 0);
  assert.equal(waitMs(0, 1, 60), 1000);
  assert.equal(waitMs(0, 1, 3), 20_000);
  assert.equal(waitMs(0.5, 1, 60), 500);
  assert.equal(waitMs(100, 300, 1000), 12_000);
  assert.equal(waitMs(-500, 500, 1000), 60_000);
});

test('resetMs: until the bucket is full again', () => {
  assert.equal(resetMs(60, 60), 0);
  assert.equal(resetMs(0, 60), 60_000);
  assert.equal(resetMs(45, 60), 15_000);
  assert.equal(resetMs(999.5, 1000), 30);
});

test('memory limiter on a fake clock: the wait it reports is exactly when the take passes', async () => {
  let now = 1_000_000;
  const limiter = new MemoryLimiter({ now: () => now });
  const take = () => limiter.take({ buckets: [{ key: 'k', perMinute: 1000, amount: 300 }] });
  for (let i = 0; i < 3; i++) assert.ok((await take()).ok);
  const refused = await take();
  assert.ok(!refused.ok);
  // 100 left, 300 asked: 200 tokens at 1000/min = 12 s.
  assert.equal(refused.retryAfterMs, 12_000);
  now += 11_999;
  assert.equal((await take()).ok, false);
  now += 1;
  assert.equal((await take()).ok, true);
});

test('memory limiter: buckets of keys that stopped calling are forgotten once refilled', async () => {
  let now = 0;
  const limiter = new MemoryLimiter({ now: () => now });
  const first = await limiter.take({ buckets: [{ key: 'idle', perMinute: 10, amount: 10 }] });
  assert.ok(first.ok);
  now += 61_000;
  await limiter.take({ buckets: [{ key: 'other', perMinute: 10, amount: 1 }] });
  const again = await limiter.take({ buckets: [{ key: 'idle', perMinute: 10, amount: 10 }] });
  assert.ok(again.ok, 'a forgotten bucket is a full one');
  assert.equal(again.buckets[0]?.remaining, 0);
});
