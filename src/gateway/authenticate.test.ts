import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../core/gateway-error.js';
import { createLogger, silentLogger, type Logger } from '../observability/logger.js';
import type { StoredKey } from '../storage/types.js';
import { KeyRing } from './authenticate.js';
import { generateSecret } from './key-secret.js';
import { FakeKeyStore } from './test-support/fake-key-store.js';

function storedKey(name: string, fields: Partial<StoredKey> = {}): { key: StoredKey; secret: string } {
  const { secret, prefix, hash } = generateSecret();
  const now = Date.now();
  const key: StoredKey = {
    id: `key_${name}`, name, prefix, hash, models: null, budgetNanoUsd: null, budgetPeriod: 'month', rpm: null, tpm: null,
    maxConcurrent: null, expiresAt: null, revokedAt: null, metadata: {}, createdAt: now, updatedAt: now, ...fields,
  };
  return { key, secret };
}

const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

function authError(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (error: unknown) => error instanceof GatewayError && error.code === code && message.test(error.message));
}

async function ringWith(store: FakeKeyStore, options: { loopback?: boolean; logger?: Logger } = {}): Promise<KeyRing> {
  const ring = new KeyRing({ configKeys: [{ name: 'cfg', key: 'sk-config-key-1' }], loopback: options.loopback ?? true, store, logger: options.logger ?? silentLogger, refresh: { intervalMs: 20, pollTimeoutMs: 50 } });
  await ring.start();
  return ring;
}

test('config keys and stored keys both authenticate; a stored key carries its id, models and row', async (t) => {
  const store = new FakeKeyStore();
  const { key, secret } = storedKey('alice', { models: ['a'] });
  await store.create(key);
  const ring = await ringWith(store);
  t.after(() => ring.stop());
  assert.deepEqual(ring.authenticate(bearer('sk-config-key-1')), { name: 'cfg' });
  const client = ring.authenticate({ 'x-api-key': secret });
  assert.equal(client.name, 'alice');
  assert.equal(client.id, 'key_alice');
  assert.deepEqual(client.models, ['a']);
  assert.equal(client.stored?.hash, key.hash);
  authError(() => ring.authenticate(bearer(`${secret.slice(0, -1)}x`)), 'invalid_api_key', /^Incorrect API key provided\.$/);
  authError(() => ring.authenticate({}), 'missing_api_key', /didn't provide/);
});

test('revoked and expired keys get 401 invalid_api_key saying why', async (t) => {
  const store = new FakeKeyStore();
  const revoked = storedKey('r', { revokedAt: Date.now() - 1 });
  const expired = storedKey('e', { expiresAt: Date.now() - 1 });
  const later = storedKey('l', { expiresAt: Date.now() + 60_000 });
  for (const k of [revoked, expired, later]) await store.create(k.key);
  const ring = await ringWith(store);
  t.after(() => ring.stop());
  authError(() => ring.authenticate(bearer(revoked.secret)), 'invalid_api_key', /has been revoked/);
  authError(() => ring.authenticate(bearer(expired.secret)), 'invalid_api_key', /expired at \d{4}-/);
  assert.equal(ring.authenticate(bearer(later.secret)).name, 'l');
});

test('changes made elsewhere arrive with the next poll; changes applied here take effect at once', async (t) => {
  const store = new FakeKeyStore();
  const ring = await ringWith(store, { loopback: false });
  t.after(() => ring.stop());
  const { key, secret } = storedKey('bob');
  await store.create(key);
  authError(() => ring.authenticate(bearer(secret)), 'invalid_api_key', /Incorrect/);
  await ring.refresh();
  assert.equal(ring.authenticate(bearer(secret)).name, 'bob');
  await store.update(key.id, { revokedAt: Date.now() }, Date.now());
  // The refresh loop (20 ms here) picks the revoke up on its own.
  await waitFor(() => threw(() => ring.authenticate(bearer(secret))));
  authError(() => ring.authenticate(bearer(secret)), 'invalid_api_key', /revoked/);

  const other = storedKey('carol');
  ring.apply(other.key);
  assert.equal(ring.authenticate(bearer(other.secret)).name, 'carol');
  // A poll that read the store before a change made here cannot undo it when it ends late.
  await store.create(other.key);
  store.readDelayMs = 30;
  const slowPoll = ring.refresh();
  store.readDelayMs = 0;
  const revoked = await store.update(other.key.id, { revokedAt: Date.now() }, Date.now());
  ring.apply(revoked!);
  await slowPoll; // returns the row as it was before the revoke
  authError(() => ring.authenticate(bearer(other.secret)), 'invalid_api_key', /revoked/);
});

test('a change written with a clock behind ours is still picked up (the poll overlaps)', async (t) => {
  const store = new FakeKeyStore();
  const { key, secret } = storedKey('skewed');
  await store.create(key);
  const ring = await ringWith(store);
  t.after(() => ring.stop());
  await store.update(key.id, { revokedAt: key.updatedAt }, key.updatedAt - 10_000);
  store.rows.set(key.id, { ...store.rows.get(key.id)!, updatedAt: key.updatedAt - 5_000 });
  await ring.refresh();
  authError(() => ring.authenticate(bearer(secret)), 'invalid_api_key', /revoked/);
});

test('keyless loopback mode only while no key exists anywhere; a stored row, even revoked, ends it', async (t) => {
  const store = new FakeKeyStore();
  const ring = new KeyRing({ configKeys: [], loopback: true, store, logger: silentLogger, refresh: { intervalMs: 20 } });
  await ring.start();
  t.after(() => ring.stop());
  assert.equal(ring.required, false);
  assert.deepEqual(ring.authenticate({}), { name: 'anonymous' });
  const { key } = storedKey('first', { revokedAt: Date.now() });
  await store.create(key);
  await ring.refresh();
  assert.equal(ring.required, true);
  authError(() => ring.authenticate({}), 'missing_api_key', /didn't provide/);

  const remote = new KeyRing({ configKeys: [], loopback: false, logger: silentLogger });
  assert.equal(remote.required, true);
});

test('a failing or hanging store never fails a request: last known keys, one warning, then recovery', async (t) => {
  const lines: string[] = [];
  const store = new FakeKeyStore();
  const { key, secret } = storedKey('dave');
  await store.create(key);
  const ring = await ringWith(store, { logger: createLogger('info', (line) => void lines.push(line)) });
  t.after(() => ring.stop());
  store.failWith = new Error('database is locked');
  await sleep(100);
  assert.equal(ring.authenticate(bearer(secret)).name, 'dave');
  const warnings = lines.filter((l) => l.includes('key refresh failed'));
  assert.equal(warnings.length, 1, lines.join(''));
  assert.match(warnings[0] ?? '', /database is locked/);

  store.failWith = undefined;
  store.hang = true;
  await sleep(150);
  assert.equal(ring.authenticate(bearer(secret)).name, 'dave');
  store.hang = false;
  await store.update(key.id, { revokedAt: Date.now() }, Date.now());
  await waitFor(() => threw(() => ring.authenticate(bearer(secret))));
  assert.ok(lines.some((l) => l.includes('key refresh recovered')), lines.join(''));
});

test('start fails when the store cannot be read: serving without knowing the keys would be worse', async () => {
  const store = new FakeKeyStore();
  store.failWith = new Error('no such table: keys');
  const ring = new KeyRing({ configKeys: [], loopback: true, store, logger: silentLogger });
  await assert.rejects(ring.start(), /no such table/);
});

function threw(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch {
    return true;
  }
}

async function waitFor(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(5);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

test('a key created elsewhere a moment ago is looked up before it is refused; made-up keys cost at most one read per 100 ms', async (t) => {
  const store = new FakeKeyStore();
  // Polling so slow it never helps here: only the look-up on a miss can find the new key.
  const ring = new KeyRing({ configKeys: [{ name: 'cfg', key: 'sk-config-key-1' }], loopback: true, store, logger: silentLogger, refresh: { intervalMs: 60_000 } });
  await ring.start();
  t.after(() => ring.stop());
  const { key, secret } = storedKey('fresh');
  await store.create(key);
  authError(() => ring.authenticate(bearer(secret)), 'invalid_api_key', /^Incorrect API key provided\.$/);
  assert.equal((await ring.authenticateFresh(bearer(secret))).name, 'fresh');

  const before = store.calls;
  const madeUp = Array.from({ length: 50 }, () => generateSecret().secret);
  const started = performance.now();
  const results = await Promise.allSettled(madeUp.map((s) => ring.authenticateFresh(bearer(s))));
  assert.ok(results.every((r) => r.status === 'rejected' && r.reason instanceof GatewayError && r.reason.code === 'invalid_api_key'));
  const reads = store.calls - before;
  const allowed = 1 + Math.floor((performance.now() - started) / 100);
  assert.ok(reads >= 1 && reads <= allowed, `${reads} store reads for 50 made-up keys (allowed ${allowed})`);
  // A key that cannot be a stored one (no sk-sluice- prefix) never reaches the store.
  const calls = store.calls;
  await assert.rejects(ring.authenticateFresh(bearer('sk-not-ours-at-all')), /Incorrect API key/);
  assert.equal(store.calls, calls);
});
