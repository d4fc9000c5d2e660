import { scanStringLiteral } from '../json-string-literal.js';

export { scanStringLiteral };

/**
 * The hot path's shortcut. Most chunks of a stream differ from the previous one only in the text
 * of `delta.content`. Once such a chunk has been through the full normaliser, a later chunk that
 * is byte for byte the same outside its content string needs exactly the same treatment, so it is
 * relayed without JSON.parse (the largest per-chunk cost, and most of the garbage). The content
 * string is checked to be a valid JSON string literal, so a malformed upstream chunk can never
 * slip through; anything else goes the long way.
 */
export class ContentChunkTemplate {
  private rawPrefix = '';
  private rawSuffix = '';
  private outPrefix = '';
  private outSuffix = '';
  private identical = true;
  private learned = false;

  /**
   * Remembers a content-only chunk (`raw` as received, `out` as normalised, `content` its text).
   * The caller guarantees the normalisation did not depend on stream state (not a choice's first
   * chunk) and that the chunk has one choice whose delta holds only `content`.
   */
  learn(raw: string, out: string, content: string): void {
    const rawLiteral = findContentLiteral(raw, content);
    const outLiteral = out === raw ? rawLiteral : findContentLiteral(out, content);
    if (rawLiteral === undefined || outLiteral === undefined) {
      this.learned = false;
      return;
    }
    this.rawPrefix = raw.slice(0, rawLiteral.start);
    this.rawSuffix = raw.slice(rawLiteral.end);
    this.outPrefix = out.slice(0, outLiteral.start);
    this.outSuffix = out.slice(outLiteral.end);
    this.identical = out === raw;
    this.learned = true;
  }

  /**
   * The normalised JSON for `raw` when it matches the template, else undefined. `content` in the
   * result tells whether the text is non-empty (the commit point); `literalStart`..`literalEnd` is
   * where the text's JSON string literal (quotes included) sits in `raw`.
   */
  apply(raw: string): TemplateMatch | undefined {
    if (!this.learned) return undefined;
    const start = this.rawPrefix.length;
    const end = raw.length - this.rawSuffix.length;
    if (end - start < 2 || !raw.startsWith(this.rawPrefix) || !raw.endsWith(this.rawSuffix)) return undefined;
    if (scanStringLiteral(raw, start) !== end) return undefined;
    const json = this.identical ? raw : this.outPrefix + raw.slice(start, end) + this.outSuffix;
    return { json, content: end - start > 2, literalStart: start, literalEnd: end };
  }
}

export interface TemplateMatch {
  json: string;
  content: boolean;
  literalStart: number;
  literalEnd: number;
}

/**
 * Where the `"content": "<text>"` literal sits in `json`. The key must occur exactly once (so
 * `logprobs.content` and the like never confuse it) and its literal must decode to `content`.
 */
function findContentLiteral(json: string, content: string): { start: number; end: number } | undefined {
  const key = json.indexOf('"content"');
  if (key === -1 || json.lastIndexOf('"content"') !== key) return undefined;
  let start = key + 9;
  while (json.charCodeAt(start) === 32) start++;
  if (json.charCodeAt(start) !== 58 /* : */) return undefined;
  start++;
  while (json.charCodeAt(start) === 32) start++;
  const end = scanStringLiteral(json, start);
  if (end === -1) return undefined;
  try {
    return JSON.parse(json.slice(start, end)) === content ? { start, end } : undefined;
  } catch {
    return undefined;
  }
}
