import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../core/gateway-error.js';
import { formatUsd, parseExpires, parseExpiresAt, parseModels, parseName, parseUsd } from './key-fields.js';

function rejects(fn: () => unknown, field: string, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, 'invalid_request');
    assert.equal(error.param, field);
    assert.match(error.message, message);
    return true;
  });
}

test('USD budgets become integer nano-USD exactly, from text or from a JSON number', () => {
  assert.equal(parseUsd('b', '0.1'), 100_000_000);
  assert.equal(parseUsd('b', 0.1), 100_000_000);
  assert.equal(parseUsd('b', 0.3), 300_000_000); // 0.1 + 0.2 would not be
  assert.equal(parseUsd('b', '25'), 25_000_000_000);
  assert.equal(parseUsd('b', '19.99'), 19_990_000_000);
  assert.equal(parseUsd('b', 1.1), 1_100_000_000);
  assert.equal(parseUsd('b', '.5'), 500_000_000);
  assert.equal(parseUsd('b', '7.'), 7_000_000_000);
  assert.equal(parseUsd('b', '0.000000001'), 1);
  assert.equal(parseUsd('b', 1e-9), 1);
  assert.equal(parseUsd('b', '1e3'), 1_000_000_000_000);
  assert.equal(parseUsd('b', '0.10000000000'), 100_000_000); // trailing zeros are not precision
  assert.equal(parseUsd('b', '0'), 0);
  assert.equal(parseUsd('b', '9007199.254740991'), Number.MAX_SAFE_INTEGER);
});

test('USD budgets that would need rounding, are negative, malformed or too large are refused', () => {
  rejects(() => parseUsd('--budget', '0.0000000001'), '--budget', /more than 9 decimal places/);
  rejects(() => parseUsd('budget_usd', -1), 'budget_usd', /expected an amount/);
  rejects(() => parseUsd('budget_usd', '$5'), 'budget_usd', /expected an amount/);
  rejects(() => parseUsd('budget_usd', ''), 'budget_usd', /expected an amount/);
  rejects(() => parseUsd('budget_usd', '.'), 'budget_usd', /expected an amount/);
  rejects(() => parseUsd('budget_usd', Number.NaN), 'budget_usd', /expected an amount/);
  rejects(() => parseUsd('budget_usd', true), 'budget_usd', /expected an amount/);
  rejects(() => parseUsd('budget_usd', '9007199.254740992'), 'budget_usd', /too large/);
  rejects(() => parseUsd('budget_usd', '1e999999999'), 'budget_usd', /too large/);
  rejects(() => parseUsd('budget_usd', '1e-999999999'), 'budget_usd', /decimal places/);
});

test('formatUsd is the exact inverse', () => {
  for (const text of ['0.1', '25', '19.99', '0.000000001', '9007199.254740991', '0']) assert.equal(formatUsd(parseUsd('b', text)), text);
});

test('expiry: a duration from now, or an ISO date / date-time', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseExpires('--expires', '30d', now), now + 30 * 86_400_000);
  assert.equal(parseExpires('--expires', '12h', now), now + 12 * 3_600_000);
  assert.equal(parseExpires('--expires', '2w', now), now + 14 * 86_400_000);
  assert.equal(parseExpires('--expires', '2026-12-31', now), Date.parse('2026-12-31T00:00:00Z'));
  assert.equal(parseExpiresAt('expires_at', '2026-06-01T18:30:00+02:00'), Date.parse('2026-06-01T16:30:00Z'));
  rejects(() => parseExpires('--expires', '30 days', now), '--expires', /ISO 8601/);
  rejects(() => parseExpires('--expires', '0d', now), '--expires', /duration/);
  rejects(() => parseExpiresAt('expires_at', 'tomorrow'), 'expires_at', /ISO 8601/);
  rejects(() => parseExpiresAt('expires_at', '2026-13-45'), 'expires_at', /ISO 8601/);
  rejects(() => parseExpiresAt('expires_at', '2026-02-30'), 'expires_at', /not a calendar date/);
});

test('names: readable, and never shaped like an id', () => {
  assert.equal(parseName('name', 'alice@example.com'), 'alice@example.com');
  rejects(() => parseName('name', ''), 'name', /1-64 characters/);
  rejects(() => parseName('name', 'has space'), 'name', /1-64 characters/);
  rejects(() => parseName('name', 'key_123'), 'name', /key_/);
  rejects(() => parseName('name', 42), 'name', /1-64 characters/);
});

test('models: known public models only, named by index when wrong', () => {
  assert.deepEqual(parseModels('models', ['a', 'b', 'a'], ['a', 'b', 'c']), ['a', 'b']);
  rejects(() => parseModels('models', ['a', 'nope'], ['a', 'b']), 'models[1]', /"nope" is not a model of this gateway \(configured: a, b\)/);
  rejects(() => parseModels('models', [], ['a']), 'models', /non-empty/);
  rejects(() => parseModels('models', 'a', ['a']), 'models', /non-empty list/);
});
