/**
 * Two Sluice processes behind an imaginary load balancer, sharing one PostgreSQL schema and one
 * Redis prefix: a key's RPM and budget hold across both, a revoke on one is honoured by the other
 * within a second, and a route one instance cooled down is skipped by the other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { testSchema } from '../src/storage/test-support/postgres.js';
import { adminKey, createKey } from './support/billing.js';
import { REDIS_URL, startCluster, type Cluster } from './support/instances.js';
import { startScriptedUpstream, type ScriptedUpstream } from './support/scripted-upstream.js';
import type { ServerResponse } from 'node:http';

function answer(res: ServerResponse, model: unknown): void {
  const text = JSON.stringify({
    id: 'chatcmpl-1', object: 'chat.completion', created: 1_700_000_000, model: String(model),
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hi.' }, finish_reason: 'stop', logprobs: null }],
    usage: { prompt_tokens: 5, completion_tokens: 10, total_tokens: 15 },
  });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

interface Setup {
  cluster: Cluster;
  good: ScriptedUpstream;
  broken: ScriptedUpstream;
}

async function setUp(t: { after: (fn: () => Promise<void> | void) => void }): Promise<Setup> {
  const good = await startScriptedUpstream((request, res) => answer(res, request.body.model));
  t.after(() => good.close());
  // Sluice's provider key is refused here: the route is misconfigured, a failure that cools it down.
  const broken = await startScriptedUpstream((_request, res) => {
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } }));
  });
  t.after(() => broken.close());
  const schema = await testSchema();
  t.after(() => schema.drop());
  const cluster = await startCluster(2, (prefix) => `host: 127.0.0.1
port: 0
admin_key: ${adminKey}
store: ${schema.url}
redis: '${REDIS_URL}?prefix=${prefix}'
providers:
  good:
    kind: openai
    base_url: ${good.baseUrl}
    api_key: sk-good
  broken:
    kind: openai
    base_url: ${broken.baseUrl}
    api_key: sk-wrong
models:
  metered:
    routes: [good/metered]
    price: {input: 0, output: 10}
  guarded:
    routes: [broken/guarded, good/guarded]
health:
  failure_threshold: 2
  cooldown: 60s
`);
  t.after(() => cluster.stop());
  return { cluster, good, broken };
}

function client(url: string, apiKey: string): OpenAI {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0 });
}

async function status(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    if (error instanceof OpenAI.APIError && typeof error.status === 'number') return error.status;
    throw error;
  }
}

function ask(openai: OpenAI, model: string): Promise<unknown> {
  return openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 10 });
}

test('two instances share one key: RPM, budget, revocation and route cooldowns hold across both', { timeout: 60_000 }, async (t) => {
  const { cluster, good, broken } = await setUp(t);
  const [a, b] = cluster.instances;
  assert.ok(a && b);

  await t.test('RPM: a key limited to 6 requests a minute gets 6 across both instances, not 6 each', async () => {
    const secret = await createKey(a.url, { name: 'rpm-six', rpm: 6 });
    const clients = [client(a.url, secret), client(b.url, secret)];
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push(await status(ask(clients[i % 2]!, 'metered')));
    assert.equal(statuses.filter((s) => s === 200).length, 6, `statuses: ${statuses.join(',')}`);
    assert.equal(statuses.filter((s) => s === 429).length, 6, `statuses: ${statuses.join(',')}`);
  });

  await t.test('budget: room for exactly 3 requests is 3 across both instances', async () => {
    // Each request reserves and costs 10 output tokens at $10 per 1M: $0.0001.
    const secret = await createKey(a.url, { name: 'budget-three', budget_usd: '0.0003', budget_period: 'day' });
    const clients = [client(a.url, secret), client(b.url, secret)];
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push(await status(ask(clients[i % 2]!, 'metered')));
    assert.deepEqual(statuses, [200, 200, 200, 429, 429, 429, 429, 429]);
  });

  await t.test('a key revoked on one instance is refused by the other within 1 s', async () => {
    const secret = await createKey(a.url, { name: 'to-revoke' });
    const onB = client(b.url, secret);
    assert.equal(await status(ask(onB, 'metered')), 200);
    const list = (await (await fetch(`${a.url}/admin/keys`, { headers: { authorization: `Bearer ${adminKey}` } })).json()) as { data: { id: string; name: string }[] };
    const id = list.data.find((k) => k.name === 'to-revoke')?.id;
    assert.ok(id);
    const revoked = await fetch(`${a.url}/admin/keys/${id}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${adminKey}` } });
    assert.equal(revoked.status, 200);
    const since = Date.now();
    let last = 200;
    while (Date.now() - since < 3_000 && last !== 401) last = await status(ask(onB, 'metered'));
    const took = Date.now() - since;
    assert.equal(last, 401);
    assert.ok(took < 1_000, `instance B honoured the revoke after ${took} ms`);
  });

  await t.test('a route cooled down on one instance is skipped by the other', async () => {
    const secret = await createKey(a.url, { name: 'cooldown-key' });
    const onA = client(a.url, secret);
    const onB = client(b.url, secret);
    // Two failures in a row on instance A open the breaker for broken/guarded; the answers still
    // succeed, by falling over to good/guarded.
    assert.equal(await status(ask(onA, 'guarded')), 200);
    assert.equal(await status(ask(onA, 'guarded')), 200);
    assert.equal(broken.requests.length, 2);
    // A third request on A skips the route.
    assert.equal(await status(ask(onA, 'guarded')), 200);
    assert.equal(broken.requests.length, 2, 'instance A skips the cooled-down route');
    // Instance B never saw a failure itself, but heard about the cooldown.
    await new Promise((r) => setTimeout(r, 500));
    const before = good.requests.length;
    assert.equal(await status(ask(onB, 'guarded')), 200);
    assert.equal(broken.requests.length, 2, 'instance B skips the route instance A cooled down');
    assert.equal(good.requests.length, before + 1);
  });
});
