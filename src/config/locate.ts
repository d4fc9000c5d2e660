/**
 * Maps key paths (as zod reports them) back to places in the YAML source, so each problem can
 * name a line and column. Works on the parsed document, whose nodes keep their source ranges.
 */
import { isAlias, isMap, isNode, isScalar, isSeq, type Document } from 'yaml';
import { keyName } from './interpolate.js';

export type PathSegment = string | number;

/** Start offset of a node that has source text; an empty value (`key:`) has none worth pointing at. */
function startOf(node: unknown): number | undefined {
  if (!isNode(node) || node.range === undefined || node.range === null) return undefined;
  if (isScalar(node) && node.range[0] === node.range[1]) return undefined;
  return node.range[0];
}

/**
 * Offset of the node at `path`: its value, or its key when `target` is "key" (unknown keys,
 * bad map keys). Where the path leaves the document (a missing key) the deepest node that
 * exists is used, which is the mapping that lacks the key.
 */
export function locate(doc: Document, path: readonly PathSegment[], target: 'value' | 'key'): number {
  let node: unknown = doc.contents;
  let offset = startOf(node) ?? 0;
  for (const [i, segment] of path.entries()) {
    if (isAlias(node)) node = node.resolve(doc);
    let next: unknown;
    let key: unknown;
    if (isMap(node)) {
      const pair = node.items.find((item) => keyName(item.key) === String(segment));
      if (pair === undefined) break;
      key = pair.key;
      next = pair.value;
    } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
      next = node.items[segment];
    } else {
      break;
    }
    const keyStart = startOf(key);
    if (i === path.length - 1 && target === 'key' && keyStart !== undefined) return keyStart;
    offset = startOf(next) ?? keyStart ?? offset;
    node = next;
  }
  return offset;
}

/** Path of the mapping key that starts at `offset` (YAML reports duplicate keys by offset). */
export function pathOfKeyAt(doc: Document, offset: number): PathSegment[] | undefined {
  const search = (node: unknown, path: PathSegment[]): PathSegment[] | undefined => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const here = [...path, keyName(pair.key)];
        if (startOf(pair.key) === offset) return here;
        const found = search(pair.value, here);
        if (found !== undefined) return found;
      }
    } else if (isSeq(node)) {
      for (const [index, item] of node.items.entries()) {
        const found = search(item, [...path, index]);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  };
  return search(doc.contents, []);
}

/** "providers.openai.base_url", "models.gpt-5.routes[0]"; odd keys quoted: models["gpt-4.1"]. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z0-9_\-/$]+$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}
