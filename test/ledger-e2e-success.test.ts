/**
 * Issue 4, "Done when": usage-ledger rows exact, field by field, through the official SDKs, for
 * requests that succeed: a plain request (both protocols), streams with and without
 * `include_usage`, and cached-token pricing on both protocols (OpenAI's prompt_tokens include the
 * cached tokens, Anthropic's input_tokens exclude cache reads and writes: the row counts each
 * cached token once, at the cache price). Rows are read from the store (gateway.store.ledger)
 * after the LedgerWriter flushed them; expected costs are computed by hand from the prices.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertRow, claudeRow, expectedCost, gptRow, ledgerHarness, ledgerRows, priceVersionOf, rowOf, tokenFields, type Tokens,
} from './support/ledger.js';
import { assertOk, call, callAnthropic, callOpenAi, type ClientProtocol } from './support/ledger-clients.js';

const plainUsage: Tokens = { input: 25, cacheRead: 0, cacheWrite: 0, output: 7 };
const words = ['Hello', ' there', ',', ' friend', '.'];

test('plain non-stream request, OpenAI SDK: one exact row (reported usage, cost from the prices)', async (t) => {
  const h = await ledgerHarness(t, { openai: () => ({ text: words, usage: plainUsage }) });
  const sentAt = Date.now();
  const r = await callOpenAi(h.sluice, 'gpt', { stream: false, maxTokens: 50 });
  assertOk(r);
  assert.equal(r.text, 'Hello there, friend.');

  const rows = await ledgerRows(h.sluice, 1);
  assert.equal(rows.length, 1, 'one row per request');
  // 25 x $3 + 7 x $15 per 1M tokens = 75,000 + 105,000 nano-USD.
  assert.equal(expectedCost(plainUsage), 180_000);
  assertRow(rowOf(rows, r.requestId), gptRow(h.sluice, { requestId: r.requestId!, ...tokenFields(plainUsage), costNanoUsd: 180_000 }), { sentAt, ttftAtLeast: 0 });
});

test('plain non-stream request, Anthropic SDK: one exact row', async (t) => {
  const h = await ledgerHarness(t, { anthropic: () => ({ text: words, usage: plainUsage }) });
  const sentAt = Date.now();
  const r = await callAnthropic(h.sluice, 'claude', { stream: false, maxTokens: 50 });
  assertOk(r);
  assert.equal(r.text, 'Hello there, friend.');

  const rows = await ledgerRows(h.sluice, 1);
  assert.equal(rows.length, 1);
  assertRow(
    rowOf(rows, r.requestId),
    claudeRow(h.sluice, { requestId: r.requestId!, protocol: 'anthropic', ...tokenFields(plainUsage), costNanoUsd: 180_000 }),
    { sentAt, ttftAtLeast: 0 },
  );
  assert.equal(priceVersionOf(h.sluice, 'claude'), priceVersionOf(h.sluice, 'gpt'), 'the same prices, the same price version');
});

test('a model without a price costs 0 and has no price version; sub-nano prices round half up once', async (t) => {
  const tiny: Tokens = { input: 11, cacheRead: 0, cacheWrite: 0, output: 2 };
  const h = await ledgerHarness(t, { openai: (req) => ({ text: words, usage: JSON.stringify(req.body.messages).includes('tiny') ? tiny : plainUsage }) });
  const sentAt = Date.now();
  const free = await callOpenAi(h.sluice, 'gpt-free', { stream: false });
  const small = await callOpenAi(h.sluice, 'gpt-tiny', { stream: false, prompt: 'tiny' });
  assertOk(free);
  assertOk(small);
  const rows = await ledgerRows(h.sluice, 2);
  assert.equal(priceVersionOf(h.sluice, 'gpt-free'), null);
  assertRow(rowOf(rows, free.requestId), gptRow(h.sluice, { requestId: free.requestId!, model: 'gpt-free', ...tokenFields(plainUsage), costNanoUsd: 0, priceVersion: null }), { sentAt, ttftAtLeast: 0 });
  // 11 x 500 pico + 2 x 1,500 pico = 8,500 pico = 8.5 nano: rounded half up to 9, once.
  const tinyVersion = priceVersionOf(h.sluice, 'gpt-tiny');
  assert.notEqual(tinyVersion, priceVersionOf(h.sluice, 'gpt'), 'other prices, another version');
  assertRow(rowOf(rows, small.requestId), gptRow(h.sluice, { requestId: small.requestId!, model: 'gpt-tiny', ...tokenFields(tiny), costNanoUsd: 9, priceVersion: tinyVersion }), { sentAt, ttftAtLeast: 0 });
});

// ---------------------------------------------------------------------------------------------
// Streams, with and without include_usage
// ---------------------------------------------------------------------------------------------

const streamUsage: Tokens = { input: 30, cacheRead: 0, cacheWrite: 0, output: 5 };
// 30 x $3 + 5 x $15 per 1M = 90,000 + 75,000.
const streamCost = 165_000;
const delay = 120;

for (const includeUsage of [true, false]) {
  test(`OpenAI SDK stream ${includeUsage ? 'with' : 'without'} include_usage: the row has the upstream's reported usage, TTFT measured`, async (t) => {
    assert.equal(expectedCost(streamUsage), streamCost);
    const h = await ledgerHarness(t, { openai: () => ({ text: words, usage: streamUsage, firstTokenDelayMs: delay }) });
    const sentAt = Date.now();
    const r = await callOpenAi(h.sluice, 'gpt', { stream: true, includeUsage });
    assertOk(r);
    assert.equal(r.text, 'Hello there, friend.');
    assert.equal(r.sawUsageChunk, includeUsage, 'the client gets the usage chunk only when it asked');
    if (includeUsage) assert.deepEqual([r.usage?.prompt_tokens, r.usage?.completion_tokens], [30, 5]);
    // Sluice asks the upstream for usage whatever the client asked (lesson 15).
    assert.deepEqual(h.openai.requests[0]?.body.stream_options, { include_usage: true });

    const rows = await ledgerRows(h.sluice, 1);
    assert.equal(rows.length, 1);
    assertRow(
      rowOf(rows, r.requestId),
      gptRow(h.sluice, { requestId: r.requestId!, stream: true, ...tokenFields(streamUsage), costNanoUsd: streamCost }),
      { sentAt, ttftAtLeast: delay - 1, durationAtLeast: delay - 1 },
    );
  });
}

test('Anthropic SDK stream: reported usage (message_start + message_delta), TTFT measured', async (t) => {
  const h = await ledgerHarness(t, { anthropic: () => ({ text: words, usage: streamUsage, firstTokenDelayMs: delay }) });
  const sentAt = Date.now();
  const r = await callAnthropic(h.sluice, 'claude', { stream: true });
  assertOk(r);
  assert.equal(r.text, 'Hello there, friend.');
  const rows = await ledgerRows(h.sluice, 1);
  assertRow(
    rowOf(rows, r.requestId),
    claudeRow(h.sluice, { requestId: r.requestId!, protocol: 'anthropic', stream: true, ...tokenFields(streamUsage), costNanoUsd: streamCost }),
    { sentAt, ttftAtLeast: delay - 1, durationAtLeast: delay - 1 },
  );
});

test('translated streams: OpenAI SDK (no include_usage) over Anthropic, Anthropic SDK over OpenAI: reported usage either way', async (t) => {
  const h = await ledgerHarness(t, {
    openai: () => ({ text: words, usage: streamUsage, firstTokenDelayMs: delay }),
    anthropic: () => ({ text: words, usage: streamUsage, firstTokenDelayMs: delay }),
  });
  const sentAt = Date.now();
  const a = await callOpenAi(h.sluice, 'claude', { stream: true, includeUsage: false });
  const b = await callAnthropic(h.sluice, 'gpt', { stream: true });
  assertOk(a);
  assertOk(b);
  assert.equal(a.text, 'Hello there, friend.');
  assert.equal(b.text, 'Hello there, friend.');
  assert.equal(a.sawUsageChunk, false);
  assert.deepEqual((h.openai.requests[0]?.body.stream_options as { include_usage?: boolean } | undefined)?.include_usage, true, 'the OpenAI upstream is asked for usage');
  const rows = await ledgerRows(h.sluice, 2);
  assert.equal(rows.length, 2);
  const timing = { sentAt, ttftAtLeast: delay - 1, durationAtLeast: delay - 1 };
  assertRow(rowOf(rows, a.requestId), claudeRow(h.sluice, { requestId: a.requestId!, stream: true, ...tokenFields(streamUsage), costNanoUsd: streamCost }), timing);
  assertRow(rowOf(rows, b.requestId), gptRow(h.sluice, { requestId: b.requestId!, protocol: 'anthropic', stream: true, ...tokenFields(streamUsage), costNanoUsd: streamCost }), timing);
});

// ---------------------------------------------------------------------------------------------
// Cached-token pricing, both upstream protocols x both client protocols x stream or not
// ---------------------------------------------------------------------------------------------

/** OpenAI upstream: prompt_tokens 1000, of which cached_tokens 800; 50 out. */
const openAiCached: Tokens = { input: 1000, cacheRead: 800, cacheWrite: 0, output: 50 };
/** Anthropic upstream: input_tokens 200 + cache_read 800 + cache_creation 100 = 1100 prompt tokens; 50 out. */
const anthropicCached: Tokens = { input: 1100, cacheRead: 800, cacheWrite: 100, output: 50 };
// 200 x $3 + 800 x $0.30 + 50 x $15 per 1M = 600,000 + 240,000 + 750,000 nano.
const openAiCachedCost = 1_590_000;
// 200 x $3 + 800 x $0.30 + 100 x $3.75 + 50 x $15 per 1M = 600,000 + 240,000 + 375,000 + 750,000 nano.
const anthropicCachedCost = 1_965_000;

for (const client of ['openai', 'anthropic'] as ClientProtocol[]) {
  for (const upstream of ['openai', 'anthropic'] as const) {
    for (const stream of [false, true]) {
      test(`cached-token pricing: ${client} client, ${upstream} upstream, ${stream ? 'stream' : 'non-stream'}: cache counted once, at cache prices`, async (t) => {
        assert.equal(expectedCost(openAiCached), openAiCachedCost);
        assert.equal(expectedCost(anthropicCached), anthropicCachedCost);
        const h = await ledgerHarness(t, {
          openai: () => ({ text: words, usage: openAiCached }),
          anthropic: () => ({ text: words, usage: anthropicCached }),
        });
        const model = upstream === 'openai' ? 'gpt' : 'claude';
        const sentAt = Date.now();
        const r = await call(client, h.sluice, model, { stream, includeUsage: stream });
        assertOk(r);
        assert.equal(r.text, 'Hello there, friend.');
        const rows = await ledgerRows(h.sluice, 1);
        assert.equal(rows.length, 1);
        const tokens = upstream === 'openai' ? openAiCached : anthropicCached;
        // What the client saw follows its own protocol's semantics, cache counted once there too.
        if (client === 'openai' && r.usage !== undefined) {
          const details = r.usage.prompt_tokens_details as { cached_tokens?: number } | undefined;
          assert.deepEqual([r.usage.prompt_tokens, details?.cached_tokens, r.usage.completion_tokens], [tokens.input, tokens.cacheRead, tokens.output]);
        }
        if (client === 'anthropic') {
          const u = r.usage ?? {};
          assert.deepEqual(
            [u.input_tokens, u.cache_read_input_tokens, u.cache_creation_input_tokens, u.output_tokens],
            [tokens.input - tokens.cacheRead - tokens.cacheWrite, tokens.cacheRead, tokens.cacheWrite, tokens.output],
          );
        }
        const fields = { requestId: r.requestId!, protocol: client, stream, ...tokenFields(tokens), costNanoUsd: upstream === 'openai' ? openAiCachedCost : anthropicCachedCost };
        assertRow(rowOf(rows, r.requestId), upstream === 'openai' ? gptRow(h.sluice, fields) : claudeRow(h.sluice, fields), { sentAt, ttftAtLeast: 0 });
      });
    }
  }
}
