import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configSchema } from './schema.js';
import { closest, editDistance, knownKeysAt } from './suggest.js';

describe('editDistance', () => {
  it('counts edits, with a swap of neighbours as one', () => {
    assert.equal(editDistance('base_url', 'base_url'), 0);
    assert.equal(editDistance('bse_url', 'base_url'), 1);
    assert.equal(editDistance('prot', 'port'), 1);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('kitten', 'sitting'), 3);
  });
});

describe('closest', () => {
  it('suggests only plausible typos', () => {
    assert.equal(closest('bse_url', ['base_url', 'api_key']), 'base_url');
    assert.equal(closest('Log_Levl', ['log_level', 'host']), 'log_level');
    assert.equal(closest('banana', ['base_url', 'api_key']), undefined);
  });
});

describe('knownKeysAt', () => {
  it('walks records, lists and the provider kind to the object at a path', () => {
    assert.ok(knownKeysAt(configSchema, [], {}).includes('shutdown_grace'));
    assert.deepEqual(knownKeysAt(configSchema, ['streaming'], {}), [
      'first_byte_deadline',
      'keepalive_interval',
      'max_event_size',
    ]);
    const data = { providers: { p: { kind: 'openai' } } };
    assert.ok(knownKeysAt(configSchema, ['providers', 'p'], data).includes('base_url'));
    assert.deepEqual(knownKeysAt(configSchema, ['keys', 0], {}), ['name', 'key', 'rpm', 'tpm', 'max_concurrent']);
    assert.deepEqual(knownKeysAt(configSchema, ['providers', 'p'], { providers: { p: { kind: 'nope' } } }), []);
    assert.deepEqual(knownKeysAt(configSchema, ['port'], {}), []);
  });
});
