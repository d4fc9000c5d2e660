/**
 * Prices as clients see them (GET /v1/models in both shapes, the public /pricing page) and usage
 * reporting (GET /admin/usage) after real requests through the official SDKs, with exact costs.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { clientKey, eventually, startSluice, type TestSluice } from './support/sluice.js';
import { adminKey, createKey, getUsage, startBillingUpstreams, usageReportWith } from './support/billing.js';

async function setUp(t: TestContext): Promise<TestSluice> {
  const up = await startBillingUpstreams();
  t.after(() => up.close());
  const sluice = await startSluice(up.config());
  t.after(() => sluice.close(0));
  return sluice;
}

type Priced = { id: string; pricing?: Record<string, number> };

test('GET /v1/models carries prices per 1M tokens, in both shapes, for the models the key may use', async (t) => {
  const sluice = await setUp(t);
  const openai = new OpenAI({ baseURL: sluice.baseURL, apiKey: clientKey, maxRetries: 0 });
  const models = (await openai.models.list()).data as unknown as Priced[];
  const byId = new Map(models.map((m) => [m.id, m]));
  assert.deepEqual(byId.get('gpt-cheap')?.pricing, { input: 0.15, output: 0.6, cache_read: 0.075, cache_write: 0.15 });
  assert.deepEqual(byId.get('claude-x')?.pricing, { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 });
  assert.ok(byId.has('free-model'));
  assert.equal('pricing' in (byId.get('free-model') ?? {}), false, 'no pricing for a model without a price');

  const anthropic = new Anthropic({ baseURL: sluice.url, apiKey: clientKey, maxRetries: 0 });
  const page = (await anthropic.models.list()).data as unknown as Priced[];
  assert.deepEqual(page.find((m) => m.id === 'claude-x')?.pricing, { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 });
  const one = (await openai.models.retrieve('gpt-cheap')) as unknown as Priced;
  assert.equal(one.pricing?.input, 0.15);

  // A key limited to one model sees that one only, priced.
  const limited = await createKey(sluice.url, { name: 'limited', models: ['gpt-cheap'] });
  const mine = (await new OpenAI({ baseURL: sluice.baseURL, apiKey: limited, maxRetries: 0 }).models.list()).data as unknown as Priced[];
  assert.deepEqual(mine.map((m) => [m.id, m.pricing?.output]), [['gpt-cheap', 0.6]]);
});

test('GET /pricing: a public HTML page with every model, its prices, names escaped', async (t) => {
  const sluice = await setUp(t);
  const response = await fetch(`${sluice.url}/pricing`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  const html = await response.text();
  for (const name of ['gpt-cheap', 'claude-x', 'metered-openai', 'free-model']) assert.match(html, new RegExp(`<code class="name"[^>]*>${name}</code>`));
  assert.match(html, /gpt-cheap<\/code><\/td><td class="num">\$0\.15<\/td><td class="num">\$0\.60<\/td><td class="num">\$0\.075<\/td><td class="num">\$0\.15<\/td>/);
  assert.match(html, /claude-x<\/code><\/td><td class="num">\$3\.00<\/td><td class="num">\$15\.00<\/td><td class="num">\$0\.30<\/td><td class="num">\$3\.75<\/td>/);
  assert.match(html, /free-model<\/code><\/td><td colspan="4" class="none">no price set/);
  assert.ok(html.includes('odd &#60;b&#62;&#38;&#34;name&#34;'));
  assert.ok(!html.includes('<b>'), 'config text never becomes markup');
});

test('GET /admin/usage: exact totals after requests on both protocols, grouped and filtered', async (t) => {
  const sluice = await setUp(t);
  const openai = new OpenAI({ baseURL: sluice.baseURL, apiKey: clientKey, maxRetries: 0 });
  const anthropic = new Anthropic({ baseURL: sluice.url, apiKey: clientKey, maxRetries: 0 });
  for (let i = 0; i < 2; i++) await openai.chat.completions.create({ model: 'gpt-cheap', messages: [{ role: 'user', content: 'hi' }] });
  await anthropic.messages.create({ model: 'claude-x', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] });
  await openai.chat.completions.create({ model: 'free-model', messages: [{ role: 'user', content: 'hi' }] });
  await eventually(() => sluice.records.length === 4);

  // OpenAI: 600 uncached x $0.15 + 400 cached x $0.075 + 10 out x $0.60 per 1M = 126,000 nano.
  // Anthropic: 500 x $3 + 400 x $0.30 + 100 x $3.75 + 10 x $15 per 1M = 2,145,000 nano.
  const costs = sluice.records.map((r) => [r.model, r.costNanoUsd, r.priceVersion?.startsWith('p-') ?? null]);
  assert.deepEqual(costs, [['gpt-cheap', 126_000, true], ['gpt-cheap', 126_000, true], ['claude-x', 2_145_000, true], ['free-model', 0, null]]);

  const today = new Date().toISOString().slice(0, 10);
  const byModel = await usageReportWith(sluice.url, `?from=${today}&to=${today}&group_by=model`, 4);
  assert.deepEqual(byModel.totals, {
    requests: 4, input_tokens: 4000, cache_read_tokens: 1600, cache_write_tokens: 100, output_tokens: 40, reasoning_tokens: 0,
    cost_usd: '0.002397', cost_nano_usd: 2_397_000,
  });
  const groups = (byModel.groups as { group: string; requests: number; cost_usd: string }[]).map((g) => [g.group, g.requests, g.cost_usd]).sort();
  assert.deepEqual(groups, [['claude-x', 1, '0.002145'], ['free-model', 1, '0.00'], ['gpt-cheap', 2, '0.000252']]);

  const byDay = (await getUsage(sluice.url, '?group_by=day&key=test')).body;
  assert.deepEqual((byDay.groups as { group: string }[]).map((g) => g.group), [today]);
  const oneModel = (await getUsage(sluice.url, '?model=claude-x')).body;
  assert.equal((oneModel.totals as { cost_usd: string }).cost_usd, '0.002145');
  const yesterday = (await getUsage(sluice.url, `?to=${Date.parse(`${today}T00:00:00Z`)}`)).body;
  assert.equal((yesterday.totals as { requests: number }).requests, 0);
});

test('GET /admin/usage: the admin key only, and a 400 naming a bad parameter', async (t) => {
  const sluice = await setUp(t);
  assert.equal((await fetch(`${sluice.url}/admin/usage`)).status, 401);
  assert.equal((await getUsage(sluice.url, '', clientKey)).status, 401);
  assert.equal((await getUsage(sluice.url, '', `${adminKey}x`)).status, 401);
  for (const [query, param] of [['?group_by=week', 'group_by'], ['?from=soon', 'from'], ['?limit=5', 'limit'], ['?from=2026-01-02&to=2026-01-01', 'to']]) {
    const { status, body } = await getUsage(sluice.url, query ?? '');
    assert.equal(status, 400, query);
    const error = body.error as { param: string; type: string; message: string };
    assert.equal(error.param, param);
    assert.equal(error.type, 'invalid_request_error');
    assert.match(error.message, new RegExp(`'${param}'`));
  }
});
