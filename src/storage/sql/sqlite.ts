/** The embedded default: SQLite through better-sqlite3, in WAL mode. */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Sqlite from 'better-sqlite3';
import { Kysely, SqliteDialect, type Insertable } from 'kysely';
import type { Database, UsageLedgerTable } from './schema.js';
import { SqlStore } from './sql-store.js';
import type { BatchInsert } from './sql-usage-ledger.js';
import { SqliteWriterThread } from './sqlite-writer-thread.js';

/** How long a writer waits for another process's write lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5_000;

/** Opens (creating it and its folder if needed) the SQLite file at `path`, relative to the cwd. */
export function openSqliteStore(path: string): SqlStore {
  const file = path === ':memory:' ? path : resolve(path);
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const database = new Sqlite(file);
  // An fsync per commit costs ~17 ms on this kind of disk (stack.md): the default rollback journal
  // manages ~57 commits/s. WAL with synchronous=NORMAL commits without fsync and stays consistent
  // after a crash; a power loss can roll back the last commits (the README says how many rows).
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  const writer = sqliteBatchInsert(database, file);
  return new SqlStore(new Kysely<Database>({ dialect: new SqliteDialect({ database }) }), 'sqlite', {
    batchInsert: writer.insert,
    beforeClose: writer.close,
    startBackground: writer.start,
  });
}

/**
 * Ledger batches through one prepared single-row INSERT, reused (the query builder would build,
 * and SQLite compile, a new multi-row statement per batch). A file database writes them on a
 * thread of its own (sqlite-writer-thread.ts); an in-memory one cannot be shared with another
 * connection, so it writes here, which only tests use.
 */
function sqliteBatchInsert(database: Sqlite.Database, file: string): { insert: BatchInsert; close?: () => Promise<void>; start?: () => Promise<void> } {
  if (file !== ':memory:') {
    const thread = new SqliteWriterThread({ file, busyTimeoutMs: BUSY_TIMEOUT_MS });
    return { insert: (values) => thread.insert(values), close: () => thread.close(), start: () => thread.start() };
  }
  let insertAll: ((values: Insertable<UsageLedgerTable>[]) => void) | undefined;
  const insert: BatchInsert = (values) => {
    if (insertAll === undefined) {
      const columns = Object.keys(values[0] ?? {});
      const statement = database.prepare(
        `INSERT INTO usage_ledger (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')}) ON CONFLICT (request_id) DO NOTHING`,
      );
      insertAll = database.transaction((rows: Insertable<UsageLedgerTable>[]) => {
        for (const row of rows) statement.run(row);
      });
    }
    insertAll(values);
  };
  return { insert };
}
