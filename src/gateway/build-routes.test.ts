import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../config/load-config.js';
import type { Provider } from '../providers/provider.js';
import { addModels, healthSettings, retrySettings } from './build-routes.js';
import { RouteTable } from './route-table.js';
import { createRouting } from './routing.js';

const yaml = `
providers:
  p:
    kind: openai
    base_url: http://127.0.0.1:9/v1
    timeouts: { connect: 5s, first_token: 60s, idle: 30s }
models:
  m:
    strategy: weighted
    routes:
      - p/plain
      - route: p/tuned
        weight: 3
        rpm: 500
        tpm: 200000
        timeouts: { connect: 2s, total: 10m }
      - route: p/tuned-too
        timeouts: { connect: 2s }
  n:
    routes: [p/other, p/tuned]
retries:
  max_attempts: 2
  initial_backoff: 50ms
health:
  failure_threshold: 5
  cooldown: 10s
`;

test('routes carry their label, weight, quotas and effective timeouts; the model its strategy', async (t) => {
  const config = parseConfigText(yaml, 'test.yaml', {});
  const providers = new Map<string, Provider>();
  t.after(() => Promise.all([...providers.values()].map((p) => p.close())));
  const table = new RouteTable();
  const routing = createRouting();
  addModels(table, config, { providers, routing });

  const m = table.resolve('m');
  assert.equal(m.strategy, 'weighted');
  assert.equal(m.routing, routing);
  assert.equal(table.resolve('n').strategy, 'fallback');
  const [plain, tuned, tunedToo] = m.routes;
  assert.ok(plain && tuned && tunedToo);
  assert.deepEqual(
    { label: plain.label, model: plain.upstreamModel, weight: plain.weight, quota: plain.quota, timeouts: plain.timeouts },
    { label: 'p/plain', model: 'plain', weight: 1, quota: { rpm: undefined, tpm: undefined }, timeouts: { connectMs: 5000, firstTokenMs: 60_000, idleMs: 30_000, totalMs: 0 } },
  );
  assert.deepEqual(
    { weight: tuned.weight, quota: tuned.quota, timeouts: tuned.timeouts },
    { weight: 3, quota: { rpm: 500, tpm: 200_000 }, timeouts: { connectMs: 2000, firstTokenMs: 60_000, idleMs: 30_000, totalMs: 600_000 } },
  );
  // The connect timeout belongs to the connection pool: an override gets a pool of its own,
  // shared by the routes with the same override.
  assert.equal(plain.provider, table.resolve('n').routes[0]?.provider);
  assert.notEqual(tuned.provider, plain.provider);
  assert.equal(tunedToo.provider, tuned.provider);
  assert.equal(tuned.provider.timeouts.connectMs, 2000);
  assert.equal(providers.size, 2);
  // Model n names p/tuned plainly: it shares the deployment's quota, so it reserves against it too.
  assert.deepEqual(table.resolve('n').routes[1]?.quota, { rpm: 500, tpm: 200_000 });
});

test('retries and health settings come from their config sections', () => {
  const config = parseConfigText(yaml, 'test.yaml', {});
  assert.deepEqual(retrySettings(config.retries), { maxAttempts: 2, initialBackoffMs: 50, maxBackoffMs: 8000, maxRetryAfterMs: 60_000, deadlineMs: 120_000 });
  assert.deepEqual(healthSettings(config.health), { failureThreshold: 5, cooldownMs: 10_000, maxCooldownMs: 300_000 });
});

test('config errors for routes and the new sections name the key', () => {
  const bad = (text: string) => {
    try {
      parseConfigText(text, 'test.yaml', {});
    } catch (error) {
      return String((error as Error).message);
    }
    return 'no error';
  };
  const base = 'providers:\n  p:\n    kind: openai\n    base_url: http://x/v1\nmodels:\n  m:\n';
  assert.match(bad(`${base}    routes:\n      - route: p/x\n        wieght: 2\n`), /models\.m\.routes\[0\]\.wieght: unknown key "wieght"/);
  assert.match(bad(`${base}    routes:\n      - route: p/x\n        timeouts: { total: fast }\n`), /models\.m\.routes\[0\]\.timeouts\.total: expected a duration/);
  assert.match(bad(`${base}    routes:\n      - route: q/x\n`), /models\.m\.routes\[0\]\.route: route "q\/x" names provider "q"/);
  assert.match(bad(`${base}    strategy: random\n    routes: [p/x]\n`), /expected one of: fallback, weighted, least_in_flight, lowest_latency/);
  assert.match(bad(`${base}    routes: [p/x]\nretries:\n  initial_backoff: 2s\n  max_backoff: 1s\n`), /max_backoff must not be below initial_backoff/);
  assert.match(bad(`${base}    routes: [p/x]\nhealth:\n  cooldown: 10m\n`), /max_cooldown must not be below cooldown/);
});
