/**
 * A key's TPM and requests with inline files, through the official SDKs: a 1 MiB base64 image or
 * PDF counts as a file (a fixed estimate), not as its bytes / 4, so it passes an ordinary TPM;
 * a request that is too large by itself gets a 429 with every hint a 429 carries, and the SDK
 * still does not retry it.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { eventually, startSluice, type TestSluice } from './support/sluice.js';
import { createKey, startBillingUpstreams, type BillingUpstreams } from './support/billing.js';

async function setUp(t: TestContext): Promise<{ up: BillingUpstreams; sluice: TestSluice; secret: string }> {
  const up = await startBillingUpstreams();
  t.after(() => up.close());
  const sluice = await startSluice(up.config());
  t.after(() => sluice.close(0));
  return { up, sluice, secret: await createKey(sluice.url, { name: 'vision', tpm: 100_000 }) };
}

/** 1 MiB of base64: 262,144 "tokens" at 4 bytes a token. */
const base64 = Buffer.alloc(768 * 1024, 42).toString('base64');

test('OpenAI SDK: a 1 MiB base64 image passes a 100,000 TPM key', { timeout: 30_000 }, async (t) => {
  const { up, sluice, secret } = await setUp(t);
  const client = new OpenAI({ baseURL: sluice.baseURL, apiKey: secret, maxRetries: 0 });
  const answer = await client.chat.completions.create({
    model: 'gpt-cheap',
    max_tokens: 100,
    messages: [{ role: 'user', content: [{ type: 'text', text: 'What is in this image?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${base64}` } }] }],
  });
  assert.ok(answer.choices.length > 0);
  assert.equal(up.openai.requests.length, 1);
});

test('Anthropic SDK: a 1 MiB base64 PDF passes a 100,000 TPM key', { timeout: 30_000 }, async (t) => {
  const { up, sluice, secret } = await setUp(t);
  const client = new Anthropic({ baseURL: sluice.url, apiKey: secret, maxRetries: 0 });
  const answer = await client.messages.create({
    model: 'claude-x',
    max_tokens: 100,
    messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: base64 } }, { type: 'text', text: 'Sum it up.' }] }],
  });
  assert.ok(answer.content.length > 0);
  assert.equal(up.anthropic.requests.length, 1);
});

test('a request too large by itself: 429 with Retry-After 60, retry-after-ms, x-ratelimit-* and x-should-retry: false; not retried', { timeout: 30_000 }, async (t) => {
  const { up, sluice, secret } = await setUp(t);
  const client = new OpenAI({ baseURL: sluice.baseURL, apiKey: secret, maxRetries: 2 });
  const error: unknown = await client.chat.completions.create({ model: 'gpt-cheap', max_tokens: 200_000, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
  assert.ok(error instanceof OpenAI.RateLimitError, String(error));
  assert.match(error.message, /Request too large for API key 'vision' on tokens per min \(TPM\): Limit 100000, Requested 2000\d\d/);
  assert.equal(error.headers?.get('retry-after'), '60');
  assert.equal(error.headers?.get('retry-after-ms'), '60000');
  assert.equal(error.headers?.get('x-should-retry'), 'false');
  assert.equal(error.headers?.get('x-ratelimit-limit-tokens'), '100000');
  assert.equal(error.headers?.get('x-ratelimit-remaining-tokens'), '100000', 'the refusal took nothing');
  assert.equal(error.headers?.get('x-ratelimit-reset-tokens'), '0ms');
  await eventually(() => sluice.records.length === 1);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(sluice.records.length, 1, 'x-should-retry: false stopped the SDK');
  assert.equal(up.openai.requests.length, 0);
});
