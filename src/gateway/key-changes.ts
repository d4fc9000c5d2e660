import { isObject } from '../core/json.js';
import type { BudgetPeriod } from '../storage/types.js';
import { invalidField, parseBudgetPeriod, parseExpiresAt, parseExpiresIn, parseLimit, parseMetadata, parseModels, parseName, parseUsd } from './key-fields.js';

/**
 * What a create or update asks for, validated. Absent: unchanged (or the default at creation);
 * null: cleared (every model, no budget, no limit, no expiry).
 */
export interface KeyChanges {
  name?: string;
  models?: string[] | null;
  budgetNanoUsd?: number | null;
  budgetPeriod?: BudgetPeriod;
  rpm?: number | null;
  tpm?: number | null;
  maxConcurrent?: number | null;
  expiresAt?: number | null;
  /** Merged into the key's metadata; a null value removes that entry. */
  metadata?: Record<string, string | null>;
  /** Drop every existing entry before merging `metadata`. */
  replaceMetadata?: boolean;
}

export interface KeyBodyContext {
  mode: 'create' | 'update';
  /** The gateway's public model names: a key may only be limited to models that exist. */
  knownModels: readonly string[];
  now: number;
}

const fields = ['name', 'models', 'budget_usd', 'budget_period', 'rpm', 'tpm', 'max_concurrent', 'expires_at', 'expires_in', 'metadata'];

/** The JSON body of POST /admin/keys (create) or PATCH /admin/keys/{id} (update). */
export function parseKeyBody(body: unknown, context: KeyBodyContext): KeyChanges {
  if (!isObject(body)) throw invalidField('body', 'expected a JSON object');
  for (const field of Object.keys(body)) {
    // A misspelt field silently ignored would create a key without the limit the operator meant.
    if (!fields.includes(field)) throw invalidField(field, `unknown field (expected: ${fields.join(', ')})`);
  }
  const { mode, knownModels, now } = context;
  const changes: KeyChanges = {};
  const given = (field: string): boolean => body[field] !== undefined && (mode === 'update' || body[field] !== null);
  const clearable = <T>(field: string, parse: (value: unknown) => T): T | null => (body[field] === null ? null : parse(body[field]));

  if (mode === 'create' && (body.name === undefined || body.name === null)) throw invalidField('name', 'is required');
  if (given('name')) changes.name = parseName('name', body.name);
  if (given('models')) changes.models = clearable('models', (v) => parseModels('models', v, knownModels));
  if (given('budget_usd')) changes.budgetNanoUsd = clearable('budget_usd', (v) => parseUsd('budget_usd', v));
  if (given('budget_period')) changes.budgetPeriod = parseBudgetPeriod('budget_period', body.budget_period);
  if (given('rpm')) changes.rpm = clearable('rpm', (v) => parseLimit('rpm', v));
  if (given('tpm')) changes.tpm = clearable('tpm', (v) => parseLimit('tpm', v));
  if (given('max_concurrent')) changes.maxConcurrent = clearable('max_concurrent', (v) => parseLimit('max_concurrent', v));
  if (given('expires_at') && given('expires_in')) throw invalidField('expires_in', 'give expires_at or expires_in, not both');
  if (given('expires_at')) changes.expiresAt = clearable('expires_at', (v) => parseExpiresAt('expires_at', v));
  if (given('expires_in')) changes.expiresAt = clearable('expires_in', (v) => parseExpiresIn('expires_in', v, now));
  if (given('metadata') && body.metadata === null) {
    changes.metadata = {};
    changes.replaceMetadata = true;
  } else if (given('metadata')) {
    changes.metadata = parseMetadata('metadata', body.metadata, mode === 'update');
  }
  return changes;
}
