/**
 * `sluice keys create|update` options -> KeyChanges, validated with the same parsers as the admin
 * API so both accept exactly the same values.
 */
import type { KeyChanges } from '../gateway/key-changes.js';
import { invalidField, parseBudgetPeriod, parseExpires, parseLimit, parseMetadata, parseModels, parseName, parseUsd } from '../gateway/key-fields.js';

/** The parseArgs spec shared by create and update (update adds the --no-* flags). */
export const keyOptions = {
  config: { type: 'string' },
  json: { type: 'boolean' },
  name: { type: 'string' },
  models: { type: 'string' },
  budget: { type: 'string' },
  'budget-period': { type: 'string' },
  rpm: { type: 'string' },
  tpm: { type: 'string' },
  'max-concurrent': { type: 'string' },
  expires: { type: 'string' },
  metadata: { type: 'string', multiple: true },
  'no-models': { type: 'boolean' },
  'no-budget': { type: 'boolean' },
  'no-rpm': { type: 'boolean' },
  'no-tpm': { type: 'boolean' },
  'no-max-concurrent': { type: 'boolean' },
  'no-expiry': { type: 'boolean' },
  'no-metadata': { type: 'boolean' },
} as const;

export interface KeyFlags {
  name?: string | undefined;
  models?: string | undefined;
  budget?: string | undefined;
  'budget-period'?: string | undefined;
  rpm?: string | undefined;
  tpm?: string | undefined;
  'max-concurrent'?: string | undefined;
  expires?: string | undefined;
  metadata?: string[] | undefined;
  'no-models'?: boolean | undefined;
  'no-budget'?: boolean | undefined;
  'no-rpm'?: boolean | undefined;
  'no-tpm'?: boolean | undefined;
  'no-max-concurrent'?: boolean | undefined;
  'no-expiry'?: boolean | undefined;
  'no-metadata'?: boolean | undefined;
}

export interface KeyFlagContext {
  mode: 'create' | 'update';
  knownModels: readonly string[];
  now: number;
}

/** A value or its --no-* opposite (update only), never both. */
function valueOrClear<T>(flags: KeyFlags, mode: KeyFlagContext['mode'], value: keyof KeyFlags, clear: keyof KeyFlags, parse: (text: string) => T): T | null | undefined {
  const text = flags[value];
  const cleared = flags[clear] === true;
  if (cleared && mode === 'create') throw invalidField(`--${clear}`, 'only applies to `sluice keys update`');
  if (cleared && text !== undefined) throw invalidField(`--${value}`, `give --${value} or --${clear}, not both`);
  if (cleared) return null;
  return typeof text === 'string' ? parse(text) : undefined;
}

export function keyChangesFromFlags(flags: KeyFlags, context: KeyFlagContext): KeyChanges {
  const { mode, knownModels, now } = context;
  const changes: KeyChanges = {};
  if (flags.name !== undefined) changes.name = parseName('--name', flags.name);
  else if (mode === 'create') throw invalidField('--name', 'is required (sluice keys create --name NAME)');

  const models = valueOrClear(flags, mode, 'models', 'no-models', (text) =>
    parseModels('--models', text.split(',').map((m) => m.trim()).filter((m) => m !== ''), knownModels),
  );
  const budget = valueOrClear(flags, mode, 'budget', 'no-budget', (text) => parseUsd('--budget', text));
  const rpm = valueOrClear(flags, mode, 'rpm', 'no-rpm', (text) => parseLimit('--rpm', text));
  const tpm = valueOrClear(flags, mode, 'tpm', 'no-tpm', (text) => parseLimit('--tpm', text));
  const maxConcurrent = valueOrClear(flags, mode, 'max-concurrent', 'no-max-concurrent', (text) => parseLimit('--max-concurrent', text));
  const expires = valueOrClear(flags, mode, 'expires', 'no-expiry', (text) => parseExpires('--expires', text, now));
  if (models !== undefined) changes.models = models;
  if (budget !== undefined) changes.budgetNanoUsd = budget;
  if (rpm !== undefined) changes.rpm = rpm;
  if (tpm !== undefined) changes.tpm = tpm;
  if (maxConcurrent !== undefined) changes.maxConcurrent = maxConcurrent;
  if (expires !== undefined) changes.expiresAt = expires;
  if (flags['budget-period'] !== undefined) changes.budgetPeriod = parseBudgetPeriod('--budget-period', flags['budget-period']);

  if (flags['no-metadata'] === true) {
    if (mode === 'create') throw invalidField('--no-metadata', 'only applies to `sluice keys update`');
    changes.replaceMetadata = true;
    changes.metadata = {};
  }
  for (const entry of flags.metadata ?? []) {
    const eq = entry.indexOf('=');
    const name = eq < 0 ? '' : entry.slice(0, eq);
    const value = entry.slice(eq + 1);
    if (eq <= 0) throw invalidField('--metadata', `expected NAME=VALUE, got ${JSON.stringify(entry)}`);
    // On update, NAME= removes the entry; at creation an empty value is almost surely a mistake.
    if (value === '' && mode === 'create') throw invalidField('--metadata', `${name} has an empty value`);
    changes.metadata = { ...changes.metadata, [name]: value === '' ? null : value };
  }
  if (changes.metadata !== undefined) changes.metadata = parseMetadata('--metadata', changes.metadata, mode === 'update');
  return changes;
}
