import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../core/gateway-error.js';
import { renderOpenAiErrorBody } from '../protocols/openai-chat/errors.js';
import { anthropicErrorType, anthropicStatus } from '../protocols/anthropic-messages/errors.js';
import type { BudgetPeriod, StoredKey } from '../storage/types.js';
import type { ClientKey } from './authenticate.js';
import { BudgetAdmission } from './budget.js';
import { periodEnd, periodStart } from './budget-period.js';
import type { Exchange } from './exchange.js';
import { openAiDialect } from './openai-dialect.js';
import { PriceBook } from './pricing.js';
import type { ModelEntry } from './route-table.js';

// Output at $10 per 1M tokens = 10,000 nano per token; input free unless a test says otherwise.
const prices = new PriceBook({
  'out-only': { routes: ['p/m'], price: { input: 0, output: 10 } },
  'cache-dear': { routes: ['p/m'], price: { input: 1, output: 0, cache_read: 0.1, cache_write: 1.25 } },
  unpriced: { routes: ['p/m'] },
});

function storedKey(budgetNanoUsd: number | null, budgetPeriod: BudgetPeriod = 'day', id = 'key_1'): StoredKey {
  return {
    id, name: `name-${id}`, prefix: 'sk-sluice-abcdef', hash: '', models: null, budgetNanoUsd, budgetPeriod,
    rpm: null, tpm: null, maxConcurrent: null, expiresAt: null, revokedAt: null, metadata: {}, createdAt: 0, updatedAt: 0,
  };
}

function exchange(promptTokens: number, maxTokens: number | undefined): Exchange {
  return {
    protocol: 'openai-chat', model: 'm', stream: false, dialect: openAiDialect, keepAliveFrame: '',
    plan: () => Promise.reject(new Error('not used')),
    estimatePromptTokens: async () => promptTokens,
    maxOutputTokens: (fallback) => maxTokens ?? fallback,
  };
}

const model = (name: string): ModelEntry => ({ name, routes: [] });

class FakeLedger {
  calls: { keyId: string; since: number }[] = [];
  constructor(public spent = 0, public fail = false) {}
  async spentSince(keyId: string, since: number): Promise<number> {
    this.calls.push({ keyId, since });
    if (this.fail) throw new Error('database is down');
    return this.spent;
  }
}

function setup(options: { spent?: number; now?: () => number } = {}) {
  const ledger = new FakeLedger(options.spent ?? 0);
  const budgets = new BudgetAdmission({ ledger, prices, ...(options.now ? { now: options.now } : {}) });
  return { ledger, budgets };
}

const admitWith = (budgets: BudgetAdmission, key: StoredKey, ex: Exchange, name = 'out-only') =>
  budgets.admit({ key: { name: key.name, id: key.id, stored: key } satisfies ClientKey, exchange: ex, model: model(name) });

function isQuotaError(error: unknown): boolean {
  assert.ok(error instanceof GatewayError);
  assert.equal(error.code, 'insufficient_quota');
  return true;
}

test('reserves the worst case, refuses what would exceed the budget, and settles to the real cost', async () => {
  const { budgets } = setup();
  const key = storedKey(1_000_000); // $0.001
  // 30 output tokens x 10,000 nano = 300,000 nano each.
  const a = await admitWith(budgets, key, exchange(500, 30));
  const b = await admitWith(budgets, key, exchange(500, 30));
  const c = await admitWith(budgets, key, exchange(500, 30));
  assert.deepEqual(budgets.committed(key.id, 'day'), { spent: 0, reserved: 900_000 });
  await assert.rejects(admitWith(budgets, key, exchange(500, 30)), isQuotaError);
  a.settle({ costNanoUsd: 100_000, tokens: 0 });
  assert.deepEqual(budgets.committed(key.id, 'day'), { spent: 100_000, reserved: 600_000 });
  // 100,000 + 600,000 + 300,000 = the budget exactly: allowed.
  const d = await admitWith(budgets, key, exchange(500, 30));
  await assert.rejects(admitWith(budgets, key, exchange(500, 1)), isQuotaError);
  for (const t of [b, c, d]) t.settle({ costNanoUsd: 0, tokens: 0 });
  // Settling twice changes nothing.
  d.settle({ costNanoUsd: 999, tokens: 0 });
  assert.deepEqual(budgets.committed(key.id, 'day'), { spent: 100_000, reserved: 0 });
});

test('20 concurrent requests: exactly those that fit are admitted', async () => {
  const { budgets, ledger } = setup({ spent: 250_000 });
  const key = storedKey(1_000_000);
  // Each reserves 100,000 nano; 750,000 left: 7 fit.
  const results = await Promise.allSettled(Array.from({ length: 20 }, () => admitWith(budgets, key, exchange(10, 10))));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 7);
  for (const r of results) if (r.status === 'rejected') isQuotaError(r.reason);
  // The ledger was asked once, not once per request.
  assert.equal(ledger.calls.length, 1);
  assert.deepEqual(budgets.committed(key.id, 'day'), { spent: 250_000, reserved: 700_000 });
});

test('without max_tokens the default (4096) is reserved; the prompt at the dearest input price', async () => {
  const { budgets } = setup();
  const key = storedKey(40_960_000);
  const t = await admitWith(budgets, key, exchange(0, undefined));
  assert.deepEqual(budgets.committed(key.id, 'day'), { spent: 0, reserved: 40_960_000 });
  t.settle({ costNanoUsd: 0, tokens: 0 });
  // cache_write ($1.25) is dearer than input ($1): 1000 prompt tokens reserve 1,250,000 nano.
  await admitWith(budgets, key, exchange(1000, 5), 'cache-dear');
  assert.deepEqual(budgets.committed(key.id, 'day'), { spent: 0, reserved: 1_250_000 });
});

test('keys without a budget, and unpriced models, reserve nothing', async () => {
  const { budgets, ledger } = setup();
  await admitWith(budgets, storedKey(null), exchange(1000, 1000));
  await budgets.admit({ key: { name: 'config-key' }, exchange: exchange(1000, 1000), model: model('out-only') });
  assert.equal(ledger.calls.length, 0);
  const spent = storedKey(0);
  await admitWith(budgets, spent, exchange(1000, 1000), 'unpriced');
  await assert.rejects(admitWith(budgets, spent, exchange(1, 1)), isQuotaError);
});

test('a new period starts from the ledger again; a request ending after the boundary counts in the new one', async () => {
  let now = Date.parse('2026-11-21T23:59:00Z');
  const { budgets, ledger } = setup({ spent: 900_000, now: () => now });
  const key = storedKey(1_000_000, 'day');
  const late = await admitWith(budgets, key, exchange(0, 10)); // 100,000
  await assert.rejects(admitWith(budgets, key, exchange(0, 10)), isQuotaError);
  assert.deepEqual(ledger.calls, [{ keyId: key.id, since: Date.parse('2026-11-21T00:00:00Z') }]);

  now = Date.parse('2026-11-22T00:00:01Z');
  ledger.spent = 0;
  late.settle({ costNanoUsd: 40_000, tokens: 0 }); // its ledger row is dated now: the 22nd
  await admitWith(budgets, key, exchange(0, 90));
  assert.deepEqual(ledger.calls[1], { keyId: key.id, since: Date.parse('2026-11-22T00:00:00Z') });
  assert.equal(ledger.calls.length, 2);
  assert.deepEqual(budgets.committed(key.id, 'day'), { spent: 40_000, reserved: 900_000 });
  await assert.rejects(admitWith(budgets, key, exchange(0, 7)), isQuotaError);
});

test('monthly and total periods', async () => {
  assert.equal(periodStart('month', Date.parse('2026-02-28T12:00:00Z')), Date.parse('2026-02-01T00:00:00Z'));
  assert.equal(periodEnd('month', Date.parse('2026-12-01T00:00:00Z')), Date.parse('2027-01-01T00:00:00Z'));
  assert.equal(periodEnd('day', Date.parse('2026-02-28T00:00:00Z')), Date.parse('2026-03-01T00:00:00Z'));
  assert.equal(periodStart('total', Date.now()), 0);
  assert.equal(periodEnd('total', 0), undefined);
  const { budgets, ledger } = setup({ now: () => Date.parse('2026-11-21T10:00:00Z') });
  await admitWith(budgets, storedKey(1_000_000, 'month', 'key_m'), exchange(0, 1));
  await admitWith(budgets, storedKey(1_000_000, 'total', 'key_t'), exchange(0, 1));
  assert.deepEqual(ledger.calls.map((c) => c.since), [Date.parse('2026-11-01T00:00:00Z'), 0]);
});

test('an unreadable ledger refuses budgeted keys with 503 and is asked again next time', async () => {
  const ledger = new FakeLedger(0, true);
  const budgets = new BudgetAdmission({ ledger, prices });
  const key = storedKey(1_000_000);
  await assert.rejects(admitWith(budgets, key, exchange(0, 1)), (error: unknown) => error instanceof GatewayError && error.code === 'budget_unavailable' && error.status === 503);
  ledger.fail = false;
  await admitWith(budgets, key, exchange(0, 1));
  assert.equal(ledger.calls.length, 2);
});

test('a stalled ledger does not stall requests', async () => {
  const budgets = new BudgetAdmission({ ledger: { spentSince: () => new Promise<number>(() => {}) }, prices, loadTimeoutMs: 20 });
  // The timeout's timer is unref'd (it must not hold a stopping server up); a server holds the loop open.
  const server = setTimeout(() => {}, 5000);
  await assert.rejects(admitWith(budgets, storedKey(1), exchange(0, 1)), (error: unknown) => error instanceof GatewayError && error.code === 'budget_unavailable');
  clearTimeout(server);
});

test('the refusal: 429 insufficient_quota for OpenAI clients, 402 billing_error for Anthropic ones', async () => {
  const { budgets } = setup({ now: () => Date.parse('2026-11-21T10:00:00Z') });
  const error = await admitWith(budgets, storedKey(5), exchange(0, 1)).then(
    () => assert.fail('admitted'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof GatewayError);
  assert.match(error.message, /\$0\.000000005 daily budget.*up to \$0\.00001 .*resets at 2026-11-22T00:00:00\.000Z/);
  assert.equal(openAiDialect.status(error), 429);
  assert.deepEqual(JSON.parse(renderOpenAiErrorBody(error)).error, { message: error.message, type: 'insufficient_quota', param: null, code: 'insufficient_quota' });
  assert.equal(anthropicStatus(error), 402);
  assert.equal(anthropicErrorType(error), 'billing_error');
});
