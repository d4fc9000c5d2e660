/**
 * Rate limits end to end, through the official SDKs, with the limits in memory and in Redis (a
 * prefix of its own per run): a config key's RPM in both protocols' 429 shapes and headers, a
 * stored key's TPM under 20 concurrent requests, max_concurrent (released however a request ends),
 * and an SDK that waits out retry-after-ms and succeeds.
 */
import { after, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { deletePrefix, SHARED_REDIS, uniquePrefix } from '../src/limits/test-support/redis.js';
import { eventually, startSluice, type TestSluice } from './support/sluice.js';
import { createKey, startBillingUpstreams, type BillingUpstreams } from './support/billing.js';

const limitedKey = 'sk-limited-config-key';

const prefixes: string[] = [];
after(() => Promise.all(prefixes.map((prefix) => deletePrefix(SHARED_REDIS, prefix))));

for (const mode of ['memory', 'redis'] as const) {
  /** Each test its own Redis prefix: the config key's buckets would otherwise carry over. */
  function redisConfig(): string {
    if (mode === 'memory') return '';
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    return `redis: '${SHARED_REDIS}?prefix=${prefix}'\n`;
  }

  async function setUp(t: TestContext): Promise<{ up: BillingUpstreams; sluice: TestSluice }> {
    const up = await startBillingUpstreams();
    t.after(() => up.close());
    const storage = redisConfig();
    const sluice = await startSluice(up.config(`  - name: limited\n    key: ${limitedKey}\n    rpm: 2\n${storage}`));
    t.after(() => sluice.close(0));
    return { up, sluice };
  }

  describe(`rate limits (${mode})`, { timeout: 30_000 }, () => {
    test('OpenAI SDK: a config key over its RPM gets 429 rate_limit_exceeded with Retry-After and x-ratelimit-* headers', async (t) => {
      const { up, sluice } = await setUp(t);
      const client = new OpenAI({ baseURL: sluice.baseURL, apiKey: limitedKey, maxRetries: 0 });
      const ask = () => client.chat.completions.create({ model: 'gpt-cheap', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
      await ask();
      await ask();
      const error: unknown = await ask().catch((e: unknown) => e);
      assert.ok(error instanceof OpenAI.RateLimitError, String(error));
      assert.equal(error.status, 429);
      assert.equal(error.type, 'requests');
      assert.equal(error.code, 'rate_limit_exceeded');
      assert.equal(error.param, null);
      assert.match(error.message, /Rate limit reached for API key 'limited' on requests per min \(RPM\): Limit 2, Remaining 0/);
      const retryAfter = Number(error.headers?.get('retry-after'));
      assert.ok(retryAfter >= 29 && retryAfter <= 30, `one request refills in 30 s (${retryAfter})`);
      const retryAfterMs = Number(error.headers?.get('retry-after-ms'));
      assert.ok(retryAfterMs > 28_000 && retryAfterMs <= 30_000, String(retryAfterMs));
      assert.equal(error.headers?.get('x-ratelimit-limit-requests'), '2');
      assert.equal(error.headers?.get('x-ratelimit-remaining-requests'), '0');
      assert.match(error.headers?.get('x-ratelimit-reset-requests') ?? '', /^(59(\.\d+)?s|1m0s)$/);
      assert.ok(error.headers?.get('x-request-id'));
      assert.equal(up.openai.requests.length, 2, 'the refused request never reached the upstream');
      await eventually(() => sluice.records.length === 3);
      assert.deepEqual([sluice.records[2]?.outcome, sluice.records[2]?.status, sluice.records[2]?.errorCode], ['rejected', 429, 'rate_limit_exceeded']);

      // Other keys are not affected.
      const other = new OpenAI({ baseURL: sluice.baseURL, apiKey: 'sk-test-client-key-1', maxRetries: 0 });
      await other.chat.completions.create({ model: 'gpt-cheap', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    });

    test('Anthropic SDK: the same limit is a RateLimitError with a rate_limit_error body', async (t) => {
      const { sluice } = await setUp(t);
      const client = new Anthropic({ baseURL: sluice.url, apiKey: limitedKey, maxRetries: 0 });
      const ask = () => client.messages.create({ model: 'claude-x', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
      await ask();
      await ask();
      const error: unknown = await ask().catch((e: unknown) => e);
      assert.ok(error instanceof Anthropic.RateLimitError, String(error));
      assert.equal(error.status, 429);
      const body = error.error as { type?: string; error?: { type?: string; message?: string }; request_id?: string };
      assert.equal(body.type, 'error');
      assert.equal(body.error?.type, 'rate_limit_error');
      assert.match(body.error?.message ?? '', /requests per min \(RPM\): Limit 2/);
      assert.equal(body.request_id, error.headers?.get('request-id'));
      assert.ok(Number(error.headers?.get('retry-after')) >= 29);
      assert.equal(error.headers?.get('x-ratelimit-limit-requests'), '2');
    });

    test('a stored key\'s TPM holds under 20 concurrent requests: prompt + max_tokens are reserved up front', async (t) => {
      const { up, sluice } = await setUp(t);
      // Each request reserves its prompt (a few tokens) + 1000: 9 fit in 10,000.
      const { secret } = { secret: await createKey(sluice.url, { name: 'tpm-key', tpm: 10_000 }) };
      const client = new OpenAI({ baseURL: sluice.baseURL, apiKey: secret, maxRetries: 0 });
      const ask = () => client.chat.completions.create({ model: 'gpt-cheap', max_tokens: 1000, messages: [{ role: 'user', content: 'hi' }] });
      up.gate.closed = true;
      const all = Promise.allSettled(Array.from({ length: 20 }, ask));
      await eventually(() => up.openai.requests.length === 9 && sluice.records.filter((r) => r.outcome === 'rejected').length === 11, 5000, '9 admitted, 11 refused');
      up.gate.open();
      const results = await all;
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 9);
      for (const r of results) {
        if (r.status === 'fulfilled') continue;
        const error: unknown = r.reason;
        assert.ok(error instanceof OpenAI.RateLimitError, String(error));
        assert.equal(error.type, 'tokens');
        assert.equal(error.headers?.get('x-ratelimit-limit-tokens'), '10000');
        assert.ok(Number(error.headers?.get('x-ratelimit-remaining-tokens')) < 1010);
        assert.match(error.message, /tokens per min \(TPM\): Limit 10000/);
      }
      // A request larger than the whole limit can never pass: refused at once, not retried.
      const retrying = new OpenAI({ baseURL: sluice.baseURL, apiKey: secret, maxRetries: 2 });
      const before = sluice.records.length;
      const tooLarge: unknown = await retrying.chat.completions.create({ model: 'gpt-cheap', max_tokens: 20_000, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
      assert.ok(tooLarge instanceof OpenAI.RateLimitError);
      assert.match(tooLarge.message, /Request too large for API key 'tpm-key' on tokens per min \(TPM\): Limit 10000, Requested 200\d\d/);
      await eventually(() => sluice.records.length >= before + 1);
      assert.equal(sluice.records.length, before + 1, 'x-should-retry: false stopped the SDK');
    });

    test('max_concurrent: a stored key with 2 in flight gets 429 for a third; slots come back when requests end, aborted ones too', async (t) => {
      const { up, sluice } = await setUp(t);
      const secret = await createKey(sluice.url, { name: 'two-at-a-time', max_concurrent: 2 });
      const client = new OpenAI({ baseURL: sluice.baseURL, apiKey: secret, maxRetries: 0 });
      const ask = (signal?: AbortSignal) => client.chat.completions.create({ model: 'gpt-cheap', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }, signal ? { signal } : {});
      up.gate.closed = true;
      const aborted = new AbortController();
      const first = ask(aborted.signal).catch((e: unknown) => e);
      const second = ask();
      await eventually(() => up.openai.requests.length === 2, 5000, 'two in flight');
      const third: unknown = await ask().catch((e: unknown) => e);
      assert.ok(third instanceof OpenAI.RateLimitError, String(third));
      assert.match(third.message, /Too many concurrent requests for API key 'two-at-a-time': Limit 2 in flight/);
      assert.equal(third.headers?.get('retry-after'), '1');

      aborted.abort();
      await first;
      await eventually(() => sluice.records.some((r) => r.outcome === 'client_aborted'), 5000, 'the abort is settled');
      const replacement = ask();
      await eventually(() => up.openai.requests.length === 3, 5000, 'the aborted request\'s slot was reused');
      up.gate.open();
      await Promise.all([second, replacement]);
      // Both finished: two fresh requests fit again.
      await Promise.all([ask(), ask()]);
    });

    test('a route over its deployment quota: when every route of the model is, 429 with Retry-After', async (t) => {
      const up = await startBillingUpstreams();
      t.after(() => up.close());
      const sluice = await startSluice(`host: 127.0.0.1
port: 0
providers:
  oai:
    kind: openai
    base_url: ${up.openai.baseUrl}
    api_key: sk-upstream-openai
models:
  quota-model:
    routes:
      - {route: oai/deployment-a, rpm: 2}
      - {route: oai/deployment-b, rpm: 1}
keys:
  - name: test
    key: sk-test-client-key-1
${redisConfig()}`);
      t.after(() => sluice.close(0));
      const client = new OpenAI({ baseURL: sluice.baseURL, apiKey: 'sk-test-client-key-1', maxRetries: 0 });
      const ask = () => client.chat.completions.create({ model: 'quota-model', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
      for (let i = 0; i < 3; i++) await ask();
      assert.deepEqual(up.openai.requests.map((r) => r.body.model), ['deployment-a', 'deployment-a', 'deployment-b'], 'a full route is skipped for the next');
      const error: unknown = await ask().catch((e: unknown) => e);
      assert.ok(error instanceof OpenAI.RateLimitError, String(error));
      const retryAfter = Number(error.headers?.get('retry-after'));
      // deployment-a refills one request in 30 s, deployment-b in 60 s: the sooner one counts.
      assert.ok(retryAfter >= 29 && retryAfter <= 30, String(retryAfter));
      assert.ok(Number(error.headers?.get('retry-after-ms')) <= 30_000);
      assert.equal(up.openai.requests.length, 3);
    });

    test('an SDK with retries waits out retry-after-ms and then succeeds', async (t) => {
      const { sluice } = await setUp(t);
      // 3000 tokens per minute, ~1008 reserved (and ~1010 used) per request: the third waits about half a second.
      const secret = await createKey(sluice.url, { name: 'patient', tpm: 3000 });
      const seen: Array<{ status: number; at: number; retryAfterMs: string | null }> = [];
      const recordingFetch: typeof fetch = async (input, init) => {
        const response = await fetch(input, init);
        seen.push({ status: response.status, at: Date.now(), retryAfterMs: response.headers.get('retry-after-ms') });
        return response;
      };
      const client = new Anthropic({ baseURL: sluice.url, apiKey: secret, maxRetries: 3, fetch: recordingFetch });
      const ask = () => client.messages.create({ model: 'claude-x', max_tokens: 1000, messages: [{ role: 'user', content: 'hi' }] });
      await ask();
      await ask();
      const answer = await ask();
      assert.equal(answer.content[0]?.type, 'text');
      const refusal = seen.findIndex((s) => s.status === 429);
      assert.ok(refusal >= 2, JSON.stringify(seen));
      const wait = Number(seen[refusal]?.retryAfterMs);
      assert.ok(wait > 0 && wait <= 2000, `a short, exact wait (${wait} ms)`);
      const success = seen[seen.length - 1];
      assert.equal(success?.status, 200);
      assert.ok((success?.at ?? 0) - (seen[refusal]?.at ?? 0) >= wait, 'the SDK waited at least retry-after-ms');
    });
  });
}
