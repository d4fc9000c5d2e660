import assert from 'node:assert/strict';
import { test } from 'node:test';
import { performance } from 'node:perf_hooks';
import { GatewayError } from '../core/gateway-error.js';
import { runAttempts, type AttemptEnd } from './attempt-loop.js';
import type { RelayResult } from './attempt-result.js';
import { defaultHealthSettings, type HealthSettings } from './route-health.js';
import type { RouteQuota } from './route-quota.js';
import type { ModelEntry, Route } from './route-table.js';
import { defaultRetrySettings, type RetrySettings } from './retry-policy.js';
import { createRouting, type Routing } from './routing.js';
import { FakeClock, MemorySink, fakeExchange, fakeRoute } from './test-support/routing-fakes.js';

/** What a scripted attempt does: answer, fail before the commit point, or fail after it. */
type Act = 'ok' | number | GatewayError | { committed: GatewayError };

interface World {
  clock: FakeClock;
  routing: Routing;
  model: ModelEntry;
  calls: string[];
  /** One request; `script(label, callIndex)` decides each attempt. */
  request(script: (label: string, call: number) => Act, sink?: MemorySink): Promise<{ result: RelayResult; sink: MemorySink }>;
}

interface WorldOptions {
  routes?: Route[];
  retries?: Partial<RetrySettings>;
  health?: Partial<HealthSettings>;
  quota?: RouteQuota;
  strategy?: ModelEntry['strategy'];
  /** Routes that cannot express the request: their plan is refused with this error. */
  unsuitable?: Map<string, GatewayError>;
}

function world(options: WorldOptions = {}): World {
  const clock = new FakeClock();
  const routing = createRouting({
    retries: { ...defaultRetrySettings, ...options.retries },
    health: { ...defaultHealthSettings, ...options.health },
    quota: options.quota,
    clock,
    random: () => 0.5,
  });
  const model: ModelEntry = { name: 'm', routes: options.routes ?? [fakeRoute('p/a'), fakeRoute('p/b')], strategy: options.strategy, routing };
  const calls: string[] = [];
  return {
    clock,
    routing,
    model,
    calls,
    async request(script, sink = new MemorySink()) {
      const result = await runAttempts({
        exchange: fakeExchange(10, 0, async (route) => {
          const refused = options.unsuitable?.get(route.label);
          if (refused !== undefined) throw refused;
          return plan;
        }),
        model,
        sink,
        startedAt: performance.now(),
        attempt: async (route, _plan, hooks, attemptResult): Promise<AttemptEnd> => {
          calls.push(route.label);
          const act = script(route.label, calls.length);
          if (act === 'ok') {
            hooks.firstToken();
            attemptResult.usage = { input: 30, cacheRead: 0, cacheWrite: 0, output: 12, reasoning: 0, source: 'reported' };
            sink.sendJson(200, '{"ok":true}');
            return { kind: 'done' };
          }
          if (typeof act === 'number') return { kind: 'failed', error: httpError(act, route.label), committed: false };
          if (act instanceof GatewayError) return { kind: 'failed', error: act, committed: false };
          hooks.firstToken();
          return { kind: 'failed', error: act.committed, committed: true };
        },
      });
      return { result, sink };
    },
  };
}

function httpError(status: number, route: string, retryAfter?: string): GatewayError {
  return new GatewayError('upstream_http_error', `Upstream ${route} returned HTTP ${status}: boom`, { status, route, retryAfter });
}

const single = () => [fakeRoute('p/a')];
const plan = await fakeExchange().plan(fakeRoute('p/a'));

test('500 then success on a single route: retried after a jittered backoff, two attempts', async () => {
  const w = world({ routes: single() });
  const { result, sink } = await w.request((_, n) => (n === 1 ? 500 : 'ok'));
  assert.equal(result.outcome, 'ok');
  assert.equal(result.attempts, 2);
  assert.equal(sink.status, 200);
  assert.deepEqual(w.clock.sleeps, [100], 'half of initial_backoff (random 0.5)');
});

test('a failure on one route moves to the next at once; the failed one is retried only after its backoff', async () => {
  const w = world();
  const { result } = await w.request((label, n) => (label === 'p/a' || n === 2 ? 503 : 'ok'));
  assert.deepEqual(w.calls, ['p/a', 'p/b', 'p/a', 'p/b']);
  assert.equal(result.outcome, 'ok');
  assert.equal(result.route?.label, 'p/b');
  assert.deepEqual(w.clock.sleeps, [100], 'one wait, for the first retry');
});

test('429 with retry-after 1: waited at least the retry-after, then success (the retry is the breaker probe)', async () => {
  const w = world({ routes: single() });
  const { result } = await w.request((label, n) => (n === 1 ? httpError(429, label, '1') : 'ok'));
  assert.equal(result.outcome, 'ok');
  assert.equal(result.attempts, 2);
  assert.deepEqual(w.clock.sleeps, [1000]);
  assert.equal(w.routing.health.describe('p/a'), undefined, 'the probe closed the breaker');
});

test('retry-after over max_retry_after: that route is not waited for, the next one is tried at once', async () => {
  const w = world();
  const { result } = await w.request((label) => (label === 'p/a' ? httpError(429, label, '120') : 'ok'));
  assert.deepEqual(w.calls, ['p/a', 'p/b']);
  assert.deepEqual(w.clock.sleeps, []);
  assert.equal(result.outcome, 'ok');
  // ...and with no other route, the client hears the 429 (its SDK may wait) rather than Sluice waiting 2 minutes.
  const alone = world({ routes: single() });
  const { sink } = await alone.request((label) => httpError(429, label, '120'));
  assert.deepEqual(alone.calls, ['p/a']);
  assert.equal(sink.status, 429);
  // The SDKs ignore a Retry-After over 60 s: clamped, so they do wait.
  assert.equal(sink.headers['retry-after'], '60');
  assert.equal(sink.headers['retry-after-ms'], '60000');
});

test("an upstream 429 without retry-after reaches the client with the route's cooldown as Retry-After", async () => {
  const w = world({ routes: single(), retries: { maxAttempts: 1 }, health: { cooldownMs: 20_000 } });
  const { sink } = await w.request(() => 429);
  assert.equal(sink.status, 429);
  assert.equal(sink.headers['retry-after'], '20');
  assert.equal(sink.headers['retry-after-ms'], '20000');
  // No breaker, no hint at all: a default, never no header.
  const off = world({ routes: single(), retries: { maxAttempts: 1 }, health: { failureThreshold: 0 } });
  const bare = await off.request(() => 429);
  assert.equal(bare.sink.status, 429);
  assert.equal(bare.sink.headers['retry-after'], '1');
  assert.equal(bare.sink.headers['retry-after-ms'], '1000');
  // A 503 gets one too; a 500 does not (the SDKs retry it with their own backoff).
  const unavailable = await off.request(() => 503);
  assert.equal(unavailable.sink.headers['retry-after'], '1');
  const broken = await off.request(() => 500);
  assert.equal(broken.sink.headers['retry-after'], undefined);
});

test('a route that cannot express the request is passed over: the others are tried and retried', async () => {
  const refused = new GatewayError('invalid_request', 'p/b cannot express response_format json_object', { param: 'response_format' });
  const w = world({ unsuitable: new Map([['p/b', refused]]) });
  const { result, sink } = await w.request((_, n) => (n === 1 ? 500 : 'ok'));
  assert.deepEqual(w.calls, ['p/a', 'p/a'], 'p/b never called; p/a retried after its backoff');
  assert.equal(result.outcome, 'ok');
  assert.equal(result.attempts, 2);
  assert.equal(sink.status, 200);
  for (let i = 0; i < 3; i++) await w.request(() => 'ok');
  assert.equal(w.routing.health.describe('p/b'), undefined, 'no penalty for p/b, however often it is passed over');
  // p/a failing for good: the client hears p/a's failure, not p/b's 400.
  const failing = world({ unsuitable: new Map([['p/b', refused]]), retries: { maxAttempts: 2 }, health: { failureThreshold: 0 } });
  const failed = await failing.request(() => 500);
  assert.equal(failed.sink.status, 500);
  assert.equal(failed.result.attempts, 2);
  assert.equal(failed.result.outcome, 'upstream_error');
});

test('no route can express the request: 400 with the reason, no upstream call, recorded as rejected', async () => {
  const refused = new GatewayError('invalid_request', 'cannot express response_format json_object', { param: 'response_format' });
  const w = world({ unsuitable: new Map([['p/a', refused], ['p/b', refused]]), health: { failureThreshold: 1 } });
  const { result, sink } = await w.request(() => 'ok');
  assert.deepEqual(w.calls, []);
  assert.equal(sink.status, 400);
  assert.equal(JSON.parse(sink.body).error.param, 'response_format');
  assert.equal(result.attempts, 0);
  assert.equal(result.outcome, 'rejected');
});

test('an in-band error with no route left gets the status it stands for, in the client protocol', async () => {
  const inBand = (fields: { upstreamCode?: string; upstreamType?: string }) => (label: string) =>
    new GatewayError('upstream_stream_error', `Upstream ${label} reported an error: x`, { route: label, ...fields });
  const cases: [{ upstreamCode?: string; upstreamType?: string }, number][] = [
    [{ upstreamCode: '400', upstreamType: 'BadRequestError' }, 400],
    [{ upstreamCode: '413' }, 413],
    [{ upstreamType: 'invalid_request_error' }, 400],
    [{ upstreamType: 'rate_limit_error' }, 429],
    [{ upstreamType: 'overloaded_error' }, 529],
    [{ upstreamType: 'server_error' }, 502],
  ];
  for (const [fields, status] of cases) {
    const w = world({ routes: single(), retries: { maxAttempts: 1 } });
    const { sink } = await w.request(inBand(fields));
    assert.equal(sink.status, status, JSON.stringify(fields));
    assert.equal(JSON.parse(sink.body).error.code, fields.upstreamCode ?? 'upstream_stream_error');
    if (status === 429 || status === 529) assert.match(sink.headers['retry-after'] ?? '', /^\d+$/, 'a retry status carries Retry-After');
  }
});

test('400, 413, 422 are never retried, on no route: the client gets the upstream status', async () => {
  for (const status of [400, 413, 422]) {
    const w = world();
    const { result, sink } = await w.request(() => status);
    assert.deepEqual(w.calls, ['p/a'], String(status));
    assert.equal(sink.status, status);
    assert.equal(result.status, status);
    assert.match(JSON.parse(sink.body).error.message, /boom/);
  }
});

test('401 on route A: route B is used, A is not tried again in this request', async () => {
  const w = world();
  const { result } = await w.request((label, n) => (label === 'p/a' ? 401 : n === 2 ? 500 : 'ok'));
  assert.deepEqual(w.calls, ['p/a', 'p/b', 'p/b']);
  assert.equal(result.outcome, 'ok');
});

test("a route's 401/403/404 is not the client's fault: alone, it reaches the client as a 502 quoting the upstream", async () => {
  for (const status of [401, 403, 404]) {
    const w = world({ routes: single() });
    const { sink } = await w.request(() => status);
    assert.deepEqual(w.calls, ['p/a']);
    assert.equal(sink.status, 502, String(status));
    const error = JSON.parse(sink.body).error;
    assert.match(error.message, new RegExp(`HTTP ${status}`));
    assert.equal(error.code, 'upstream_http_error');
  }
});

test('the attempt budget bounds upstream calls across all routes', async () => {
  const w = world({ retries: { maxAttempts: 3 }, health: { failureThreshold: 0 } });
  const { result, sink } = await w.request(() => 500);
  assert.deepEqual(w.calls, ['p/a', 'p/b', 'p/a']);
  assert.equal(result.attempts, 3);
  assert.equal(sink.status, 500);
  assert.equal(
    JSON.parse(sink.body).error.message,
    "All 3 attempts for model 'm' failed: Upstream p/a returned HTTP 500: boom; Upstream p/b returned HTTP 500: boom; Upstream p/a returned HTTP 500: boom",
  );
});

test('repeated failures of one route are counted in the message, not repeated', async () => {
  const w = world({ routes: single(), health: { failureThreshold: 0 } });
  const { sink } = await w.request(() => 500);
  assert.equal(JSON.parse(sink.body).error.message, "All 4 attempts for model 'm' failed: Upstream p/a returned HTTP 500: boom (x4)");
});

test('the deadline: no attempt starts after it, and no wait reaches past it', async () => {
  const w = world({ routes: single(), retries: { deadlineMs: 1000, initialBackoffMs: 5000, maxBackoffMs: 5000 } });
  const { result } = await w.request(() => 500);
  assert.deepEqual(w.calls, ['p/a'], 'a 2.5 s backoff would end after the 1 s deadline');
  assert.equal(result.status, 500);
  const late = world({ routes: single(), retries: { deadlineMs: 1000 } });
  late.clock.onSleep = () => late.clock.advance(2000);
  await late.request(() => 500);
  assert.deepEqual(late.calls, ['p/a'], 'the backoff ran past the deadline: no further attempt');
});

test('a client disconnect during a backoff sleep stops everything', async () => {
  const w = world({ routes: single() });
  const sink = new MemorySink();
  w.clock.onSleep = () => sink.controller.abort();
  const { result } = await w.request(() => 500, sink);
  assert.deepEqual(w.calls, ['p/a']);
  assert.equal(result.outcome, 'client_aborted');
  assert.equal(result.status, 499);
  assert.equal(sink.status, undefined, 'nothing is sent to a client that left');
});

test('after the commit point nothing is retried; the failure counts against the route', async () => {
  const w = world({ health: { failureThreshold: 1 } });
  const cut = new GatewayError('upstream_incomplete', 'cut', { route: 'p/a' });
  const { result } = await w.request(() => ({ committed: cut }));
  assert.deepEqual(w.calls, ['p/a']);
  assert.equal(result.error, cut);
  assert.equal(w.routing.health.describe('p/a')?.reason, 'failing');
});

test('breaker: after failure_threshold failures the route is skipped (no attempt counted), then probed after the cooldown', async () => {
  const w = world({ health: { failureThreshold: 2, cooldownMs: 30_000 } });
  const aFails = (label: string) => (label === 'p/a' ? 500 : 'ok');
  await w.request(aFails);
  await w.request(aFails);
  assert.deepEqual(w.calls, ['p/a', 'p/b', 'p/a', 'p/b']);
  const skipped = await w.request(aFails);
  assert.deepEqual(w.calls.slice(4), ['p/b'], 'p/a is cooling down: skipped');
  assert.equal(skipped.result.attempts, 1);
  w.clock.advance(30_000);
  await w.request(() => 'ok');
  assert.deepEqual(w.calls.slice(5), ['p/a'], 'the half-open probe');
  assert.equal(w.routing.health.describe('p/a'), undefined, 'closed again');
});

test('every route cooling after failures: the soonest is probed early while its cooldown ends before the deadline, then 503', async () => {
  const w = world({ routes: single(), health: { failureThreshold: 1, cooldownMs: 30_000, maxCooldownMs: 300_000 } });
  const statuses: (number | undefined)[] = [];
  for (let i = 0; i < 5; i++) statuses.push((await w.request(() => 500)).sink.status);
  // Cooldowns 30 s, 60 s, 120 s: each ends within the 120 s deadline; 240 s does not.
  assert.deepEqual(w.calls, ['p/a', 'p/a', 'p/a', 'p/a']);
  assert.deepEqual(statuses, [500, 500, 500, 500, 503]);
  const refused = await w.request(() => 500);
  assert.equal(refused.sink.status, 503);
  assert.equal(refused.result.attempts, 0);
  assert.equal(refused.sink.headers['retry-after'], '60');
  assert.equal(refused.sink.headers['retry-after-ms'], '60000');
  assert.match(JSON.parse(refused.sink.body).error.message, /cooling down after failures.*HTTP 500/);
});

test('every route cooling after a 429: 429 with the time left as Retry-After, no upstream call', async () => {
  const w = world({ routes: single(), retries: { maxAttempts: 1 } });
  await w.request((label) => httpError(429, label, '5'));
  w.clock.advance(1500);
  const { result, sink } = await w.request(() => 'ok');
  assert.deepEqual(w.calls, ['p/a']);
  assert.equal(result.attempts, 0);
  assert.equal(result.outcome, 'rejected', 'refused without an upstream call');
  assert.equal(sink.status, 429);
  assert.equal(sink.headers['retry-after'], '4');
  assert.equal(sink.headers['retry-after-ms'], '3500');
  assert.deepEqual([JSON.parse(sink.body).error.type, JSON.parse(sink.body).error.code], ['requests', 'rate_limit_exceeded']);
});

test('a route being probed after a 429 refuses other requests with 429, not 503', async () => {
  const w = world({ routes: single(), retries: { maxAttempts: 1 } });
  await w.request((label) => httpError(429, label, '5'));
  w.clock.advance(5000);
  assert.deepEqual(w.routing.health.admit('p/a'), { ok: true, probe: true }, 'another request holds the probe');
  const { result, sink } = await w.request(() => 'ok');
  assert.equal(result.attempts, 0);
  assert.equal(sink.status, 429);
  assert.equal(sink.headers['retry-after'], '1');
});

test('route quotas: an over-quota route is skipped like a cooling one; settled with the tokens really used', async () => {
  const taken: { route: string; tokens: number }[] = [];
  const settled: number[] = [];
  let full = new Set(['p/a']);
  const quota: RouteQuota = {
    take: async (route, tokens) => {
      taken.push({ route, tokens });
      return full.has(route) ? { ok: false, retryAfterMs: 2500 } : { ok: true, settle: (actual) => void settled.push(actual) };
    },
  };
  const w = world({ routes: [fakeRoute('p/a'), fakeRoute('p/b', { tpm: 100_000 })], quota });
  const { result } = await w.request(() => 'ok');
  assert.deepEqual(w.calls, ['p/b']);
  assert.equal(result.attempts, 1);
  // No tpm on p/a: not charged (no tokenizer run). p/b: the prompt estimate (10) + default output.
  assert.deepEqual(taken, [{ route: 'p/a', tokens: 0 }, { route: 'p/b', tokens: 10 + 4096 }]);
  assert.deepEqual(settled, [42], 'input + output of the attempt');

  full = new Set(['p/a', 'p/b']);
  const refused = await w.request(() => 'ok');
  assert.equal(refused.sink.status, 429);
  assert.equal(refused.sink.headers['retry-after'], '3');
  assert.equal(refused.result.attempts, 0);
});

test('a failed attempt settles its quota with nothing used', async () => {
  const settled: number[] = [];
  const quota: RouteQuota = { take: async () => ({ ok: true, settle: (actual) => void settled.push(actual) }) };
  const w = world({ routes: single(), quota, retries: { maxAttempts: 2 } });
  await w.request((_, n) => (n === 1 ? 500 : 'ok'));
  assert.deepEqual(settled, [0, 42]);
});

test('in-flight counts go up during an attempt and back down after; time to first token is recorded', async () => {
  const w = world({ routes: single() });
  let during = -1;
  await w.request(() => {
    during = w.routing.stats.inFlight('p/a');
    return 'ok';
  });
  assert.equal(during, 1);
  assert.equal(w.routing.stats.inFlight('p/a'), 0);
  assert.equal(typeof w.routing.stats.latency('p/a'), 'number');
});

test('lowest_latency: a route that failed before it was ever measured is tried last by the next requests', async () => {
  const w = world({ strategy: 'lowest_latency' });
  await w.request((label) => (label === 'p/a' ? 500 : 'ok'));
  await w.request((label) => (label === 'p/a' ? 500 : 'ok'));
  assert.deepEqual(w.calls, ['p/a', 'p/b', 'p/b']);
});

test('quotas that cannot be checked fail the request with their error, and free the probe it held', async () => {
  const down = new GatewayError('internal_error', 'limits unavailable');
  let failing = false;
  const quota: RouteQuota = { take: async () => (failing ? Promise.reject(down) : { ok: true, settle: () => {} }) };
  const w = world({ routes: single(), quota, retries: { maxAttempts: 1 }, health: { failureThreshold: 1, cooldownMs: 1000 } });
  await w.request(() => 500);
  w.clock.advance(1000);
  failing = true;
  await assert.rejects(w.request(() => 'ok'), (error) => error === down);
  assert.deepEqual(w.calls, ['p/a'], 'no upstream call');
  failing = false;
  await w.request(() => 'ok');
  assert.deepEqual(w.calls, ['p/a', 'p/a'], 'the next request got the probe');
});
