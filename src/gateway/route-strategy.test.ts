import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RouteStats } from './route-stats.js';
import { orderRoutes } from './route-strategy.js';
import { fakeRoute, sequence } from './test-support/routing-fakes.js';

const labels = (routes: { label: string }[]) => routes.map((r) => r.label);
const a = fakeRoute('p/a', { weight: 1 });
const b = fakeRoute('p/b', { weight: 3 });
const c = fakeRoute('p/c', { weight: 0 });

test('fallback: the config order', () => {
  assert.deepEqual(labels(orderRoutes('fallback', [a, b, c], new RouteStats(), Math.random)), ['p/a', 'p/b', 'p/c']);
});

test('weighted: each pick in proportion to weight among those left; weight 0 last', () => {
  const stats = new RouteStats();
  // Total weight 4: [0, 1) is a, [1, 4) is b. Then only a is left among the weighted.
  assert.deepEqual(labels(orderRoutes('weighted', [a, b, c], stats, sequence(0.2, 0))), ['p/a', 'p/b', 'p/c']);
  assert.deepEqual(labels(orderRoutes('weighted', [a, b, c], stats, sequence(0.3, 0))), ['p/b', 'p/a', 'p/c']);
  assert.deepEqual(labels(orderRoutes('weighted', [a, b, c], stats, sequence(0.999, 0.999))), ['p/b', 'p/a', 'p/c']);
});

test('weighted: the first pick spreads like the weights (deterministic sweep of the random source)', () => {
  const firsts = new Map<string, number>();
  const steps = 1000;
  for (let i = 0; i < steps; i++) {
    const first = orderRoutes('weighted', [a, b], new RouteStats(), sequence(i / steps, 0.5))[0]?.label ?? '';
    firsts.set(first, (firsts.get(first) ?? 0) + 1);
  }
  assert.equal(firsts.get('p/a'), 250);
  assert.equal(firsts.get('p/b'), 750);
});

test('least_in_flight: fewest attempts in flight on this instance first; ties keep the config order', () => {
  const stats = new RouteStats();
  stats.started('p/a');
  stats.started('p/a');
  stats.started('p/b');
  assert.deepEqual(labels(orderRoutes('least_in_flight', [a, b, c], stats, Math.random)), ['p/c', 'p/b', 'p/a']);
  stats.ended('p/a');
  stats.ended('p/a');
  assert.deepEqual(labels(orderRoutes('least_in_flight', [a, b, c], stats, Math.random)), ['p/a', 'p/c', 'p/b']);
});

test('lowest_latency: routes never measured first, then by smoothed time to first token', () => {
  const stats = new RouteStats();
  stats.recordTtft('p/a', 300);
  stats.recordTtft('p/b', 100);
  assert.deepEqual(labels(orderRoutes('lowest_latency', [a, b, c], stats, Math.random)), ['p/c', 'p/b', 'p/a']);
  stats.recordTtft('p/c', 200);
  assert.deepEqual(labels(orderRoutes('lowest_latency', [a, b, c], stats, Math.random)), ['p/b', 'p/c', 'p/a']);
});

test('lowest_latency: a route tried that never answered goes last, until it answers once', () => {
  const stats = new RouteStats();
  stats.recordFailure('p/a');
  stats.recordTtft('p/b', 100);
  assert.deepEqual(labels(orderRoutes('lowest_latency', [a, b, c], stats, Math.random)), ['p/c', 'p/b', 'p/a']);
  stats.recordFailure('p/b');
  assert.deepEqual(labels(orderRoutes('lowest_latency', [a, b, c], stats, Math.random)), ['p/c', 'p/b', 'p/a'], 'a measured route keeps its latency');
  stats.recordTtft('p/a', 50);
  assert.deepEqual(labels(orderRoutes('lowest_latency', [a, b, c], stats, Math.random)), ['p/c', 'p/a', 'p/b']);
});

test('latency is an exponentially weighted moving average: one slow answer moves it, it does not replace it', () => {
  const stats = new RouteStats(0.3);
  assert.equal(stats.latency('p/a'), undefined);
  stats.recordTtft('p/a', 100);
  assert.equal(stats.latency('p/a'), 100);
  stats.recordTtft('p/a', 1100);
  assert.equal(stats.latency('p/a'), 400);
  stats.ended('p/a');
  assert.equal(stats.inFlight('p/a'), 0, 'never negative');
});
