/**
 * Validating a JSON string literal without decoding it: the hot paths relay most stream events
 * without JSON.parse, and this is what keeps a malformed one from slipping through.
 */
const hexDigit = /[0-9a-fA-F]/;

/**
 * If a valid JSON string literal starts at `start`, the index just past its closing quote;
 * otherwise -1. Rejects raw control characters, bad escapes and unterminated strings.
 */
export function scanStringLiteral(text: string, start: number): number {
  if (text.charCodeAt(start) !== 34) return -1;
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) return i + 1;
    if (c < 32) return -1;
    if (c !== 92) continue;
    const escaped = text.charCodeAt(++i);
    if (escaped === 117 /* u */) {
      for (let k = 1; k <= 4; k++) if (!hexDigit.test(text.charAt(i + k))) return -1;
      i += 4;
    } else if (!(escaped === 34 || escaped === 92 || escaped === 47 || escaped === 98 || escaped === 102 || escaped === 110 || escaped === 114 || escaped === 116)) {
      return -1;
    }
  }
  return -1;
}

/** V8 copies substrings shorter than this; longer ones are views that keep their whole parent alive. */
const COPIED_SUBSTRING_LENGTH = 13;

/**
 * The text of the valid JSON string literal at `start`..`end` (quotes included), as a string of
 * its own: kept for the whole stream, it must not hold on to `text` (a whole socket read). Most
 * stream tokens are short and unescaped, and are simply cut out (3x cheaper than JSON.parse,
 * which copies the rest).
 */
export function decodeStringLiteral(text: string, start: number, end: number): string {
  if (end - start - 2 < COPIED_SUBSTRING_LENGTH) {
    const backslash = text.indexOf('\\', start);
    if (backslash === -1 || backslash >= end) return text.slice(start + 1, end - 1);
  }
  return JSON.parse(text.slice(start, end)) as string;
}
