/** The Store over a Kysely instance: one implementation for both dialects. */
import type { Kysely } from 'kysely';
import type { KeyStore, Store, UsageLedger } from '../types.js';
import { migrate } from './migrations.js';
import type { Database, Dialect } from './schema.js';
import { SqlKeyStore } from './sql-key-store.js';
import { SqlUsageLedger, type BatchInsert } from './sql-usage-ledger.js';

export class SqlStore implements Store {
  readonly keys: KeyStore;
  readonly ledger: UsageLedger;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    readonly kind: Dialect,
    /** Runs before the migrations: PostgreSQL creates the configured schema here. */
    private readonly prepare?: () => Promise<void>,
    batchInsert?: BatchInsert,
  ) {
    this.keys = new SqlKeyStore(db);
    this.ledger = new SqlUsageLedger(db, batchInsert);
  }

  async migrate(): Promise<void> {
    await this.prepare?.();
    await migrate(this.db, this.kind);
  }

  /** Idempotent: shutdown paths may close twice. */
  close(): Promise<void> {
    this.closing ??= this.db.destroy();
    return this.closing;
  }
}
