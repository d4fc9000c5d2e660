/**
 * The ledger writer: rows reach the store; a failing, dead or hanging database never fails or
 * stalls append(), rows spill to the journal and all arrive once it is back, exactly once; a hard
 * crash loses no row; memory stays bounded.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerWriter } from './ledger-writer.js';
import { MemoryStore } from './memory-store.js';
import { openStore } from './open-store.js';
import { deadLedger, FlakyLedger, hangingLedger, SwitchLedger, until } from './test-support/fake-ledgers.js';
import { usageRow, usageRows } from './test-support/fixtures.js';
import { testSchema } from './test-support/postgres.js';
import type { Store, UsageRow } from './types.js';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-ledger-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function segmentFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.jsonl')) : [];
}

/** Every expected row is stored, once, unchanged. */
async function assertExactly(store: Store, expected: UsageRow[]): Promise<void> {
  const stored = await store.ledger.query({}, 1_000_000);
  assert.equal(stored.length, expected.length, 'row count');
  assert.equal(new Set(stored.map((r) => r.requestId)).size, stored.length, 'no duplicates');
  const byId = new Map(stored.map((r) => [r.requestId, r]));
  for (const row of expected) assert.deepEqual(byId.get(row.requestId), row);
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

test('rows reach the store in batches; stored segments are deleted; close removes the journal', async (t) => {
  const dir = join(tempDir(t), 'journal');
  const store = new MemoryStore();
  const writer = new LedgerWriter(store.ledger, dir, { flushIntervalMs: 20, batchSize: 100 });
  const rows = usageRows('reach', 1_234);
  for (const row of rows) writer.append(row);
  assert.ok(segmentFiles(dir).length > 0, 'journaled before anything is stored');
  await until(() => writer.stats().pending === 0, 5_000, 'all rows stored');
  await assertExactly(store, rows);
  assert.deepEqual(segmentFiles(dir), []);
  writer.append(usageRow({ requestId: 'one-more', createdAt: 1 }));
  await until(async () => (await store.ledger.query({}, 10_000)).length === 1_235, 1_000, 'a lone row within the flush interval');
  const [stats, again] = await Promise.all([writer.close(), writer.close()]);
  assert.deepEqual(again, stats, 'a second close waits for the first');
  assert.equal(stats.pending, 0);
  assert.equal(stats.inserted, 1_235);
  assert.equal(existsSync(dir), false, 'an empty journal folder is removed at close');
});

test('close() flushes everything still queued (the SIGTERM path)', async (t) => {
  const dir = tempDir(t);
  const store = new MemoryStore();
  const writer = new LedgerWriter(store.ledger, dir, { flushIntervalMs: 60_000, batchSize: 100_000 });
  const rows = usageRows('term', 2_000);
  for (const row of rows) writer.append(row);
  assert.equal((await store.ledger.query({}, 10)).length, 0, 'nothing flushed on its own yet');
  const stats = await writer.close(5_000);
  assert.equal(stats.pending, 0);
  await assertExactly(store, rows);
  assert.deepEqual(segmentFiles(dir), []);
});

test('unflushedCostNanoUsd covers rows not yet stored, per key', async (t) => {
  const dir = tempDir(t);
  const ledger = new SwitchLedger(deadLedger);
  const writer = new LedgerWriter(ledger, dir, { retryMinMs: 5, retryMaxMs: 20 });
  writer.append(usageRow({ requestId: 'c1', createdAt: 1, keyId: 'k1', costNanoUsd: 700 }));
  writer.append(usageRow({ requestId: 'c2', createdAt: 2, keyId: 'k1', costNanoUsd: 300 }));
  writer.append(usageRow({ requestId: 'c3', createdAt: 3, keyId: 'k2', costNanoUsd: 5 }));
  assert.equal(writer.unflushedCostNanoUsd('k1'), 1_000);
  assert.equal(writer.unflushedCostNanoUsd('k2'), 5);
  assert.equal(writer.unflushedCostNanoUsd('k3'), 0);
  const store = new MemoryStore();
  ledger.target = store.ledger;
  await until(() => writer.stats().pending === 0, 5_000, 'rows stored');
  assert.equal(writer.unflushedCostNanoUsd('k1'), 0);
  assert.equal(await store.ledger.spentSince('k1', 0), 1_000);
  await writer.close();
});

test('a malformed row throws at append and is not journaled', async (t) => {
  const dir = tempDir(t);
  const writer = new LedgerWriter(new MemoryStore().ledger, dir);
  assert.throws(() => writer.append(usageRow({ requestId: 'bad', createdAt: 1, costNanoUsd: 1.5 })), TypeError);
  assert.equal(writer.stats().pending, 0);
  assert.deepEqual(segmentFiles(dir), []);
  await writer.close();
});

test('a ledger that fails N times: rows spill to the journal, then all arrive exactly once', async (t) => {
  const dir = tempDir(t);
  const store = new MemoryStore();
  const flaky = new FlakyLedger(store.ledger, 6);
  const writer = new LedgerWriter(flaky, dir, { flushIntervalMs: 5, batchSize: 40, maxQueued: 100, segmentRows: 150, retryMinMs: 5, retryMaxMs: 40 });
  const rows = usageRows('flaky', 1_000);
  for (const row of rows) writer.append(row);
  assert.ok(writer.stats().queued <= 100, 'bounded queue');
  assert.ok(segmentFiles(dir).length >= 6, 'journal-only segments beyond the queue');
  await until(() => writer.stats().pending === 0, 10_000, 'all rows stored');
  await assertExactly(store, rows);
  const stats = await writer.close();
  assert.equal(stats.failures, 6);
  assert.equal(stats.dropped, 0);
  assert.deepEqual(segmentFiles(dir), []);
});

test('a hanging database never stalls append(); inserts time out and are retried', async (t) => {
  const dir = tempDir(t);
  const ledger = new SwitchLedger(hangingLedger);
  const writer = new LedgerWriter(ledger, dir, { flushIntervalMs: 5, batchSize: 50, maxQueued: 200, insertTimeoutMs: 50, retryMinMs: 5, retryMaxMs: 20 });
  const rows = usageRows('hang', 2_000);
  const started = process.hrtime.bigint();
  for (const row of rows) writer.append(row);
  const perAppendUs = Number(process.hrtime.bigint() - started) / 1_000 / rows.length;
  assert.ok(perAppendUs < 500, `append took ${perAppendUs.toFixed(1)} µs on average`);
  await until(() => writer.stats().failures >= 2, 5_000, 'timed-out inserts counted as failures');
  const store = new MemoryStore();
  ledger.target = store.ledger;
  await until(() => writer.stats().pending === 0, 10_000, 'all rows stored after the database answers again');
  await assertExactly(store, rows);
  await writer.close();
});

test('memory stays bounded with a dead database and 50k rows; all arrive once it is back', async (t) => {
  const dir = tempDir(t);
  const ledger = new SwitchLedger(deadLedger);
  const writer = new LedgerWriter(ledger, dir, { maxQueued: 1_000, segmentRows: 5_000, retryMinMs: 5, retryMaxMs: 50 });
  const rows = usageRows('bounded', 50_000);
  let maxQueued = 0;
  for (const [i, row] of rows.entries()) {
    writer.append(row);
    if (i % 1_000 === 0) maxQueued = Math.max(maxQueued, writer.stats().queued);
    if (i % 5_000 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  const stats = writer.stats();
  assert.ok(maxQueued <= 1_000 && stats.queued <= 1_000, `queued ${stats.queued}`);
  assert.equal(stats.pending, 50_000);
  assert.ok(stats.failures > 0);
  assert.ok(segmentFiles(dir).length >= 10, 'the rest is in journal segments');
  const store = new MemoryStore();
  ledger.target = store.ledger;
  await until(() => writer.stats().pending === 0, 20_000, 'the backlog replayed');
  await assertExactly(store, rows);
  assert.deepEqual(segmentFiles(dir), []);
  await writer.close();
});

test('rows left by a closed writer are recovered by the next one; a torn last line is skipped', async (t) => {
  const dir = tempDir(t);
  const first = new LedgerWriter(deadLedger, dir, { retryMinMs: 5 });
  const rows = usageRows('left', 300);
  for (const row of rows) first.append(row);
  const closed = await first.close(50);
  assert.equal(closed.pending, 300);
  const files = segmentFiles(dir);
  assert.ok(files.length > 0);
  // A power loss mid-write leaves a partial line at the end of the last segment.
  appendFileSync(join(dir, files.at(-1) ?? ''), '{"requestId":"torn","createdAt":');
  const store = new MemoryStore();
  await store.ledger.insert(rows.slice(0, 100));
  const second = new LedgerWriter(store.ledger, dir);
  assert.equal(await second.recover(), 300);
  await assertExactly(store, rows);
  assert.deepEqual(segmentFiles(dir), []);
  await second.close();
});

test('one writer per journal: a live owner is refused, a dead one is taken over', async (t) => {
  const dir = tempDir(t);
  const writer = new LedgerWriter(new MemoryStore().ledger, dir);
  assert.throws(() => new LedgerWriter(new MemoryStore().ledger, dir), /already used by another writer/);
  await writer.close();
  mkdirSync(dir, { recursive: true });
  // Another live process (our parent) owns it.
  writeFileSync(join(dir, 'journal.lock'), String(process.ppid));
  assert.throws(() => new LedgerWriter(new MemoryStore().ledger, dir), /in use by process/);
  // Its owner died (a pid that has exited): taken over.
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  writeFileSync(join(dir, 'journal.lock'), child.stdout);
  const next = new LedgerWriter(new MemoryStore().ledger, dir);
  await next.close();
});

for (const mode of ['exit', 'kill'] as const) {
  test(`a process that dies hard (${mode === 'kill' ? 'SIGKILL' : 'process.exit'}) without flushing loses no row`, async (t) => {
    const root = tempDir(t);
    const dir = join(root, 'journal');
    const dbPath = join(root, 'sluice.db');
    const child = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'test-support', 'append-and-die.ts'), dir, dbPath, '2000', mode], {
      encoding: 'utf8', timeout: 60_000,
    });
    assert.equal(child.signal, mode === 'kill' ? 'SIGKILL' : null, child.stderr);
    const childStats = JSON.parse(child.stdout.trim()) as { pending: number; inserted: number };
    assert.ok(childStats.pending > 0, 'rows were still unstored when it died');
    const store = await openStore(`sqlite:${dbPath}`);
    t.after(() => store.close());
    const writer = new LedgerWriter(store.ledger, dir);
    await writer.recover();
    await assertExactly(store, usageRows('crash', 2_000));
    assert.deepEqual(segmentFiles(dir), []);
    await writer.close();
  });
}

test('real PostgreSQL unreachable (a closed port): rows spill to the journal and arrive once it is back', async (t) => {
  const schema = await testSchema();
  t.after(() => schema.drop());
  const live = await openStore(schema.url);
  t.after(() => live.close());
  const dead = await openStore(`postgres://postgres@127.0.0.1:${await closedPort()}/test?schema=${schema.name}`, { migrate: false });
  t.after(() => dead.close());
  const dir = tempDir(t);
  const ledger = new SwitchLedger(dead.ledger);
  const writer = new LedgerWriter(ledger, dir, { flushIntervalMs: 5, batchSize: 100, maxQueued: 200, segmentRows: 300, retryMinMs: 5, retryMaxMs: 50 });
  const rows = usageRows('pg', 1_500);
  for (const row of rows.slice(0, 1_000)) writer.append(row);
  await until(() => writer.stats().failures >= 2, 5_000, 'failed inserts against the closed port');
  assert.equal(writer.stats().pending, 1_000);
  // The database comes back while this writer still runs: the backlog drains by itself.
  ledger.target = live.ledger;
  await until(() => writer.stats().pending === 0, 15_000, 'backlog stored in PostgreSQL');
  // Then goes away again, and the process stops before it returns: the next start recovers.
  ledger.target = dead.ledger;
  for (const row of rows.slice(1_000)) writer.append(row);
  const closed = await writer.close(100);
  assert.equal(closed.pending, 500);
  const next = new LedgerWriter(live.ledger, dir);
  assert.equal(await next.recover(), 500);
  await assertExactly(live, rows);
  await next.close();
});
