/**
 * A real Sluice whose Redis dies and comes back (a private redis-server, killed and restarted on
 * the same port): `redis_outage: closed` answers 503 in each protocol's shape with Retry-After;
 * `open` keeps serving with this instance's own limits. Neither crashes, both recover by themselves.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { inspector, PrivateRedis } from '../src/limits/test-support/redis.js';
import { startSluice, type TestSluice } from './support/sluice.js';
import { startBillingUpstreams } from './support/billing.js';

const limitedKey = 'sk-limited-outage-key';

async function setUp(t: TestContext, outage: 'open' | 'closed'): Promise<{ redis: PrivateRedis; sluice: TestSluice }> {
  const redis = await PrivateRedis.start();
  t.after(() => redis.stop());
  const up = await startBillingUpstreams();
  t.after(() => up.close());
  const sluice = await startSluice(up.config(`  - name: limited\n    key: ${limitedKey}\n    rpm: 3\nredis: '${redis.url}'\nredis_outage: ${outage}\n`));
  t.after(() => sluice.close(0));
  return { redis, sluice };
}

async function whenAnswered(ask: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      await ask();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

test('redis_outage: closed -> 503 with Retry-After in both protocols while Redis is down; served again once it is back', async (t) => {
  const { redis, sluice } = await setUp(t, 'closed');
  const openai = new OpenAI({ baseURL: sluice.baseURL, apiKey: limitedKey, maxRetries: 0 });
  const anthropic = new Anthropic({ baseURL: sluice.url, apiKey: limitedKey, maxRetries: 0 });
  const askOpenAi = () => openai.chat.completions.create({ model: 'gpt-cheap', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
  const askAnthropic = () => anthropic.messages.create({ model: 'claude-x', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
  await askOpenAi();

  await redis.stop();
  const down: unknown = await askOpenAi().catch((e: unknown) => e);
  assert.ok(down instanceof OpenAI.InternalServerError, String(down));
  assert.equal(down.status, 503);
  assert.equal(down.code, 'limits_unavailable');
  assert.equal(down.headers?.get('retry-after'), '2');
  assert.equal(down.headers?.get('retry-after-ms'), '2000');
  const downAnthropic: unknown = await askAnthropic().catch((e: unknown) => e);
  assert.ok(downAnthropic instanceof Anthropic.InternalServerError, String(downAnthropic));
  assert.equal(downAnthropic.status, 503);
  assert.equal((downAnthropic.error as { error?: { type?: string } }).error?.type, 'api_error');
  // Keys without limits need nothing from Redis.
  const free = new OpenAI({ baseURL: sluice.baseURL, apiKey: 'sk-test-client-key-1', maxRetries: 0 });
  await free.chat.completions.create({ model: 'gpt-cheap', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });

  await redis.start();
  await whenAnswered(askAnthropic);
  assert.ok(sluice.records.some((r) => r.status === 503 && r.errorCode === 'limits_unavailable'));
});

test('redis_outage: open -> served from this instance\'s memory, its limits still enforced; shared again once Redis is back', async (t) => {
  const { redis, sluice } = await setUp(t, 'open');
  const client = new OpenAI({ baseURL: sluice.baseURL, apiKey: limitedKey, maxRetries: 0 });
  const ask = () => client.chat.completions.create({ model: 'gpt-cheap', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
  await ask();
  await redis.stop();
  await ask();
  await ask();
  await ask();
  const limited: unknown = await ask().catch((e: unknown) => e);
  assert.ok(limited instanceof OpenAI.RateLimitError, 'the memory fallback has its own bucket of 3');

  await redis.start(); // empty: the shared bucket starts full
  const direct = inspector(redis.url);
  t.after(() => direct.disconnect());
  const deadline = Date.now() + 5000;
  while (!/name=sluice /.test(String(await direct.client('LIST'))) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  await new Promise((resolve) => setTimeout(resolve, 200)); // connected; its ready check follows
  await ask();
  await ask();
  await ask();
  assert.ok((await ask().catch((e: unknown) => e)) instanceof OpenAI.RateLimitError);
});
