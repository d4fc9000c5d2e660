/**
 * The tables as Kysely sees them. One schema for SQLite and PostgreSQL (shared/reference/stack.md):
 * app-generated text ids, epoch-ms bigint times, JSON as text, money as integer nano-USD.
 *
 * PostgreSQL returns bigint (and sum/count) as strings, SQLite as numbers: bigint columns read as
 * either and are converted by `toSafeInt`, never trusted as numbers.
 */
import type { ColumnType } from 'kysely';

export type Int8 = ColumnType<number | string, number, number>;
export type Int8Null = ColumnType<number | string | null, number | null, number | null>;

export interface ApiKeysTable {
  id: string;
  name: string;
  prefix: string;
  hash: string;
  /** JSON array of public model names, or null for every model. */
  models: string | null;
  budget_nano_usd: Int8Null;
  budget_period: string;
  rpm: Int8Null;
  tpm: Int8Null;
  max_concurrent: Int8Null;
  expires_at: Int8Null;
  revoked_at: Int8Null;
  /** JSON object of strings. */
  metadata: string;
  created_at: Int8;
  updated_at: Int8;
}

export interface UsageLedgerTable {
  request_id: string;
  created_at: Int8;
  key_id: string | null;
  key_name: string | null;
  model: string | null;
  provider: string | null;
  upstream_model: string | null;
  protocol: string;
  /** 0 or 1: SQLite has no boolean type. */
  stream: number;
  outcome: string;
  status: number;
  /** Milliseconds with a fraction (double precision). */
  ttft_ms: number | null;
  duration_ms: number;
  input_tokens: Int8;
  cache_read_tokens: Int8;
  cache_write_tokens: Int8;
  output_tokens: Int8;
  reasoning_tokens: Int8;
  usage_source: string;
  cost_nano_usd: Int8;
  price_version: string | null;
  error_code: string | null;
}

export interface SchemaMigrationsTable {
  version: number;
  name: string;
  applied_at: Int8;
}

export interface Database {
  api_keys: ApiKeysTable;
  usage_ledger: UsageLedgerTable;
  schema_migrations: SchemaMigrationsTable;
}

export type Dialect = 'sqlite' | 'postgres';

/** A bigint column or aggregate as a JavaScript number; refuses what a double cannot hold exactly. */
export function toSafeInt(value: number | string | bigint | null, what: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`${what} is not a safe integer: ${String(value)}`);
  return n;
}

export function toSafeIntOrNull(value: number | string | null, what: string): number | null {
  return value === null ? null : toSafeInt(value, what);
}
