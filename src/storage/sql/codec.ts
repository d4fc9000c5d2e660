/** Conversions between the domain types and their SQL rows (JSON as text, booleans as 0/1). */
import type { Insertable, Selectable } from 'kysely';
import { BUDGET_PERIODS } from '../rows.js';
import type { BudgetPeriod, StoredKey, UsageRow } from '../types.js';
import { toSafeInt, toSafeIntOrNull, type ApiKeysTable, type UsageLedgerTable } from './schema.js';

type KeyRow = Selectable<ApiKeysTable>;
type LedgerRow = Selectable<UsageLedgerTable>;

function budgetPeriod(value: string): BudgetPeriod {
  const found = BUDGET_PERIODS.find((p) => p === value);
  if (found === undefined) throw new Error(`stored key has an unknown budget period: ${value}`);
  return found;
}

function parseModels(text: string | null): string[] | null {
  if (text === null) return null;
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value) || !value.every((m) => typeof m === 'string')) throw new Error('stored key has malformed models');
  return value;
}

function parseMetadata(text: string): Record<string, string> {
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('stored key has malformed metadata');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

export function keyFromRow(row: KeyRow): StoredKey {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    hash: row.hash,
    models: parseModels(row.models),
    budgetNanoUsd: toSafeIntOrNull(row.budget_nano_usd, 'budget_nano_usd'),
    budgetPeriod: budgetPeriod(row.budget_period),
    rpm: toSafeIntOrNull(row.rpm, 'rpm'),
    tpm: toSafeIntOrNull(row.tpm, 'tpm'),
    maxConcurrent: toSafeIntOrNull(row.max_concurrent, 'max_concurrent'),
    expiresAt: toSafeIntOrNull(row.expires_at, 'expires_at'),
    revokedAt: toSafeIntOrNull(row.revoked_at, 'revoked_at'),
    metadata: parseMetadata(row.metadata),
    createdAt: toSafeInt(row.created_at, 'created_at'),
    updatedAt: toSafeInt(row.updated_at, 'updated_at'),
  };
}

export function keyToRow(key: StoredKey): Insertable<ApiKeysTable> {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    hash: key.hash,
    models: key.models === null ? null : JSON.stringify(key.models),
    budget_nano_usd: key.budgetNanoUsd,
    budget_period: key.budgetPeriod,
    rpm: key.rpm,
    tpm: key.tpm,
    max_concurrent: key.maxConcurrent,
    expires_at: key.expiresAt,
    revoked_at: key.revokedAt,
    metadata: JSON.stringify(key.metadata),
    created_at: key.createdAt,
    updated_at: key.updatedAt,
  };
}

function oneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  const found = allowed.find((a) => a === value);
  if (found === undefined) throw new Error(`usage row has an unknown ${what}: ${value}`);
  return found;
}

export function usageFromRow(row: LedgerRow): UsageRow {
  return {
    requestId: row.request_id,
    createdAt: toSafeInt(row.created_at, 'created_at'),
    keyId: row.key_id,
    keyName: row.key_name,
    model: row.model,
    provider: row.provider,
    upstreamModel: row.upstream_model,
    protocol: oneOf(row.protocol, ['openai', 'anthropic'], 'protocol'),
    stream: row.stream === 1,
    outcome: oneOf(row.outcome, ['ok', 'upstream_error', 'client_aborted', 'rejected'], 'outcome'),
    status: row.status,
    ttftMs: row.ttft_ms,
    durationMs: row.duration_ms,
    inputTokens: toSafeInt(row.input_tokens, 'input_tokens'),
    cacheReadTokens: toSafeInt(row.cache_read_tokens, 'cache_read_tokens'),
    cacheWriteTokens: toSafeInt(row.cache_write_tokens, 'cache_write_tokens'),
    outputTokens: toSafeInt(row.output_tokens, 'output_tokens'),
    reasoningTokens: toSafeInt(row.reasoning_tokens, 'reasoning_tokens'),
    usageSource: oneOf(row.usage_source, ['reported', 'estimated', 'none'], 'usage source'),
    costNanoUsd: toSafeInt(row.cost_nano_usd, 'cost_nano_usd'),
    priceVersion: row.price_version,
    errorCode: row.error_code,
  };
}

export function usageToRow(row: UsageRow): Insertable<UsageLedgerTable> {
  return {
    request_id: row.requestId,
    created_at: row.createdAt,
    key_id: row.keyId,
    key_name: row.keyName,
    model: row.model,
    provider: row.provider,
    upstream_model: row.upstreamModel,
    protocol: row.protocol,
    stream: row.stream ? 1 : 0,
    outcome: row.outcome,
    status: row.status,
    ttft_ms: row.ttftMs,
    duration_ms: row.durationMs,
    input_tokens: row.inputTokens,
    cache_read_tokens: row.cacheReadTokens,
    cache_write_tokens: row.cacheWriteTokens,
    output_tokens: row.outputTokens,
    reasoning_tokens: row.reasoningTokens,
    usage_source: row.usageSource,
    cost_nano_usd: row.costNanoUsd,
    price_version: row.priceVersion,
    error_code: row.errorCode,
  };
}

/** A unique-constraint violation, in either dialect's words. */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || !('code' in error)) return false;
  const code = (error as { code: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
