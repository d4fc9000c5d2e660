/**
 * The scale-out store: PostgreSQL through a pg Pool. `?schema=name` in the URL puts every table in
 * that schema (created if missing by migrate()), so one database can host several deployments or
 * test runs side by side.
 */
import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { Database } from './schema.js';
import { SqlStore } from './sql-store.js';

/** Lower case only: search_path folds unquoted names, and we quote nothing we did not check. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export interface PostgresTarget {
  /** The URL for pg, without `schema` and with search_path set for every pooled connection. */
  connectionString: string;
  schema: string | undefined;
}

export function parsePostgresUrl(url: string): PostgresTarget {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  if (schema !== undefined) {
    if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name "${schema}": use lower-case letters, digits and _`);
    // Sent in the startup packet, so the server applies it before the connection is handed out:
    // no query can run on a pooled connection with the wrong search_path.
    const options = parsed.searchParams.get('options');
    parsed.searchParams.set('options', `${options === null ? '' : `${options} `}-c search_path=${schema}`);
  }
  return { connectionString: parsed.toString(), schema };
}

export function openPostgresStore(url: string): SqlStore {
  const target = parsePostgresUrl(url);
  const pool = new pg.Pool({
    connectionString: target.connectionString,
    max: 10,
    // A server that is down must fail fast so callers (the ledger writer) can retry and spill.
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle connection dropped by the server (restart, failover) emits 'error' on the pool; left
  // unhandled it would kill the process. The next query simply opens a new connection.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const schema = target.schema;
  return new SqlStore(db, 'postgres', schema === undefined ? {} : { prepare: () => createSchema(db, schema) });
}

async function createSchema(db: Kysely<Database>, schema: string): Promise<void> {
  try {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  } catch (error) {
    // Two instances creating it at once: IF NOT EXISTS can still lose the race on the catalog.
    const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
    if (code !== '23505' && code !== '42P06') throw error;
  }
}
