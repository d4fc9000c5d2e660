import type { BudgetPeriod, StoredKey } from '../storage/types.js';
import { formatUsd } from './key-fields.js';

export type KeyStatus = 'active' | 'revoked' | 'expired';

/**
 * A stored key as the admin API and `sluice keys --json` show it. The hash is never part of it;
 * the secret only appears once, in the answer to a create.
 */
export interface KeyView {
  id: string;
  name: string;
  /** The secret's first characters, to recognise a key without revealing it. */
  prefix: string;
  status: KeyStatus;
  models: string[] | null;
  /** Exact decimal USD ("0.1"), or null for no budget. */
  budget_usd: string | null;
  budget_nano_usd: number | null;
  budget_period: BudgetPeriod;
  rpm: number | null;
  tpm: number | null;
  max_concurrent: number | null;
  expires_at: string | null;
  revoked_at: string | null;
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string;
}

export function keyStatus(key: StoredKey, now: number): KeyStatus {
  if (key.revokedAt !== null) return 'revoked';
  if (key.expiresAt !== null && key.expiresAt <= now) return 'expired';
  return 'active';
}

export function toKeyView(key: StoredKey, now: number): KeyView {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    status: keyStatus(key, now),
    models: key.models,
    budget_usd: key.budgetNanoUsd === null ? null : formatUsd(key.budgetNanoUsd),
    budget_nano_usd: key.budgetNanoUsd,
    budget_period: key.budgetPeriod,
    rpm: key.rpm,
    tpm: key.tpm,
    max_concurrent: key.maxConcurrent,
    expires_at: iso(key.expiresAt),
    revoked_at: iso(key.revokedAt),
    metadata: key.metadata,
    created_at: new Date(key.createdAt).toISOString(),
    updated_at: new Date(key.updatedAt).toISOString(),
  };
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
