/**
 * The in-process store: for tests and `store: memory`. It holds copies, never the caller's objects,
 * so a caller mutating what it passed in or got back cannot change what is stored (as with SQL).
 */
import {
  checkKeyFields, checkLimit, checkStoredKey, compareRows, dayLabel, dayNumber, emptySummary, matchesFilter, prepareUsageRow,
  sortSummaries,
} from './rows.js';
import {
  KeyNameTakenError, type KeyPatch, type KeyStore, type Store, type StoredKey, type UsageFilter, type UsageGroupBy,
  type UsageLedger, type UsageRow, type UsageSummary,
} from './types.js';

const copy = <T>(value: T): T => structuredClone(value);

/** The updatedAt an update gives: `now`, but always past the previous one so pollers see it. */
export function nextUpdatedAt(previous: number, now: number): number {
  return now > previous ? now : previous + 1;
}

function byTimeThenId(time: (k: StoredKey) => number) {
  return (a: StoredKey, b: StoredKey): number => time(a) - time(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

class MemoryKeyStore implements KeyStore {
  private readonly byId = new Map<string, StoredKey>();

  async create(key: StoredKey): Promise<void> {
    checkStoredKey(key);
    if (this.nameTaken(key.name)) throw new KeyNameTakenError(key.name);
    if (this.byId.has(key.id)) throw new Error(`a key with id "${key.id}" already exists`);
    this.byId.set(key.id, copy(key));
  }

  async update(id: string, patch: KeyPatch, now: number): Promise<StoredKey | undefined> {
    checkKeyFields(patch);
    const current = this.byId.get(id);
    if (current === undefined) return undefined;
    if (patch.name !== undefined && patch.name !== current.name && this.nameTaken(patch.name)) throw new KeyNameTakenError(patch.name);
    const next: StoredKey = { ...current, updatedAt: nextUpdatedAt(current.updatedAt, now) };
    // `undefined` in a patch means "leave as is"; only null clears a field.
    for (const [field, value] of Object.entries(copy(patch))) {
      if (value !== undefined) Object.assign(next, { [field]: value });
    }
    this.byId.set(id, next);
    return copy(next);
  }

  async get(id: string): Promise<StoredKey | undefined> {
    const key = this.byId.get(id);
    return key && copy(key);
  }

  async getByName(name: string): Promise<StoredKey | undefined> {
    for (const key of this.byId.values()) if (key.name === name) return copy(key);
    return undefined;
  }

  async list(): Promise<StoredKey[]> {
    return [...this.byId.values()].sort(byTimeThenId((k) => k.createdAt)).map(copy);
  }

  async changedSince(since: number): Promise<StoredKey[]> {
    return [...this.byId.values()].filter((k) => k.updatedAt > since).sort(byTimeThenId((k) => k.updatedAt)).map(copy);
  }

  private nameTaken(name: string): boolean {
    for (const key of this.byId.values()) if (key.name === name) return true;
    return false;
  }
}

class MemoryUsageLedger implements UsageLedger {
  private readonly rows = new Map<string, UsageRow>();

  async insert(rows: UsageRow[]): Promise<void> {
    // Validate the whole batch first: like a SQL transaction, a bad row inserts nothing.
    const clean = rows.map(prepareUsageRow);
    for (const row of clean) if (!this.rows.has(row.requestId)) this.rows.set(row.requestId, row);
  }

  async query(filter: UsageFilter, limit: number): Promise<UsageRow[]> {
    checkLimit(limit);
    return this.matching(filter).sort(compareRows).slice(0, limit).map(copy);
  }

  async summarize(filter: UsageFilter, groupBy: UsageGroupBy): Promise<UsageSummary[]> {
    const groups = new Map<string, UsageSummary>();
    for (const row of this.matching(filter)) {
      const group = groupBy === 'day' ? dayLabel(dayNumber(row.createdAt)) : groupBy === 'model' ? row.model ?? '' : row.keyName ?? '';
      let sum = groups.get(group);
      if (sum === undefined) groups.set(group, (sum = emptySummary(group)));
      sum.requests += 1;
      sum.inputTokens += row.inputTokens;
      sum.cacheReadTokens += row.cacheReadTokens;
      sum.cacheWriteTokens += row.cacheWriteTokens;
      sum.outputTokens += row.outputTokens;
      sum.reasoningTokens += row.reasoningTokens;
      sum.costNanoUsd += row.costNanoUsd;
    }
    return sortSummaries([...groups.values()]);
  }

  async spentSince(keyId: string, since: number): Promise<number> {
    let total = 0;
    for (const row of this.rows.values()) if (row.keyId === keyId && row.createdAt >= since) total += row.costNanoUsd;
    return total;
  }

  private matching(filter: UsageFilter): UsageRow[] {
    return [...this.rows.values()].filter((row) => matchesFilter(row, filter));
  }
}

export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  readonly keys: KeyStore = new MemoryKeyStore();
  readonly ledger: UsageLedger = new MemoryUsageLedger();

  async migrate(): Promise<void> {}

  async close(): Promise<void> {}
}
