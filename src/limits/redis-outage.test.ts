/**
 * Redis going away and coming back, on a private redis-server this test kills (SIGKILL) and
 * restarts on the same port: `open` falls back to this instance's memory (limits still enforced),
 * `closed` answers 503 limits_unavailable, nothing crashes or stalls, the outage is logged once,
 * and Redis is used again as soon as it is back.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../core/gateway-error.js';
import { createLogger } from '../observability/logger.js';
import { openLimits, type Limits } from './open-limits.js';
import type { OutagePolicy } from './outage-policy.js';
import { inspector, PrivateRedis } from './test-support/redis.js';

async function setUp(t: TestContext, outage: OutagePolicy): Promise<{ server: PrivateRedis; limits: Limits; log: string[] }> {
  const server = await PrivateRedis.start();
  t.after(() => server.stop());
  const log: string[] = [];
  const limits = openLimits({ redisUrl: server.url, outage, logger: createLogger('info', (line) => void log.push(line)), routeLimits: new Map([['up/model', { rpm: 2 }]]) });
  t.after(() => limits.close());
  assert.ok(await limits.shared?.hub.whenReady(5000));
  return { server, limits, log };
}

const bucket = (key: string, perMinute = 2) => ({ buckets: [{ key, perMinute, amount: 1 }] });

test('open: Redis killed -> per-instance memory limits, no stall; restarted -> shared again; logged once each way', async (t) => {
  const { server, limits, log } = await setUp(t, 'open');
  const direct = inspector(server.url);
  t.after(() => direct.disconnect());
  const before = await limits.limiter.take({ ...bucket('k1'), slot: { key: 'k1', max: 5 } });
  assert.ok(before.ok);
  assert.equal(await direct.exists('sluice:bucket:k1'), 1, 'taken in Redis');

  await server.stop();
  const started = Date.now();
  const during = await Promise.all([1, 2, 3].map(() => limits.limiter.take(bucket('k2'))));
  assert.ok(Date.now() - started < 1000, 'no request waits for a dead Redis');
  assert.deepEqual(during.map((r) => r.ok), [true, true, false], 'still limited, in memory');
  before.grant.finish([1]); // a Redis-era grant finishing during the outage must not throw
  const quota = await limits.routeQuotas.take('up/model', 10);
  assert.ok(quota.ok, 'route quotas fall back too');

  await server.start();
  assert.ok(await limits.shared?.hub.whenReady(5000), 'reconnected');
  assert.ok((await limits.limiter.take(bucket('k3'))).ok);
  assert.equal(await direct.exists('sluice:bucket:k3'), 1, 'shared again once Redis is back');

  const warnings = log.filter((l) => l.includes('redis unavailable'));
  assert.equal(warnings.length, 1, log.join(''));
  assert.match(warnings[0] ?? '', /redis_outage: open/);
  assert.equal(log.filter((l) => l.includes('redis recovered')).length, 1);
});

test('closed: Redis killed -> 503 limits_unavailable with Retry-After; restarted -> admitted again', async (t) => {
  const { server, limits } = await setUp(t, 'closed');
  assert.ok((await limits.limiter.take(bucket('c1'))).ok);
  await server.stop();
  await assert.rejects(limits.limiter.take(bucket('c1')), (error: unknown) => {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, 'limits_unavailable');
    assert.equal(error.status, 503);
    assert.equal(error.retryAfter, '2');
    assert.equal(error.retryAfterMs, '2000');
    return true;
  });
  await assert.rejects(limits.routeQuotas.take('up/model', 1), /cannot be reached/);
  await server.start();
  assert.ok(await limits.shared?.hub.whenReady(5000));
  assert.ok((await limits.limiter.take(bucket('c1'))).ok);
});

test('Redis down before Sluice starts: no crash, memory until it appears, then shared', async (t) => {
  const server = await PrivateRedis.start();
  await server.stop();
  t.after(() => server.stop());
  const limits = openLimits({ redisUrl: server.url, outage: 'open', logger: createLogger('silent'), routeLimits: new Map() });
  t.after(() => limits.close());
  assert.ok((await limits.limiter.take(bucket('late'))).ok);
  await server.start();
  assert.ok(await limits.shared?.hub.whenReady(5000));
  const direct = inspector(server.url);
  t.after(() => direct.disconnect());
  assert.ok((await limits.limiter.take(bucket('late'))).ok);
  assert.equal(await direct.exists('sluice:bucket:late'), 1);
});
