import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeStringLiteral, scanStringLiteral } from './json-string-literal.js';

test('decodeStringLiteral gives the text of a literal inside a larger JSON text, short or long, escaped or not', () => {
  const texts = ['', 'a', ' world', '12 characters', '13 characters', 'a "quote"', 'back\\slash', 'line\nbreak\ttab', 'é 🌊 ünïcødé', 'x'.repeat(200), `${'y'.repeat(40)}\u0001`];
  for (const text of texts) {
    const json = `{"choices":[{"delta":{"content":${JSON.stringify(text)}}}],"after":"\\\\"}`;
    const start = json.indexOf(':"', json.indexOf('"content"')) + 1;
    const end = scanStringLiteral(json, start);
    assert.equal(decodeStringLiteral(json, start, end), text, JSON.stringify(text));
  }
});
