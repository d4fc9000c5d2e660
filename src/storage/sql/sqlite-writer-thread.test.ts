/**
 * The SQLite ledger writes off the event loop: a write lock held elsewhere delays the batch, not
 * the gateway; a dead writer thread fails its batch and the next one starts a new thread.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { openStore } from '../open-store.js';
import { usageRows } from '../test-support/fixtures.js';
import { usageToRow } from './codec.js';
import { SqliteWriterThread } from './sqlite-writer-thread.js';

function tempDb(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-writer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'sluice.db');
}

test('a write lock held by another connection does not block the event loop', async (t) => {
  const file = tempDb(t);
  const store = await openStore(`sqlite:${file}`);
  t.after(() => store.close());
  const other = new Sqlite(file);
  t.after(() => other.close());
  other.pragma('busy_timeout = 0');
  // Another process's writer (a CLI, a backup) holding the lock.
  other.exec('BEGIN IMMEDIATE');
  other.exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'lock holder', 0)");

  let loopRan = false;
  const inserting = store.ledger.insert(usageRows('locked', 3));
  // On the event loop, the insert would wait out busy_timeout (5 s) and fail with SQLITE_BUSY
  // before this timer could run; on the writer thread, the timer runs and releases the lock.
  setTimeout(() => {
    loopRan = true;
    other.exec('ROLLBACK');
  }, 20);
  await inserting;
  assert.ok(loopRan, 'the event loop ran while the batch waited for the lock');
  const stored = await store.ledger.query({}, 10);
  assert.deepEqual(stored.map((r) => r.requestId).sort(), ['locked-000000', 'locked-000001', 'locked-000002']);
});

test('a writer thread that dies fails its batch; the next batch starts a new thread', async (t) => {
  const file = tempDb(t);
  const store = await openStore(`sqlite:${file}`);
  await store.close(); // migrated; the thread below writes on its own
  const thread = new SqliteWriterThread({ file, busyTimeoutMs: 1_000 });
  t.after(() => thread.close());
  const [first, second, third] = usageRows('thread', 3).map(usageToRow);
  await thread.insert([first!]);
  // A batch in flight (sent, unanswered) when the thread dies is failed, not left hanging.
  const dying = thread.kill();
  const stuck = thread.insert([second!]);
  await dying;
  await assert.rejects(stuck, /exited/);
  await thread.insert([second!, third!]);
  const raw = new Sqlite(file, { readonly: true });
  t.after(() => raw.close());
  const ids = raw.prepare('select request_id from usage_ledger order by request_id').all();
  assert.deepEqual(ids, [{ request_id: 'thread-000000' }, { request_id: 'thread-000001' }, { request_id: 'thread-000002' }]);
});

test('SQLite errors come back as rejections; close waits for batches in flight', async (t) => {
  const file = tempDb(t);
  const thread = new SqliteWriterThread({ file, busyTimeoutMs: 1_000 });
  // Not migrated: no usage_ledger table.
  await assert.rejects(thread.insert(usageRows('nope', 1).map(usageToRow)), /no such table: usage_ledger/);
  await thread.close();
  await assert.rejects(thread.insert([]), /closed/);

  const store = await openStore(`sqlite:${file}`);
  const inFlight = store.ledger.insert(usageRows('flight', 50));
  await store.close();
  await inFlight;
  const raw = new Sqlite(file, { readonly: true });
  t.after(() => raw.close());
  assert.deepEqual(raw.prepare('select count(*) as n from usage_ledger').get(), { n: 50 });
});
