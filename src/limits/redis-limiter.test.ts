/**
 * What only the Redis limiter does: leases that lapse when their instance dies and live while it
 * renews them, scripts that survive a SCRIPT FLUSH, and one set of buckets for several instances.
 */
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../observability/logger.js';
import { LeaseKeeper } from './lease-keeper.js';
import { RedisHub } from './redis-hub.js';
import { RedisLimiter } from './redis-limiter.js';
import { deletePrefix, inspector, PrivateRedis, SHARED_REDIS, uniquePrefix } from './test-support/redis.js';

const prefix = uniquePrefix();
after(() => deletePrefix(SHARED_REDIS, prefix));

async function instance(t: TestContext, leaseTtlMs = 30_000, url = `${SHARED_REDIS}?prefix=${prefix}`): Promise<{ hub: RedisHub; leases: LeaseKeeper; limiter: RedisLimiter }> {
  const hub = new RedisHub({ url, logger: createLogger('silent'), outageEffect: 'test' });
  const leases = new LeaseKeeper(hub, leaseTtlMs);
  t.after(async () => {
    leases.stop();
    await hub.close();
  });
  assert.ok(await hub.whenReady(5000));
  return { hub, leases, limiter: new RedisLimiter(hub, leases) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a slot whose instance died (no renewals) lapses after the lease TTL', async (t) => {
  const { leases, limiter } = await instance(t, 300);
  const slot = { key: `crash-${prefix}`, max: 1 };
  assert.ok((await limiter.take({ buckets: [], slot })).ok);
  leases.stop(); // the instance "dies": nobody renews, nobody finishes
  assert.equal((await limiter.take({ buckets: [], slot })).ok, false);
  await sleep(450);
  assert.ok((await limiter.take({ buckets: [], slot })).ok, 'the dead lease lapsed');
});

test('a slot held by a live request is renewed past its TTL, and freed when the request finishes', async (t) => {
  const { limiter } = await instance(t, 300);
  const slot = { key: `live-${prefix}`, max: 1 };
  const held = await limiter.take({ buckets: [], slot });
  assert.ok(held.ok);
  await sleep(1000);
  assert.equal((await limiter.take({ buckets: [], slot })).ok, false, 'still held after 3 TTLs');
  held.grant.finish([]);
  await sleep(30);
  assert.ok((await limiter.take({ buckets: [], slot })).ok);
});

test('scripts are run by SHA and reloaded after SCRIPT FLUSH (EVALSHA, then EVAL on NOSCRIPT)', async (t) => {
  const { limiter } = await instance(t);
  const bucket = { key: `flush-${prefix}`, perMinute: 10, amount: 1 };
  assert.ok((await limiter.take({ buckets: [bucket] })).ok);
  const direct = inspector(SHARED_REDIS);
  t.after(() => direct.disconnect());
  await direct.script('FLUSH');
  const again = await limiter.take({ buckets: [bucket] });
  assert.ok(again.ok);
  assert.equal(again.buckets[0]?.remaining, 8);
});

test('two instances share one bucket and one slot set', async (t) => {
  const a = await instance(t);
  const b = await instance(t);
  const bucket = { key: `shared-${prefix}`, perMinute: 4, amount: 1 };
  const results = await Promise.all([a, b, a, b, a, b].map((i) => i.limiter.take({ buckets: [bucket] })));
  assert.equal(results.filter((r) => r.ok).length, 4);
  const slot = { key: `shared-slot-${prefix}`, max: 1 };
  const held = await a.limiter.take({ buckets: [], slot });
  assert.ok(held.ok);
  assert.equal((await b.limiter.take({ buckets: [], slot })).ok, false);
  held.grant.finish([]);
  await sleep(30);
  assert.ok((await b.limiter.take({ buckets: [], slot })).ok);
});

test('bucket keys expire once they would be full again; nothing is left behind', async (t) => {
  const { limiter } = await instance(t);
  const key = `ttl-${prefix}`;
  assert.ok((await limiter.take({ buckets: [{ key, perMinute: 600, amount: 300 }] })).ok);
  const direct = inspector(SHARED_REDIS);
  t.after(() => direct.disconnect());
  const ttl = await direct.pttl(`${prefix}bucket:${key}`);
  // 300 of 600 refill in 30 s, plus a second of margin.
  assert.ok(ttl > 29_000 && ttl <= 31_000, String(ttl));
});

test('a finish that fails in a Redis blip (SIGSTOP) is replayed: the slot and the refund come back long before the lease TTL', async (t) => {
  const server = await PrivateRedis.start();
  t.after(async () => {
    server.resume();
    await server.stop();
  });
  const { limiter } = await instance(t, 30_000, server.url);
  const slot = { key: 'blip', max: 1 };
  const tokens = { key: 'blip-tpm', perMinute: 60_000, amount: 50_000 };
  const held = await limiter.take({ buckets: [tokens], slot });
  assert.ok(held.ok);

  server.pause();
  held.grant.finish([1_000]); // 49,000 tokens to refund, the slot to give back: the call times out
  await sleep(600);
  server.resume();

  const deadline = Date.now() + 5000;
  let again = await limiter.take({ buckets: [{ ...tokens, amount: 1 }], slot });
  while (!again.ok && Date.now() < deadline) {
    await sleep(100);
    again = await limiter.take({ buckets: [{ ...tokens, amount: 1 }], slot });
  }
  assert.ok(again.ok, 'the slot was given back once Redis answered again');
  // 60,000 - 50,000 + 49,000 refunded - 1, plus a few seconds of refill (capped at 60,000).
  assert.ok((again.buckets[0]?.remaining ?? 0) >= 58_999, String(again.buckets[0]?.remaining));
});
