/** The limiter contract (limiter-contract.ts) against the memory limiter and the real Redis. */
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../observability/logger.js';
import { LeaseKeeper } from './lease-keeper.js';
import { runLimiterContract } from './limiter-contract.js';
import { MemoryLimiter } from './memory-limiter.js';
import { RedisHub } from './redis-hub.js';
import { RedisLimiter } from './redis-limiter.js';
import { deletePrefix, SHARED_REDIS, uniquePrefix } from './test-support/redis.js';

runLimiterContract('memory', async () => new MemoryLimiter());

const prefix = uniquePrefix();
after(() => deletePrefix(SHARED_REDIS, prefix));
runLimiterContract('redis', async (t) => {
  const hub = new RedisHub({ url: `${SHARED_REDIS}?prefix=${prefix}`, logger: createLogger('silent'), outageEffect: 'test' });
  const leases = new LeaseKeeper(hub, 30_000);
  t.after(async () => {
    leases.stop();
    await hub.close();
  });
  assert.ok(await hub.whenReady(5000), `redis at ${SHARED_REDIS}`);
  return new RedisLimiter(hub, leases);
});
