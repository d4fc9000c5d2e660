import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../core/gateway-error.js';
import { silentLogger } from '../observability/logger.js';
import { KeyAdmin } from './admin-keys.js';
import { KeyRing } from './authenticate.js';
import { parseKeyBody } from './key-changes.js';
import { FakeKeyStore } from './test-support/fake-key-store.js';

const known = ['a', 'b'];
const now = Date.now();

function setup(): { store: FakeKeyStore; ring: KeyRing; admin: KeyAdmin } {
  const store = new FakeKeyStore();
  const ring = new KeyRing({ configKeys: [{ name: 'cfg', key: 'sk-config-key-1' }], loopback: false, logger: silentLogger });
  let clock = now;
  const admin = new KeyAdmin({ store, ring, configKeyNames: ['cfg'], now: () => (clock += 1) });
  return { store, ring, admin };
}

function code(expected: string, param?: string) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof GatewayError, String(error));
    assert.equal(error.code, expected);
    if (param !== undefined) assert.equal(error.param, param);
    return true;
  };
}

test('create: the secret is returned once, the row holds only hash and prefix, the key works at once', async () => {
  const { store, ring, admin } = setup();
  const body = { name: 'alice', models: ['a'], budget_usd: 0.1, budget_period: 'day', rpm: 60, expires_in: '30d', metadata: { team: 'x' } };
  const { key, secret } = await admin.create(parseKeyBody(body, { mode: 'create', knownModels: known, now }));
  assert.match(secret, /^sk-sluice-/);
  assert.equal(key.prefix, secret.slice(0, 16));
  assert.deepEqual(
    { models: key.models, budget: key.budget_usd, nano: key.budget_nano_usd, period: key.budget_period, rpm: key.rpm, tpm: key.tpm, status: key.status, metadata: key.metadata },
    { models: ['a'], budget: '0.1', nano: 100_000_000, period: 'day', rpm: 60, tpm: null, status: 'active', metadata: { team: 'x' } },
  );
  assert.equal(key.expires_at, new Date(now + 30 * 86_400_000).toISOString());
  assert.ok(!('hash' in key) && !('secret' in key));
  const row = store.rows.get(key.id);
  assert.ok(row);
  assert.ok(!JSON.stringify(row).includes(secret));
  assert.equal(ring.authenticate({ authorization: `Bearer ${secret}` }).id, key.id);
});

test('names: unique, not a config key name; keys are found by id or name', async () => {
  const { admin } = setup();
  const { key } = await admin.create({ name: 'alice' });
  await assert.rejects(admin.create({ name: 'alice' }), code('key_name_taken', 'name'));
  await assert.rejects(admin.create({ name: 'cfg' }), code('key_name_taken', 'name'));
  await admin.create({ name: 'bob' });
  await assert.rejects(admin.update('bob', { name: 'alice' }), code('key_name_taken', 'name'));
  assert.equal((await admin.get('alice')).id, key.id);
  assert.equal((await admin.get(key.id)).name, 'alice');
  await assert.rejects(admin.get('nobody'), code('key_not_found'));
  await assert.rejects(admin.revoke('key_0000000000000000'), code('key_not_found'));
});

test('update: null clears, absent keeps, metadata merges (null removes an entry); revoke is idempotent and keeps the row', async () => {
  const { ring, admin } = setup();
  const { key, secret } = await admin.create({ name: 'carol', models: ['a'], rpm: 5, budgetNanoUsd: 1, metadata: { a: '1', b: '2' } });
  const patch = parseKeyBody({ models: null, rpm: 10, budget_usd: null, metadata: { a: null, c: '3' }, expires_at: '2025-01-01' }, { mode: 'update', knownModels: known, now });
  const updated = await admin.update(key.id, patch);
  assert.deepEqual({ models: updated.models, rpm: updated.rpm, budget: updated.budget_usd, metadata: updated.metadata, status: updated.status }, { models: null, rpm: 10, budget: null, metadata: { b: '2', c: '3' }, status: 'expired' });
  assert.throws(() => ring.authenticate({ authorization: `Bearer ${secret}` }), /expired/);
  await admin.update(key.id, { expiresAt: null });
  assert.equal(ring.authenticate({ authorization: `Bearer ${secret}` }).name, 'carol');

  const revoked = await admin.revoke('carol');
  assert.equal(revoked.status, 'revoked');
  assert.throws(() => ring.authenticate({ authorization: `Bearer ${secret}` }), /revoked/);
  const again = await admin.revoke(key.id);
  assert.equal(again.revoked_at, revoked.revoked_at);
  assert.equal((await admin.list()).length, 1);
});

test('admin request bodies: unknown fields, wrong types and conflicting fields are 400s naming the field', () => {
  const create = (body: unknown) => () => parseKeyBody(body, { mode: 'create', knownModels: known, now });
  assert.throws(create({}), code('invalid_request', 'name'));
  assert.throws(create({ name: 'x', budget: 5 }), code('invalid_request', 'budget'));
  assert.throws(create({ name: 'x', models: ['zzz'] }), code('invalid_request', 'models[0]'));
  assert.throws(create({ name: 'x', rpm: 1.5 }), code('invalid_request', 'rpm'));
  assert.throws(create({ name: 'x', budget_period: 'week' }), code('invalid_request', 'budget_period'));
  assert.throws(create({ name: 'x', expires_at: '2027-01-01', expires_in: '30d' }), code('invalid_request', 'expires_in'));
  assert.throws(create({ name: 'x', metadata: { a: 1 } }), code('invalid_request', 'metadata.a'));
  assert.throws(create([]), code('invalid_request', 'body'));
  assert.deepEqual(parseKeyBody({ name: 'x', rpm: null }, { mode: 'create', knownModels: known, now }), { name: 'x' });
});

test('creating an already-expired key is refused', async () => {
  const { admin } = setup();
  await assert.rejects(admin.create({ name: 'late', expiresAt: now - 1 }), code('invalid_request', 'expires_at'));
});
