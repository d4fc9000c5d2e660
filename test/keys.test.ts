/**
 * Stored keys end to end, as the official SDKs see them: created through the admin API, limited
 * to models, revoked (here, and by another process sharing the SQLite store), expired.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { openStore } from '../src/storage/open-store.js';
import { admin, adminKey, configKey, createKey, startKeyUpstreams, type KeyUpstreams } from './support/keys.js';
import { startSluice, type TestSluice } from './support/sluice.js';

let up: KeyUpstreams;
let sluice: TestSluice;

before(async () => {
  up = await startKeyUpstreams();
  sluice = await startSluice(up.config(`admin_key: ${adminKey}\nkeys:\n  - name: cfg\n    key: ${configKey}\n`));
});
after(async () => {
  await sluice.close(0);
  await up.close();
});

const openai = (apiKey: string) => new OpenAI({ baseURL: sluice.baseURL, apiKey, maxRetries: 0 });
const anthropic = (apiKey: string) => new Anthropic({ baseURL: sluice.url, apiKey, maxRetries: 0 });
const chat = (apiKey: string, model = 'gpt') => openai(apiKey).chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
const message = (apiKey: string, model = 'claude') => anthropic(apiKey).messages.create({ model, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });

function openAiError(status: number, code: string, message?: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof OpenAI.APIError, String(error));
    assert.equal(error.status, status);
    assert.equal(error.code, code);
    if (message) assert.match(error.message, message);
    return true;
  };
}

function anthropicError(status: number, type: string, message?: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof Anthropic.APIError, String(error));
    assert.equal(error.status, status);
    assert.equal((error.error as { error?: { type?: string } }).error?.type, type);
    if (message) assert.match(error.message, message);
    return true;
  };
}

test('a key created through the admin API works at once, for both protocols, beside the config key', async () => {
  const { secret } = await createKey(sluice.url, { name: 'fresh' });
  assert.match(secret, /^sk-sluice-[A-Za-z0-9_-]{43}$/);
  const completion = await chat(secret);
  assert.ok(completion.choices[0]?.message.content);
  const reply = await message(secret);
  assert.equal(reply.type, 'message');
  assert.ok((await chat(configKey)).choices[0]);
  // Anthropic 0.x clients send x-api-key.
  const models = await fetch(`${sluice.baseURL}/models`, { headers: { 'x-api-key': secret } });
  assert.equal(models.status, 200);
  assert.ok(sluice.records.some((r) => r.keyName === 'fresh' && r.keyId?.startsWith('key_')), 'the request record names the stored key');
});

test('a key limited to models: 403 in the caller\'s shape for the others, and only its models in /v1/models', async () => {
  const { secret } = await createKey(sluice.url, { name: 'only-gpt', models: ['gpt'] });
  assert.ok((await chat(secret, 'gpt')).choices[0]);
  await assert.rejects(chat(secret, 'claude'), openAiError(403, 'model_not_allowed', /not allowed to use the model 'claude'/));
  await assert.rejects(message(secret, 'claude'), anthropicError(403, 'permission_error', /not allowed/));
  await assert.rejects(
    anthropic(secret).messages.countTokens({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] }),
    anthropicError(403, 'permission_error'),
  );
  const upstreamCalls = up.anthropic.requests.length;
  await assert.rejects(message(secret, 'claude'), anthropicError(403, 'permission_error'));
  assert.equal(up.anthropic.requests.length, upstreamCalls, 'refused before any upstream call');

  assert.deepEqual((await openai(secret).models.list()).data.map((m) => m.id), ['gpt']);
  assert.deepEqual((await anthropic(secret).models.list()).data.map((m) => m.id), ['gpt']);
  await assert.rejects(openai(secret).models.retrieve('claude'), openAiError(403, 'model_not_allowed'));
  assert.deepEqual((await openai(configKey).models.list()).data.map((m) => m.id), ['gpt', 'claude']);
});

test('revoked through the admin API: 401 on the very next request, saying so, in each protocol', async () => {
  const { id, secret } = await createKey(sluice.url, { name: 'soon-revoked' });
  assert.ok((await chat(secret)).choices[0]);
  const revoked = await admin(sluice.url, 'POST', `/admin/keys/${id}/revoke`);
  assert.equal(revoked.status, 200);
  assert.equal(revoked.body.status, 'revoked');
  await assert.rejects(chat(secret), openAiError(401, 'invalid_api_key', /revoked/));
  await assert.rejects(message(secret), anthropicError(401, 'authentication_error', /revoked/));

  // DELETE revokes too, and keeps the row.
  const other = await createKey(sluice.url, { name: 'deleted' });
  assert.equal((await admin(sluice.url, 'DELETE', `/admin/keys/${other.id}`)).status, 200);
  await assert.rejects(chat(other.secret), openAiError(401, 'invalid_api_key', /revoked/));
  assert.equal((await admin(sluice.url, 'GET', '/admin/keys/deleted')).body.status, 'revoked');
});

test('an expired key gets 401 saying it expired; clearing the expiry brings it back', async () => {
  const { id, secret } = await createKey(sluice.url, { name: 'expiring', expires_in: '1h' });
  assert.ok((await chat(secret)).choices[0]);
  const patched = await admin(sluice.url, 'PATCH', `/admin/keys/${id}`, { expires_at: '2020-01-01T00:00:00Z' });
  assert.equal(patched.body.status, 'expired');
  await assert.rejects(chat(secret), openAiError(401, 'invalid_api_key', /expired at 2020-01-01T00:00:00.000Z/));
  await assert.rejects(message(secret), anthropicError(401, 'authentication_error', /expired/));
  await admin(sluice.url, 'PATCH', `/admin/keys/${id}`, { expires_at: null });
  assert.ok((await chat(secret)).choices[0]);
});

test('the admin API takes the admin key and nothing else; client keys get 401', async () => {
  const { secret } = await createKey(sluice.url, { name: 'client' });
  for (const auth of [secret, configKey, `${adminKey}x`, null]) {
    const refused = await admin(sluice.url, 'GET', '/admin/keys', undefined, auth);
    assert.equal(refused.status, 401, String(auth));
    assert.equal((refused.body.error as { type: string }).type, 'authentication_error');
  }
  const xApiKey = await fetch(`${sluice.url}/admin/keys`, { headers: { 'x-api-key': adminKey } });
  assert.equal(xApiKey.status, 401);
  const listed = await admin(sluice.url, 'GET', '/admin/keys');
  assert.equal(listed.status, 200);
  const text = JSON.stringify(listed.body);
  assert.ok(!text.includes(secret) && !text.includes('"hash"') && !text.includes('"secret"'));
  assert.ok((listed.body.data as { name: string }[]).some((k) => k.name === 'client'));
});

test('admin API errors: 400 naming the field, 404 unknown key, 409 duplicate name, all in OpenAI\'s shape', async () => {
  const cases: [string, string, unknown, number, string | null][] = [
    ['POST', '/admin/keys', { name: 'x', budget_usd: '0.0000000001' }, 400, 'budget_usd'],
    ['POST', '/admin/keys', { name: 'x', models: ['gpt', 'nope'] }, 400, 'models[1]'],
    ['POST', '/admin/keys', { name: 'x', rpm: -1 }, 400, 'rpm'],
    ['POST', '/admin/keys', { name: 'x', expires_at: 'next week' }, 400, 'expires_at'],
    ['POST', '/admin/keys', { name: 'x', budgt_usd: 5 }, 400, 'budgt_usd'],
    ['POST', '/admin/keys', { models: ['gpt'] }, 400, 'name'],
    ['POST', '/admin/keys', { name: 'cfg' }, 409, 'name'],
    ['GET', '/admin/keys/key_0000000000000000', undefined, 404, null],
    ['PATCH', '/admin/keys/nobody', { rpm: 5 }, 404, null],
  ];
  for (const [method, path, body, status, param] of cases) {
    const answer = await admin(sluice.url, method, path, body);
    assert.equal(answer.status, status, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(answer.body)}`);
    const error = answer.body.error as { param: string | null; type: string };
    assert.equal(error.param, param);
  }
  await createKey(sluice.url, { name: 'twice' });
  const duplicate = await admin(sluice.url, 'POST', '/admin/keys', { name: 'twice' });
  assert.equal(duplicate.status, 409);
  assert.equal((duplicate.body.error as { code: string }).code, 'key_name_taken');
  const created = await admin(sluice.url, 'POST', '/admin/keys', { name: 'exact', budget_usd: 0.1, budget_period: 'day', metadata: { team: 'a' } });
  assert.equal(created.body.budget_usd, '0.1');
  assert.equal(created.body.budget_nano_usd, 100_000_000);
  const invalidJson = await fetch(`${sluice.url}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${adminKey}` }, body: '{' });
  assert.equal(invalidJson.status, 400);
});

test('without admin_key, /admin/* does not exist (404), whatever is sent', async (t) => {
  const plain = await startSluice(up.config(`keys:\n  - name: cfg\n    key: ${configKey}\n`));
  t.after(() => plain.close(0));
  for (const [method, auth] of [['GET', configKey], ['POST', adminKey], ['DELETE', null]] as const) {
    const answer = await admin(plain.url, method, '/admin/keys', method === 'POST' ? { name: 'x' } : undefined, auth);
    assert.equal(answer.status, 404);
  }
});

test('keyless loopback mode ends when the first stored key is created', async (t) => {
  const open = await startSluice(up.config(`admin_key: ${adminKey}\n`));
  t.after(() => open.close(0));
  const anyone = new OpenAI({ baseURL: open.baseURL, apiKey: 'anything', maxRetries: 0 });
  assert.ok((await anyone.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] })).choices[0]);
  const { secret } = await createKey(open.url, { name: 'first' });
  await assert.rejects(anyone.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] }), openAiError(401, 'invalid_api_key'));
  const keyed = new OpenAI({ baseURL: open.baseURL, apiKey: secret, maxRetries: 0 });
  assert.ok((await keyed.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] })).choices[0]);
});

test('changes made by another process on the same SQLite store reach the running instance within 1 s', async (t) => {
  const path = join(mkdtempSync(join(tmpdir(), 'sluice-keys-')), 'sluice.db');
  const shared = await startSluice(up.config(`store: sqlite:${path}\nadmin_key: ${adminKey}\n`));
  t.after(() => shared.close(0));
  const other = await openStore(`sqlite:${path}`);
  t.after(() => other.close());
  const client = (key: string) => new OpenAI({ baseURL: shared.baseURL, apiKey: key, maxRetries: 0 });
  const works = async (key: string): Promise<boolean> =>
    client(key).chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] }).then(() => true, () => false);

  const { id, secret } = await createKey(shared.url, { name: 'shared' });
  assert.equal(await works(secret), true);
  const revokedAt = Date.now();
  await other.keys.update(id, { revokedAt }, revokedAt);
  const elapsed = await timeUntil(async () => !(await works(secret)));
  assert.ok(elapsed < 1000, `revoke took ${elapsed} ms to take effect`);
  await assert.rejects(client(secret).chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] }), openAiError(401, 'invalid_api_key', /revoked/));

  // A model restriction set elsewhere lands the same way.
  const second = await createKey(shared.url, { name: 'narrowed' });
  await other.keys.update(second.id, { models: ['claude'] }, Date.now());
  assert.ok((await timeUntil(async () => !(await works(second.secret)))) < 1000);
});

/** Polls `check` every 20 ms; resolves with the milliseconds until it held (fails after 3 s). */
async function timeUntil(check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > 3000) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now() - started;
}
