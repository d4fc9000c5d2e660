/**
 * Sluice in front of fault upstreams (fault-upstream.ts) for the fault-injection suite: one public
 * model `m`, priced like the ledger tests (USD per 1M tokens: input 3, output 15), whose routes are
 * tried in order, each route a fault upstream of either dialect or a refused port. Everything is
 * closed after the test; requests are looked up by the x-request-id the client got, both as the
 * usage-ledger row and as the request record (which also holds `attempts` and the route).
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { RequestRecord } from '../../src/gateway/request-record.js';
import type { UsageRow } from '../../src/storage/types.js';
import { always, refusedBaseUrl, startFaultUpstream, type Dialect, type Fault, type FaultScript, type FaultUpstream, type FaultUpstreamOptions } from './fault-upstream.js';
import { priceYaml, rowOf } from './ledger.js';
import { clientKey, startSluice, type TestSluice } from './sluice.js';

/** The public model every fault test asks for. */
export const model = 'm';

export interface RouteSpec {
  dialect: Dialect;
  /** The upstream's behaviour; 'refused' routes to a port nothing listens on. */
  script: FaultScript | 'refused';
  /** The provider's `timeouts:` block, e.g. `{first_token: 300ms, idle: 300ms}`. */
  timeouts?: string;
  options?: FaultUpstreamOptions;
}

export interface FaultHarness {
  sluice: TestSluice;
  /** Per route, in order: its upstream (undefined for a refused route). */
  upstreams: (FaultUpstream | undefined)[];
  /** The upstream of route `i`. */
  up(i: number): FaultUpstream;
  /** The ledger row and the request record of a request, by the x-request-id its client got. */
  settled(requestId: string | null): Promise<{ row: UsageRow; record: RequestRecord }>;
}

/** A route spec whose upstream answers every call with `fault`. */
export const route = (dialect: Dialect, fault: Fault | 'refused', timeouts?: string): RouteSpec => ({
  dialect,
  script: fault === 'refused' ? 'refused' : always(fault),
  ...(timeouts === undefined ? {} : { timeouts }),
});

/** Starts the routes' upstreams and Sluice (memory store unless `extraYaml` sets `store:`). */
export async function faultHarness(t: TestContext, routes: RouteSpec[], extraYaml = ''): Promise<FaultHarness> {
  const upstreams: (FaultUpstream | undefined)[] = [];
  const providers: string[] = [];
  for (const [i, spec] of routes.entries()) {
    let baseUrl: string;
    if (spec.script === 'refused') {
      upstreams.push(undefined);
      baseUrl = await refusedBaseUrl(spec.dialect);
    } else {
      const upstream = await startFaultUpstream(spec.dialect, spec.script, spec.options);
      t.after(() => upstream.close());
      upstreams.push(upstream);
      baseUrl = upstream.baseUrl;
    }
    const timeouts = spec.timeouts === undefined ? '' : `    timeouts: ${spec.timeouts}\n`;
    providers.push(`  r${i}:\n    kind: ${spec.dialect}\n    base_url: ${baseUrl}\n    api_key: sk-upstream-${i}\n${timeouts}`);
  }
  const routeList = routes.map((_, i) => `r${i}/up-${i}`).join(', ');
  const yaml = `host: 127.0.0.1\nport: 0\nproviders:\n${providers.join('')}models:\n  ${model}:\n    routes: [${routeList}]\n    price: ${priceYaml}\nkeys:\n  - name: test\n    key: ${clientKey}\n${extraYaml}`;
  const sluice = await startSluice(yaml);
  t.after(() => sluice.close(0));
  return {
    sluice,
    upstreams,
    up: (i) => {
      const upstream = upstreams[i];
      assert.ok(upstream, `route ${i} has an upstream`);
      return upstream;
    },
    settled: async (requestId) => {
      const row = rowOf(await rowsWith(sluice, requestId), requestId);
      const record = sluice.records.find((r) => r.requestId === requestId);
      assert.ok(record, `a request record for ${String(requestId)}`);
      return { row, record };
    },
  };
}

/** The ledger's rows once they include this request's (the writer flushes in batches). */
async function rowsWith(sluice: TestSluice, requestId: string | null): Promise<UsageRow[]> {
  const store = sluice.gateway.store;
  assert.ok(store, 'the gateway has a store');
  const deadline = Date.now() + 5000;
  for (;;) {
    const rows = await store.ledger.query({}, 10_000);
    if (rows.some((r) => r.requestId === requestId) || Date.now() > deadline) return rows;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves 'ok' when `promise` settles within `ms`, else 'timeout'. */
export async function within(promise: Promise<unknown>, ms: number): Promise<'ok' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([promise.then(() => 'ok' as const), new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)))]);
  clearTimeout(timer);
  return result;
}

/** Asserts that a call to an upstream let go of its connection within `ms` (default 1 s) of `since`. */
export async function assertReleased(upstream: FaultUpstream, index: number, since: number, what: string, ms = 1000): Promise<void> {
  const call = upstream.calls[index];
  assert.ok(call, `${what}: the upstream got call ${index}`);
  const left = Math.max(0, ms - (Date.now() - since));
  assert.equal(await within(call.released, left), 'ok', `${what}: the upstream connection of call ${index} is still held ${Date.now() - since} ms later`);
}

/** Asserts that the socket of an upstream call closed within `ms` (default 1 s) of `since`. */
export async function assertClosed(upstream: FaultUpstream, index: number, since: number, what: string, ms = 1000): Promise<void> {
  const call = upstream.calls[index];
  assert.ok(call, `${what}: the upstream got call ${index}`);
  const left = Math.max(0, ms - (Date.now() - since));
  assert.equal(await within(call.closed, left), 'ok', `${what}: the upstream connection of call ${index} is still open ${Date.now() - since} ms later`);
}
