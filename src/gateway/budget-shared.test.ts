/**
 * Budgets counted in Redis: two BudgetAdmissions stand for two instances sharing one Redis prefix.
 */
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../core/gateway-error.js';
import { createLogger } from '../observability/logger.js';
import { LeaseKeeper } from '../limits/lease-keeper.js';
import type { OutagePolicy } from '../limits/outage-policy.js';
import { RedisBudget } from '../limits/redis-budget.js';
import { RedisHub } from '../limits/redis-hub.js';
import { deletePrefix, inspector, PrivateRedis, SHARED_REDIS, uniquePrefix } from '../limits/test-support/redis.js';
import type { StoredKey } from '../storage/types.js';
import type { Ticket } from './admission.js';
import { BudgetAdmission } from './budget.js';
import { periodStart } from './budget-period.js';
import type { Exchange } from './exchange.js';
import { openAiDialect } from './openai-dialect.js';
import { PriceBook } from './pricing.js';

const prefix = uniquePrefix();
after(() => deletePrefix(SHARED_REDIS, prefix));

// $10 per 1M output tokens: 10,000 nano-USD per token.
const prices = new PriceBook({ metered: { routes: ['p/m'], price: { input: 0, output: 10 } } });

function storedKey(id: string, budgetNanoUsd: number): StoredKey {
  return {
    id, name: `name-${id}`, prefix: 'sk-sluice-abcdef', hash: '', models: null, budgetNanoUsd, budgetPeriod: 'day',
    rpm: null, tpm: null, maxConcurrent: null, expiresAt: null, revokedAt: null, metadata: {}, createdAt: 0, updatedAt: 0,
  };
}

/** A request reserving `maxTokens` x 10,000 nano-USD. */
function exchange(maxTokens: number): Exchange {
  return {
    protocol: 'openai-chat', model: 'metered', stream: false, dialect: openAiDialect, keepAliveFrame: '',
    plan: () => Promise.reject(new Error('not used')),
    estimatePromptTokens: async () => 10,
    maxOutputTokens: () => maxTokens,
  };
}

class FakeLedger {
  calls = 0;
  constructor(public spent = 0) {}
  async spentSince(): Promise<number> {
    this.calls++;
    return this.spent;
  }
}

async function instance(t: TestContext, options: { url?: string; ledger: FakeLedger; outage?: OutagePolicy; leaseTtlMs?: number }) {
  const url = options.url ?? `${SHARED_REDIS}?prefix=${prefix}`;
  const hub = new RedisHub({ url, logger: createLogger('silent'), outageEffect: 'test' });
  const leases = new LeaseKeeper(hub, options.leaseTtlMs ?? 30_000);
  t.after(async () => {
    leases.stop();
    await hub.close();
  });
  assert.ok(await hub.whenReady(5000));
  const budgets = new BudgetAdmission({ ledger: options.ledger, prices, shared: { hub, budget: new RedisBudget(hub, leases), outage: options.outage ?? 'open' } });
  return { hub, leases, budgets };
}

const admit = (budgets: BudgetAdmission, key: StoredKey, maxTokens: number): Promise<Ticket> =>
  budgets.admit({ key: { name: key.name, id: key.id, stored: key }, exchange: exchange(maxTokens), model: { name: 'metered', routes: [] } });

/** An instance (outage policy open) on a Redis of its own that the test may SIGSTOP; resumed before it stops. */
async function pausableInstance(t: TestContext) {
  const server = await PrivateRedis.start();
  t.after(async () => {
    server.resume();
    await server.stop();
  });
  const open = await instance(t, { url: server.url, ledger: new FakeLedger(0), outage: 'open' });
  return { server, open };
}

/** The key's spend counter in that Redis, read until it is `expected` (or 5 s have passed). */
async function spentOnceItIs(t: TestContext, server: PrivateRedis, keyId: string, expected: string): Promise<string | null> {
  const direct = inspector(server.url);
  t.after(() => direct.disconnect());
  const spent = `sluice:budget:${keyId}:day:${periodStart('day', Date.now())}:spent`;
  const deadline = Date.now() + 5000;
  while ((await direct.get(spent)) !== expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  return direct.get(spent);
}

const spentKey = (id: string) => `${prefix}budget:${id}:day:${periodStart('day', Date.now())}:spent`;

test('two instances share one budget: 10 concurrent requests, room for 3; settled costs free the rest', async (t) => {
  const ledger = new FakeLedger(100_000);
  const a = await instance(t, { ledger });
  const b = await instance(t, { ledger });
  const key = storedKey(`key_shared_${prefix}`, 1_000_000);
  // 100,000 already spent (the ledger); 300,000 reserved per request: 3 fit.
  const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => admit((i % 2 ? a : b).budgets, key, 30)));
  const tickets = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  assert.equal(tickets.length, 3);
  for (const r of results) {
    if (r.status === 'rejected') assert.ok(r.reason instanceof GatewayError && r.reason.code === 'insufficient_quota', String(r.reason));
  }
  assert.ok(ledger.calls >= 1 && ledger.calls <= 2, 'seeded from the ledger once (SET NX), not per request');

  const direct = inspector(SHARED_REDIS);
  t.after(() => direct.disconnect());
  for (const ticket of tickets) ticket.settle({ costNanoUsd: 50_000, tokens: 15 });
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(await direct.get(spentKey(key.id)), '250000');
  // 750,000 left, nothing reserved: 2 more fit.
  const second = await Promise.allSettled(Array.from({ length: 4 }, (_, i) => admit((i % 2 ? a : b).budgets, key, 30)));
  assert.equal(second.filter((r) => r.status === 'fulfilled').length, 2);
});

test('a refusal names what is spent and reserved across instances', async (t) => {
  const ledger = new FakeLedger(0);
  const a = await instance(t, { ledger });
  const b = await instance(t, { ledger });
  const key = storedKey(`key_words_${prefix}`, 500_000);
  await admit(a.budgets, key, 40);
  await assert.rejects(admit(b.budgets, key, 20), /has used or reserved \$0\.0004 of its \$0\.0005 daily budget, and this request could cost up to \$0\.0002/);
});

test('a reservation whose instance died lapses with its lease', async (t) => {
  const ledger = new FakeLedger(0);
  const dying = await instance(t, { ledger, leaseTtlMs: 300 });
  const other = await instance(t, { ledger });
  const key = storedKey(`key_lapse_${prefix}`, 300_000);
  await admit(dying.budgets, key, 30);
  dying.leases.stop();
  await assert.rejects(admit(other.budgets, key, 30), /insufficient|budget/);
  await new Promise((resolve) => setTimeout(resolve, 450));
  await admit(other.budgets, key, 30);
});

test('outage: open falls back to per-instance counters and adds their costs once Redis is back; closed is a 503', async (t) => {
  const server = await PrivateRedis.start();
  t.after(() => server.stop());
  const ledger = new FakeLedger(0);
  const open = await instance(t, { url: server.url, ledger, outage: 'open' });
  const closed = await instance(t, { url: server.url, ledger, outage: 'closed' });
  const key = storedKey('key_outage', 1_000_000);
  (await admit(open.budgets, key, 10)).settle({ costNanoUsd: 100_000, tokens: 10 });
  await new Promise((resolve) => setTimeout(resolve, 50)); // the settle reaches Redis

  await server.stop();
  const during = await admit(open.budgets, key, 10);
  during.settle({ costNanoUsd: 70_000, tokens: 7 });
  await assert.rejects(admit(closed.budgets, key, 10), (error: unknown) => error instanceof GatewayError && error.code === 'limits_unavailable' && error.status === 503);

  // Redis comes back empty (no persistence): the counter is seeded again from the ledger, which
  // by now holds both rows; the owed 70,000 is not added on top of an unseeded counter.
  ledger.spent = 170_000;
  await server.start();
  assert.ok(await open.hub.whenReady(5000));
  assert.ok(await closed.hub.whenReady(5000));
  await admit(closed.budgets, key, 10);
  const direct = inspector(server.url);
  t.after(() => direct.disconnect());
  assert.equal(await direct.get(`sluice:budget:key_outage:day:${periodStart('day', Date.now())}:spent`), '170000');
});

test('a hung Redis (SIGSTOP): requests fall back after one command timeout; costs owed meanwhile are added once it answers', async (t) => {
  const { server, open } = await pausableInstance(t);
  const key = storedKey('key_hung', 1_000_000);
  (await admit(open.budgets, key, 10)).settle({ costNanoUsd: 100_000, tokens: 10 });
  await new Promise((resolve) => setTimeout(resolve, 50));

  server.pause();
  const started = Date.now();
  const during = await admit(open.budgets, key, 10);
  assert.ok(Date.now() - started < 2000, 'at most a command timeout');
  during.settle({ costNanoUsd: 70_000, tokens: 7 });
  const next = Date.now();
  (await admit(open.budgets, key, 10)).settle({ costNanoUsd: 0, tokens: 0 });
  assert.ok(Date.now() - next < 100, 'Redis is skipped while it is known to hang');

  server.resume();
  assert.equal(await spentOnceItIs(t, server, 'key_hung', '170000'), '170000', 'the counter survived, and the owed cost was added to it');
});

test('a second outage reloads the spend from the ledger: costs settled through Redis in between are counted', async (t) => {
  const server = await PrivateRedis.start();
  t.after(() => server.stop());
  const ledger = new FakeLedger(0);
  const open = await instance(t, { url: server.url, ledger, outage: 'open' });
  const key = storedKey('key_two_outages', 1_000_000);

  // Outage 1: this instance loads the ledger's total (0) into its own counters.
  await server.stop();
  const lingering = await admit(open.budgets, key, 10);

  // Back: a request of the outage ends, then 600,000 is spent through Redis (and reaches the ledger).
  await server.start();
  assert.ok(await open.hub.whenReady(5000));
  lingering.settle({ costNanoUsd: 0, tokens: 0 });
  (await admit(open.budgets, key, 60)).settle({ costNanoUsd: 600_000, tokens: 60 });
  ledger.spent = 600_000;
  await new Promise((resolve) => setTimeout(resolve, 50));

  // Outage 2: 600,000 spent, 500,000 asked: over the 1,000,000 budget, refused from fresh counters.
  await server.stop();
  await assert.rejects(admit(open.budgets, key, 50), (error: unknown) => error instanceof GatewayError && error.code === 'insufficient_quota');
  assert.deepEqual(open.budgets.committed(key.id, 'day'), { spent: 600_000, reserved: 0 });
});

test('a settlement lost in a Redis blip also releases its reservation once Redis answers, not when its lease lapses', async (t) => {
  const { server, open } = await pausableInstance(t);
  const key = storedKey('key_blip', 1_000_000);
  const big = await admit(open.budgets, key, 60); // reserves 600,000 of 1,000,000
  server.pause();
  big.settle({ costNanoUsd: 10_000, tokens: 1 }); // times out: kept
  await new Promise((resolve) => setTimeout(resolve, 600));
  server.resume();
  assert.equal(await spentOnceItIs(t, server, 'key_blip', '10000'), '10000');
  // 10,000 spent + 600,000 for this one fits; the lost settlement's 600,000 would not (lease TTL: 30 s).
  const again = await admit(open.budgets, key, 60);
  again.settle({ costNanoUsd: 0, tokens: 0 });
});
