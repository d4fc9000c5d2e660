/**
 * Issue 5, part 3: faults that Sluice retries on the same route before the commit point (config
 * `retries:`, issue 5 part 2), from both ingress protocols with the official SDKs (which never
 * retry here: maxRetries 0), against OpenAI and Anthropic upstreams, each with one route only.
 *
 * - 500 then success: the client gets a normal answer; the record counts 2 attempts, the
 *   ledger row is ok with the answer's usage.
 * - Several different faults, then success, within max_attempts.
 * - 429 with retry-after: 1: Sluice waits at least that long (more than max_backoff) before the
 *   retry, then the client gets the answer.
 * - Faults on every attempt: after max_attempts calls, a real HTTP status in the client's protocol.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSdk, ingresses } from './support/fault-clients.js';
import { assertHttpFailure, assertSettlement, assertSuccess } from './support/fault-expect.js';
import { assertReleased, faultHarness, model } from './support/fault-harness.js';
import { defaultAnswer } from './support/fault-frames.js';
import { always, thenAnswer, type Dialect } from './support/fault-upstream.js';

const dialects: Dialect[] = ['openai', 'anthropic'];
const retries = 'retries:\n  max_attempts: 3\n  initial_backoff: 50ms\n  max_backoff: 200ms\n';
const text = defaultAnswer.pieces.join('');
const answered = { kind: 'reported' as const, tokens: { input: 40, cacheRead: 0, cacheWrite: 0, output: 7 } };

for (const dialect of dialects) {
  for (const ingress of ingresses) {
    const label = `(${ingress} client, ${dialect} upstream, one route)`;

    test(`retried on the same route: HTTP 500 then success ${label}: a normal answer, 2 attempts`, async (t) => {
      const h = await faultHarness(t, [{ dialect, script: thenAnswer({ kind: 'http', status: 500 }) }], retries);
      const run = await runSdk(ingress, h.sluice, model);
      assertSuccess(run, ingress, text);
      assert.equal(h.up(0).calls.length, 2, 'the route was called again');
      const { row, record } = await h.settled(run.requestId);
      assertSettlement(row, record, { outcome: 'ok', status: 200, errorCode: null, route: 0, attempts: 2, usage: answered });
    });

    test(`retried on the same route: connection cut, then an in-band error, then success ${label}: a normal answer, 3 attempts`, async (t) => {
      const h = await faultHarness(t, [{ dialect, script: thenAnswer({ kind: 'cut', after: 0 }, { kind: 'in-band-error', after: 0 }) }], retries);
      const run = await runSdk(ingress, h.sluice, model);
      assertSuccess(run, ingress, text);
      assert.equal(h.up(0).calls.length, 3);
      await assertReleased(h.up(0), 1, run.endedAt, 'the attempt with the in-band error');
      const { row, record } = await h.settled(run.requestId);
      assertSettlement(row, record, { outcome: 'ok', status: 200, errorCode: null, route: 0, attempts: 3, usage: answered });
    });

    test(`retried on the same route: HTTP 429 with retry-after: 1, then success ${label}: Sluice waits at least 1 s, then a normal answer`, async (t) => {
      const h = await faultHarness(t, [{ dialect, script: thenAnswer({ kind: 'http', status: 429, headers: { 'retry-after': '1' } }) }], retries);
      const run = await runSdk(ingress, h.sluice, model);
      assertSuccess(run, ingress, text);
      const [first, second] = h.up(0).calls;
      assert.ok(first && second, 'the route was called again');
      // Timer granularity aside, the wait honours the upstream's retry-after, not max_backoff (200 ms).
      assert.ok(second.receivedAt - first.receivedAt >= 990, `waited ${second.receivedAt - first.receivedAt} ms before the retry`);
      const { row, record } = await h.settled(run.requestId);
      assertSettlement(row, record, { outcome: 'ok', status: 200, errorCode: null, route: 0, attempts: 2, usage: answered });
    });

    test(`retried on the same route until max_attempts: HTTP 500 every time ${label}: a real 500 after 3 calls`, async (t) => {
      const h = await faultHarness(t, [{ dialect, script: always({ kind: 'http', status: 500 }) }], retries);
      const run = await runSdk(ingress, h.sluice, model);
      assertHttpFailure(run, ingress, { status: 500, openAiCode: 'upstream_http_error', openAiType: dialect === 'openai' ? 'server_error' : 'api_error', anthropicType: 'api_error' });
      assert.equal(h.up(0).calls.length, 3, 'max_attempts calls');
      const { row, record } = await h.settled(run.requestId);
      assertSettlement(row, record, { outcome: 'upstream_error', status: 500, errorCode: 'upstream_http_error', route: 0, attempts: 3, usage: { kind: 'none' } });
    });
  }
}
