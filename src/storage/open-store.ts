/**
 * The one entry point above storage: a store from the config's `store` URL.
 *
 *   memory                          in-process, for tests
 *   sqlite:<path>                   embedded (the default, sqlite:data/sluice.db); relative to the cwd
 *   postgres://user@host:port/db    shared by many instances; `?schema=name` to use a schema
 */
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { MemoryStore } from './memory-store.js';
import type { Store } from './types.js';

export interface OpenStoreOptions {
  /** Apply pending migrations before returning (default true, so every entry point gets a usable store). */
  migrate?: boolean;
}

function isPostgresUrl(url: string): boolean {
  return /^postgres(?:ql)?:\/\//.test(url);
}

export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  let store: Store;
  // Drivers are loaded only for the store in use: each costs megabytes of resident memory
  // (better-sqlite3's native module, pg, Kysely) that a gateway on another store never needs.
  if (url === 'memory') store = new MemoryStore();
  else if (url.startsWith('sqlite:')) store = (await import('./sql/sqlite.js')).openSqliteStore(sqlitePath(url));
  else if (isPostgresUrl(url)) store = (await import('./sql/postgres.js')).openPostgresStore(url);
  else throw new Error(`unknown store "${url}": expected "sqlite:<path>", "postgres://user@host:port/db" or "memory"`);
  if (options.migrate ?? true) {
    try {
      await store.migrate();
    } catch (error) {
      await store.close().catch(() => {});
      throw error;
    }
  }
  return store;
}

function sqlitePath(url: string): string {
  const path = url.slice('sqlite:'.length);
  if (path.length === 0) throw new Error('store "sqlite:" needs a path, e.g. sqlite:data/sluice.db');
  return path;
}

/**
 * Where the ledger writer keeps its journal for a store URL: beside the SQLite file (same disk,
 * same backups), else ./data. A memory store gets a private temp folder: it keeps nothing across
 * restarts anyway, and gateways started side by side (tests) must not share one journal.
 */
export function defaultJournalDir(url: string, cwd: string = process.cwd()): string {
  if (url === 'memory') return join(tmpdir(), `sluice-journal-${process.pid}-${randomUUID().slice(0, 8)}`);
  if (url.startsWith('sqlite:') && url !== 'sqlite::memory:') return join(dirname(resolve(cwd, sqlitePath(url))), 'ledger-journal');
  return resolve(cwd, 'data', 'ledger-journal');
}
