import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store, UsageFilter, UsageGroupBy, UsageLedger, UsageSummary } from '../storage/types.js';
import { runUsage } from './usage.js';

const summary = (group: string, requests: number, costNanoUsd: number): UsageSummary => ({
  group, requests, inputTokens: 1_234_567 * requests, cacheReadTokens: 1000, cacheWriteTokens: 0, outputTokens: 42 * requests, reasoningTokens: 0, costNanoUsd,
});

function fakeStore(asked: { filter: UsageFilter; groupBy: UsageGroupBy; url?: string }[]): (url: string) => Promise<Store> {
  return async (url) => {
    const ledger: UsageLedger = {
      insert: async () => {},
      query: async () => [],
      spentSince: async () => 0,
      summarize: async (filter, groupBy) => {
        asked.push({ filter, groupBy, url });
        return [summary('2026-11-20', 2, 1_500_000), summary('2026-11-21', 1, 150_000_000)];
      },
    };
    const store: Store = {
      kind: 'memory',
      keys: { create: async () => {}, update: async () => undefined, get: async () => undefined, getByName: async () => undefined, list: async () => [], changedSince: async () => [] },
      ledger,
      migrate: async () => {},
      close: async () => {},
    };
    return store;
  };
}

function run(argv: string[], asked: { filter: UsageFilter; groupBy: UsageGroupBy; url?: string }[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-usage-'));
  const config = join(dir, 'sluice.yaml');
  writeFileSync(config, `store: sqlite:${join(dir, 'x.db')}\n`);
  let out = '';
  let err = '';
  const code = runUsage({
    argv: [...argv, '--config', config], env: {}, stdout: (s) => void (out += s), stderr: (s) => void (err += s), openStore: fakeStore(asked),
  });
  return code.then((c) => ({ code: c, out, err, dir }));
}

test('sluice usage prints a table with groups and the total in USD', async () => {
  const asked: { filter: UsageFilter; groupBy: UsageGroupBy; url?: string }[] = [];
  const { code, out, err, dir } = await run(['--from', '2026-11-20', '--to', '2026-11-21', '--key', 'team-a', '--group-by', 'day'], asked);
  assert.equal(err, '');
  assert.equal(code, 0);
  assert.deepEqual(asked, [{
    filter: { from: Date.parse('2026-11-20T00:00:00Z'), to: Date.parse('2026-11-22T00:00:00Z'), keyName: 'team-a' }, groupBy: 'day', url: `sqlite:${join(dir, 'x.db')}`,
  }]);
  const lines = out.split('\n');
  assert.match(lines[0] ?? '', /^Usage from 2026-11-20T00:00:00.000Z, to 2026-11-22T00:00:00.000Z, key team-a$/);
  assert.match(lines[2] ?? '', /^DAY\s+REQUESTS\s+INPUT\s+CACHE READ\s+CACHE WRITE\s+OUTPUT\s+REASONING\s+COST \(USD\)$/);
  assert.match(lines[3] ?? '', /^2026-11-20\s+2\s+2,469,134\s+1,000\s+0\s+84\s+0\s+0.0015$/);
  assert.match(lines[5] ?? '', /^TOTAL\s+3\s+3,703,701\s+2,000\s+0\s+126\s+0\s+0.1515$/);
  assert.match(lines[4] ?? '', /\s0.1500$/);
});

test('sluice usage --json is the admin API report', async () => {
  const { code, out } = await run(['--json', '--model', 'gpt-4o']);
  assert.equal(code, 0);
  const report = JSON.parse(out) as { model: string; group_by: null; totals: { cost_usd: string; requests: number }; groups?: unknown };
  assert.equal(report.model, 'gpt-4o');
  assert.equal(report.group_by, null);
  assert.deepEqual([report.totals.requests, report.totals.cost_usd], [3, '0.1515']);
  assert.equal(report.groups, undefined);
});

test('a bad flag value names the flag and exits 2 without opening the store', async () => {
  const asked: { filter: UsageFilter; groupBy: UsageGroupBy }[] = [];
  const bad = await run(['--group-by', 'week'], asked);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /Invalid value for --group-by: expected one of day, model, key/);
  const date = await run(['--from', 'last tuesday'], asked);
  assert.equal(date.code, 2);
  assert.match(date.err, /--from/);
  assert.equal((await run(['--frm', 'x'], asked)).code, 2);
  assert.equal(asked.length, 0);
});
