import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Usage } from '../core/usage.js';
import { compilePrice, costNanoUsd, formatUsd, PriceBook, publicPrice } from './pricing.js';

const usage = (u: Partial<Usage>): Usage => ({ input: 0, cacheRead: 0, cacheWrite: 0, output: 0, reasoning: 0, source: 'reported', ...u });

test('prices become integer pico-USD per token', () => {
  const price = compilePrice({ input: 0.15, output: 0.6 });
  assert.equal(price.inputPico, 150_000);
  assert.equal(price.outputPico, 600_000);
  // Unset cache prices are the input price.
  assert.equal(price.cacheReadPico, 150_000);
  assert.equal(price.cacheWritePico, 150_000);
  assert.equal(compilePrice({ input: 0.0375, output: 0.000001 }).inputPico, 37_500);
  assert.equal(compilePrice({ input: 0.0375, output: 0.000001 }).outputPico, 1);
  assert.equal(compilePrice({ input: 1_000_000, output: 0 }).inputPico, 1_000_000_000_000);
});

test('1,000,000 input tokens at $0.15 cost exactly 150,000,000 nano-USD', () => {
  const price = compilePrice({ input: 0.15, output: 0.6 });
  assert.equal(costNanoUsd(price, usage({ input: 1_000_000 })), 150_000_000);
  assert.equal(costNanoUsd(price, usage({ input: 1_000_000, output: 1_000_000 })), 750_000_000);
  assert.equal(costNanoUsd(price, usage({ input: 1 })), 150);
});

test('cached tokens are counted once, at the cache prices', () => {
  // Anthropic-like: input $3, cache read $0.30, cache write $3.75, output $15.
  const price = compilePrice({ input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 });
  // 1000 prompt tokens of which 600 read from cache and 300 written: 100 uncached.
  const cost = costNanoUsd(price, usage({ input: 1000, cacheRead: 600, cacheWrite: 300, output: 10 }));
  // 100 x 3000 + 600 x 300 + 300 x 3750 + 10 x 15000 nano
  assert.equal(cost, 300_000 + 180_000 + 1_125_000 + 150_000);
  // Without cache prices, cached input costs what plain input does, still counted once.
  const plain = compilePrice({ input: 3, output: 15 });
  assert.equal(costNanoUsd(plain, usage({ input: 1000, cacheRead: 600 })), 3_000_000);
});

test('fractional prices are exact, and the sum is rounded once, half up', () => {
  const price = compilePrice({ input: 0.0375, output: 0.15 });
  assert.equal(costNanoUsd(price, usage({ input: 1_000_000 })), 37_500_000);
  assert.equal(costNanoUsd(price, usage({ input: 2 })), 75);
  // 37.5 nano rounds half up to 38.
  assert.equal(costNanoUsd(price, usage({ input: 1 })), 38);
  // 400 pico + 400 pico = 800 pico = 1 nano; rounding each part first would say 0.
  const tiny = compilePrice({ input: 0.0004, output: 0.0004 });
  assert.equal(costNanoUsd(tiny, usage({ input: 1, output: 1 })), 1);
  assert.equal(costNanoUsd(tiny, usage({ input: 1 })), 0);
  // 0.1 + 0.2 is not 0.3 in floating point; here it is.
  const decimals = compilePrice({ input: 0.1, output: 0.2 });
  assert.equal(costNanoUsd(decimals, usage({ input: 1_000_000, output: 1_000_000 })), 300_000_000);
});

test('large counts at large prices stay exact', () => {
  const price = compilePrice({ input: 1_000_000, output: 999_999.999999 });
  // 2M tokens x 1e12 pico = 2e18 pico, beyond a double's exact integers until the final division.
  assert.equal(costNanoUsd(price, usage({ input: 2_000_000 })), 2_000_000_000_000_000);
  // 999999999999 pico per token: 1000 tokens are 999,999,999,999 nano exactly.
  assert.equal(costNanoUsd(price, usage({ output: 1000 })), 999_999_999_999);
});

test('malformed counts are clamped, never negative', () => {
  const price = compilePrice({ input: 1, output: 1 });
  // cacheRead larger than input: only the cached part is charged.
  assert.equal(costNanoUsd(price, usage({ input: 10, cacheRead: 20 })), 20_000);
  assert.equal(costNanoUsd(price, usage({ input: -5, output: Number.NaN })), 0);
});

test('the price version follows the effective prices', () => {
  const a = compilePrice({ input: 0.15, output: 0.6 });
  assert.match(a.version, /^p-[0-9a-f]{10}$/);
  assert.equal(compilePrice({ input: 0.15, output: 0.6, cache_read: 0.15, cache_write: 0.15 }).version, a.version);
  assert.notEqual(compilePrice({ input: 0.15, output: 0.6, cache_read: 0.075 }).version, a.version);
  assert.notEqual(compilePrice({ input: 0.6, output: 0.15 }).version, a.version);
});

test('public prices read back as the config wrote them', () => {
  assert.deepEqual(publicPrice(compilePrice({ input: 0.0375, output: 0.15, cache_read: 0.01875 })), {
    input: 0.0375, output: 0.15, cache_read: 0.01875, cache_write: 0.0375,
  });
});

test('billing policy: failures without output cost nothing, aborted streams pay for what was generated', () => {
  const book = new PriceBook({
    priced: { routes: ['p/m'], price: { input: 1, output: 2 } },
    free: { routes: ['p/m'] },
  });
  const version = book.get('priced')?.version;
  const record = (outcome: 'ok' | 'upstream_error' | 'client_aborted' | 'rejected', u: Usage | undefined, model = 'priced') => ({ model, outcome, usage: u });
  assert.deepEqual(book.cost(record('ok', usage({ input: 1000, output: 100 }))), { costNanoUsd: 1_200_000, priceVersion: version });
  // An answer that is legitimately empty still used the prompt.
  assert.deepEqual(book.cost(record('ok', usage({ input: 1000 }))), { costNanoUsd: 1_000_000, priceVersion: version });
  // The upstream reported prompt tokens, then failed before any output: nothing is billed.
  assert.deepEqual(book.cost(record('upstream_error', usage({ input: 1000 }))), { costNanoUsd: 0, priceVersion: version });
  assert.deepEqual(book.cost(record('client_aborted', usage({ input: 1000 }))), { costNanoUsd: 0, priceVersion: version });
  // Failed after the first token: what was generated is billed, prompt included.
  assert.deepEqual(book.cost(record('upstream_error', usage({ input: 1000, output: 7 }))), { costNanoUsd: 1_014_000, priceVersion: version });
  assert.deepEqual(book.cost(record('client_aborted', usage({ input: 1000, output: 50, source: 'estimated' }))), { costNanoUsd: 1_100_000, priceVersion: version });
  assert.deepEqual(book.cost(record('rejected', undefined)), { costNanoUsd: 0, priceVersion: version });
  assert.deepEqual(book.cost(record('ok', usage({ input: 1000, output: 100 }), 'free')), { costNanoUsd: 0, priceVersion: undefined });
  assert.deepEqual(book.cost({ model: undefined, outcome: 'rejected', usage: undefined }), { costNanoUsd: 0, priceVersion: undefined });
});

test('USD strings are exact decimals of the nano-USD integer', () => {
  assert.equal(formatUsd(0), '0.00');
  assert.equal(formatUsd(150_000_000), '0.15');
  assert.equal(formatUsd(1), '0.000000001');
  assert.equal(formatUsd(1_000_000_000), '1.00');
  assert.equal(formatUsd(12_345_678_901_234), '12345.678901234');
  assert.equal(formatUsd(10n ** 20n), '100000000000.00');
  assert.equal(formatUsd(-1_500_000_000), '-1.50');
});
