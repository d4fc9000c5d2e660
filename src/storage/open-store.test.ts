/** Store URLs: which store each opens, where files and journals go, PostgreSQL schema handling. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import { defaultJournalDir, openStore } from './open-store.js';
import { parsePostgresUrl } from './sql/postgres.js';
import { storedKey } from './test-support/fixtures.js';
import { testSchema } from './test-support/postgres.js';

test('memory, and unknown URLs refused', async () => {
  const store = await openStore('memory');
  assert.equal(store.kind, 'memory');
  await store.close();
  await assert.rejects(openStore('mysql://x'), /unknown store/);
  await assert.rejects(openStore('sqlite:'), /needs a path/);
});

test('sqlite:<relative path> is relative to the cwd, creates its folder, runs in WAL mode', async (t) => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-open-')));
  const cwd = process.cwd();
  t.after(() => {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  });
  process.chdir(dir);
  const store = await openStore('sqlite:deep/er/sluice.db');
  assert.equal(store.kind, 'sqlite');
  await store.keys.create(storedKey({ id: 'key_1', name: 'one' }));
  await store.close();
  const file = join(dir, 'deep', 'er', 'sluice.db');
  assert.ok(existsSync(file));
  const raw = new Sqlite(file, { readonly: true });
  t.after(() => raw.close());
  assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
  const versions = raw.prepare('select version from schema_migrations').all();
  assert.deepEqual(versions, [{ version: 1 }], 'migrated at open');
  assert.equal(defaultJournalDir('sqlite:deep/er/sluice.db'), join(dir, 'deep', 'er', 'ledger-journal'));
  assert.equal(defaultJournalDir('postgres://h/db'), join(dir, 'data', 'ledger-journal'));
  assert.notEqual(defaultJournalDir('memory'), defaultJournalDir('memory'), 'a private folder per memory store');
});

test('postgres URLs: schema taken out, search_path set through startup options, names checked', () => {
  const plain = parsePostgresUrl('postgres://u@h:5432/db');
  assert.equal(plain.schema, undefined);
  assert.equal(plain.connectionString, 'postgres://u@h:5432/db');
  const withSchema = parsePostgresUrl('postgresql://u@h:5432/db?schema=tenant_1&sslmode=disable');
  assert.equal(withSchema.schema, 'tenant_1');
  const params = new URL(withSchema.connectionString).searchParams;
  assert.equal(params.get('schema'), null);
  assert.equal(params.get('sslmode'), 'disable');
  assert.equal(params.get('options'), '-c search_path=tenant_1');
  const kept = new URL(parsePostgresUrl('postgres://h/db?schema=s&options=-c%20statement_timeout%3D5000').connectionString);
  assert.equal(kept.searchParams.get('options'), '-c statement_timeout=5000 -c search_path=s');
  assert.throws(() => parsePostgresUrl('postgres://h/db?schema=Bad;drop'), /invalid schema name/);
});

test('postgres ?schema=: created by migrate, and every pooled connection uses it', async (t) => {
  const schema = await testSchema();
  t.after(() => schema.drop());
  const store = await openStore(schema.url);
  t.after(() => store.close());
  assert.equal(store.kind, 'postgres');
  const pool = new pg.Pool({ connectionString: parsePostgresUrl(schema.url).connectionString, max: 8 });
  t.after(() => pool.end());
  // More concurrent queries than connections: fresh and reused connections alike.
  const seen = await Promise.all(Array.from({ length: 20 }, () => pool.query<{ s: string }>('select current_schema() as s, pg_sleep(0.01)')));
  assert.deepEqual(new Set(seen.map((r) => r.rows[0]?.s)), new Set([schema.name]));
  const tables = await pool.query<{ table_name: string }>("select table_name from information_schema.tables where table_schema = $1 order by 1", [schema.name]);
  assert.deepEqual(tables.rows.map((r) => r.table_name), ['api_keys', 'schema_migrations', 'usage_ledger']);
});

test('instances migrating at once take turns: PostgreSQL (one process), SQLite (separate processes)', async (t) => {
  const schema = await testSchema();
  t.after(() => schema.drop());
  const stores = await Promise.all(Array.from({ length: 4 }, () => openStore(schema.url)));
  t.after(() => Promise.all(stores.map((s) => s.close())));
  const pool = new pg.Pool({ connectionString: parsePostgresUrl(schema.url).connectionString });
  t.after(() => pool.end());
  assert.deepEqual((await pool.query('select version from schema_migrations')).rows, [{ version: 1 }]);

  // better-sqlite3 waits for a lock synchronously, so two connections in one process would block
  // each other; separate processes are the real case (sluice serve beside sluice keys).
  const dir = mkdtempSync(join(tmpdir(), 'sluice-migrate-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'shared.db');
  const script = `import(${JSON.stringify(join(import.meta.dirname, 'open-store.ts'))}).then((m) => m.openStore(${JSON.stringify(`sqlite:${file}`)})).then((s) => s.close())`;
  const codes = await Promise.all(Array.from({ length: 3 }, () => new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: 'inherit' });
    child.on('exit', resolve);
  })));
  assert.deepEqual(codes, [0, 0, 0]);
  const raw = new Sqlite(file, { readonly: true });
  t.after(() => raw.close());
  assert.deepEqual(raw.prepare('select version from schema_migrations').all(), [{ version: 1 }]);
});
