import type { StoredKey } from '../storage/types.js';
import { lookupPrefix, secretMatches } from './key-secret.js';

/**
 * The stored keys this instance knows, in memory, indexed by their display prefix. Requests are
 * authenticated from here without a database round trip; the refresher keeps it current.
 */
export class StoredKeyIndex {
  private readonly byId = new Map<string, StoredKey>();
  /** When (this process's monotonic clock) the held version was read from the store. */
  private readonly observedAt = new Map<string, number>();
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
   * Adds or replaces a key read from the store at `observedAt` (performance.now() when the read
   * started, or when a local write finished). A version read earlier than the one held is ignored,
   * so a slow poll that ends after an admin-API change on this instance cannot undo it. Reads are
   * ordered by this process's monotonic clock, never by updatedAt: that comes from the writer's
   * clock, which may run behind ours, and a revoke written by it must still win.
   */
  apply(key: StoredKey, observedAt: number): void {
    const held = this.byId.get(key.id);
    if (held !== undefined && (this.observedAt.get(key.id) ?? 0) > observedAt) return;
    this.observedAt.set(key.id, observedAt);
    if (held !== undefined && held.prefix !== key.prefix) this.byPrefix.get(held.prefix)?.delete(held.id);
    this.byId.set(key.id, key);
    let bucket = this.byPrefix.get(key.prefix);
    if (bucket === undefined) this.byPrefix.set(key.prefix, (bucket = new Map()));
    bucket.set(key.id, key);
    if (key.updatedAt > this.latest) this.latest = key.updatedAt;
  }

  /** The stored key whose secret this is (`digest`: its SHA-256), revoked or not; undefined when none. */
  find(presented: string, digest: Buffer): StoredKey | undefined {
    const prefix = lookupPrefix(presented);
    if (prefix === undefined) return undefined;
    const candidates = this.byPrefix.get(prefix);
    if (candidates === undefined) return undefined;
    for (const key of candidates.values()) if (secretMatches(digest, key.hash)) return key;
    return undefined;
  }
}
