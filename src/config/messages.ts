/**
 * Turns zod issues into messages an operator can act on. zod's defaults are written for
 * developers ("Invalid input: expected string, received number"); these name the key, what was
 * expected, what was found, and a likely fix when one is obvious.
 */
import type { z } from 'zod';
import type { PathSegment } from './locate.js';
import { closest, knownKeysAt } from './suggest.js';
import { describeInput } from './units.js';
import { isObject } from '../core/json.js';

export interface IssueReport {
  path: PathSegment[];
  /** Point at the key itself (unknown or invalid key) rather than at its value. */
  target: 'value' | 'key';
  message: string;
}

const typeNames: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
};

function didYouMean(word: string, candidates: readonly string[]): string {
  const match = closest(word, candidates);
  return match === undefined ? '' : ` (did you mean "${match}"?)`;
}


function invalidType(issue: z.core.$ZodIssueInvalidType, path: PathSegment[]): string {
  const last = path[path.length - 1];
  if (issue.input === undefined && typeof last === 'string') return `missing required key "${last}"`;
  const expected = typeNames[issue.expected] ?? issue.expected;
  // YAML reads an unquoted 12345678 or yes-like word as a number or boolean.
  const quoteHint =
    issue.expected === 'string' && (typeof issue.input === 'number' || typeof issue.input === 'boolean')
      ? ' (put the value in quotes to make it a string)'
      : '';
  return `expected ${expected}, got ${describeInput(issue.input)}${quoteHint}`;
}

function invalidUnion(issue: z.core.$ZodIssueInvalidUnion, path: PathSegment[]): string {
  const discriminator = issue.discriminator;
  if (discriminator === undefined || !('options' in issue) || issue.options === undefined) {
    return `invalid value ${describeInput(issue.input)}`;
  }
  const options = issue.options.map(String);
  const value = isObject(issue.input) ? issue.input[discriminator] : undefined;
  if (!isObject(issue.input)) return `expected a mapping, got ${describeInput(issue.input)}`;
  if (value === undefined) return `missing required key "${discriminator}" (one of: ${options.join(', ')})`;
  const hint = typeof value === 'string' ? didYouMean(value, options) : '';
  return `unknown ${discriminator} ${describeInput(value)}, expected one of: ${options.join(', ')}${hint}`;
}

/**
 * The issues of the one union option whose type matched the input (the others failed on the
 * type alone), when there is exactly one: what the operator got wrong inside it.
 */
function onlyMatchingBranch(issue: z.core.$ZodIssueInvalidUnion): z.core.$ZodIssue[] | undefined {
  const matching = issue.errors.filter((branch) => !branch.every((inner) => inner.code === 'invalid_type' && inner.path.length === 0));
  return matching.length === 1 ? matching[0] : undefined;
}

/** One issue can yield several reports: zod groups all unknown keys of an object into one. */
export function describeIssue(issue: z.core.$ZodIssue, schema: z.core.$ZodType, data: unknown): IssueReport[] {
  const path = issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment)));
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(schema, path, data);
      return issue.keys.map((key) => ({
        path: [...path, key],
        target: 'key',
        message: `unknown key "${key}"${didYouMean(key, known)}`,
      }));
    }
    case 'invalid_type':
      return [{ path, target: 'value', message: invalidType(issue, path) }];
    case 'invalid_union': {
      // A route is a string or a mapping: a mapping with a bad field is reported on that field.
      const branch = onlyMatchingBranch(issue);
      if (branch !== undefined) return branch.flatMap((inner) => describeIssue({ ...inner, path: [...issue.path, ...inner.path] }, schema, data));
      // A non-object input is reported on the entry itself, not on its discriminator.
      const onEntry = !isObject(issue.input) && path[path.length - 1] === issue.discriminator;
      return [{ path: onEntry ? path.slice(0, -1) : path, target: 'value', message: invalidUnion(issue, path) }];
    }
    case 'invalid_key': {
      const reason = issue.issues[0]?.message ?? 'invalid key';
      return [{ path, target: 'key', message: `invalid name ${describeInput(path[path.length - 1])}: ${reason}` }];
    }
    case 'invalid_value': {
      const values = issue.values.map(String);
      const hint = typeof issue.input === 'string' ? didYouMean(issue.input, values) : '';
      return [{ path, target: 'value', message: `expected one of: ${values.join(', ')}; got ${describeInput(issue.input)}${hint}` }];
    }
    default:
      // Custom, size and format checks carry messages written in schema.ts.
      return [{ path, target: 'value', message: issue.message }];
  }
}
