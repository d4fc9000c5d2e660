import type { StoredKey } from '../storage/types.js';
import { digestOf, lookupPrefix, secretMatches } from './key-secret.js';

/**
 * The stored keys this instance knows, in memory, indexed by their display prefix. Requests are
 * authenticated from here without a database round trip; the refresher keeps it current.
 */
export class StoredKeyIndex {
  private readonly byId = new Map<string, StoredKey>();
  private readonly byPrefix = new Map<string, Map<string, StoredKey>>();
  /** The highest updatedAt applied: where the next incremental refresh starts (minus overlap). */
  private latest = 0;

  get size(): number {
    return this.byId.size;
  }

  get latestUpdate(): number {
    return this.latest;
  }

  /**
   * Adds or replaces a key. A version older than the one held is ignored, so a slow refresh that
   * finishes after an admin-API change on this instance cannot undo it.
   */
  apply(key: StoredKey): void {
    const held = this.byId.get(key.id);
    if (held !== undefined && held.updatedAt > key.updatedAt) return;
    if (held !== undefined && held.prefix !== key.prefix) this.byPrefix.get(held.prefix)?.delete(held.id);
    this.byId.set(key.id, key);
    let bucket = this.byPrefix.get(key.prefix);
    if (bucket === undefined) this.byPrefix.set(key.prefix, (bucket = new Map()));
    bucket.set(key.id, key);
    if (key.updatedAt > this.latest) this.latest = key.updatedAt;
  }

  /** The stored key whose secret this is, revoked or not; undefined when none. */
  find(presented: string): StoredKey | undefined {
    const prefix = lookupPrefix(presented);
    if (prefix === undefined) return undefined;
    const candidates = this.byPrefix.get(prefix);
    if (candidates === undefined) return undefined;
    const digest = digestOf(presented);
    for (const key of candidates.values()) if (secretMatches(digest, key.hash)) return key;
    return undefined;
  }
}
