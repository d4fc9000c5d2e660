/**
 * The Anthropic side of Sluice's HTTP surface, as the official @anthropic-ai/sdk sees it: model
 * listing, error shapes and statuses on the Messages endpoints, auth by x-api-key or Bearer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { clientKey, configFor, startSluice } from './support/sluice.js';

const config = configFor(['http://127.0.0.1:9/v1']);

async function sluice(t: import('node:test').TestContext) {
  const server = await startSluice(config);
  t.after(() => server.close(0));
  return server;
}

test('the Anthropic SDK lists and retrieves models in its own shape', async (t) => {
  const server = await sluice(t);
  const client = new Anthropic({ baseURL: server.url, apiKey: clientKey, maxRetries: 0 });
  const page = await client.models.list();
  assert.deepEqual(page.data.map((m) => m.id), ['test-model']);
  assert.equal(page.data[0]?.type, 'model');
  assert.ok(!Number.isNaN(Date.parse(page.data[0]?.created_at ?? '')));
  const one = await client.models.retrieve('test-model');
  assert.equal(one.id, 'test-model');
  await assert.rejects(client.models.retrieve('nope'), (error: unknown) => {
    assert.ok(error instanceof Anthropic.NotFoundError);
    assert.equal((error.error as { error?: { type?: string } }).error?.type, 'not_found_error');
    return true;
  });
});

test('OpenAI-shaped model list without anthropic-version', async (t) => {
  const server = await sluice(t);
  const response = await fetch(`${server.baseURL}/models`, { headers: { authorization: `Bearer ${clientKey}` } });
  const body = (await response.json()) as { object: string; data: { object: string }[] };
  assert.equal(body.object, 'list');
  assert.equal(body.data[0]?.object, 'model');
});

test('Messages errors: Anthropic shape, status, type, request_id and request-id header', async (t) => {
  const server = await sluice(t);
  const post = (headers: Record<string, string>, body: string) =>
    fetch(`${server.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers }, body });
  const cases: [Record<string, string>, string, number, string][] = [
    [{}, '{}', 401, 'authentication_error'],
    [{ 'x-api-key': 'sk-wrong' }, '{}', 401, 'authentication_error'],
    [{ 'x-api-key': clientKey }, '{nope', 400, 'invalid_request_error'],
    [{ 'x-api-key': clientKey }, JSON.stringify({ model: 'test-model', messages: [{ role: 'user', content: 'hi' }] }), 400, 'invalid_request_error'],
    [{ authorization: `Bearer ${clientKey}` }, JSON.stringify({ model: 'missing', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }), 404, 'not_found_error'],
    [{ 'x-api-key': clientKey }, 'x'.repeat(11 * 1024 * 1024), 413, 'request_too_large'],
  ];
  for (const [headers, body, status, type] of cases) {
    const response = await post(headers, body);
    const json = (await response.json()) as { type: string; error: { type: string; message: string }; request_id: string };
    assert.equal(response.status, status, `${type}: ${JSON.stringify(json)}`);
    assert.equal(json.type, 'error');
    assert.equal(json.error.type, type);
    assert.ok(json.error.message.length > 0);
    assert.equal(json.request_id, response.headers.get('request-id'));
  }
  const wrongMethod = await fetch(`${server.url}/v1/messages`, { headers: { 'x-api-key': clientKey } });
  assert.equal(wrongMethod.status, 405);
  assert.equal(((await wrongMethod.json()) as { type: string }).type, 'error');
});

test('the SDK surfaces an unreachable upstream as an APIError with an Anthropic error type', async (t) => {
  const server = await sluice(t);
  const client = new Anthropic({ baseURL: server.url, apiKey: clientKey, maxRetries: 0 });
  await assert.rejects(client.messages.create({ model: 'test-model', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }), (error: unknown) => {
    assert.ok(error instanceof Anthropic.APIError);
    assert.equal(error.status, 502);
    assert.equal((error.error as { error?: { type?: string } }).error?.type, 'api_error');
    return true;
  });
});
