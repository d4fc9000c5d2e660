import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../core/gateway-error.js';
import { MemoryLimiter } from '../limits/memory-limiter.js';
import { refusedSettlement } from './admission.js';
import type { ClientKey } from './authenticate.js';
import type { Exchange } from './exchange.js';
import { openAiDialect } from './openai-dialect.js';
import { RateLimitAdmission } from './rate-limit-admission.js';
import { formatReset } from './rate-limit-error.js';
import { retryHints } from './retry-hints.js';

function exchange(prompt: number, maxTokens: number | undefined): Exchange {
  return {
    protocol: 'openai-chat', model: 'm', stream: false, dialect: openAiDialect, keepAliveFrame: '',
    plan: () => Promise.reject(new Error('not used')),
    estimatePromptTokens: async () => prompt,
    maxOutputTokens: (fallback) => maxTokens ?? fallback,
  };
}

function setup(limits: ClientKey['limits'], now = () => 1_000_000) {
  const admission = new RateLimitAdmission({ limiter: new MemoryLimiter({ now }) });
  const key: ClientKey = { name: 'team', ...(limits ? { limits } : {}) };
  return { admit: (prompt: number, maxTokens?: number) => admission.admit({ key, exchange: exchange(prompt, maxTokens), model: { name: 'm', routes: [] } }) };
}

function rejection(error: unknown): GatewayError {
  assert.ok(error instanceof GatewayError, String(error));
  return error;
}

test('a key without limits costs nothing to admit', async () => {
  const { admit } = setup(undefined);
  const ticket = await admit(10, 10);
  ticket.settle({ costNanoUsd: 0, tokens: 1 });
});

test('RPM: the (limit+1)th request in a minute is a 429 with the OpenAI headers and wording', async () => {
  const { admit } = setup({ rpm: 2 });
  await admit(1, 1);
  await admit(1, 1);
  const error = rejection(await admit(1, 1).catch((e: unknown) => e));
  assert.equal(error.code, 'rate_limit_exceeded');
  assert.equal(error.status, 429);
  assert.equal(error.limitType, 'requests');
  assert.equal(error.retryAfter, '30');
  assert.equal(error.retryAfterMs, '30000');
  assert.deepEqual(error.headers, { 'x-ratelimit-limit-requests': '2', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1m0s' });
  assert.match(error.message, /Rate limit reached for API key 'team' on requests per min \(RPM\): Limit 2, Remaining 0, Requested 1\. Please try again in 30s\./);
  assert.deepEqual(JSON.parse(openAiDialect.errorBody(error)), {
    error: { message: error.message, type: 'requests', param: null, code: 'rate_limit_exceeded' },
  });
});

test('TPM: reserves prompt + max_tokens, refunds what was not used, and a refused later step gives everything back', async () => {
  const { admit } = setup({ rpm: 100, tpm: 1000 });
  const a = await admit(100, 400); // 500 reserved
  const b = await admit(100, 400); // 1000 reserved
  const error = rejection(await admit(10, 10).catch((e: unknown) => e));
  assert.equal(error.limitType, 'tokens');
  assert.equal(error.headers?.['x-ratelimit-remaining-tokens'], '0');
  assert.equal(error.headers?.['x-ratelimit-remaining-requests'], '98');
  assert.equal(error.headers?.['x-ratelimit-limit-tokens'], '1000');
  a.settle({ costNanoUsd: 0, tokens: 120 }); // 380 back
  b.settle(refusedSettlement); // 500 back, and the request
  b.settle({ costNanoUsd: 0, tokens: 0 }); // once only
  const c = await admit(100, 780);
  c.settle({ costNanoUsd: 0, tokens: 880 });
  const full = rejection(await admit(1, 1).catch((e: unknown) => e));
  assert.equal(full.headers?.['x-ratelimit-remaining-requests'], '98', 'the refused request was given back');
});

test('TPM: a request larger than the whole limit is refused at once, with no point in retrying', async () => {
  const { admit } = setup({ rpm: 10, tpm: 1000 });
  (await admit(100, 100)).settle({ costNanoUsd: 0, tokens: 200 });
  const error = rejection(await admit(300, 800).catch((e: unknown) => e));
  assert.equal(error.code, 'rate_limit_exceeded');
  assert.equal(error.limitType, 'tokens');
  assert.equal(error.headers?.['x-should-retry'], 'false');
  // Every 429 carries the hints, at the SDKs' 60 s cap, and the buckets as they are (untouched).
  assert.equal(error.retryAfter, '60');
  assert.equal(error.retryAfterMs, '60000');
  assert.deepEqual(error.headers, {
    'x-should-retry': 'false',
    'x-ratelimit-limit-requests': '10', 'x-ratelimit-remaining-requests': '9', 'x-ratelimit-reset-requests': '6s',
    'x-ratelimit-limit-tokens': '1000', 'x-ratelimit-remaining-tokens': '800', 'x-ratelimit-reset-tokens': '12s',
  });
  assert.match(error.message, /Request too large for API key 'team' on tokens per min \(TPM\): Limit 1000, Requested 1100/);
  // Without max_tokens the default output is capped to what the limit leaves: not "too large".
  const ticket = await setup({ tpm: 1000 }).admit(300, undefined);
  ticket.settle({ costNanoUsd: 0, tokens: 310 });
});

function tokenizerlessAdmission(tpm: number) {
  // A fixed clock: the bucket must not refill between the take and the reading of what it took.
  const admission = new RateLimitAdmission({ limiter: new MemoryLimiter({ now: () => 1_000_000 }) });
  const key: ClientKey = { name: 'sized', limits: { tpm } };
  const tokenizerless = { ...exchange(0, 500), estimatePromptTokens: () => Promise.reject(new Error('the tokenizer must not run')) };
  return (body: string) => admission.admit({ key, exchange: tokenizerless, model: { name: 'm', routes: [] }, body: Buffer.from(body) });
}

/** A JSON body of `bytes` bytes of prose. */
const prose = (bytes: number): string => JSON.stringify({ text: 'lorem ipsum dolor sit amet '.repeat(bytes).slice(0, bytes - 11) });

test('TPM: with the body known, the prompt is estimated at 4 bytes a token, without the tokenizer', async () => {
  const request = tokenizerlessAdmission(2000);
  assert.equal(prose(4000).length, 4000);
  await request(prose(4000)); // 1000 + 500
  const error = rejection(await request(prose(4000)).catch((e: unknown) => e));
  assert.match(error.message, /Remaining 500, Requested 1500/);
  assert.match(rejection(await request(prose(7000)).catch((e: unknown) => e)).message, /Request too large .* Limit 2000, Requested 2250/);
});

test('TPM: an inline base64 image or PDF counts as a fixed 1600 tokens, not its bytes / 4', async () => {
  const request = tokenizerlessAdmission(100_000);
  const base64 = Buffer.alloc(768 * 1024, 7).toString('base64'); // a 1 MiB payload
  const openAiImage = JSON.stringify({
    model: 'm', max_tokens: 500,
    messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${base64}` } }] }],
  });
  const anthropicPdf = JSON.stringify({
    model: 'm', max_tokens: 500,
    messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: base64 } }, { type: 'text', text: 'Sum it up.' }] }],
  });
  // A JSON encoder may escape '/' as '\/': still one payload.
  const escaped = openAiImage.replaceAll('/', '\\/');
  for (const body of [openAiImage, anthropicPdf, escaped]) {
    const overhead = Math.ceil((body.length - base64.length - (body === escaped ? base64.split('/').length - 1 : 0)) / 4);
    const ticket = await request(body);
    const error = rejection(await request(prose(4 * 98_500)).catch((e: unknown) => e));
    const reserved = 100_000 - Number(/Remaining (\d+)/.exec(error.message)?.[1]);
    assert.ok(reserved >= 1600 + 500 && reserved <= 1600 + 500 + overhead + 1, `reserved ${reserved} (overhead ${overhead})`);
    ticket.settle(refusedSettlement);
  }
});

test('max_concurrent: the slot is held until settle, however the request ended', async () => {
  const { admit } = setup({ maxConcurrent: 1 });
  const first = await admit(1, 1);
  const error = rejection(await admit(1, 1).catch((e: unknown) => e));
  assert.match(error.message, /Too many concurrent requests for API key 'team': Limit 1 in flight/);
  assert.equal(error.retryAfter, '1');
  first.settle({ costNanoUsd: 0, tokens: 0 });
  (await admit(1, 1)).settle(refusedSettlement);
  await admit(1, 1);
});

test('formatReset and retryHints: OpenAI duration strings; Retry-After whole seconds within 1..60', () => {
  assert.deepEqual([0, 20, 999, 1000, 1500, 59_999, 60_000, 360_000, 90_500].map(formatReset), ['0ms', '20ms', '999ms', '1s', '1.5s', '59.999s', '1m0s', '6m0s', '1m30.5s']);
  assert.deepEqual(retryHints(1), { retryAfter: '1', retryAfterMs: '1' });
  assert.deepEqual(retryHints(1001), { retryAfter: '2', retryAfterMs: '1001' });
  assert.deepEqual(retryHints(600_000), { retryAfter: '60', retryAfterMs: '60000' });
});
