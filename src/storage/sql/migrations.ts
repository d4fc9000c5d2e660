/**
 * Versioned migrations, applied at start. Each runs once, in order, in its own transaction with
 * the version recorded in `schema_migrations` by the same transaction, so a crash mid-migration
 * leaves nothing half applied. Two instances starting together serialise on a lock (BEGIN
 * IMMEDIATE on SQLite, an advisory lock per schema on PostgreSQL): the second one finds the
 * version recorded and skips it.
 *
 * Never edit a migration that has shipped; add the next one.
 */
import { sql, type ColumnDefinitionBuilder, type Kysely } from 'kysely';
import type { Database, Dialect } from './schema.js';

interface Migration {
  version: number;
  name: string;
  up(db: Kysely<Database>, dialect: Dialect): Promise<void>;
}

/**
 * Text compared in ORDER BY uses byte order on PostgreSQL too, so ties sort as in SQLite and the
 * memory store whatever the database's default collation.
 */
function bytewise(dialect: Dialect) {
  return (c: ColumnDefinitionBuilder): ColumnDefinitionBuilder => (dialect === 'postgres' ? c.modifyFront(sql`collate "C"`) : c);
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'keys and usage ledger',
    async up(db, dialect) {
      const c = bytewise(dialect);
      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (col) => c(col).primaryKey())
        .addColumn('name', 'text', (col) => col.notNull().unique())
        .addColumn('prefix', 'text', (col) => col.notNull())
        .addColumn('hash', 'text', (col) => col.notNull())
        .addColumn('models', 'text')
        .addColumn('budget_nano_usd', 'bigint')
        .addColumn('budget_period', 'text', (col) => col.notNull())
        .addColumn('rpm', 'bigint')
        .addColumn('tpm', 'bigint')
        .addColumn('max_concurrent', 'bigint')
        .addColumn('expires_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .addColumn('metadata', 'text', (col) => col.notNull())
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addColumn('updated_at', 'bigint', (col) => col.notNull())
        .execute();
      await db.schema.createIndex('api_keys_prefix').on('api_keys').column('prefix').execute();
      await db.schema.createIndex('api_keys_updated_at').on('api_keys').column('updated_at').execute();

      await db.schema
        .createTable('usage_ledger')
        .addColumn('request_id', 'text', (col) => c(col).primaryKey())
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addColumn('key_id', 'text')
        .addColumn('key_name', 'text')
        .addColumn('model', 'text')
        .addColumn('provider', 'text')
        .addColumn('upstream_model', 'text')
        .addColumn('protocol', 'text', (col) => col.notNull())
        .addColumn('stream', 'integer', (col) => col.notNull())
        .addColumn('outcome', 'text', (col) => col.notNull())
        .addColumn('status', 'integer', (col) => col.notNull())
        .addColumn('ttft_ms', 'double precision')
        .addColumn('duration_ms', 'double precision', (col) => col.notNull())
        .addColumn('input_tokens', 'bigint', (col) => col.notNull())
        .addColumn('cache_read_tokens', 'bigint', (col) => col.notNull())
        .addColumn('cache_write_tokens', 'bigint', (col) => col.notNull())
        .addColumn('output_tokens', 'bigint', (col) => col.notNull())
        .addColumn('reasoning_tokens', 'bigint', (col) => col.notNull())
        .addColumn('usage_source', 'text', (col) => col.notNull())
        .addColumn('cost_nano_usd', 'bigint', (col) => col.notNull())
        .addColumn('price_version', 'text')
        .addColumn('error_code', 'text')
        .execute();
      // One index per way the ledger is read: by time (reports), by key name or model within a
      // time range (filtered reports), by key id since a time (budgets).
      await db.schema.createIndex('usage_ledger_created_at').on('usage_ledger').column('created_at').execute();
      await db.schema.createIndex('usage_ledger_key_name').on('usage_ledger').columns(['key_name', 'created_at']).execute();
      await db.schema.createIndex('usage_ledger_model').on('usage_ledger').columns(['model', 'created_at']).execute();
      await db.schema.createIndex('usage_ledger_key_id').on('usage_ledger').columns(['key_id', 'created_at']).execute();
    },
  },
];

export const LATEST_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

/** Runs `work` in a transaction that holds the migration lock; commits, or rolls back on error. */
async function locked<T>(db: Kysely<Database>, dialect: Dialect, work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.connection().execute(async (conn) => {
    // IMMEDIATE takes SQLite's write lock up front: a deferred transaction that reads the version
    // and then writes could fail with SQLITE_BUSY when another process migrated in between.
    await sql.raw(dialect === 'sqlite' ? 'begin immediate' : 'begin').execute(conn);
    try {
      // Keyed by schema, so test runs in their own schemas do not wait on each other.
      if (dialect === 'postgres') {
        await sql`select pg_advisory_xact_lock(hashtext('sluice.migrate.' || coalesce(current_schema(), '')))`.execute(conn);
      }
      const result = await work(conn);
      await sql.raw('commit').execute(conn);
      return result;
    } catch (error) {
      await sql.raw('rollback').execute(conn).catch(() => {});
      throw error;
    }
  });
}

/** Applies pending migrations in order; returns how many ran. */
export async function migrate(db: Kysely<Database>, dialect: Dialect): Promise<number> {
  let ran = 0;
  for (const migration of MIGRATIONS) {
    const applied = await locked(db, dialect, async (trx) => {
      await trx.schema
        .createTable('schema_migrations')
        .ifNotExists()
        .addColumn('version', 'integer', (col) => col.primaryKey())
        .addColumn('name', 'text', (col) => col.notNull())
        .addColumn('applied_at', 'bigint', (col) => col.notNull())
        .execute();
      const done = await trx.selectFrom('schema_migrations').select('version').where('version', '=', migration.version).executeTakeFirst();
      if (done !== undefined) return false;
      await migration.up(trx, dialect);
      await trx.insertInto('schema_migrations').values({ version: migration.version, name: migration.name, applied_at: Date.now() }).execute();
      return true;
    });
    if (applied) ran += 1;
  }
  const newest = await db.selectFrom('schema_migrations').select((eb) => eb.fn.max('version').as('v')).executeTakeFirst();
  const version = Number(newest?.v ?? 0);
  // A database migrated by a newer Sluice may hold data this one would misread: refuse it.
  if (version > LATEST_VERSION) throw new Error(`the database schema is at version ${version}, newer than this Sluice knows (${LATEST_VERSION}); upgrade Sluice`);
  return ran;
}
