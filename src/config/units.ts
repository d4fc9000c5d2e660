/**
 * Parsers for the scalar notations the config accepts (durations, sizes, bounded integers).
 * Each returns a result instead of throwing so the schema can turn a failure into one clear
 * problem message, phrased for an operator rather than a programmer.
 */

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const KiB = 1024;
const MiB = 1024 * KiB;

export const sizes = { KiB, MiB } as const;

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

const sizeUnits: Record<string, number> = {
  b: 1,
  kb: 1000,
  kib: KiB,
  mb: 1000 * 1000,
  mib: MiB,
  gb: 1000 * 1000 * 1000,
  gib: 1024 * MiB,
};

// A decimal number followed by a unit; the space in between is tolerated ("2 s").
const durationPattern = /^(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)$/;
const sizePattern = /^(\d+(?:\.\d+)?|\.\d+)\s*(b|kb|kib|mb|mib|gb|gib)$/i;

/** How an input is named in messages; long strings are cut so a pasted secret does not fill a line. */
export function describeInput(input: unknown): string {
  if (input === undefined) return 'nothing';
  if (input === null) return 'an empty value';
  if (typeof input === 'string') {
    return JSON.stringify(input.length > 40 ? `${input.slice(0, 37)}...` : input);
  }
  if (typeof input === 'number' || typeof input === 'boolean') return String(input);
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  return typeof input;
}

function isWholeNonNegative(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** A non-negative integer (milliseconds) or `<number><unit>` with unit ms|s|m|h; yields ms. */
export function parseDuration(input: unknown): Parsed<number> {
  if (typeof input === 'number' && isWholeNonNegative(input)) return { ok: true, value: input };
  if (typeof input === 'string') {
    const match = durationPattern.exec(input.trim());
    const factor = match?.[2] === undefined ? undefined : durationUnits[match[2]];
    if (match?.[1] !== undefined && factor !== undefined) {
      // Rounded because timers work in whole milliseconds ("1.5ms" is 2 ms).
      const value = Math.round(Number(match[1]) * factor);
      if (isWholeNonNegative(value)) return { ok: true, value };
    }
  }
  return {
    ok: false,
    message: `expected a duration like "15s" or "500ms" (units: ms, s, m, h; a bare number means milliseconds), got ${describeInput(input)}`,
  };
}

/** A non-negative integer (bytes) or `<number><unit>` with unit B|KB|KiB|MB|MiB|GB|GiB; yields bytes. */
export function parseSize(input: unknown): Parsed<number> {
  if (typeof input === 'number' && isWholeNonNegative(input)) return { ok: true, value: input };
  if (typeof input === 'string') {
    const match = sizePattern.exec(input.trim());
    const factor = match?.[2] === undefined ? undefined : sizeUnits[match[2].toLowerCase()];
    if (match?.[1] !== undefined && factor !== undefined) {
      const value = Math.round(Number(match[1]) * factor);
      if (isWholeNonNegative(value)) return { ok: true, value };
    }
  }
  return {
    ok: false,
    message: `expected a size like "10MiB" or "512KB" (units: B, KB, KiB, MB, MiB, GB, GiB; a bare number means bytes), got ${describeInput(input)}`,
  };
}

/** An integer in [min, max]; the message names the range, which is what the operator needs. */
export function integerBetween(min: number, max: number): (input: unknown) => Parsed<number> {
  return (input) => {
    if (typeof input === 'number' && Number.isInteger(input) && input >= min && input <= max) {
      return { ok: true, value: input };
    }
    return {
      ok: false,
      message: `expected an integer between ${min} and ${max}, got ${describeInput(input)}`,
    };
  };
}
