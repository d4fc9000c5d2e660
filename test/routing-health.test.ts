/**
 * Route health and selection, end to end with the official SDKs: the circuit breaker skipping a
 * failing route and probing it after its cooldown, the refusal (429/503 with Retry-After) when
 * every route is cooling down, the strategies, and per-route timeouts (a route's first_token, the
 * total limit ending a committed stream with an in-stream error).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ask, errorType } from './support/routing-clients.js';
import { answerText, sluiceFor, startRoutingUpstream, type Protocol } from './support/routing-upstream.js';
import { eventually, type TestSluice } from './support/sluice.js';
import { sleep } from './support/scripted-upstream.js';

const protocols: Protocol[] = ['openai', 'anthropic'];

async function record(sluice: TestSluice, count: number) {
  await eventually(() => sluice.records.length === count, 3000, `${count} records`);
  const found = sluice.records[count - 1];
  assert.ok(found);
  return found;
}

for (const protocol of protocols) {
  test(`${protocol} client: the breaker opens after failure_threshold failures, the route is skipped, then probed after the cooldown`, async (t) => {
    const a = await startRoutingUpstream(t, protocol, 'a');
    const b = await startRoutingUpstream(t, protocol, 'b');
    a.acts.push({ status: 500 }, { status: 500 });
    const sluice = await sluiceFor(t, protocol, [a, b], { extra: 'health:\n  failure_threshold: 2\n  cooldown: 1s\n' });
    for (let i = 1; i <= 2; i++) {
      assert.equal((await ask(sluice, protocol, { stream: true })).text, answerText('b'));
      assert.equal(a.calls, i, `request ${i} tried route A first`);
    }
    const skipped = await ask(sluice, protocol, { stream: true });
    assert.equal(skipped.text, answerText('b'));
    assert.equal(a.calls, 2, 'route A is cooling down: skipped');
    assert.equal((await record(sluice, 3)).attempts, 1, 'a skipped route counts no attempt');

    await sleep(1100);
    const probed = await ask(sluice, protocol, { stream: false });
    assert.equal(probed.text, answerText('a'), 'the half-open probe went to route A, which has recovered');
    assert.equal((await record(sluice, 4)).route, 'r0/up-0');
    assert.equal((await ask(sluice, protocol, { stream: true })).text, answerText('a'), 'closed again');
  });

  test(`${protocol} client: every route cooling down after failures beyond the deadline: 503 with Retry-After, no upstream call`, async (t) => {
    const a = await startRoutingUpstream(t, protocol, 'a');
    a.acts.push({ status: 500 });
    const extra = 'retries:\n  max_attempts: 1\nhealth:\n  failure_threshold: 1\n  cooldown: 3m\n';
    const sluice = await sluiceFor(t, protocol, [a], { extra });
    assert.equal((await ask(sluice, protocol, { stream: true })).status, 500);
    const refused = await ask(sluice, protocol, { stream: true });
    assert.equal(refused.status, 503);
    assert.equal(refused.header('retry-after'), '60', 'the SDKs ignore more than 60 s');
    assert.equal(refused.header('retry-after-ms'), '60000');
    assert.match(String((refused.error as Error).message), /cooling down after failures/);
    assert.equal(a.calls, 1);
    const row = await record(sluice, 2);
    assert.equal(row.attempts, 0);
    assert.equal(row.status, 503);
  });

  test(`${protocol} client: every route cooling down after a 429: a 429 (rate limit type) with the time left, no upstream call`, async (t) => {
    const a = await startRoutingUpstream(t, protocol, 'a');
    a.acts.push({ status: 429, headers: { 'retry-after': '5' } });
    const sluice = await sluiceFor(t, protocol, [a], { extra: 'retries:\n  max_attempts: 1\n' });
    const first = await ask(sluice, protocol, { stream: false });
    assert.equal(first.status, 429);
    assert.equal(first.header('retry-after'), '5', "the upstream's own retry-after is forwarded");
    const refused = await ask(sluice, protocol, { stream: true });
    assert.equal(refused.status, 429);
    assert.equal(errorType(refused), protocol === 'openai' ? 'requests' : 'rate_limit_error', "each protocol's own rate-limit type");
    const seconds = Number(refused.header('retry-after'));
    const ms = Number(refused.header('retry-after-ms'));
    assert.ok(seconds >= 1 && seconds <= 5, `retry-after ${seconds}`);
    assert.ok(ms > 0 && ms <= 5000, `retry-after-ms ${ms}`);
    assert.equal(a.calls, 1);
  });

  test(`${protocol} client: the total timeout ends a committed stream with an in-stream error and closes the upstream`, async (t) => {
    const a = await startRoutingUpstream(t, protocol, 'a');
    const b = await startRoutingUpstream(t, protocol, 'b');
    a.acts.push({ trickleEveryMs: 100 });
    const routes = ['      - route: r0/up-0\n        timeouts: { total: 700ms }\n', '      - r1/up-1\n'];
    const sluice = await sluiceFor(t, protocol, [a, b], { routes });
    const asked = await ask(sluice, protocol, { stream: true });
    assert.ok(asked.text.startsWith('tick '), `content before the timeout: ${JSON.stringify(asked.text)}`);
    assert.ok(asked.error instanceof Error, 'the SDK throws: never a clean end');
    assert.equal(asked.status, undefined, 'an in-stream error, after the 200');
    assert.match(asked.error.message, /did not finish within 700 ms/);
    assert.equal(b.calls, 0, 'no fallback after the commit point');
    await a.upstream.requests[0]?.closed;
    const row = await record(sluice, 1);
    assert.equal(row.outcome, 'upstream_error');
    assert.equal(row.errorCode, 'upstream_timeout');
    assert.equal(row.attempts, 1);
  });
}

test("a route's own first_token timeout overrides its provider's: the slow route is given up on, the next answers", async (t) => {
  const a = await startRoutingUpstream(t, 'openai', 'a');
  const b = await startRoutingUpstream(t, 'openai', 'b');
  a.acts.push({ status: 500, delayMs: 3000 });
  const routes = ['      - route: r0/up-0\n        timeouts: { first_token: 300ms }\n', '      - r1/up-1\n'];
  const sluice = await sluiceFor(t, 'openai', [a, b], { routes });
  const asked = await ask(sluice, 'openai', { stream: false });
  assert.equal(asked.text, answerText('b'));
  assert.ok(asked.ms < 2500, `gave up on route A after 300 ms (took ${asked.ms} ms)`);
  assert.equal((await record(sluice, 1)).attempts, 2);
});

test('weighted: requests spread by weight (1 : 3), every route used', async (t) => {
  const a = await startRoutingUpstream(t, 'openai', 'a');
  const b = await startRoutingUpstream(t, 'openai', 'b');
  const routes = ['      - route: r0/up-0\n        weight: 1\n', '      - route: r1/up-1\n        weight: 3\n'];
  const sluice = await sluiceFor(t, 'openai', [a, b], { routes, strategy: 'weighted' });
  for (let i = 0; i < 60; i++) assert.equal((await ask(sluice, 'openai', { stream: false })).error, undefined);
  // Binomial(60, 1/4) for route A: below 3 or above 27 has a chance under 1e-4.
  assert.equal(a.calls + b.calls, 60, 'one attempt each');
  assert.ok(a.calls >= 3 && a.calls <= 27, `route A got ${a.calls} of 60`);
  assert.ok(b.calls > a.calls, `route B (weight 3) got ${b.calls}`);
});

test('least_in_flight: while a stream holds route A, the next request goes to route B', async (t) => {
  const a = await startRoutingUpstream(t, 'openai', 'a');
  const b = await startRoutingUpstream(t, 'openai', 'b');
  a.acts.push({ trickleEveryMs: 50 });
  const sluice = await sluiceFor(t, 'openai', [a, b], { strategy: 'least_in_flight' });
  const controller = new AbortController();
  const held = ask(sluice, 'openai', { stream: true, signal: controller.signal });
  await eventually(() => a.calls === 1, 3000, 'the first stream on route A');
  const second = await ask(sluice, 'openai', { stream: false });
  assert.equal(second.text, answerText('b'));
  controller.abort();
  await held;
  await eventually(() => sluice.records.length === 2, 3000, 'two records');
  // Once A is free again, ties go to the config order.
  assert.equal((await ask(sluice, 'openai', { stream: false })).text, answerText('a'));
});
