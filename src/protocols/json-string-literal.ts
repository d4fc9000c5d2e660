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
