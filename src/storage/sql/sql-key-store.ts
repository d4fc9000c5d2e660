/** KeyStore on Kysely: the same statements for SQLite and PostgreSQL. */
import { sql, type Kysely, type Updateable } from 'kysely';
import { checkKeyFields, checkStoredKey } from '../rows.js';
import { KeyNameTakenError, type KeyPatch, type KeyStore, type StoredKey } from '../types.js';
import { isUniqueViolation, keyFromRow, keyToRow } from './codec.js';
import type { ApiKeysTable, Database } from './schema.js';

function patchToRow(patch: KeyPatch): Updateable<ApiKeysTable> {
  const set: Updateable<ApiKeysTable> = {};
  // `undefined` in a patch means "leave as is"; only null clears a field.
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.models !== undefined) set.models = patch.models === null ? null : JSON.stringify(patch.models);
  if (patch.budgetNanoUsd !== undefined) set.budget_nano_usd = patch.budgetNanoUsd;
  if (patch.budgetPeriod !== undefined) set.budget_period = patch.budgetPeriod;
  if (patch.rpm !== undefined) set.rpm = patch.rpm;
  if (patch.tpm !== undefined) set.tpm = patch.tpm;
  if (patch.maxConcurrent !== undefined) set.max_concurrent = patch.maxConcurrent;
  if (patch.expiresAt !== undefined) set.expires_at = patch.expiresAt;
  if (patch.revokedAt !== undefined) set.revoked_at = patch.revokedAt;
  if (patch.metadata !== undefined) set.metadata = JSON.stringify(patch.metadata);
  return set;
}

export class SqlKeyStore implements KeyStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(key: StoredKey): Promise<void> {
    checkStoredKey(key);
    try {
      await this.db.insertInto('api_keys').values(keyToRow(key)).execute();
    } catch (error) {
      // The constraint's name differs per dialect; asking is simpler than parsing messages.
      if (isUniqueViolation(error) && (await this.getByName(key.name)) !== undefined) throw new KeyNameTakenError(key.name);
      throw error;
    }
  }

  async update(id: string, patch: KeyPatch, now: number): Promise<StoredKey | undefined> {
    checkKeyFields(patch);
    try {
      // One statement, so concurrent updates from several instances cannot lose each other's
      // fields; updated_at always moves forward, even within one millisecond or under clock skew,
      // so an instance polling changedSince() cannot miss the change.
      const row = await this.db
        .updateTable('api_keys')
        .set({ ...patchToRow(patch), updated_at: sql<number>`case when updated_at >= ${now} then updated_at + 1 else ${now} end` })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return row && keyFromRow(row);
    } catch (error) {
      if (patch.name !== undefined && isUniqueViolation(error)) throw new KeyNameTakenError(patch.name);
      throw error;
    }
  }

  async get(id: string): Promise<StoredKey | undefined> {
    const row = await this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return row && keyFromRow(row);
  }

  async getByName(name: string): Promise<StoredKey | undefined> {
    const row = await this.db.selectFrom('api_keys').selectAll().where('name', '=', name).executeTakeFirst();
    return row && keyFromRow(row);
  }

  async list(): Promise<StoredKey[]> {
    const rows = await this.db.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(keyFromRow);
  }

  async changedSince(since: number): Promise<StoredKey[]> {
    const rows = await this.db.selectFrom('api_keys').selectAll().where('updated_at', '>', since).orderBy('updated_at').orderBy('id').execute();
    return rows.map(keyFromRow);
  }
}
