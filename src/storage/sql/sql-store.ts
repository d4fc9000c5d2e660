/** The Store over a Kysely instance: one implementation for both dialects. */
import type { Kysely } from 'kysely';
import type { KeyStore, Store, UsageLedger } from '../types.js';
import { migrate } from './migrations.js';
import type { Database, Dialect } from './schema.js';
import { SqlKeyStore } from './sql-key-store.js';
import { SqlUsageLedger, type BatchInsert } from './sql-usage-ledger.js';

export interface SqlStoreHooks {
  /** Runs before the migrations: PostgreSQL creates the configured schema here. */
  prepare?: () => Promise<void>;
  /** A dialect's own way to write ledger batches (SQLite: a writer thread). */
  batchInsert?: BatchInsert;
  /** Runs first on close: SQLite waits for its writer thread's batches in flight. */
  beforeClose?: () => Promise<void>;
  /** See Store.startBackground. */
  startBackground?: () => Promise<void>;
}

export class SqlStore implements Store {
  readonly keys: KeyStore;
  readonly ledger: UsageLedger;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    readonly kind: Dialect,
    private readonly hooks: SqlStoreHooks = {},
  ) {
    this.keys = new SqlKeyStore(db);
    this.ledger = new SqlUsageLedger(db, hooks.batchInsert);
  }

  async startBackground(): Promise<void> {
    await this.hooks.startBackground?.();
  }

  async migrate(): Promise<void> {
    await this.hooks.prepare?.();
    await migrate(this.db, this.kind);
  }

  /** Idempotent: shutdown paths may close twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.hooks.beforeClose?.();
      await this.db.destroy();
    })();
    return this.closing;
  }
}
