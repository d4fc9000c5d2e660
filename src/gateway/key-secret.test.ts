import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { digestOf, generateSecret, hashSecret, lookupPrefix, newKeyId, secretMatches } from './key-secret.js';

test('a secret is sk-sluice- + 43 base64url characters (256 bits), stored as a SHA-256 hex hash and a 16-character prefix', () => {
  const { secret, prefix, hash } = generateSecret();
  assert.match(secret, /^sk-sluice-[A-Za-z0-9_-]{43}$/);
  assert.equal(Buffer.from(secret.slice(10), 'base64url').length, 32);
  assert.equal(prefix, secret.slice(0, 16));
  assert.equal(hash, createHash('sha256').update(secret).digest('hex'));
  assert.doesNotMatch(hash, new RegExp(secret.slice(10)));
});

test('secrets and ids do not repeat', () => {
  const secrets = new Set(Array.from({ length: 1000 }, () => generateSecret().secret));
  assert.equal(secrets.size, 1000);
  const ids = new Set(Array.from({ length: 1000 }, () => newKeyId()));
  assert.equal(ids.size, 1000);
  for (const id of ids) assert.match(id, /^key_[0-9a-f]{16}$/);
});

test('verification: the right secret matches its hash, any other (same prefix, one character off, truncated) does not', () => {
  const { secret, hash } = generateSecret();
  assert.equal(secretMatches(digestOf(secret), hash), true);
  const last = secret.at(-1) === 'A' ? 'B' : 'A';
  assert.equal(secretMatches(digestOf(secret.slice(0, -1) + last), hash), false);
  assert.equal(secretMatches(digestOf(secret.slice(0, -1)), hash), false);
  assert.equal(secretMatches(digestOf(secret), 'not-hex'), false);
  assert.equal(secretMatches(digestOf(secret), hashSecret('other')), false);
});

test('lookupPrefix: only well-formed stored-key secrets are looked up', () => {
  const { secret, prefix } = generateSecret();
  assert.equal(lookupPrefix(secret), prefix);
  assert.equal(lookupPrefix(secret.slice(0, -1)), undefined);
  assert.equal(lookupPrefix(`${secret}x`), undefined);
  assert.equal(lookupPrefix('sk-test-client-key-1'), undefined);
  assert.equal(lookupPrefix(`sk-other-${secret.slice(9)}`), undefined);
});
