/**
 * The contract every Store implementation is held to (memory, SQLite, PostgreSQL): one suite, run
 * against each by store-contract.test.ts. `open` must return a store over the same data each time
 * for durable stores (the reopen test depends on it); tests keep to their own names and time
 * windows so they never see each other's rows.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { DAY_MS, storedKey, tag, usageRow } from './test-support/fixtures.js';
import { KeyNameTakenError, type Store, type UsageRow } from './types.js';

export interface ContractOptions {
  /** The data outlives the store object (SQLite, PostgreSQL); memory does not. Default true. */
  durable?: boolean;
}

export function runStoreContract(name: string, open: () => Promise<Store>, options: ContractOptions = {}): void {
  // Each test gets its own 1000-day window (the suite shares one database per run).
  let windows = 0;
  const windowStart = (): number => Date.UTC(2031, 0, 1) + windows++ * 1000 * DAY_MS;
  const fresh = async (t: TestContext): Promise<Store> => {
    const store = await open();
    t.after(() => store.close());
    return store;
  };

  describe(`store contract: ${name}`, { timeout: 60_000 }, () => {
    test('keys: create, get, getByName and list round-trip every field', async (t) => {
      const store = await fresh(t);
      const k = tag();
      const key = storedKey({
        id: `key_${k}`, name: `full-${k}`, models: ['gpt-test', 'claude-test'], budgetNanoUsd: Number.MAX_SAFE_INTEGER,
        budgetPeriod: 'day', rpm: 60, tpm: 5_000_000_000, maxConcurrent: 4, expiresAt: 1_900_000_000_000,
        metadata: { team: 'search', owner: 'ana' }, createdAt: 1_800_000_000_001, updatedAt: 1_800_000_000_002,
      });
      await store.keys.create(key);
      assert.deepEqual(await store.keys.get(key.id), key);
      assert.deepEqual(await store.keys.getByName(key.name), key);
      assert.equal(await store.keys.get(`key_missing_${k}`), undefined);
      assert.equal(await store.keys.getByName(`missing-${k}`), undefined);
      const bare = storedKey({ id: `key_${k}_b`, name: `bare-${k}`, createdAt: 1_800_000_000_003 });
      await store.keys.create(bare);
      const listed = (await store.keys.list()).filter((x) => x.name.endsWith(k));
      assert.deepEqual(listed, [key, bare], 'oldest first, every field intact');
      // Copies: changing what came back changes nothing stored.
      listed[0]?.models?.push('mutated');
      assert.deepEqual((await store.keys.get(key.id))?.models, ['gpt-test', 'claude-test']);
    });

    test('keys: a taken name is refused with KeyNameTakenError and changes nothing', async (t) => {
      const store = await fresh(t);
      const k = tag();
      await store.keys.create(storedKey({ id: `key_${k}_1`, name: `dup-${k}`, rpm: 1 }));
      await assert.rejects(store.keys.create(storedKey({ id: `key_${k}_2`, name: `dup-${k}`, rpm: 2 })), KeyNameTakenError);
      assert.equal((await store.keys.getByName(`dup-${k}`))?.id, `key_${k}_1`);
      assert.equal(await store.keys.get(`key_${k}_2`), undefined);
      await store.keys.create(storedKey({ id: `key_${k}_3`, name: `other-${k}` }));
      await assert.rejects(store.keys.update(`key_${k}_3`, { name: `dup-${k}` }, 1_800_000_000_100), KeyNameTakenError);
      assert.equal((await store.keys.get(`key_${k}_3`))?.name, `other-${k}`);
    });

    test('keys: update applies the patch, null clears, undefined keeps, updatedAt always moves forward', async (t) => {
      const store = await fresh(t);
      const k = tag();
      const t0 = 1_800_000_000_000;
      await store.keys.create(storedKey({ id: `key_${k}`, name: `u-${k}`, rpm: 10, tpm: 100, models: ['a'], createdAt: t0, updatedAt: t0 }));
      const updated = await store.keys.update(`key_${k}`, { rpm: null, tpm: undefined, models: ['a', 'b'], budgetNanoUsd: 5_000_000_000, metadata: { x: 'y' } }, t0 + 50);
      assert.deepEqual(updated, storedKey({
        id: `key_${k}`, name: `u-${k}`, rpm: null, tpm: 100, models: ['a', 'b'], budgetNanoUsd: 5_000_000_000, metadata: { x: 'y' },
        createdAt: t0, updatedAt: t0 + 50,
      }));
      assert.deepEqual(await store.keys.get(`key_${k}`), updated);
      // Same millisecond, then a clock that went back: still strictly later, or pollers would miss it.
      assert.equal((await store.keys.update(`key_${k}`, { rpm: 1 }, t0 + 50))?.updatedAt, t0 + 51);
      assert.equal((await store.keys.update(`key_${k}`, {}, t0))?.updatedAt, t0 + 52);
      const renamed = await store.keys.update(`key_${k}`, { name: `u2-${k}` }, t0 + 60);
      assert.equal(renamed?.name, `u2-${k}`);
      assert.equal(await store.keys.getByName(`u-${k}`), undefined);
      assert.equal(await store.keys.update(`key_missing_${k}`, { rpm: 1 }, t0), undefined);
    });

    test('keys: changedSince returns keys updated after a time, a revoke included', async (t) => {
      const store = await fresh(t);
      const k = tag();
      const t0 = windowStart();
      const mine = (keys: { name: string }[]) => keys.filter((x) => x.name.endsWith(k)).map((x) => x.name);
      await store.keys.create(storedKey({ id: `key_${k}_a`, name: `a-${k}`, createdAt: t0, updatedAt: t0 }));
      await store.keys.create(storedKey({ id: `key_${k}_b`, name: `b-${k}`, createdAt: t0 + 10, updatedAt: t0 + 10 }));
      assert.deepEqual(mine(await store.keys.changedSince(t0 - 1)), [`a-${k}`, `b-${k}`]);
      assert.deepEqual(mine(await store.keys.changedSince(t0)), [`b-${k}`], 'strictly after');
      assert.deepEqual(mine(await store.keys.changedSince(t0 + 10)), []);
      await store.keys.update(`key_${k}_a`, { revokedAt: t0 + 20 }, t0 + 20);
      const changed = (await store.keys.changedSince(t0 + 10)).filter((x) => x.name.endsWith(k));
      assert.deepEqual(changed.map((x) => [x.name, x.revokedAt, x.updatedAt]), [[`a-${k}`, t0 + 20, t0 + 20]]);
    });

    test('keys: malformed values are refused by every store', async (t) => {
      const store = await fresh(t);
      const k = tag();
      await assert.rejects(store.keys.create(storedKey({ id: `key_${k}`, name: `bad-${k}`, budgetNanoUsd: 1.5 })), TypeError);
      await store.keys.create(storedKey({ id: `key_${k}`, name: `bad-${k}` }));
      await assert.rejects(store.keys.update(`key_${k}`, { rpm: -1 }, 1_800_000_000_001), TypeError);
      assert.equal((await store.keys.get(`key_${k}`))?.rpm, null);
    });

    test('ledger: insert and query round-trip every field', async (t) => {
      const store = await fresh(t);
      const k = tag();
      const t0 = windowStart();
      const full = usageRow({
        requestId: `req_${k}_1`, createdAt: t0, keyId: `key_${k}`, keyName: `team-${k}`, stream: true, ttftMs: 123.456, durationMs: 2345.678,
        inputTokens: 10_000, cacheReadTokens: 8_000, cacheWriteTokens: 500, outputTokens: 700, reasoningTokens: 300,
        usageSource: 'estimated', costNanoUsd: 9_007_199_254_740_991, outcome: 'client_aborted', protocol: 'anthropic', status: 499,
      });
      const sparse = usageRow({
        requestId: `req_${k}_2`, createdAt: t0 + 1, keyId: null, keyName: null, model: null, provider: null, upstreamModel: null,
        outcome: 'rejected', status: 401, usageSource: 'none', costNanoUsd: 0, priceVersion: null, errorCode: 'invalid_api_key',
      });
      await store.ledger.insert([full, sparse]);
      await store.ledger.insert([]);
      assert.deepEqual(await store.ledger.query({ from: t0, to: t0 + DAY_MS }, 10), [full, sparse]);
    });

    test('ledger: a request id already present is skipped, within a batch and across batches', async (t) => {
      const store = await fresh(t);
      const k = tag();
      const t0 = windowStart();
      const first = usageRow({ requestId: `req_${k}_a`, createdAt: t0, costNanoUsd: 100 });
      await store.ledger.insert([first]);
      await store.ledger.insert([{ ...first, costNanoUsd: 999 }, usageRow({ requestId: `req_${k}_b`, createdAt: t0 + 1 })]);
      await store.ledger.insert([usageRow({ requestId: `req_${k}_c`, createdAt: t0 + 2 }), usageRow({ requestId: `req_${k}_c`, createdAt: t0 + 3, costNanoUsd: 7 })]);
      const rows = await store.ledger.query({ from: t0, to: t0 + DAY_MS }, 10);
      assert.deepEqual(rows.map((r) => [r.requestId, r.costNanoUsd]), [[`req_${k}_a`, 100], [`req_${k}_b`, 1_000], [`req_${k}_c`, 1_000]]);
    });

    test('ledger: a malformed row fails the whole insert and writes nothing', async (t) => {
      const store = await fresh(t);
      const k = tag();
      const t0 = windowStart();
      const good = usageRow({ requestId: `req_${k}_ok`, createdAt: t0 });
      await assert.rejects(store.ledger.insert([good, usageRow({ requestId: `req_${k}_bad`, createdAt: t0, costNanoUsd: 0.5 })]), TypeError);
      await assert.rejects(store.ledger.insert([usageRow({ requestId: `req_${k}_bad2`, createdAt: t0, outputTokens: -1 })]), TypeError);
      assert.deepEqual(await store.ledger.query({ from: t0, to: t0 + DAY_MS }, 10), []);
      // A NUL (client-supplied model name) is dropped, not refused: PostgreSQL text cannot hold it.
      await store.ledger.insert([usageRow({ requestId: `req_${k}_nul`, createdAt: t0, model: 'gpt\u0000x' })]);
      assert.equal((await store.ledger.query({ from: t0, to: t0 + DAY_MS }, 10))[0]?.model, 'gptx');
    });

    test('ledger: insert takes large batches in one call', async (t) => {
      const store = await fresh(t);
      const k = tag();
      const t0 = windowStart();
      const rows = Array.from({ length: 1_234 }, (_, i) => usageRow({ requestId: `req_${k}_${String(i).padStart(5, '0')}`, createdAt: t0 + i }));
      await store.ledger.insert(rows);
      const back = await store.ledger.query({ from: t0, to: t0 + DAY_MS }, 5_000);
      assert.equal(back.length, 1_234);
      assert.deepEqual(back.map((r) => r.requestId), rows.map((r) => r.requestId));
    });

    test('ledger: query filters by from (inclusive), to (exclusive), key name and model; oldest first; limit', async (t) => {
      const store = await fresh(t);
      const k = tag();
      const t0 = windowStart();
      const row = (id: string, at: number, keyName: string, model: string): UsageRow => usageRow({ requestId: `req_${k}_${id}`, createdAt: t0 + at, keyName, model });
      await store.ledger.insert([
        row('d', 30, 'alpha', 'm1'), row('a', 10, 'alpha', 'm1'), row('c', 20, 'beta', 'm2'), row('b', 20, 'alpha', 'm2'), row('e', 40, 'beta', 'm1'),
      ]);
      const ids = async (filter: Parameters<Store['ledger']['query']>[0], limit = 100) =>
        (await store.ledger.query({ from: t0, to: t0 + DAY_MS, ...filter }, limit)).map((r) => r.requestId.slice(-1));
      assert.deepEqual(await ids({}), ['a', 'b', 'c', 'd', 'e'], 'by time, ties by request id');
      assert.deepEqual(await ids({ from: t0 + 20 }), ['b', 'c', 'd', 'e']);
      assert.deepEqual(await ids({ to: t0 + 30 }), ['a', 'b', 'c']);
      assert.deepEqual(await ids({ keyName: 'alpha' }), ['a', 'b', 'd']);
      assert.deepEqual(await ids({ model: 'm1' }), ['a', 'd', 'e']);
      assert.deepEqual(await ids({ keyName: 'beta', model: 'm1' }), ['e']);
      assert.deepEqual(await ids({ keyName: 'nobody' }), []);
      assert.deepEqual(await ids({}, 2), ['a', 'b']);
      assert.deepEqual(await ids({}, 0), []);
    });

    test('ledger: summarize by UTC day, model and key name, with totals and filters', async (t) => {
      const store = await fresh(t);
      const k = tag();
      const t0 = windowStart();
      const day1 = new Date(t0).toISOString().slice(0, 10);
      const day2 = new Date(t0 + DAY_MS).toISOString().slice(0, 10);
      const row = (id: string, at: number, keyName: string | null, model: string | null, cost: number): UsageRow =>
        usageRow({ requestId: `req_${k}_${id}`, createdAt: t0 + at, keyName, model, costNanoUsd: cost, inputTokens: 10, cacheReadTokens: 1, cacheWriteTokens: 2, outputTokens: 3, reasoningTokens: 4 });
      await store.ledger.insert([
        row('1', 0, 'alpha', 'm1', 5_000_000_000_000), row('2', DAY_MS - 1, 'beta', 'm1', 20), row('3', DAY_MS, 'alpha', 'm2', 300),
        row('4', DAY_MS + 5, null, null, 4_000),
      ]);
      const totals = (group: string, n: number, cost: number) => ({
        group, requests: n, inputTokens: 10 * n, cacheReadTokens: n, cacheWriteTokens: 2 * n, outputTokens: 3 * n, reasoningTokens: 4 * n, costNanoUsd: cost,
      });
      const range = { from: t0, to: t0 + 2 * DAY_MS };
      assert.deepEqual(await store.ledger.summarize(range, 'day'), [totals(day1, 2, 5_000_000_000_020), totals(day2, 2, 4_300)]);
      assert.deepEqual(await store.ledger.summarize(range, 'model'), [totals('', 1, 4_000), totals('m1', 2, 5_000_000_000_020), totals('m2', 1, 300)]);
      assert.deepEqual(await store.ledger.summarize(range, 'key'), [totals('', 1, 4_000), totals('alpha', 2, 5_000_000_000_300), totals('beta', 1, 20)]);
      assert.deepEqual(await store.ledger.summarize({ ...range, keyName: 'alpha' }, 'day'), [totals(day1, 1, 5_000_000_000_000), totals(day2, 1, 300)]);
      assert.deepEqual(await store.ledger.summarize({ ...range, model: 'm1', from: t0 + 1 }, 'key'), [totals('beta', 1, 20)]);
      assert.deepEqual(await store.ledger.summarize({ ...range, keyName: 'nobody' }, 'model'), []);
    });

    test('ledger: spentSince sums one key from a time on (inclusive)', async (t) => {
      const store = await fresh(t);
      const k = tag();
      const t0 = windowStart();
      const keyId = `key_${k}`;
      await store.ledger.insert([
        usageRow({ requestId: `req_${k}_1`, createdAt: t0, keyId, costNanoUsd: 4_000_000_000_000_000 }),
        usageRow({ requestId: `req_${k}_2`, createdAt: t0 + 10, keyId, costNanoUsd: 250 }),
        usageRow({ requestId: `req_${k}_3`, createdAt: t0 + 20, keyId: `key_${k}_other`, costNanoUsd: 7 }),
        usageRow({ requestId: `req_${k}_4`, createdAt: t0 + 30, keyId, costNanoUsd: -50 }),
      ]);
      assert.equal(await store.ledger.spentSince(keyId, t0), 4_000_000_000_000_200);
      assert.equal(await store.ledger.spentSince(keyId, t0 + 10), 200);
      assert.equal(await store.ledger.spentSince(keyId, t0 + 31), 0);
      assert.equal(await store.ledger.spentSince(`key_${k}_nobody`, 0), 0);
    });

    test('migrate is idempotent: running it again changes nothing', async (t) => {
      const store = await fresh(t);
      const k = tag();
      const t0 = windowStart();
      await store.migrate();
      await store.keys.create(storedKey({ id: `key_${k}`, name: `m-${k}` }));
      await store.ledger.insert([usageRow({ requestId: `req_${k}`, createdAt: t0 })]);
      await store.migrate();
      await store.migrate();
      assert.equal((await store.keys.get(`key_${k}`))?.name, `m-${k}`);
      assert.equal((await store.ledger.query({ from: t0, to: t0 + 1 }, 10)).length, 1);
    });

    // Not registered for memory, which keeps nothing by design (no skipped test in the totals).
    if (options.durable !== false) test('data survives close and reopen', async (t) => {
      const k = tag();
      const t0 = windowStart();
      const first = await open();
      await first.keys.create(storedKey({ id: `key_${k}`, name: `keep-${k}`, budgetNanoUsd: 123 }));
      await first.keys.update(`key_${k}`, { revokedAt: 1_800_000_000_500 }, 1_800_000_000_500);
      await first.ledger.insert([usageRow({ requestId: `req_${k}`, createdAt: t0, keyId: `key_${k}`, costNanoUsd: 42 })]);
      await first.close();
      const second = await fresh(t);
      assert.equal((await second.keys.getByName(`keep-${k}`))?.revokedAt, 1_800_000_000_500);
      assert.equal(await second.ledger.spentSince(`key_${k}`, t0), 42);
    });
  });
}
