/**
 * What instances tell each other through Redis: route cooldowns (pub/sub news, plus keys with a TTL
 * for instances that start later) and key changes.
 */
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../observability/logger.js';
import { RedisCooldownBoard, type RouteCooldown } from './redis-cooldown-board.js';
import { RedisHub } from './redis-hub.js';
import { RedisKeyNews } from './redis-key-news.js';
import { deletePrefix, inspector, SHARED_REDIS, uniquePrefix } from './test-support/redis.js';

const prefix = uniquePrefix();
after(() => deletePrefix(SHARED_REDIS, prefix));

async function hub(t: TestContext): Promise<RedisHub> {
  const h = new RedisHub({ url: `${SHARED_REDIS}?prefix=${prefix}`, logger: createLogger('silent'), outageEffect: 'test' });
  t.after(() => h.close());
  assert.ok(await h.whenReady(5000));
  return h;
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('cooldowns: another instance hears the news, the publisher does not; a later instance reads the current ones', async (t) => {
  const [a, b] = [await hub(t), await hub(t)];
  const boardA = new RedisCooldownBoard(a);
  const boardB = new RedisCooldownBoard(b);
  const heardA: RouteCooldown[] = [];
  const heardB: RouteCooldown[] = [];
  boardA.subscribe((c) => void heardA.push(c));
  boardB.subscribe((c) => void heardB.push(c));
  await new Promise((resolve) => setTimeout(resolve, 100)); // subscriptions reach the server

  const until5s = Date.now() + 5000;
  boardA.publish({ route: 'openai/gpt-x', until: until5s, reason: '429 from upstream' });
  await until(() => heardB.length === 1, 'B hears A');
  assert.equal(heardB[0]?.route, 'openai/gpt-x');
  assert.equal(heardB[0]?.reason, '429 from upstream');
  assert.ok(Math.abs((heardB[0]?.until ?? 0) - until5s) < 500, 'the same span, measured on the receiver');
  assert.deepEqual(heardA, [], 'own news is not echoed');

  const direct = inspector(SHARED_REDIS);
  t.after(() => direct.disconnect());
  const ttl = await direct.pttl(`${prefix}cooldown:openai/gpt-x`);
  assert.ok(ttl > 4000 && ttl <= 5000, `the key lives as long as the cooldown (${ttl})`);

  boardA.publish({ route: 'gone/route', until: Date.now() + 150, reason: 'failing' });
  await new Promise((resolve) => setTimeout(resolve, 250));
  const c = await hub(t);
  const heardC: RouteCooldown[] = [];
  new RedisCooldownBoard(c).subscribe((cooldown) => void heardC.push(cooldown));
  await until(() => heardC.length >= 1, 'C reads the current cooldowns');
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(heardC.map((x) => x.route), ['openai/gpt-x'], 'an ended cooldown is gone');

  boardA.publish({ route: 'past/route', until: Date.now() - 1, reason: 'over' });
  assert.equal(await direct.exists(`${prefix}cooldown:past/route`), 0);
});

test('key news: a change published on one instance reaches the others, not itself', async (t) => {
  const [a, b] = [await hub(t), await hub(t)];
  const heardA: string[] = [];
  const heardB: string[] = [];
  new RedisKeyNews(a).subscribe((id) => void heardA.push(id));
  new RedisKeyNews(b).subscribe((id) => void heardB.push(id));
  await new Promise((resolve) => setTimeout(resolve, 100));
  new RedisKeyNews(a).publish('key_123');
  await until(() => heardB.length === 1, 'B hears the change');
  assert.deepEqual(heardB, ['key_123']);
  assert.deepEqual(heardA, []);
});
