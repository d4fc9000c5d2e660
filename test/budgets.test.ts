/**
 * Budgets end to end, through the official SDKs: a stored key whose budget fits only some of 20
 * concurrent requests. The rest are refused before any upstream call, in each protocol's own
 * shape (OpenAI 429 insufficient_quota, Anthropic 402 billing_error), and settled costs free the
 * reservations for later requests.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { eventually, startSluice, type TestSluice } from './support/sluice.js';
import { createKey, startBillingUpstreams, usageReportWith, type BillingUpstreams } from './support/billing.js';

async function setUp(t: TestContext): Promise<{ up: BillingUpstreams; sluice: TestSluice }> {
  const up = await startBillingUpstreams();
  t.after(() => up.close());
  const sluice = await startSluice(up.config());
  t.after(() => sluice.close(0));
  return { up, sluice };
}

/** Fires n requests at once with the gate closed; returns once every refusal is in and exactly
 *  `admitted` requests reached the upstream, then lets those finish. */
async function wave<T>(up: BillingUpstreams, upstream: BillingUpstreams['openai'], sluice: TestSluice, ask: () => Promise<T>, admitted: number): Promise<PromiseSettledResult<T>[]> {
  const before = upstream.requests.length;
  const rejectedBefore = sluice.records.filter((r) => r.outcome === 'rejected').length;
  up.gate.closed = true;
  const all = Promise.allSettled(Array.from({ length: 20 }, ask));
  await eventually(
    () => upstream.requests.length - before === admitted && sluice.records.filter((r) => r.outcome === 'rejected').length - rejectedBefore === 20 - admitted,
    5000,
    `${admitted} admitted and ${20 - admitted} refused`,
  );
  up.gate.open();
  const results = await all;
  assert.equal(upstream.requests.length - before, admitted, 'refused requests never reach the upstream');
  return results;
}

test('OpenAI SDK: 20 concurrent requests, a budget that fits 5: 15 get 429 insufficient_quota, none retried', async (t) => {
  const { up, sluice } = await setUp(t);
  // metered-openai: input free, output $10 per 1M; max_tokens 100 reserves $0.001 each.
  const secret = await createKey(sluice.url, { name: 'capped', budget_usd: '0.005', budget_period: 'day' });
  // Default retries on: x-should-retry: false must stop the SDK retrying the 429s.
  const client = new OpenAI({ baseURL: sluice.baseURL, apiKey: secret });
  const ask = () => client.chat.completions.create({ model: 'metered-openai', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });

  const results = await wave(up, up.openai, sluice, ask, 5);
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 5);
  for (const r of results) {
    if (r.status === 'fulfilled') continue;
    const error: unknown = r.reason;
    assert.ok(error instanceof OpenAI.RateLimitError, String(error));
    assert.equal(error.status, 429);
    assert.equal(error.code, 'insufficient_quota');
    assert.equal(error.type, 'insufficient_quota');
    assert.equal(error.headers?.get('x-should-retry'), 'false');
    assert.match(error.message, /'capped' has used or reserved \$0\.005 of its \$0\.005 daily budget/);
  }
  await eventually(() => sluice.records.filter((r) => r.keyName === 'capped').length >= 20);
  const mine = sluice.records.filter((r) => r.keyName === 'capped');
  assert.equal(mine.length, 20, 'one record per request: the SDK did not retry');
  for (const r of mine.filter((x) => x.outcome === 'rejected')) {
    assert.deepEqual([r.status, r.errorCode, r.costNanoUsd, r.route], [429, 'insufficient_quota', 0, undefined]);
  }
  // Each answer used 10 output tokens: $0.0001 each, settled in place of the $0.001 reserved.
  for (const r of mine.filter((x) => x.outcome === 'ok')) assert.equal(r.costNanoUsd, 100_000);

  // $0.0045 left: 4 more fit.
  const second = await wave(up, up.openai, sluice, ask, 4);
  assert.equal(second.filter((r) => r.status === 'fulfilled').length, 4);
  const usage = await usageReportWith(sluice.url, '?key=capped', 40);
  assert.deepEqual(usage.totals, {
    requests: 40, input_tokens: 9000, cache_read_tokens: 3600, cache_write_tokens: 0, output_tokens: 90, reasoning_tokens: 0,
    cost_usd: '0.0009', cost_nano_usd: 900_000,
  });
});

test('Anthropic SDK: the same budget under concurrency: 402 billing_error', async (t) => {
  const { up, sluice } = await setUp(t);
  const secret = await createKey(sluice.url, { name: 'capped-anthropic', budget_usd: 0.003, budget_period: 'month' });
  const client = new Anthropic({ baseURL: sluice.url, apiKey: secret });
  const ask = () => client.messages.create({ model: 'metered-anthropic', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });

  const results = await wave(up, up.anthropic, sluice, ask, 3);
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
  for (const r of results) {
    if (r.status === 'fulfilled') continue;
    const error: unknown = r.reason;
    assert.ok(error instanceof Anthropic.APIError, String(error));
    assert.equal(error.status, 402);
    const body = error.error as { type?: string; error?: { type?: string; message?: string }; request_id?: string };
    assert.equal(body.type, 'error');
    assert.equal(body.error?.type, 'billing_error');
    assert.match(body.error?.message ?? '', /monthly budget/);
    assert.equal(typeof body.request_id, 'string');
  }
  const refused = sluice.records.filter((r) => r.keyName === 'capped-anthropic' && r.outcome === 'rejected');
  assert.equal(refused.length, 17);
  for (const r of refused) assert.deepEqual([r.status, r.errorCode, r.protocol], [402, 'insufficient_quota', 'anthropic']);
});

test('a key without a budget and config keys are never refused for money', async (t) => {
  const { up, sluice } = await setUp(t);
  const secret = await createKey(sluice.url, { name: 'unlimited' });
  for (const apiKey of [secret, 'sk-test-client-key-1']) {
    const client = new OpenAI({ baseURL: sluice.baseURL, apiKey, maxRetries: 0 });
    const answer = await client.chat.completions.create({ model: 'metered-openai', max_tokens: 1_000_000, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(answer.choices[0]?.message.content, 'Hello there, friend.');
  }
  assert.equal(up.openai.requests.length, 2);
});
