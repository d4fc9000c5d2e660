/**
 * `${VAR}` / `${VAR:-default}` substitution in YAML string values. It runs on the parsed
 * document's nodes, not on the raw text, so that a value can never inject YAML structure and
 * every problem keeps the position of the scalar it came from. Keys are never touched: a key
 * is part of the file's structure, not a setting.
 */
import { isAlias, isMap, isScalar, isSeq, type Document } from 'yaml';

export type Env = Record<string, string | undefined>;

export interface InterpolationProblem {
  /** Key path of the scalar, e.g. ["providers", "openai", "api_key"]. */
  path: (string | number)[];
  /** Offset in the source text, of the reference itself when it can be found. */
  offset: number;
  message: string;
}

interface StringResult {
  value: string;
  problems: { reference: string; message: string }[];
}

const referenceBody = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;
const FORMS = 'expected ${NAME} or ${NAME:-default} (write $${ for a literal "${")';

/**
 * Substitutes references in one string. Like a shell, `:-` also applies when the variable is
 * set but empty. Substituted text is not scanned again, so a value may safely contain "${".
 */
export function interpolateString(text: string, env: Env): StringResult {
  const problems: StringResult['problems'] = [];
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      out += '${';
      i += 3;
      continue;
    }
    if (!text.startsWith('${', i)) {
      out += text[i];
      i += 1;
      continue;
    }
    const end = text.indexOf('}', i + 2);
    if (end === -1) {
      problems.push({ reference: text.slice(i), message: `unterminated "\${": ${FORMS}` });
      out += text.slice(i);
      break;
    }
    const reference = text.slice(i, end + 1);
    const body = text.slice(i + 2, end);
    const match = referenceBody.exec(body);
    const name = match?.[1];
    if (name === undefined || body.includes('${')) {
      problems.push({ reference, message: `invalid variable reference "${reference}": ${FORMS}` });
      out += reference;
    } else {
      const fallback = match?.[2];
      const value = env[name];
      if (value !== undefined && (fallback === undefined || value !== '')) out += value;
      else if (fallback !== undefined) out += fallback;
      else problems.push({ reference, message: `\${${name}} is not set (set it, or give a default: \${${name}:-value})` });
    }
    i = end + 1;
  }
  return { value: out, problems };
}

// The YAML 1.2 core schema's plain numbers and booleans.
const plainNumber = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const plainBoolean: Record<string, boolean> = { true: true, True: true, TRUE: true, false: false, False: false, FALSE: false };

/**
 * An unquoted `port: ${PORT}` should mean what `port: 8080` means, so the substituted text of a
 * plain scalar is typed the way YAML would have typed it. Quoted scalars stay strings.
 */
function retype(text: string): string | number | boolean {
  if (plainNumber.test(text)) return Number(text);
  return plainBoolean[text] ?? text;
}

/**
 * Interpolates every string value in the document in place and returns the problems found.
 * `source` is the text the document was parsed from, used to point at the reference itself.
 */
export function interpolateDocument(doc: Document, env: Env, source: string): InterpolationProblem[] {
  const problems: InterpolationProblem[] = [];
  const visit = (node: unknown, path: (string | number)[]): void => {
    // An alias shares its anchor's node, which is interpolated where it is defined.
    if (isAlias(node)) return;
    if (isMap(node)) {
      for (const pair of node.items) visit(pair.value, [...path, keyName(pair.key)]);
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => visit(item, [...path, index]));
    } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('${')) {
      const result = interpolateString(node.value, env);
      const start = node.range?.[0] ?? 0;
      const raw = source.slice(start, node.range?.[1] ?? start);
      let searchFrom = 0;
      for (const p of result.problems) {
        // Found as-is in plain and most quoted scalars; otherwise point at the scalar's start.
        const at = raw.indexOf(p.reference, searchFrom);
        if (at >= 0) searchFrom = at + p.reference.length;
        problems.push({ path, offset: at >= 0 ? start + at : start, message: p.message });
      }
      node.value = node.type === 'PLAIN' ? retype(result.value) : result.value;
    }
  };
  visit(doc.contents, []);
  return problems;
}

/** The key of a pair as it appears in a path ("" for an absent key, text for complex keys). */
export function keyName(key: unknown): string {
  if (isScalar(key)) return String(key.value ?? '');
  if (key === null || key === undefined) return '';
  return String(key);
}
