/** Builders for keys and usage rows in storage tests: every field set, overridable. */
import { randomBytes } from 'node:crypto';
import type { StoredKey, UsageRow } from '../types.js';

export const DAY_MS = 86_400_000;

/** A short random tag, so rows and keys of one test never collide with another's. */
export function tag(): string {
  return randomBytes(5).toString('hex');
}

export function storedKey(overrides: Partial<StoredKey> & Pick<StoredKey, 'id' | 'name'>): StoredKey {
  return {
    prefix: 'sk-sluice-abc123',
    hash: 'a'.repeat(64),
    models: null,
    budgetNanoUsd: null,
    budgetPeriod: 'month',
    rpm: null,
    tpm: null,
    maxConcurrent: null,
    expiresAt: null,
    revokedAt: null,
    metadata: {},
    createdAt: 1_800_000_000_000,
    updatedAt: 1_800_000_000_000,
    ...overrides,
  };
}

export function usageRow(overrides: Partial<UsageRow> & Pick<UsageRow, 'requestId' | 'createdAt'>): UsageRow {
  return {
    keyId: 'key_1',
    keyName: 'team-a',
    model: 'gpt-test',
    provider: 'openai',
    upstreamModel: 'gpt-4o-mini',
    protocol: 'openai',
    stream: false,
    outcome: 'ok',
    status: 200,
    ttftMs: null,
    durationMs: 12.5,
    inputTokens: 100,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    outputTokens: 20,
    reasoningTokens: 0,
    usageSource: 'reported',
    costNanoUsd: 1_000,
    priceVersion: 'p1',
    errorCode: null,
    ...overrides,
  };
}

/** `count` rows with distinct request ids `${prefix}-<i>`, one millisecond apart. */
export function usageRows(prefix: string, count: number, createdAt = 1_800_000_000_000): UsageRow[] {
  return Array.from({ length: count }, (_, i) => usageRow({ requestId: `${prefix}-${String(i).padStart(6, '0')}`, createdAt: createdAt + i, costNanoUsd: i + 1 }));
}
