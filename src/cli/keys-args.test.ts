import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../core/gateway-error.js';
import { keyChangesFromFlags } from './keys-args.js';

const now = Date.parse('2026-01-01T00:00:00Z');
const create = { mode: 'create', knownModels: ['a', 'b'], now } as const;
const update = { ...create, mode: 'update' } as const;

function refused(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => error instanceof GatewayError && error.code === 'invalid_request' && message.test(error.message));
}

test('create flags become exact values', () => {
  const changes = keyChangesFromFlags(
    { name: 'ci', models: 'a, b', budget: '0.1', 'budget-period': 'total', rpm: '60', tpm: '1000', 'max-concurrent': '4', expires: '30d', metadata: ['team=x', 'env=a=b'] },
    create,
  );
  assert.deepEqual(changes, {
    name: 'ci', models: ['a', 'b'], budgetNanoUsd: 100_000_000, budgetPeriod: 'total', rpm: 60, tpm: 1000, maxConcurrent: 4,
    expiresAt: now + 30 * 86_400_000, metadata: { team: 'x', env: 'a=b' },
  });
});

test('update: --no-* clears, NAME= removes a metadata entry, and a value with its --no-* is refused', () => {
  assert.deepEqual(keyChangesFromFlags({ 'no-budget': true, 'no-expiry': true, 'no-models': true, metadata: ['old='] }, update), {
    budgetNanoUsd: null, expiresAt: null, models: null, metadata: { old: null },
  });
  assert.deepEqual(keyChangesFromFlags({ 'no-metadata': true, metadata: ['k=v'] }, update), { replaceMetadata: true, metadata: { k: 'v' } });
  refused(() => keyChangesFromFlags({ budget: '5', 'no-budget': true }, update), /--budget or --no-budget/);
  refused(() => keyChangesFromFlags({ name: 'x', 'no-expiry': true }, create), /only applies to `sluice keys update`/);
});

test('bad values are refused with the flag named', () => {
  refused(() => keyChangesFromFlags({}, create), /--name: is required/);
  refused(() => keyChangesFromFlags({ name: 'x', budget: '1.0000000001' }, create), /--budget: .*more than 9 decimal places/);
  refused(() => keyChangesFromFlags({ name: 'x', rpm: '0' }, create), /--rpm: expected a whole number/);
  refused(() => keyChangesFromFlags({ name: 'x', models: 'a,zzz' }, create), /--models\[1\]: "zzz" is not a model/);
  refused(() => keyChangesFromFlags({ name: 'x', models: ',' }, create), /--models: expected a non-empty list/);
  refused(() => keyChangesFromFlags({ name: 'x', expires: 'soon' }, create), /--expires: expected an ISO 8601 date/);
  refused(() => keyChangesFromFlags({ name: 'x', metadata: ['novalue'] }, create), /--metadata: expected NAME=VALUE/);
  refused(() => keyChangesFromFlags({ name: 'x', 'budget-period': 'week' }, create), /--budget-period: expected one of day, month, total/);
});
