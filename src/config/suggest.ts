/**
 * "Did you mean" support: finds the keys a schema allows at a path and the one closest to a
 * misspelling, so `bse_url` is answered with `base_url` instead of a bare "unknown key".
 */
import { z } from 'zod';
import { isObject } from '../core/json.js';

/**
 * Edit distance counting insertions, deletions, substitutions and swaps of neighbours
 * (optimal string alignment), since "prot" for "port" is as likely a typo as a dropped letter.
 */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((rows[i - 1]?.[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (rows[i - 1]?.[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (rows[i - 2]?.[j - 2] ?? 0) + 1);
      }
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] ?? 0;
}

/** The candidate nearest to `word`, if near enough to be a plausible typo (case is ignored). */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}


/** Strips wrappers (defaults, optionals, preprocess and transform pipes) down to the structural schema. */
function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  if (
    schema instanceof z.ZodDefault ||
    schema instanceof z.ZodPrefault ||
    schema instanceof z.ZodOptional ||
    schema instanceof z.ZodNullable
  ) {
    return unwrap(schema.unwrap());
  }
  if (schema instanceof z.ZodPipe) {
    // z.preprocess(fn, s) is pipe(transform, s); s.transform(fn) is pipe(s, transform).
    return unwrap(schema.in instanceof z.ZodTransform ? schema.out : schema.in);
  }
  return schema;
}

/** For a discriminated union, the option the data selects (by its discriminator value). */
function pickOption(schema: z.ZodDiscriminatedUnion, data: unknown): z.core.$ZodType | undefined {
  const discriminator = schema._zod.def.discriminator;
  const value = isObject(data) ? data[discriminator] : undefined;
  return schema.options.find((option) => {
    const shape = unwrap(option);
    if (!(shape instanceof z.ZodObject)) return false;
    const field = shape.shape[discriminator];
    return field instanceof z.ZodLiteral && [...field.values].some((literal) => literal === value);
  });
}

/** The keys the schema allows for the object at `path` in `data`; empty if it is not an object. */
export function knownKeysAt(schema: z.core.$ZodType, path: readonly PropertyKey[], data: unknown): string[] {
  let current: z.core.$ZodType | undefined = unwrap(schema);
  let value = data;
  const step = (): void => {
    if (current instanceof z.ZodDiscriminatedUnion) {
      const option = pickOption(current, value);
      current = option === undefined ? undefined : unwrap(option);
    }
  };
  step();
  for (const segment of path) {
    if (current instanceof z.ZodObject) current = current.shape[String(segment)];
    else if (current instanceof z.ZodRecord) current = current._zod.def.valueType;
    else if (current instanceof z.ZodArray) current = current.element;
    else return [];
    if (current === undefined) return [];
    if (Array.isArray(value)) value = typeof segment === 'number' ? value[segment] : undefined;
    else value = isObject(value) ? value[String(segment)] : undefined;
    current = unwrap(current);
    step();
  }
  return current instanceof z.ZodObject ? Object.keys(current.shape) : [];
}
