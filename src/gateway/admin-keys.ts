import { GatewayError } from '../core/gateway-error.js';
import { KeyNameTakenError, type KeyPatch, type KeyStore, type StoredKey } from '../storage/types.js';
import type { KeyRing } from './authenticate.js';
import type { KeyChanges } from './key-changes.js';
import { invalidField } from './key-fields.js';
import { generateSecret, newKeyId } from './key-secret.js';
import { toKeyView, type KeyView } from './key-view.js';

export interface KeyAdminOptions {
  store: KeyStore;
  /** The running gateway's key ring: changes made here take effect on it at once. */
  ring?: KeyRing;
  /** Names of config-declared keys: a stored key may not take one (the ledger could not tell them apart). */
  configKeyNames: readonly string[];
  now?: () => number;
}

export interface CreatedKey {
  key: KeyView;
  /** Shown once; only its hash is stored. */
  secret: string;
}

/**
 * Key management, shared by `sluice keys` and the admin API. Keys are addressed by id or by name;
 * a revoke keeps the row (the ledger refers to it), so names are never reused.
 */
export class KeyAdmin {
  private readonly now: () => number;

  constructor(private readonly options: KeyAdminOptions) {
    this.now = options.now ?? Date.now;
  }

  async list(): Promise<KeyView[]> {
    const now = this.now();
    const keys = await this.options.store.list();
    return keys.sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name)).map((k) => toKeyView(k, now));
  }

  async get(ref: string): Promise<KeyView> {
    return toKeyView(await this.find(ref), this.now());
  }

  async create(changes: KeyChanges): Promise<CreatedKey> {
    const now = this.now();
    if (changes.name === undefined) throw invalidField('name', 'is required');
    if (changes.expiresAt != null && changes.expiresAt <= now) throw invalidField('expires_at', 'is in the past');
    this.refuseConfigName(changes.name);
    const { secret, prefix, hash } = generateSecret();
    const key: StoredKey = {
      id: newKeyId(),
      name: changes.name,
      prefix,
      hash,
      models: changes.models ?? null,
      budgetNanoUsd: changes.budgetNanoUsd ?? null,
      budgetPeriod: changes.budgetPeriod ?? 'month',
      rpm: changes.rpm ?? null,
      tpm: changes.tpm ?? null,
      maxConcurrent: changes.maxConcurrent ?? null,
      expiresAt: changes.expiresAt ?? null,
      revokedAt: null,
      metadata: mergeMetadata({}, changes),
      createdAt: now,
      updatedAt: now,
    };
    await this.options.store.create(key).catch((error: unknown) => rethrowNameTaken(error, key.name));
    this.options.ring?.apply(key);
    return { key: toKeyView(key, now), secret };
  }

  async update(ref: string, changes: KeyChanges): Promise<KeyView> {
    const current = await this.find(ref);
    const patch: KeyPatch = {};
    if (changes.name !== undefined && changes.name !== current.name) {
      this.refuseConfigName(changes.name);
      if ((await this.options.store.getByName(changes.name)) !== undefined) throw nameTaken(changes.name);
      patch.name = changes.name;
    }
    if (changes.models !== undefined) patch.models = changes.models;
    if (changes.budgetNanoUsd !== undefined) patch.budgetNanoUsd = changes.budgetNanoUsd;
    if (changes.budgetPeriod !== undefined) patch.budgetPeriod = changes.budgetPeriod;
    if (changes.rpm !== undefined) patch.rpm = changes.rpm;
    if (changes.tpm !== undefined) patch.tpm = changes.tpm;
    if (changes.maxConcurrent !== undefined) patch.maxConcurrent = changes.maxConcurrent;
    // A past expiry is allowed here: it is how an operator expires a key now.
    if (changes.expiresAt !== undefined) patch.expiresAt = changes.expiresAt;
    if (changes.metadata !== undefined || changes.replaceMetadata) patch.metadata = mergeMetadata(current.metadata, changes);
    return this.apply(current.id, patch);
  }

  /** Idempotent: revoking a revoked key keeps its first revocation time. */
  async revoke(ref: string): Promise<KeyView> {
    const current = await this.find(ref);
    if (current.revokedAt !== null) return toKeyView(current, this.now());
    return this.apply(current.id, { revokedAt: this.now() });
  }

  private async apply(id: string, patch: KeyPatch): Promise<KeyView> {
    const now = this.now();
    const updated = await this.options.store.update(id, patch, now).catch((error: unknown) => rethrowNameTaken(error, patch.name ?? ''));
    if (updated === undefined) throw notFound(id);
    this.options.ring?.apply(updated);
    return toKeyView(updated, now);
  }

  /** By id first, then by name (names may not look like ids, so the two never collide). */
  private async find(ref: string): Promise<StoredKey> {
    const { store } = this.options;
    const key = (ref.startsWith('key_') ? await store.get(ref) : undefined) ?? (await store.getByName(ref));
    if (key === undefined) throw notFound(ref);
    return key;
  }

  private refuseConfigName(name: string): void {
    if (this.options.configKeyNames.includes(name)) {
      throw new GatewayError('key_name_taken', `A key named "${name}" is declared in the config file; choose another name.`, { param: 'name' });
    }
  }
}

function mergeMetadata(current: Record<string, string>, changes: KeyChanges): Record<string, string> {
  const merged: Record<string, string> = changes.replaceMetadata ? {} : { ...current };
  for (const [k, v] of Object.entries(changes.metadata ?? {})) {
    if (v === null) delete merged[k];
    else merged[k] = v;
  }
  return merged;
}

function notFound(ref: string): GatewayError {
  return new GatewayError('key_not_found', `No key with id or name "${ref}".`);
}

function nameTaken(name: string): GatewayError {
  return new GatewayError('key_name_taken', `A key named "${name}" already exists.`, { param: 'name' });
}

/** Two creates racing for one name: the store's unique constraint decides, the loser gets a 409. */
function rethrowNameTaken(error: unknown, name: string): never {
  throw error instanceof KeyNameTakenError ? nameTaken(name) : error;
}
