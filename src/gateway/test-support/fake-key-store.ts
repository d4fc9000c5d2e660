import { KeyNameTakenError, type KeyPatch, type KeyStore, type StoredKey } from '../../storage/types.js';

/**
 * A minimal KeyStore for unit tests of the key ring and key admin, independent of the real stores
 * (those are held to the storage contract suite). `failWith` makes every call reject; `hang`
 * makes every call wait forever, like a database that stopped answering.
 */
export class FakeKeyStore implements KeyStore {
  readonly rows = new Map<string, StoredKey>();
  failWith: Error | undefined;
  hang = false;
  readDelayMs = 0;
  calls = 0;

  async create(key: StoredKey): Promise<void> {
    await this.gate();
    if ([...this.rows.values()].some((k) => k.name === key.name)) throw new KeyNameTakenError(key.name);
    this.rows.set(key.id, structuredClone(key));
  }

  async update(id: string, patch: KeyPatch, now: number): Promise<StoredKey | undefined> {
    await this.gate();
    const held = this.rows.get(id);
    if (held === undefined) return undefined;
    if (patch.name !== undefined && [...this.rows.values()].some((k) => k.name === patch.name && k.id !== id)) throw new KeyNameTakenError(patch.name);
    const updated = { ...held, ...structuredClone(patch), updatedAt: Math.max(now, held.updatedAt + 1) };
    this.rows.set(id, updated);
    return structuredClone(updated);
  }

  async get(id: string): Promise<StoredKey | undefined> {
    await this.gate();
    return structuredClone(this.rows.get(id));
  }

  async getByName(name: string): Promise<StoredKey | undefined> {
    await this.gate();
    return structuredClone([...this.rows.values()].find((k) => k.name === name));
  }

  /** Reads see the rows as they were when the call started, however long `readDelayMs` makes them take. */
  async list(): Promise<StoredKey[]> {
    const rows = [...this.rows.values()].map((k) => structuredClone(k));
    await this.gate();
    return rows;
  }

  async changedSince(since: number): Promise<StoredKey[]> {
    const rows = [...this.rows.values()].filter((k) => k.updatedAt > since).map((k) => structuredClone(k));
    await this.gate();
    return rows;
  }

  private async gate(): Promise<void> {
    this.calls += 1;
    if (this.hang) await new Promise(() => {});
    if (this.readDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.readDelayMs));
    if (this.failWith !== undefined) throw this.failWith;
  }
}
