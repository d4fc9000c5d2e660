import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { integerBetween, parseDuration, parseSize } from './units.js';

describe('parseDuration', () => {
  it('reads bare integers as milliseconds and strings with units', () => {
    assert.deepEqual(parseDuration(250), { ok: true, value: 250 });
    assert.deepEqual(parseDuration('500ms'), { ok: true, value: 500 });
    assert.deepEqual(parseDuration('2s'), { ok: true, value: 2000 });
    assert.deepEqual(parseDuration('1.5m'), { ok: true, value: 90_000 });
    assert.deepEqual(parseDuration('1h'), { ok: true, value: 3_600_000 });
    assert.deepEqual(parseDuration('0.5ms'), { ok: true, value: 1 });
  });

  it('rejects negatives, fractions of a bare number, unknown units and other types', () => {
    for (const bad of [-1, 1.5, '2 seconds', '2S', '-2s', '100', '', true, null, [], {}]) {
      const result = parseDuration(bad);
      assert.equal(result.ok, false, `accepted ${JSON.stringify(bad)}`);
      if (!result.ok) assert.match(result.message, /^expected a duration like "15s" or "500ms"/);
    }
  });
});

describe('parseSize', () => {
  it('reads bytes and units, case-insensitively, with decimal and binary multiples', () => {
    assert.deepEqual(parseSize(1024), { ok: true, value: 1024 });
    assert.deepEqual(parseSize('10MiB'), { ok: true, value: 10_485_760 });
    assert.deepEqual(parseSize('10mib'), { ok: true, value: 10_485_760 });
    assert.deepEqual(parseSize('1KB'), { ok: true, value: 1000 });
    assert.deepEqual(parseSize('1KiB'), { ok: true, value: 1024 });
    assert.deepEqual(parseSize('2 GB'), { ok: true, value: 2_000_000_000 });
    assert.deepEqual(parseSize('1GiB'), { ok: true, value: 1_073_741_824 });
    assert.deepEqual(parseSize('512b'), { ok: true, value: 512 });
  });

  it('rejects unknown units and bare numbers in strings', () => {
    for (const bad of ['8 megs', '10', '1TB', -5, 0.5]) {
      const result = parseSize(bad);
      assert.equal(result.ok, false, `accepted ${JSON.stringify(bad)}`);
      if (!result.ok) assert.match(result.message, /^expected a size like "10MiB"/);
    }
  });
});

describe('integerBetween', () => {
  it('accepts the bounds and names the range when rejecting', () => {
    const port = integerBetween(0, 65_535);
    assert.deepEqual(port(0), { ok: true, value: 0 });
    assert.deepEqual(port(65_535), { ok: true, value: 65_535 });
    assert.deepEqual(port(65_536), { ok: false, message: 'expected an integer between 0 and 65535, got 65536' });
    assert.deepEqual(port('80'), { ok: false, message: 'expected an integer between 0 and 65535, got "80"' });
  });
});
