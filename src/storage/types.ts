/**
 * The narrow storage interfaces (architecture.md principle 8). Three implementations are held to
 * one contract suite: memory (tests), SQLite (the default, embedded) and PostgreSQL (scale-out).
 * Nothing above storage knows which one runs. Money is integer nano-USD; times are epoch ms.
 */

export type BudgetPeriod = 'day' | 'month' | 'total';

/** A client key created by `sluice keys create` or the admin API. The secret is never stored. */
export interface StoredKey {
  /** `key_` + random; stable handle for update/revoke. */
  id: string;
  /** Unique among stored keys. */
  name: string;
  /** The first characters of the secret (`sk-sluice-` + 6), for display and lookup. */
  prefix: string;
  /** SHA-256 of the secret, hex. */
  hash: string;
  /** Public model names this key may use; null = every model. */
  models: string[] | null;
  /** Budget in nano-USD per `budgetPeriod`; null = no budget. */
  budgetNanoUsd: number | null;
  budgetPeriod: BudgetPeriod;
  /** Limits enforced by the rate-limit issue; null = none. */
  rpm: number | null;
  tpm: number | null;
  maxConcurrent: number | null;
  expiresAt: number | null;
  revokedAt: number | null;
  metadata: Record<string, string>;
  createdAt: number;
  /** Bumped on every change; instances poll for keys changed since their last look. */
  updatedAt: number;
}

export type KeyPatch = Partial<Pick<StoredKey, 'name' | 'models' | 'budgetNanoUsd' | 'budgetPeriod' | 'rpm' | 'tpm' | 'maxConcurrent' | 'expiresAt' | 'revokedAt' | 'metadata'>>;

export interface KeyStore {
  /** Rejects (KeyNameTakenError) when the name is taken. */
  create(key: StoredKey): Promise<void>;
  /** Applies the patch and bumps updatedAt; undefined when no such key. */
  update(id: string, patch: KeyPatch, now: number): Promise<StoredKey | undefined>;
  get(id: string): Promise<StoredKey | undefined>;
  getByName(name: string): Promise<StoredKey | undefined>;
  list(): Promise<StoredKey[]>;
  /** Keys with updatedAt > since (a revoke shows up here), for the in-process cache. */
  changedSince(since: number): Promise<StoredKey[]>;
}

export class KeyNameTakenError extends Error {
  constructor(name: string) {
    super(`a key named "${name}" already exists`);
    this.name = 'KeyNameTakenError';
  }
}

export type Outcome = 'ok' | 'upstream_error' | 'client_aborted' | 'rejected';

/** One row per request, whatever happened to it. */
export interface UsageRow {
  /** Also returned to the client as x-request-id. Unique: replays after a crash are idempotent. */
  requestId: string;
  createdAt: number;
  /** Stored key id, or null for config-declared keys and keyless mode. */
  keyId: string | null;
  keyName: string | null;
  /** Public model name as asked; null when the request was rejected before it was known. */
  model: string | null;
  provider: string | null;
  upstreamModel: string | null;
  protocol: 'openai' | 'anthropic';
  stream: boolean;
  outcome: Outcome;
  status: number;
  ttftMs: number | null;
  durationMs: number;
  inputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  usageSource: 'reported' | 'estimated' | 'none';
  costNanoUsd: number;
  priceVersion: string | null;
  errorCode: string | null;
}

export interface UsageFilter {
  /** Inclusive, epoch ms. */
  from?: number;
  /** Exclusive, epoch ms. */
  to?: number;
  keyName?: string;
  model?: string;
}

export type UsageGroupBy = 'day' | 'model' | 'key';

export interface UsageSummary {
  /** The group: a UTC day (YYYY-MM-DD), a model name or a key name ('' for none). */
  group: string;
  requests: number;
  inputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  costNanoUsd: number;
}

export interface UsageLedger {
  /** Inserts rows; a requestId already present is skipped (replays are idempotent). */
  insert(rows: UsageRow[]): Promise<void>;
  /** Rows matching the filter, oldest first, at most `limit`. */
  query(filter: UsageFilter, limit: number): Promise<UsageRow[]>;
  summarize(filter: UsageFilter, groupBy: UsageGroupBy): Promise<UsageSummary[]>;
  /** Total cost of a key's rows with createdAt >= since, for budgets. */
  spentSince(keyId: string, since: number): Promise<number>;
}

export interface Store {
  readonly kind: 'memory' | 'sqlite' | 'postgres';
  readonly keys: KeyStore;
  readonly ledger: UsageLedger;
  /** Applies pending versioned migrations. */
  migrate(): Promise<void>;
  /**
   * Starts what a long-running server needs and a one-shot CLI does not (SQLite: the ledger's
   * writer thread), before the first request; without it, it starts on first use.
   */
  startBackground?(): Promise<void>;
  close(): Promise<void>;
}
