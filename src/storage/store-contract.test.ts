/**
 * The store contract against all three stores: memory, SQLite (a temp file) and the real
 * PostgreSQL (a schema of its own per run). See store-contract.ts for the contract itself.
 */
import { after, before } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from './memory-store.js';
import { openStore } from './open-store.js';
import { runStoreContract } from './store-contract.js';
import { testSchema, type TestSchema } from './test-support/postgres.js';

runStoreContract('memory', async () => new MemoryStore(), { durable: false });

const dir = mkdtempSync(join(tmpdir(), 'sluice-contract-'));
after(() => rmSync(dir, { recursive: true, force: true }));
runStoreContract('sqlite', () => openStore(`sqlite:${join(dir, 'nested', 'contract.db')}`));

let schema: TestSchema | undefined;
let unreachable: unknown;
before(async () => {
  try {
    schema = await testSchema();
  } catch (error) {
    // Reported by every PostgreSQL test below, so the failure names the cause where it shows.
    unreachable = error;
  }
});
after(() => schema?.drop());
runStoreContract('postgres', async () => {
  if (schema === undefined) throw unreachable;
  return openStore(schema.url);
});
