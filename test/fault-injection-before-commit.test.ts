/**
 * Issue 5, part 3: upstream faults before the commit point (the first token), driven from both
 * ingress protocols with the official SDKs, against OpenAI and Anthropic upstreams.
 *
 * Each fault is run twice. With a healthy second route the failover is invisible: the client gets
 * a normal, whole answer from route 2; the ledger row says ok with route 2's usage and the record 2
 * attempts. With one route the client gets a real HTTP status and an error body in its own
 * protocol (the SDK throws the status class, never a connection error, since Sluice answered);
 * the row says upstream_error with that status and code, and costs nothing: a failed request
 * with no output is not billed even when the upstream had reported the prompt (README, billing
 * policy). Either way the failed upstream's connection is let go within 1 s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSdk, ingresses } from './support/fault-clients.js';
import { assertHttpFailure, assertInStreamFailure, assertSettlement, assertSuccess, type ExpectedUsage, type HttpFailure } from './support/fault-expect.js';
import { assertClosed, assertReleased, faultHarness, model, route, type RouteSpec } from './support/fault-harness.js';
import type { Answer, Dialect, Fault, FaultUpstream } from './support/fault-upstream.js';

const dialects: Dialect[] = ['openai', 'anthropic'];
const secondAnswer: Answer = { pieces: ['Fine', ' from', ' route', ' two'], usage: { input: 30, output: 4 } };
const timeouts = '{first_token: 300ms, idle: 300ms}';
const maxEvent = 'streaming:\n  max_event_size: 64KiB\n';
/**
 * One-route cases are about how a failure is reported, so the route is tried once: same-route
 * retries (config `retries:`) have tests of their own (fault-injection-retries.test.ts).
 */
const oneAttempt = 'retries:\n  max_attempts: 1\n';

interface BeforeCommitCase {
  name: string;
  fault: Fault | 'refused';
  /** Upstream dialects the fault applies to. */
  dialects: Dialect[];
  /** Also run as a non-stream request. */
  unary: boolean;
  extraYaml?: string;
  /** The one-route answer, per upstream dialect. */
  failure: (dialect: Dialect) => HttpFailure & { code: string };
}

/** Sluice's own failures: OpenAI clients see `upstream_error` / `timeout_error`, Anthropic clients the type of the status. */
const sluiceFailure = (status: number, code: string): HttpFailure & { code: string } => ({
  status,
  code,
  openAiCode: code,
  openAiType: status === 504 ? 'timeout_error' : 'upstream_error',
  anthropicType: status === 504 ? 'timeout_error' : 'api_error',
});

const cases: BeforeCommitCase[] = [
  { name: 'connection refused', fault: 'refused', dialects, unary: true, failure: () => sluiceFailure(502, 'upstream_unreachable') },
  {
    name: 'HTTP 500',
    fault: { kind: 'http', status: 500 },
    dialects,
    unary: true,
    // The upstream's status and error type are kept; an OpenAI client gets Sluice's code when the upstream gave none.
    failure: (d) => ({ status: 500, code: 'upstream_http_error', openAiCode: 'upstream_http_error', openAiType: d === 'openai' ? 'server_error' : 'api_error', anthropicType: 'api_error' }),
  },
  {
    name: 'HTTP 429 with retry-after',
    fault: { kind: 'http', status: 429, headers: { 'retry-after': '7' } },
    dialects,
    unary: true,
    failure: (d) => ({
      status: 429, code: 'upstream_http_error', retryAfter: '7',
      openAiCode: d === 'openai' ? 'rate_limit_exceeded' : 'upstream_http_error', openAiType: d === 'openai' ? 'requests' : 'rate_limit_error', anthropicType: 'rate_limit_error',
    }),
  },
  {
    name: 'HTTP 529 overloaded_error',
    fault: { kind: 'http', status: 529 },
    dialects: ['anthropic'],
    unary: true,
    failure: () => ({ status: 529, code: 'upstream_http_error', openAiCode: 'upstream_http_error', openAiType: 'overloaded_error', anthropicType: 'overloaded_error' }),
  },
  {
    // OpenAI: data: {"error":...} in a 200 stream. Anthropic: 529 overloaded_error after HTTP 200,
    // which reaches the client as the 529 it stands for (its SDK retries that).
    name: 'in-band error after HTTP 200',
    fault: { kind: 'in-band-error', after: 0 },
    dialects,
    unary: false,
    failure: (d) => ({
      status: d === 'anthropic' ? 529 : 502, code: 'upstream_stream_error', openAiCode: 'upstream_stream_error',
      openAiType: d === 'openai' ? 'server_error' : 'overloaded_error', anthropicType: d === 'openai' ? 'api_error' : 'overloaded_error',
    }),
  },
  { name: 'connection cut', fault: { kind: 'cut', after: 0 }, dialects, unary: true, failure: () => sluiceFailure(502, 'upstream_unreachable') },
  { name: 'malformed JSON line', fault: { kind: 'malformed', after: 0 }, dialects, unary: false, failure: () => sluiceFailure(502, 'upstream_protocol_error') },
  {
    name: 'event over max_event_size',
    fault: { kind: 'oversized', after: 0, bytes: 100 * 1024 },
    dialects,
    unary: false,
    extraYaml: maxEvent,
    failure: () => sluiceFailure(502, 'upstream_protocol_error'),
  },
  {
    name: 'first token slower than timeouts.first_token',
    fault: { kind: 'answer', firstTokenDelayMs: 3000 },
    dialects,
    unary: true,
    failure: () => sluiceFailure(504, 'upstream_timeout'),
  },
];

/** The failed attempt's usage: the prompt as an Anthropic stream reported it in message_start before failing, else none. */
function usageOfFailure(c: BeforeCommitCase, dialect: Dialect, stream: boolean): ExpectedUsage {
  const streamFault = c.fault !== 'refused' && c.fault.kind !== 'http';
  if (dialect === 'anthropic' && stream && streamFault) return { kind: 'reported', tokens: { input: 40, cacheRead: 0, cacheWrite: 0, output: 0 } };
  return { kind: 'none' };
}

function faultRoute(c: BeforeCommitCase, dialect: Dialect): RouteSpec {
  return route(dialect, c.fault, timeouts);
}

/**
 * The failed route's connection is let go within 1 s: an HTTP error body is complete (its
 * connection may stay in Sluice's keep-alive pool); after any other fault the upstream holds its
 * connection open, so Sluice must close it.
 */
async function assertLetGo(fault: Fault, upstream: FaultUpstream, since: number): Promise<void> {
  if (fault.kind === 'http') await assertReleased(upstream, 0, since, 'the failed route');
  else await assertClosed(upstream, 0, since, 'the failed route');
}

for (const c of cases) {
  for (const dialect of c.dialects) {
    for (const ingress of ingresses) {
      for (const stream of c.unary ? [true, false] : [true]) {
        const mode = stream ? 'helper' : 'unary';
        const label = `${c.name} (${ingress} client, ${dialect} upstream, ${stream ? 'stream' : 'non-stream'})`;

        test(`before commit, two routes: ${label}: invisible failover to route 2`, async (t) => {
          const h = await faultHarness(t, [faultRoute(c, dialect), { ...route(dialect, { kind: 'answer' }), options: { answer: secondAnswer } }], c.extraYaml);
          const run = await runSdk(ingress, h.sluice, model, { mode });
          assertSuccess(run, ingress, secondAnswer.pieces.join(''), stream);
          const { row, record } = await h.settled(run.requestId);
          assertSettlement(row, record, {
            outcome: 'ok', status: 200, errorCode: null, route: 1, attempts: 2,
            usage: { kind: 'reported', tokens: { input: 30, cacheRead: 0, cacheWrite: 0, output: 4 } },
          });
          if (c.fault !== 'refused') {
            assert.equal(h.up(0).calls.length, 1, 'route 1 was tried once');
            await assertLetGo(c.fault, h.up(0), run.endedAt);
          }
          assert.equal(h.up(1).calls.length, 1);
        });

        test(`before commit, one route: ${label}: a real HTTP status in the client's protocol`, async (t) => {
          const h = await faultHarness(t, [faultRoute(c, dialect)], oneAttempt + (c.extraYaml ?? ''));
          const run = await runSdk(ingress, h.sluice, model, { mode });
          const failure = c.failure(dialect);
          assertHttpFailure(run, ingress, failure);
          const { row, record } = await h.settled(run.requestId);
          assertSettlement(row, record, {
            outcome: 'upstream_error', status: failure.status, errorCode: failure.code, route: 0, attempts: 1, usage: usageOfFailure(c, dialect, stream),
          });
          if (c.fault !== 'refused') await assertLetGo(c.fault, h.up(0), run.endedAt);
        });
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The head already went out (first_byte_deadline) when the failure came
// ---------------------------------------------------------------------------------------------

const earlyHead = 'streaming:\n  first_byte_deadline: 100ms\n';

for (const dialect of dialects) {
  for (const ingress of ingresses) {
    test(`before commit, head already sent at first_byte_deadline (${ingress} client, ${dialect} upstream): failover is still invisible`, async (t) => {
      // The preamble at once, the in-band error only after the head went out.
      const h = await faultHarness(t, [route(dialect, { kind: 'in-band-error', after: 0, delayMs: 400 }), { ...route(dialect, { kind: 'answer' }), options: { answer: secondAnswer } }], earlyHead);
      const run = await runSdk(ingress, h.sluice, model);
      assertSuccess(run, ingress, secondAnswer.pieces.join(''));
      assert.ok(/^: |^event: ping/m.test(run.raw), 'keep-alives went out while the first route was slow');
      const { row, record } = await h.settled(run.requestId);
      assertSettlement(row, record, { outcome: 'ok', status: 200, errorCode: null, route: 1, attempts: 2, usage: { kind: 'reported', tokens: { input: 30, cacheRead: 0, cacheWrite: 0, output: 4 } } });
      await assertClosed(h.up(0), 0, run.endedAt, 'the failed route');
    });

    test(`before commit, head already sent at first_byte_deadline, one route (${ingress} client, ${dialect} upstream): an in-stream error with no content, never [DONE] / message_stop`, async (t) => {
      const h = await faultHarness(t, [route(dialect, { kind: 'in-band-error', after: 0, delayMs: 400 })], earlyHead + oneAttempt);
      const run = await runSdk(ingress, h.sluice, model);
      const { type } = assertInStreamFailure(run, ingress, '');
      assert.equal(type, dialect === 'anthropic' ? 'overloaded_error' : ingress === 'openai' ? 'server_error' : 'api_error');
      const { row, record } = await h.settled(run.requestId);
      assertSettlement(row, record, {
        outcome: 'upstream_error', status: dialect === 'anthropic' ? 529 : 502, errorCode: 'upstream_stream_error', route: 0, attempts: 1,
        usage: dialect === 'anthropic' ? { kind: 'reported', tokens: { input: 40, cacheRead: 0, cacheWrite: 0, output: 0 } } : { kind: 'none' },
      });
      await assertClosed(h.up(0), 0, run.endedAt, 'the failed route');
    });
  }
}
