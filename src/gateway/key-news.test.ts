/**
 * Key changes travel between instances through Redis: two key rings sharing one store, polling
 * only once a minute, so that only the news can explain a revoke landing on the other one at once.
 * Also: the limits a ClientKey carries, from the config and from the store.
 */
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../core/gateway-error.js';
import { silentLogger } from '../observability/logger.js';
import { RedisHub } from '../limits/redis-hub.js';
import { RedisKeyNews } from '../limits/redis-key-news.js';
import { deletePrefix, SHARED_REDIS, uniquePrefix } from '../limits/test-support/redis.js';
import { KeyAdmin } from './admin-keys.js';
import { KeyRing } from './authenticate.js';
import { FakeKeyStore } from './test-support/fake-key-store.js';

const prefix = uniquePrefix();
after(() => deletePrefix(SHARED_REDIS, prefix));

async function ring(t: TestContext, store: FakeKeyStore): Promise<KeyRing> {
  const hub = new RedisHub({ url: `${SHARED_REDIS}?prefix=${prefix}`, logger: silentLogger, outageEffect: 'test' });
  t.after(() => hub.close());
  assert.ok(await hub.whenReady(5000));
  const keys = new KeyRing({ configKeys: [], loopback: false, store, logger: silentLogger, refresh: { intervalMs: 60_000 }, news: new RedisKeyNews(hub) });
  t.after(() => keys.stop());
  await keys.start();
  return keys;
}

test('a revoke through the admin API of one instance is honoured by the other at once, not at its next poll', async (t) => {
  const store = new FakeKeyStore();
  const a = await ring(t, store);
  const b = await ring(t, store);
  const admin = new KeyAdmin({ store, ring: a, configKeyNames: [] });
  await new Promise((resolve) => setTimeout(resolve, 100)); // subscriptions reach the server
  const { secret, key } = await admin.create({ name: 'shared', rpm: 5 });
  const headers = { authorization: `Bearer ${secret}` };
  const deadline = Date.now() + 1000;
  while (Date.now() < deadline) {
    try {
      b.authenticate(headers);
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  assert.deepEqual(b.authenticate(headers).limits, { rpm: 5 }, 'the new key reached B, with its limit');

  const revokedAt = Date.now();
  await admin.revoke(key.id);
  for (;;) {
    try {
      b.authenticate(headers);
    } catch (error) {
      assert.ok(error instanceof GatewayError && /revoked/.test(error.message));
      break;
    }
    assert.ok(Date.now() - revokedAt < 1000, 'B still accepts the revoked key after 1 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
});

test('config keys carry the limits written in the config; keys without limits carry none', () => {
  const keys = new KeyRing({
    configKeys: [{ name: 'capped', key: 'sk-capped-key-1', rpm: 10, tpm: 1000, max_concurrent: 2 }, { name: 'free', key: 'sk-free-key-1' }],
    loopback: false, logger: silentLogger,
  });
  assert.deepEqual(keys.authenticate({ authorization: 'Bearer sk-capped-key-1' }), { name: 'capped', limits: { rpm: 10, tpm: 1000, maxConcurrent: 2 } });
  assert.deepEqual(keys.authenticate({ authorization: 'Bearer sk-free-key-1' }), { name: 'free' });
});
