import type { z } from 'zod';
import { GatewayError } from '../../core/gateway-error.js';

/**
 * How a client request field is blamed: a 400 whose `param` names the field the way a developer
 * would write it (`messages[2].content[0].type`), and whose message says what is wrong with it.
 */
export function invalidField(param: string, detail: string): GatewayError {
  return new GatewayError('invalid_request', `Invalid value for '${param}': ${detail}`, { param });
}

/** A 400 for something that would change the answer and that no other provider can express. */
export function untranslatable(param: string, what: string): GatewayError {
  return new GatewayError(
    'invalid_request',
    `'${param}': ${what} cannot be translated: only Anthropic's API accepts it, and this model is served by a provider with another API.`,
    { param },
  );
}

export function fieldPath(base: string, part: PropertyKey): string {
  if (typeof part === 'number') return `${base}[${part}]`;
  return base === '' ? String(part) : `${base}.${String(part)}`;
}

/** Parses `value` with `schema`; the first issue becomes a 400 naming the field under `path`. */
export function parseField<S extends z.ZodType>(schema: S, value: unknown, path: string): z.output<S> {
  // reportInput: zod 4 leaves the input out of issues otherwise, and "required" is told by it.
  const parsed = schema.safeParse(value, { reportInput: true });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const param = issue === undefined ? path : issue.path.reduce<string>(fieldPath, path);
  throw invalidField(param === '' ? 'body' : param, issue === undefined ? 'invalid value' : describeIssue(issue));
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'this field is required';
  if (issue.code === 'invalid_value') return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  return issue.message;
}
