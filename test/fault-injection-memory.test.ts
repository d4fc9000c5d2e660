/**
 * Issue 5, part 3: after many faults, Sluice's memory and handles are back to their baseline.
 *
 * Each test runs one fault many times through real Sluices (one in front of an OpenAI upstream,
 * one in front of an Anthropic upstream), alternating the OpenAI and the Anthropic SDK, 8 at a
 * time. A warm-up of the same traffic comes first (JIT code, pooled connections, the tokenizer,
 * the SQLite writer), then the baseline: heapUsed after forced full collections
 * (support/fault-memory.ts), and the process's active sockets and timers. After `runs` more
 * faults, measured the same way, the heap may not have grown by more than `maxGrowth`, and no
 * socket or timer may be left behind beyond what the keep-alive pools hold.
 *
 * Why 1 MiB for 160 faults: a request kept alive by a leak holds at least its request and
 * response objects, their listeners and buffers, ~8-16 KiB (measured: an upstream whose kept-alive
 * socket held a listener per call grew by ~16 KiB a request), so 160 leaking requests exceed
 * 1 MiB. A clean run grows by ~300-400 KiB over 160 requests after this warm-up, all of it V8's
 * optimised code, deopt data and feedback for the same paths (measured with heap snapshots:
 * nothing else grows), and that share shrinks as the warm-up gets longer. Smaller leaks that
 * pin a timer or a socket are caught by the handle counts instead.
 *
 * The ledger goes to SQLite in a temporary folder (written by its own thread, outside this heap)
 * so its rows do not count as growth; the test's own records of requests and upstream calls are
 * cleared before each measurement.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { runSdk, ingresses, type RunOptions, type SdkRun } from './support/fault-clients.js';
import { faultHarness, model, route, within, type FaultHarness, type RouteSpec } from './support/fault-harness.js';
import { defaultAnswer } from './support/fault-frames.js';
import { activeHandles, repeat, settledHeapUsed } from './support/fault-memory.js';
import type { Dialect } from './support/fault-upstream.js';
import { sleep } from './support/scripted-upstream.js';

const warmup = 160;
const runs = 160;
const concurrency = 8;
const maxGrowth = 1024 * 1024;
/** Sockets and timers the pools may hold beyond the baseline: at most one per concurrent request on each side. */
const handleSlack = 2 * concurrency;

interface Scenario {
  name: string;
  routes: (dialect: Dialect) => RouteSpec[];
  options?: RunOptions;
  extraYaml?: string;
  /** What each run must show, so that the fault is really exercised. */
  check: (run: SdkRun, dialect: Dialect) => void;
}

const fastFirstToken = '{first_token: 150ms}';
const fastIdle = '{first_token: 5s, idle: 150ms}';
const textBefore = defaultAnswer.pieces.slice(0, 2).join('');

function httpStatus(status: number): (run: SdkRun) => void {
  return (run) => {
    assert.equal(run.status, status, String(run.error));
    assert.ok(run.error instanceof OpenAI.APIError || run.error instanceof Anthropic.APIError, String(run.error));
  };
}

/** The stream broke after its first tokens: the SDK threw (an in-stream error) after `textBefore`. */
function brokenStream(run: SdkRun): void {
  assert.equal(run.status, 200);
  assert.equal(run.text, textBefore);
  assert.ok(run.error !== undefined, 'the SDK threw');
}

function leftEarly(run: SdkRun): void {
  assert.ok(run.left && (run.error instanceof OpenAI.APIUserAbortError || run.error instanceof Anthropic.APIUserAbortError), String(run.error));
}

const scenarios: Scenario[] = [
  {
    name: 'connection refused on route 1, failover to route 2',
    routes: (d) => [route(d, 'refused'), route(d, { kind: 'answer' })],
    check: (run) => assert.equal(run.text, defaultAnswer.pieces.join(''), String(run.error)),
  },
  { name: 'HTTP 500, one route', routes: (d) => [route(d, { kind: 'http', status: 500 })], check: httpStatus(500) },
  // Anthropic's in-band overloaded_error reaches the client as the 529 it stands for.
  { name: 'in-band error before the first token, one route', routes: (d) => [route(d, { kind: 'in-band-error', after: 0 })], check: (run, d) => httpStatus(d === 'anthropic' ? 529 : 502)(run) },
  { name: 'first token slower than the timeout, one route', routes: (d) => [route(d, { kind: 'answer', firstTokenDelayMs: 5000 }, fastFirstToken)], check: httpStatus(504) },
  { name: 'connection cut after the first tokens', routes: (d) => [route(d, { kind: 'cut', after: 2 })], check: brokenStream },
  { name: 'stall after the first tokens (idle timeout)', routes: (d) => [route(d, { kind: 'stall', after: 2 }, fastIdle)], check: brokenStream },
  // The idle timeout bounds the Anthropic passthrough, which relays a malformed delta as it came (see the after-commit tests).
  { name: 'malformed JSON line after the first tokens', routes: (d) => [route(d, { kind: 'malformed', after: 2 }, fastIdle)], check: brokenStream },
  {
    name: 'event over max_event_size after the first tokens',
    routes: (d) => [route(d, { kind: 'oversized', after: 2, bytes: 80 * 1024 })],
    extraYaml: 'streaming:\n  max_event_size: 64KiB\n',
    check: brokenStream,
  },
  {
    name: 'client disconnects before the first token',
    routes: (d) => [route(d, { kind: 'answer', firstTokenDelayMs: 5000 })],
    options: { leave: { afterMs: 150 } },
    check: leftEarly,
  },
  {
    name: 'client disconnects mid-stream',
    routes: (d) => [route(d, { kind: 'stall', after: 2 })],
    options: { leave: { whenText: textBefore } },
    check: leftEarly,
  },
];

for (const scenario of scenarios) {
  test(`memory and handles back to baseline: ${scenario.name} x ${runs} (OpenAI and Anthropic clients, OpenAI and Anthropic upstreams)`, async (t) => {
    // One Sluice per upstream dialect; request i goes to dialect (i >> 1) % 2 from ingress i % 2.
    const harnesses = [await harnessWithSqlite(t, scenario, 'openai'), await harnessWithSqlite(t, scenario, 'anthropic')];
    let requests = 0;
    const dialects: Dialect[] = ['openai', 'anthropic'];
    const once = async (i: number): Promise<void> => {
      const h = harnesses[(i >> 1) % 2]!;
      const run = await runSdk(ingresses[i % 2]!, h.sluice, model, { recordRaw: false, ...scenario.options });
      scenario.check(run, dialects[(i >> 1) % 2]!);
      requests++;
    };

    await repeat(warmup, concurrency, once);
    await quiesce(harnesses, requests);
    requests = 0;
    const baseline = { heap: await settledHeapUsed(), handles: activeHandles() };

    await repeat(runs, concurrency, once);
    await quiesce(harnesses, requests);
    const heap = await settledHeapUsed();
    const handles = activeHandles();

    const growth = heap - baseline.heap;
    const kib = (n: number): string => `${Math.round(n / 1024)} KiB`;
    t.diagnostic(`heapUsed ${kib(baseline.heap)} -> ${kib(heap)} (${growth >= 0 ? '+' : ''}${kib(growth)}) after ${runs} faults`);
    assert.ok(growth < maxGrowth, `the heap grew by ${kib(growth)} over ${runs} faults (allowed: ${kib(maxGrowth)})`);
    for (const kind of ['TCPSocketWrap', 'Timeout']) {
      const before = baseline.handles.get(kind) ?? 0;
      const now = handles.get(kind) ?? 0;
      assert.ok(now <= before + handleSlack, `${kind}: ${before} at the baseline, ${now} after ${runs} faults`);
    }
    for (const upstream of harnesses.flatMap((h) => h.upstreams)) {
      if (upstream) assert.ok(upstream.openConnections() <= concurrency, `the upstream still has ${upstream.openConnections()} open connections`);
    }
  });
}

/**
 * Every request meets the fault: the breaker (config `health:`) would otherwise cool the route
 * down after a few failures and answer the rest itself, and a one-route request is tried once
 * (same-route retries would only multiply the same fault).
 */
const everyRequestFails = (routes: number): string => `health:\n  failure_threshold: 0\nretries:\n  max_attempts: ${routes}\n`;

async function harnessWithSqlite(t: TestContext, scenario: Scenario, dialect: Dialect): Promise<FaultHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-fault-memory-'));
  const routes = scenario.routes(dialect);
  const yaml = `store: sqlite:${join(dir, 'sluice.db')}\n${everyRequestFails(routes.length)}${scenario.extraYaml ?? ''}`;
  const removeDir = (): Promise<void> => rm(dir, { recursive: true, force: true });
  const h = await faultHarness(t, routes, yaml).catch(async (error: unknown) => {
    await removeDir();
    throw error;
  });
  // Registered after the harness's own clean-up, so it runs once Sluice has closed the database.
  t.after(removeDir);
  return h;
}

/**
 * Waits until the `requests` made since the last call are settled and every upstream call has let
 * go of its connection, so nothing in flight is measured, then drops what the test itself keeps
 * per request (its records, and the fetch timings undici adds to the performance timeline).
 */
async function quiesce(harnesses: FaultHarness[], requests: number): Promise<void> {
  const settled = (): number => harnesses.reduce((n, h) => n + h.sluice.records.length, 0);
  const deadline = Date.now() + 5000;
  while (settled() < requests && Date.now() < deadline) await sleep(10);
  assert.equal(settled(), requests, 'every request was settled');
  const upstreams = harnesses.flatMap((h) => h.upstreams).filter((u) => u !== undefined);
  const held = upstreams.flatMap((upstream) => upstream.calls.map((call) => call.released));
  assert.equal(await within(Promise.all(held), 2000), 'ok', 'every upstream call let go of its connection');
  // The ledger writer flushes every 200 ms.
  await sleep(300);
  for (const h of harnesses) h.sluice.records.length = 0;
  for (const upstream of upstreams) upstream.calls.length = 0;
  performance.clearResourceTimings();
}
