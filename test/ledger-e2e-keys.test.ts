/**
 * Issue 4, "Done when": usage-ledger rows exact through the official SDKs for a budget hit under
 * concurrency and a revoked key, and rows that survive in the SQLite file after the server closed.
 *
 * Budgets: before any upstream call Sluice reserves a request's worst case (prompt estimate at the
 * dearest input-side price + max_tokens at the output price). The models `metered` (OpenAI route)
 * and `metered-claude` (Anthropic route) price input at 0 and output at $10 per 1M tokens, so a
 * reservation is exactly max_tokens x 10,000 nano-USD whatever the prompt estimate; the upstreams
 * report exactly max_tokens output tokens, so each admitted request costs its whole reservation
 * and the ledger total lands on the budget's edge without crossing it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { openStore } from '../src/storage/open-store.js';
import type { UsageRow } from '../src/storage/types.js';
import {
  adminCall, assertRow, claudeRow, createStoredKey, expectedCost, gptRow, ledgerHarness, ledgerRows, priceVersionOf, rowOf, tokenFields,
  type ExpectedRow, type Plan, type Tokens,
} from './support/ledger.js';
import { assertOk, call, callAnthropic, callOpenAi, type ClientProtocol } from './support/ledger-clients.js';
import { eventually, type TestSluice } from './support/sluice.js';

/** Holds upstream answers while closed. */
class Gate {
  private release: () => void = () => {};
  promise: Promise<void> = Promise.resolve();

  close(): void {
    this.promise = new Promise((resolve) => (this.release = resolve));
  }

  open(): void {
    this.release();
    this.promise = Promise.resolve();
  }
}

const prompt = 'hi';

/** The upstream reports the prompt as 20 tokens and exactly max_tokens output tokens. */
function meteredPlan(gate: Gate): (request: { body: Record<string, unknown> }) => Plan {
  return (request) => ({ text: ['ok'], usage: { input: 20, cacheRead: 0, cacheWrite: 0, output: Number(request.body.max_tokens) }, hold: gate.promise });
}

interface Wave {
  requestIds: (string | null)[];
  admitted: number;
  refusals: unknown[];
}

/**
 * Fires 20 requests at once with the upstream's answers held, waits until `admitted` reached the
 * upstream and the rest were refused, then lets the admitted ones finish.
 */
async function wave(protocol: ClientProtocol, sluice: TestSluice, secret: string, maxTokens: number, gate: Gate, upstreamCount: () => number, admitted: number): Promise<Wave> {
  const before = upstreamCount();
  const model = protocol === 'openai' ? 'metered' : 'metered-claude';
  let refused = 0;
  gate.close();
  const calls = Array.from({ length: 20 }, async () => {
    const r = await call(protocol, sluice, model, { stream: false, apiKey: secret, maxTokens, prompt });
    if (r.error !== undefined) refused++;
    return r;
  });
  await eventually(() => upstreamCount() - before === admitted && refused === 20 - admitted, 5000, `${admitted} admitted and ${20 - admitted} refused`);
  gate.open();
  const results = await Promise.all(calls);
  assert.equal(upstreamCount() - before, admitted, 'refused requests never reach the upstream');
  return {
    requestIds: results.map((r) => r.requestId),
    admitted: results.filter((r) => r.error === undefined).length,
    refusals: results.filter((r) => r.error !== undefined).map((r) => r.error),
  };
}

function assertBudgetRefusal(protocol: ClientProtocol, error: unknown): void {
  if (protocol === 'openai') {
    assert.ok(error instanceof OpenAI.RateLimitError, String(error));
    assert.equal(error.status, 429);
    assert.equal(error.code, 'insufficient_quota');
    assert.equal(error.type, 'insufficient_quota');
  } else {
    assert.ok(error instanceof Anthropic.APIError, String(error));
    assert.equal(error.status, 402);
    assert.equal((error.error as { error?: { type?: string } }).error?.type, 'billing_error');
  }
}

for (const protocol of ['openai', 'anthropic'] as ClientProtocol[]) {
  test(`budget under concurrency (${protocol}): 20 at once, only those whose worst case fits run; the ledger never exceeds the budget`, async (t) => {
    const gate = new Gate();
    const h = await ledgerHarness(t, { openai: meteredPlan(gate), anthropic: meteredPlan(gate) });
    const upstreamCount = () => (protocol === 'openai' ? h.openai : h.anthropic).requests.length;
    const model = protocol === 'openai' ? 'metered' : 'metered-claude';
    // $0.0055: five reservations of max_tokens 100 x $10 per 1M = 1,000,000 nano each fit, a sixth does not.
    const budget = 5_500_000;
    const { id, secret } = await createStoredKey(h.sluice, { name: `capped-${protocol}`, budget_usd: '0.0055', budget_period: 'day' });
    const refusedStatus = protocol === 'openai' ? 429 : 402;
    const sentAt = Date.now();

    const first = await wave(protocol, h.sluice, secret, 100, gate, upstreamCount, 5);
    assert.equal(first.admitted, 5);
    for (const error of first.refusals) assertBudgetRefusal(protocol, error);
    // 500,000 nano left: no request with max_tokens 100 fits, exactly one with max_tokens 50 does.
    const second = await wave(protocol, h.sluice, secret, 100, gate, upstreamCount, 0);
    const third = await wave(protocol, h.sluice, secret, 50, gate, upstreamCount, 1);
    assert.equal(upstreamCount(), 6, 'six upstream calls in all, for 60 requests');

    const rows = (await ledgerRows(h.sluice, 60)).filter((r) => r.keyId === id);
    assert.equal(rows.length, 60, 'one row per request');
    const total = rows.reduce((sum, r) => sum + r.costNanoUsd, 0);
    assert.equal(total, budget, 'the budget is spent to the last nano-USD, and not one more');
    assert.ok(total <= budget);

    const version = priceVersionOf(h.sluice, model);
    const base = gptRow(h.sluice, {
      requestId: '', keyId: id, keyName: `capped-${protocol}`, model, provider: protocol === 'openai' ? 'oai' : 'ant', upstreamModel: 'metered-up',
      protocol, stream: false, priceVersion: version,
    });
    const refusedRow = (requestId: string): ExpectedRow => ({
      ...base, requestId, provider: null, upstreamModel: null, outcome: 'rejected', status: refusedStatus,
      usageSource: 'none', costNanoUsd: 0, errorCode: 'insufficient_quota',
    });
    const okRow = (requestId: string, maxTokens: number): ExpectedRow => {
      const tokens: Tokens = { input: 20, cacheRead: 0, cacheWrite: 0, output: maxTokens };
      return { ...base, requestId, ...tokenFields(tokens), costNanoUsd: maxTokens * 10_000 };
    };
    assert.equal(expectedCost({ input: 20, cacheRead: 0, cacheWrite: 0, output: 100 }, { input: 0n, output: 10_000_000n, cacheRead: 0n, cacheWrite: 0n }), 1_000_000);
    let oks = 0;
    for (const [w, maxTokens] of [[first, 100], [second, 100], [third, 50]] as const) {
      for (const requestId of w.requestIds) {
        const row = rowOf(rows, requestId);
        if (row.outcome === 'ok') {
          oks++;
          assertRow(row, okRow(requestId!, maxTokens), { sentAt, ttftAtLeast: 0 });
        } else {
          assertRow(row, refusedRow(requestId!), { sentAt, ttftAtLeast: null });
        }
      }
    }
    assert.equal(oks, 6);
    assert.equal(rows.filter((r) => r.outcome === 'rejected').length, 54);
  });
}

// ---------------------------------------------------------------------------------------------
// A revoked key
// ---------------------------------------------------------------------------------------------

/** The row of a request refused at authentication: nothing about it is known but its protocol. */
function unauthenticatedRow(requestId: string, protocol: ClientProtocol): ExpectedRow {
  return {
    requestId, keyId: null, keyName: null, model: null, provider: null, upstreamModel: null, protocol, stream: false,
    outcome: 'rejected', status: 401, inputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, outputTokens: 0, reasoningTokens: 0,
    usageSource: 'none', costNanoUsd: 0, priceVersion: null, errorCode: 'invalid_api_key',
  };
}

function assertUnauthorized(protocol: ClientProtocol, error: unknown): void {
  if (protocol === 'openai') {
    assert.ok(error instanceof OpenAI.AuthenticationError, String(error));
    assert.equal(error.code, 'invalid_api_key');
  } else {
    assert.ok(error instanceof Anthropic.AuthenticationError, String(error));
    assert.equal((error.error as { error?: { type?: string } }).error?.type, 'authentication_error');
  }
}

const plain: Tokens = { input: 25, cacheRead: 0, cacheWrite: 0, output: 7 };

test('a key revoked through the admin API: the next request gets 401 at once, recorded as rejected; earlier rows keep the key', async (t) => {
  const h = await ledgerHarness(t, { openai: () => ({ text: ['Hi'], usage: plain }), anthropic: () => ({ text: ['Hi'], usage: plain }) });
  const { id, secret } = await createStoredKey(h.sluice, { name: 'doomed' });
  const sentAt = Date.now();
  const before = await callOpenAi(h.sluice, 'gpt', { stream: false, apiKey: secret });
  assertOk(before);

  const revoked = await adminCall(h.sluice, 'POST', `/admin/keys/${id}/revoke`);
  assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
  const revokedAt = Date.now();
  const a = await callOpenAi(h.sluice, 'gpt', { stream: false, apiKey: secret });
  const b = await callAnthropic(h.sluice, 'claude', { stream: false, apiKey: secret });
  assert.ok(Date.now() - revokedAt < 1000, 'refused within 1 s of the revoke');
  assertUnauthorized('openai', a.error);
  assertUnauthorized('anthropic', b.error);
  assert.equal(h.openai.requests.length + h.anthropic.requests.length, 1, 'no upstream call after the revoke');

  const rows = await ledgerRows(h.sluice, 3);
  assert.equal(rows.length, 3);
  assertRow(rowOf(rows, before.requestId), gptRow(h.sluice, { requestId: before.requestId!, keyId: id, keyName: 'doomed', ...tokenFields(plain), costNanoUsd: 180_000 }), { sentAt, ttftAtLeast: 0 });
  assertRow(rowOf(rows, a.requestId), unauthenticatedRow(a.requestId!, 'openai'), { sentAt, ttftAtLeast: null });
  assertRow(rowOf(rows, b.requestId), unauthenticatedRow(b.requestId!, 'anthropic'), { sentAt, ttftAtLeast: null });
});

test('a key revoked in the store by another instance: refused with 401 within 1 s, recorded as rejected', async (t) => {
  const h = await ledgerHarness(t, { openai: () => ({ text: ['Hi'], usage: plain }), anthropic: () => ({ text: ['Hi'], usage: plain }) });
  const store = h.sluice.gateway.store;
  assert.ok(store);
  const { id, secret } = await createStoredKey(h.sluice, { name: 'doomed-elsewhere' });
  assertOk(await callAnthropic(h.sluice, 'claude', { stream: false, apiKey: secret }));

  // What `sluice keys revoke` run against the same database does: a store write this process did not make.
  const now = Date.now();
  assert.ok(await store.keys.update(id, { revokedAt: now }, now));
  const sentAt = Date.now();
  let refused: Awaited<ReturnType<typeof callAnthropic>> | undefined;
  const served: (string | null)[] = [];
  while (refused === undefined) {
    assert.ok(Date.now() - now < 1000, 'the revoke takes effect within 1 s');
    const r = await callAnthropic(h.sluice, 'claude', { stream: false, apiKey: secret });
    if (r.error === undefined) served.push(r.requestId);
    else refused = r;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assertUnauthorized('anthropic', refused.error);
  const openai = await callOpenAi(h.sluice, 'gpt', { stream: false, apiKey: secret });
  assertUnauthorized('openai', openai.error);

  const rows = await ledgerRows(h.sluice, 3 + served.length);
  for (const requestId of served) assert.equal(rowOf(rows, requestId).keyId, id);
  assertRow(rowOf(rows, refused.requestId), unauthenticatedRow(refused.requestId!, 'anthropic'), { sentAt, ttftAtLeast: null });
  assertRow(rowOf(rows, openai.requestId), unauthenticatedRow(openai.requestId!, 'openai'), { sentAt, ttftAtLeast: null });
});

// ---------------------------------------------------------------------------------------------
// Durability: the rows are in the SQLite file after close
// ---------------------------------------------------------------------------------------------

test('store: sqlite: every row is in the SQLite file after close (close flushes the writer), exactly as recorded', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-ledger-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dbPath = join(dir, 's.db');
  const cached: Tokens = { input: 1000, cacheRead: 800, cacheWrite: 0, output: 50 };
  const anthropicCached: Tokens = { input: 1100, cacheRead: 800, cacheWrite: 100, output: 50 };
  const h = await ledgerHarness(t, {
    openai: (request) => (JSON.stringify(request.body.messages).includes('fail') ? { text: [], usage: cached, httpError: 500 } : { text: ['Hello', ' there'], usage: cached }),
    anthropic: () => ({ text: ['Hello', ' there'], usage: anthropicCached }),
  }, `store: sqlite:${dbPath}\n`);
  assert.equal(h.sluice.gateway.store?.kind, 'sqlite');
  const { id, secret } = await createStoredKey(h.sluice, { name: 'durable', budget_usd: 10 });

  const sentAt = Date.now();
  const ok = await callOpenAi(h.sluice, 'gpt', { stream: false, apiKey: secret });
  const streamed = await callAnthropic(h.sluice, 'claude', { stream: true });
  const failed = await callOpenAi(h.sluice, 'gpt', { stream: true, prompt: 'please fail' });
  const unknown = await callOpenAi(h.sluice, 'no-such-model', { stream: false });
  assertOk(ok);
  assertOk(streamed);
  assert.equal(failed.status, 500);
  assert.equal(unknown.status, 404);
  // No waiting for the writer's batch: close must flush what is queued.
  await h.sluice.close(0);

  assert.ok(existsSync(dbPath));
  const reopened = await openStore(`sqlite:${dbPath}`);
  t.after(() => reopened.close());
  const rows: UsageRow[] = await reopened.ledger.query({}, 1000);
  assert.equal(rows.length, 4, JSON.stringify(rows));
  assertRow(rowOf(rows, ok.requestId), gptRow(h.sluice, { requestId: ok.requestId!, keyId: id, keyName: 'durable', ...tokenFields(cached), costNanoUsd: 1_590_000 }), { sentAt, ttftAtLeast: 0 });
  assertRow(rowOf(rows, streamed.requestId), claudeRow(h.sluice, { requestId: streamed.requestId!, protocol: 'anthropic', stream: true, ...tokenFields(anthropicCached), costNanoUsd: 1_965_000 }), { sentAt, ttftAtLeast: 0 });
  assertRow(rowOf(rows, failed.requestId), gptRow(h.sluice, {
    requestId: failed.requestId!, stream: true, outcome: 'upstream_error', status: 500, usageSource: 'none', costNanoUsd: 0, errorCode: 'upstream_http_error',
  }), { sentAt, ttftAtLeast: null });
  assertRow(rowOf(rows, unknown.requestId), gptRow(h.sluice, {
    requestId: unknown.requestId!, model: 'no-such-model', provider: null, upstreamModel: null, outcome: 'rejected', status: 404,
    usageSource: 'none', costNanoUsd: 0, priceVersion: null, errorCode: 'model_not_found',
  }), { sentAt, ttftAtLeast: null });
  // The key's spend as budgets read it back after a restart.
  assert.equal(await reopened.ledger.spentSince(id, sentAt - 1), 1_590_000);
});

test('store: sqlite: rows are readable while the server runs (the writer flushes in batches)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-ledger-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const h = await ledgerHarness(t, { openai: () => ({ text: ['Hi'], usage: plain }) }, `store: sqlite:${join(dir, 's.db')}\n`);
  const results = await Promise.all(Array.from({ length: 10 }, () => callOpenAi(h.sluice, 'gpt', { stream: true, includeUsage: true })));
  for (const r of results) assertOk(r);
  const rows = await ledgerRows(h.sluice, 10);
  assert.equal(rows.length, 10);
  for (const r of results) assert.equal(rowOf(rows, r.requestId).costNanoUsd, 180_000);
});
