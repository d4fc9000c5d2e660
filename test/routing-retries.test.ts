/**
 * Retries before the commit point, end to end: the official OpenAI and Anthropic SDKs (their own
 * retries off) -> Sluice -> scripted upstreams of the same protocol. What is retried, how long
 * Sluice waits, what is never retried, the attempt budget, the deadline, and a client leaving
 * during a wait. The ledger row (attempts = real upstream calls) is checked each time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ask, errorType } from './support/routing-clients.js';
import { answerText, sluiceFor, startRoutingUpstream, type Protocol } from './support/routing-upstream.js';
import { eventually, type TestSluice } from './support/sluice.js';
import { sleep } from './support/scripted-upstream.js';

const protocols: Protocol[] = ['openai', 'anthropic'];

async function lastRecord(sluice: TestSluice, count: number) {
  await eventually(() => sluice.records.length === count, 3000, `${count} records`);
  const record = sluice.records[count - 1];
  assert.ok(record);
  return record;
}

for (const protocol of protocols) {
  for (const stream of [true, false]) {
    const how = `${protocol} client, ${stream ? 'stream' : 'non-stream'}`;

    test(`${how}: HTTP 500 then success on a single route: retried, the client sees success, attempts = 2`, async (t) => {
      const a = await startRoutingUpstream(t, protocol, 'a');
      a.acts.push({ status: 500 });
      const sluice = await sluiceFor(t, protocol, [a]);
      const asked = await ask(sluice, protocol, { stream });
      assert.equal(asked.error, undefined, String(asked.error));
      assert.equal(asked.text, answerText('a'));
      assert.equal(a.calls, 2);
      const record = await lastRecord(sluice, 1);
      assert.equal(record.outcome, 'ok');
      assert.equal(record.attempts, 2);
      assert.equal(record.route, 'r0/up-0');
      assert.ok(record.usage !== undefined && record.usage.input === 10, 'the usage of the attempt that answered');
    });
  }

  test(`${protocol} client: 429 with retry-after 1 is honoured (waited >= 1 s), then success`, async (t) => {
    const a = await startRoutingUpstream(t, protocol, 'a');
    a.acts.push({ status: 429, headers: { 'retry-after': '1' } });
    const sluice = await sluiceFor(t, protocol, [a]);
    const asked = await ask(sluice, protocol, { stream: true });
    assert.equal(asked.text, answerText('a'));
    assert.ok(asked.ms >= 1000, `waited ${asked.ms} ms`);
    assert.equal(a.calls, 2);
    assert.equal((await lastRecord(sluice, 1)).attempts, 2);
  });

  test(`${protocol} client: retry-after-ms is honoured too`, async (t) => {
    const a = await startRoutingUpstream(t, protocol, 'a');
    a.acts.push({ status: 503, headers: { 'retry-after-ms': '600' } });
    const sluice = await sluiceFor(t, protocol, [a]);
    const asked = await ask(sluice, protocol, { stream: false });
    assert.equal(asked.text, answerText('a'));
    assert.ok(asked.ms >= 600, `waited ${asked.ms} ms`);
  });

  test(`${protocol} client: 429 with retry-after 120 moves to the next route at once`, async (t) => {
    const a = await startRoutingUpstream(t, protocol, 'a');
    const b = await startRoutingUpstream(t, protocol, 'b');
    a.acts.push({ status: 429, headers: { 'retry-after': '120' } });
    const sluice = await sluiceFor(t, protocol, [a, b]);
    const asked = await ask(sluice, protocol, { stream: true });
    assert.equal(asked.text, answerText('b'));
    assert.ok(asked.ms < 5000, `no wait for the 120 s (took ${asked.ms} ms)`);
    assert.equal(a.calls, 1);
    assert.equal(b.calls, 1);
    const record = await lastRecord(sluice, 1);
    assert.equal(record.attempts, 2);
    assert.equal(record.route, 'r1/up-1');
  });

  test(`${protocol} client: upstream 400 is not retried on any route; the client gets 400 in its protocol`, async (t) => {
    const a = await startRoutingUpstream(t, protocol, 'a');
    const b = await startRoutingUpstream(t, protocol, 'b');
    a.acts.push({ status: 400 });
    const sluice = await sluiceFor(t, protocol, [a, b]);
    const asked = await ask(sluice, protocol, { stream: true });
    assert.equal(asked.status, 400);
    assert.equal(errorType(asked), 'invalid_request_error', "the upstream's own error type");
    assert.match(String((asked.error as Error).message), /scripted 400/);
    assert.equal(a.calls, 1);
    assert.equal(b.calls, 0);
    const record = await lastRecord(sluice, 1);
    assert.equal(record.attempts, 1);
    assert.equal(record.status, 400);
    assert.equal(record.outcome, 'upstream_error');
  });

  test(`${protocol} client: 401 on route A (Sluice's provider key): route B answers, A is not retried`, async (t) => {
    const a = await startRoutingUpstream(t, protocol, 'a');
    const b = await startRoutingUpstream(t, protocol, 'b');
    a.acts.push({ status: 401 }, { status: 401 });
    b.acts.push({ status: 500 });
    const sluice = await sluiceFor(t, protocol, [a, b]);
    const asked = await ask(sluice, protocol, { stream: false });
    assert.equal(asked.text, answerText('b'));
    assert.equal(a.calls, 1, 'A was tried once, although B failed once and attempts were left');
    assert.equal(b.calls, 2);
    assert.equal((await lastRecord(sluice, 1)).attempts, 3);
  });

  test(`${protocol} client: 401 on the only route is not the client's fault: 502 quoting the upstream, not 401`, async (t) => {
    const a = await startRoutingUpstream(t, protocol, 'a');
    a.acts.push({ status: 401 });
    const sluice = await sluiceFor(t, protocol, [a]);
    const asked = await ask(sluice, protocol, { stream: true });
    assert.equal(asked.status, 502);
    assert.match(String((asked.error as Error).message), /r0\/up-0 returned HTTP 401/);
    assert.equal(a.calls, 1);
  });
}

test('the attempt budget: max_attempts 3 over two failing routes is three upstream calls', async (t) => {
  const a = await startRoutingUpstream(t, 'openai', 'a');
  const b = await startRoutingUpstream(t, 'openai', 'b');
  a.acts.push({ status: 500 }, { status: 500 }, { status: 500 });
  b.acts.push({ status: 502 }, { status: 502 }, { status: 502 });
  const sluice = await sluiceFor(t, 'openai', [a, b], { extra: 'retries:\n  max_attempts: 3\n  initial_backoff: 10ms\n' });
  const asked = await ask(sluice, 'openai', { stream: true });
  // Both routes, then whichever's backoff ended first: the client hears that last failure.
  assert.ok(asked.status === 500 || asked.status === 502, `status ${asked.status}`);
  assert.equal(a.calls + b.calls, 3);
  assert.ok(a.calls >= 1 && b.calls >= 1);
  const record = await lastRecord(sluice, 1);
  assert.equal(record.attempts, 3);
  assert.equal(record.outcome, 'upstream_error');
  assert.match(record.errorMessage ?? '', /^All 3 attempts for model 'm' failed/);
});

test('the deadline: no attempt starts after it (an upstream slow to fail uses it up)', async (t) => {
  const a = await startRoutingUpstream(t, 'anthropic', 'a');
  const b = await startRoutingUpstream(t, 'anthropic', 'b');
  a.acts.push({ status: 503, delayMs: 700 });
  const sluice = await sluiceFor(t, 'anthropic', [a, b], { extra: 'retries:\n  deadline: 500ms\n' });
  const asked = await ask(sluice, 'anthropic', { stream: false });
  assert.equal(asked.status, 503);
  assert.equal(a.calls, 1);
  assert.equal(b.calls, 0, 'route B would have answered, but the deadline had passed');
  assert.equal((await lastRecord(sluice, 1)).attempts, 1);
});

for (const protocol of protocols) {
  test(`${protocol} client: a client disconnect during a backoff wait stops everything; no further upstream call`, async (t) => {
    const a = await startRoutingUpstream(t, protocol, 'a');
    a.acts.push({ status: 503, headers: { 'retry-after': '2' } });
    const sluice = await sluiceFor(t, protocol, [a]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const asked = await ask(sluice, protocol, { stream: true, signal: controller.signal });
    assert.ok(asked.error !== undefined, 'the client gave up');
    assert.equal(a.calls, 1);
    const record = await lastRecord(sluice, 1);
    assert.equal(record.outcome, 'client_aborted');
    assert.equal(record.attempts, 1);
    await sleep(2200);
    assert.equal(a.calls, 1, 'nothing was sent upstream after the wait would have ended');
  });
}
