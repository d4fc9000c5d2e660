/** The embedded default: SQLite through better-sqlite3, in WAL mode. */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Sqlite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from './schema.js';
import { SqlStore } from './sql-store.js';

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
  return new SqlStore(new Kysely<Database>({ dialect: new SqliteDialect({ database }) }), 'sqlite');
}
