/**
 * Checks and helpers shared by every store and by the ledger writer, so that the three stores
 * accept and reject exactly the same rows (the contract suite holds them to it).
 *
 * A usage row that a database would refuse (a fractional nano-USD amount in a bigint column, a NUL
 * character in a PostgreSQL text) must be caught before it is queued: once journaled, a row the
 * database keeps refusing would be retried forever and block everything queued behind it.
 */
import type { BudgetPeriod, Outcome, StoredKey, UsageFilter, UsageRow, UsageSummary } from './types.js';

const OUTCOMES: readonly Outcome[] = ['ok', 'upstream_error', 'client_aborted', 'rejected'];
const PROTOCOLS: readonly UsageRow['protocol'][] = ['openai', 'anthropic'];
const SOURCES: readonly UsageRow['usageSource'][] = ['reported', 'estimated', 'none'];
export const BUDGET_PERIODS: readonly BudgetPeriod[] = ['day', 'month', 'total'];

/** Longest string kept in a usage row: model names are client input, and no real one is this long. */
const MAX_TEXT = 512;
const DAY_MS = 86_400_000;

export class InvalidRowError extends TypeError {
  constructor(what: string, field: string, value: unknown) {
    super(`invalid ${what}: ${field} = ${JSON.stringify(value) ?? String(value)}`);
    this.name = 'InvalidRowError';
  }
}

function isSafeInt(value: unknown, min = 0): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
}

function isFiniteNonNegative(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** PostgreSQL text cannot hold NUL; cap the length so one odd request cannot bloat the ledger. */
function cleanText(value: string | null): string | null {
  if (value === null) return null;
  const clean = value.includes('\u0000') ? value.replaceAll('\u0000', '') : value;
  return clean.length > MAX_TEXT ? clean.slice(0, MAX_TEXT) : clean;
}

const INT_FIELDS = ['createdAt', 'inputTokens', 'cacheReadTokens', 'cacheWriteTokens', 'outputTokens', 'reasoningTokens'] as const;
const TEXT_FIELDS = ['keyId', 'keyName', 'model', 'provider', 'upstreamModel', 'priceVersion', 'errorCode'] as const;

/**
 * Validates a usage row and returns a copy with its strings cleaned. Throws InvalidRowError: a
 * malformed row is a bug in the caller, reported where it happens rather than in a retry loop.
 */
export function prepareUsageRow(row: UsageRow): UsageRow {
  const bad = (field: string, value: unknown): never => {
    throw new InvalidRowError('usage row', field, value);
  };
  if (typeof row.requestId !== 'string' || row.requestId.length === 0 || row.requestId.length > MAX_TEXT || row.requestId.includes('\u0000')) {
    bad('requestId', row.requestId);
  }
  for (const field of INT_FIELDS) if (!isSafeInt(row[field])) bad(field, row[field]);
  // Negative amounts are allowed: a correction or refund is a row too.
  if (!isSafeInt(row.costNanoUsd, Number.MIN_SAFE_INTEGER)) bad('costNanoUsd', row.costNanoUsd);
  if (!isSafeInt(row.status) || row.status > 999) bad('status', row.status);
  if (!isFiniteNonNegative(row.durationMs)) bad('durationMs', row.durationMs);
  if (row.ttftMs !== null && !isFiniteNonNegative(row.ttftMs)) bad('ttftMs', row.ttftMs);
  if (typeof row.stream !== 'boolean') bad('stream', row.stream);
  if (!OUTCOMES.includes(row.outcome)) bad('outcome', row.outcome);
  if (!PROTOCOLS.includes(row.protocol)) bad('protocol', row.protocol);
  if (!SOURCES.includes(row.usageSource)) bad('usageSource', row.usageSource);
  for (const field of TEXT_FIELDS) {
    const value: unknown = row[field];
    if (value !== null && typeof value !== 'string') bad(field, value);
  }
  return {
    requestId: row.requestId,
    createdAt: row.createdAt,
    keyId: cleanText(row.keyId),
    keyName: cleanText(row.keyName),
    model: cleanText(row.model),
    provider: cleanText(row.provider),
    upstreamModel: cleanText(row.upstreamModel),
    protocol: row.protocol,
    stream: row.stream,
    outcome: row.outcome,
    status: row.status,
    ttftMs: row.ttftMs,
    durationMs: row.durationMs,
    inputTokens: row.inputTokens,
    cacheReadTokens: row.cacheReadTokens,
    cacheWriteTokens: row.cacheWriteTokens,
    outputTokens: row.outputTokens,
    reasoningTokens: row.reasoningTokens,
    usageSource: row.usageSource,
    costNanoUsd: row.costNanoUsd,
    priceVersion: cleanText(row.priceVersion),
    errorCode: cleanText(row.errorCode),
  };
}

/** A journal line read back: a row if it is one, undefined for a torn or foreign line. */
export function parseUsageRow(value: unknown): UsageRow | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  try {
    return prepareUsageRow(value as UsageRow);
  } catch {
    return undefined;
  }
}

/** Validates a key before it is stored; the same checks for every store. */
export function checkStoredKey(key: StoredKey): void {
  const bad = (field: string, value: unknown): never => {
    throw new InvalidRowError('key', field, value);
  };
  for (const field of ['id', 'name', 'prefix', 'hash'] as const) {
    if (typeof key[field] !== 'string' || key[field].length === 0 || key[field].includes('\u0000')) bad(field, key[field]);
  }
  for (const field of ['createdAt', 'updatedAt'] as const) if (!isSafeInt(key[field])) bad(field, key[field]);
  checkKeyFields(key);
}

/** The fields a patch may change, checked the same way on create and update. */
export function checkKeyFields(key: Partial<StoredKey>): void {
  const bad = (field: string, value: unknown): never => {
    throw new InvalidRowError('key', field, value);
  };
  if (key.name !== undefined && (typeof key.name !== 'string' || key.name.length === 0 || key.name.includes('\u0000'))) bad('name', key.name);
  for (const field of ['budgetNanoUsd', 'rpm', 'tpm', 'maxConcurrent', 'expiresAt', 'revokedAt'] as const) {
    const value = key[field];
    if (value !== undefined && value !== null && !isSafeInt(value)) bad(field, value);
  }
  if (key.budgetPeriod !== undefined && !BUDGET_PERIODS.includes(key.budgetPeriod)) bad('budgetPeriod', key.budgetPeriod);
  if (key.models !== undefined && key.models !== null && !(Array.isArray(key.models) && key.models.every((m) => typeof m === 'string'))) {
    bad('models', key.models);
  }
  if (key.metadata !== undefined && !(typeof key.metadata === 'object' && key.metadata !== null && Object.values(key.metadata).every((v) => typeof v === 'string'))) {
    bad('metadata', key.metadata);
  }
}

/** The UTC day number of an epoch-ms time; SQL computes the same with integer division. */
export function dayNumber(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

export const MS_PER_DAY = DAY_MS;

/** YYYY-MM-DD of a UTC day number. */
export function dayLabel(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

export function matchesFilter(row: UsageRow, filter: UsageFilter): boolean {
  if (filter.from !== undefined && row.createdAt < filter.from) return false;
  if (filter.to !== undefined && row.createdAt >= filter.to) return false;
  if (filter.keyName !== undefined && row.keyName !== filter.keyName) return false;
  if (filter.model !== undefined && row.model !== filter.model) return false;
  return true;
}

export function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
}

/**
 * Summaries in one order whatever the store: by group, compared as JavaScript strings (byte order
 * for ASCII), so a database collation cannot reorder them.
 */
export function sortSummaries(summaries: UsageSummary[]): UsageSummary[] {
  return summaries.sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
}

export function emptySummary(group: string): UsageSummary {
  return { group, requests: 0, inputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, outputTokens: 0, reasoningTokens: 0, costNanoUsd: 0 };
}

/** Rows oldest first; ties by request id so every store returns the same order. */
export function compareRows(a: UsageRow, b: UsageRow): number {
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return a.requestId < b.requestId ? -1 : a.requestId > b.requestId ? 1 : 0;
}
