/**
 * Parsing of the fields a key is created or updated with, shared by the CLI and the admin API so
 * both accept exactly the same values. Every problem is a 400 GatewayError naming the field.
 */
import { GatewayError } from '../core/gateway-error.js';
import type { BudgetPeriod } from '../storage/types.js';

export const BUDGET_PERIODS: readonly BudgetPeriod[] = ['day', 'month', 'total'];

const NANO_DIGITS = 9;
const MAX_LIMIT = 1_000_000_000;

export function invalidField(field: string, message: string): GatewayError {
  return new GatewayError('invalid_request', `${field}: ${message}`, { param: field });
}

/**
 * USD as integer nano-USD, exactly: the decimal text is scaled by moving its decimal point, never
 * by multiplying a binary fraction ("0.1" is 100000000, not 100000000.00000001). A JSON number is
 * first turned back into the shortest text that reads as it (0.1 -> "0.1"). More than 9 decimals
 * would need rounding and is refused instead.
 */
export function parseUsd(field: string, input: unknown): number {
  const text = typeof input === 'number' && Number.isFinite(input) ? String(input) : typeof input === 'string' ? input.trim() : undefined;
  const match = text === undefined || text.length > 64 ? null : /^(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  const whole = match?.[1] ?? '';
  const fraction = match?.[2] ?? '';
  if (match === null || whole + fraction === '') throw invalidField(field, `expected an amount in USD like 25 or 0.50, got ${JSON.stringify(input)}`);
  const exponent = Number(match[3] ?? '0');
  let digits = BigInt(whole + fraction);
  let scale = exponent - fraction.length + NANO_DIGITS;
  if (scale < -400) scale = digits === 0n ? 0 : -400; // an absurd exponent: 0, or too many decimals
  if (scale < 0) {
    const divisor = 10n ** BigInt(-scale);
    if (digits % divisor !== 0n) throw invalidField(field, `${text} has more than ${NANO_DIGITS} decimal places (budgets are kept in nano-USD)`);
    digits /= divisor;
    scale = 0;
  }
  const nano = scale > 400 ? BigInt(Number.MAX_SAFE_INTEGER) + 1n : digits * 10n ** BigInt(scale);
  if (nano > BigInt(Number.MAX_SAFE_INTEGER)) throw invalidField(field, `${text} is too large (at most 9007199.254740991 USD)`);
  return Number(nano);
}

/** Integer nano-USD as exact decimal USD text: 100000000 -> "0.1", 25000000000 -> "25". */
export function formatUsd(nano: number): string {
  const whole = Math.trunc(nano / 1e9);
  const fraction = String(nano % 1e9).padStart(NANO_DIGITS, '0').replace(/0+$/, '');
  return fraction === '' ? String(whole) : `${whole}.${fraction}`;
}

export function parseBudgetPeriod(field: string, input: unknown): BudgetPeriod {
  const period = BUDGET_PERIODS.find((p) => p === input);
  if (period === undefined) throw invalidField(field, `expected one of ${BUDGET_PERIODS.join(', ')}, got ${JSON.stringify(input)}`);
  return period;
}

/** A limit (rpm, tpm, concurrency): a positive integer. Digit strings are accepted for the CLI. */
export function parseLimit(field: string, input: unknown): number {
  const n = typeof input === 'string' && /^\d+$/.test(input.trim()) ? Number(input.trim()) : input;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw invalidField(field, `expected a whole number from 1 to ${MAX_LIMIT}, got ${JSON.stringify(input)}`);
  }
  return n;
}

const durationUnits: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `30d`, `12h`, `2w` (s, m, h, d, w) from now, as epoch ms. */
export function parseExpiresIn(field: string, input: unknown, now: number): number {
  const match = typeof input === 'string' ? /^(\d+)\s*([smhdw])$/.exec(input.trim()) : null;
  const unit = durationUnits[match?.[2] ?? ''];
  if (match === null || unit === undefined || Number(match[1]) === 0) {
    throw invalidField(field, `expected a duration like 30d, 12h or 2w (units s, m, h, d, w), got ${JSON.stringify(input)}`);
  }
  return now + Number(match[1]) * unit;
}

/** An ISO 8601 date (`2026-01-31`, 00:00 UTC that day) or date-time (`2026-01-31T18:00:00Z`), as epoch ms. */
export function parseExpiresAt(field: string, input: unknown): number {
  const text = typeof input === 'string' ? input.trim() : '';
  const ms = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.test(text) ? Date.parse(text) : Number.NaN;
  // Date.parse rolls 2026-02-30 over into March; a calendar date must name a real day.
  const day = text.slice(0, 10);
  if (!Number.isNaN(ms) && new Date(Date.parse(`${day}T00:00:00Z`)).toISOString().slice(0, 10) !== day) {
    throw invalidField(field, `${day} is not a calendar date`);
  }
  if (Number.isNaN(ms)) throw invalidField(field, `expected an ISO 8601 date like 2026-01-31 or 2026-01-31T18:00:00Z, got ${JSON.stringify(input)}`);
  return ms;
}

/** The CLI's `--expires`: a duration from now, else an ISO date. */
export function parseExpires(field: string, input: string, now: number): number {
  return /^\d+\s*[smhdw]$/.test(input.trim()) ? parseExpiresIn(field, input, now) : parseExpiresAt(field, input);
}

const namePattern = /^[A-Za-z0-9][A-Za-z0-9_.@:+-]{0,63}$/;

export function parseName(field: string, input: unknown): string {
  if (typeof input !== 'string' || !namePattern.test(input)) {
    throw invalidField(field, `expected 1-64 characters (letters, digits, "_", ".", "@", ":", "+", "-"), starting with a letter or digit, got ${JSON.stringify(input)}`);
  }
  // Keys are addressed by id or name; a name shaped like an id would make that ambiguous.
  if (input.startsWith('key_')) throw invalidField(field, 'must not start with "key_" (that is how key ids look)');
  return input;
}

/** Allowed public models: a non-empty list of models the config defines. */
export function parseModels(field: string, input: unknown, known: readonly string[]): string[] {
  if (!Array.isArray(input) || input.length === 0) {
    throw invalidField(field, 'expected a non-empty list of model names (to allow every model, clear it instead)');
  }
  const models: string[] = [];
  input.forEach((model: unknown, i) => {
    if (typeof model !== 'string' || model === '') throw invalidField(`${field}[${i}]`, `expected a model name, got ${JSON.stringify(model)}`);
    if (!known.includes(model)) {
      throw invalidField(`${field}[${i}]`, `"${model}" is not a model of this gateway (configured: ${known.join(', ') || 'none'})`);
    }
    if (!models.includes(model)) models.push(model);
  });
  return models;
}

const MAX_METADATA_ENTRIES = 64;

/**
 * Metadata changes: string values set an entry, null removes it (JSON merge patch). `allowNull`
 * is false at creation, where removing makes no sense.
 */
export function parseMetadata(field: string, input: unknown, allowNull: boolean): Record<string, string | null> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalidField(field, 'expected an object of string values');
  const entries = Object.entries(input);
  if (entries.length > MAX_METADATA_ENTRIES) throw invalidField(field, `at most ${MAX_METADATA_ENTRIES} entries`);
  const out: Record<string, string | null> = {};
  for (const [k, v] of entries) {
    if (k === '' || k.length > 128) throw invalidField(field, `entry names must be 1-128 characters, got ${JSON.stringify(k)}`);
    if (v === null && allowNull) out[k] = null;
    else if (typeof v === 'string' && v.length <= 1024) out[k] = v;
    else throw invalidField(`${field}.${k}`, `expected a string of at most 1024 characters${allowNull ? ' (or null to remove it)' : ''}`);
  }
  return out;
}
