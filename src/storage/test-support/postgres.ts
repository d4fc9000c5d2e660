/**
 * The real PostgreSQL the tests run against (127.0.0.1:5432, database `test`, user postgres, trust
 * auth; `.ci/run` starts it). Each run gets a schema of its own, dropped at the end. When the
 * server is not reachable the tests FAIL with this module's message: they never skip.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_BASE_URL = process.env.SLUICE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestSchema {
  name: string;
  /** The store URL for this schema. */
  url: string;
  drop(): Promise<void>;
}

function unreachable(error: unknown): Error {
  const reason = error instanceof Error ? error.message : String(error);
  return new Error(
    `PostgreSQL is not reachable at ${PG_BASE_URL} (${reason}). The PostgreSQL storage tests need the real server ` +
      '(bash .ci/run starts it; or set SLUICE_TEST_PG_URL). They fail rather than skip.',
  );
}

/** Checks the server answers, then names a fresh schema (openStore creates it). */
export async function testSchema(): Promise<TestSchema> {
  const name = `sluice_test_${randomBytes(6).toString('hex')}`;
  await withClient(async (c) => {
    await c.query('select 1');
  });
  const separator = PG_BASE_URL.includes('?') ? '&' : '?';
  return {
    name,
    url: `${PG_BASE_URL}${separator}schema=${name}`,
    drop: () => withClient(async (c) => {
      await c.query(`drop schema if exists "${name}" cascade`);
    }),
  };
}

async function withClient(work: (client: pg.Client) => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: PG_BASE_URL, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (error) {
    throw unreachable(error);
  }
  try {
    await work(client);
  } finally {
    await client.end();
  }
}
