import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../core/gateway-error.js';
import type { UsageFilter, UsageGroupBy, UsageSummary } from '../storage/types.js';
import { buildUsageReport, parseUsageQuery } from './usage-report.js';

const q = (query: string) => parseUsageQuery(new URLSearchParams(query));

function badParam(name: string) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.status, 400);
    assert.equal(error.param, name);
    assert.match(error.message, new RegExp(`'${name}'`));
    return true;
  };
}

test('query parameters: dates, epoch ms, filters, group_by', () => {
  assert.deepEqual(q(''), { filter: {}, groupBy: undefined });
  assert.deepEqual(q('from=2026-11-01&to=2026-11-30&key=team-a&model=gpt-4o&group_by=day'), {
    filter: { from: Date.parse('2026-11-01T00:00:00Z'), to: Date.parse('2026-12-01T00:00:00Z'), keyName: 'team-a', model: 'gpt-4o' },
    groupBy: 'day',
  });
  assert.deepEqual(q('from=1763700000000&to=2026-11-21T10:30:00%2B02:00').filter, { from: 1763700000000, to: Date.parse('2026-11-21T08:30:00Z') });
  assert.deepEqual(q('from=2026-11-21T10:30:00Z&group_by=').filter, { from: Date.parse('2026-11-21T10:30:00Z') });
});

test('a bad parameter is a 400 that names it', () => {
  assert.throws(() => q('group_by=week'), badParam('group_by'));
  assert.throws(() => q('from=yesterday'), badParam('from'));
  assert.throws(() => q('to=2026-02-30'), badParam('to'));
  assert.throws(() => q('from=2026-11-21T10:00:00'), badParam('from')); // no zone
  assert.throws(() => q('from=2026-11-22&to=2026-11-21'), badParam('to'));
  assert.throws(() => q('groupby=day'), badParam('groupby'));
  assert.throws(() => q('key=a&key=b'), badParam('key'));
});

const line = (group: string, requests: number, costNanoUsd: number): UsageSummary => ({
  group, requests, inputTokens: requests * 100, cacheReadTokens: requests * 10, cacheWriteTokens: 0, outputTokens: requests * 5, reasoningTokens: 1, costNanoUsd,
});

test('totals are summed exactly and shown in USD; groups only when asked', async () => {
  const asked: { filter: UsageFilter; groupBy: UsageGroupBy }[] = [];
  const ledger = {
    summarize: async (filter: UsageFilter, groupBy: UsageGroupBy) => {
      asked.push({ filter, groupBy });
      return [line('gpt-4o', 2, 4_500_000_000_000_001), line('haiku', 1, 4_500_000_000_000_000)];
    },
  };
  const report = await buildUsageReport(ledger, q('from=2026-11-01&model=gpt-4o'));
  assert.deepEqual(report.totals, {
    requests: 3, input_tokens: 300, cache_read_tokens: 30, cache_write_tokens: 0, output_tokens: 15, reasoning_tokens: 2,
    cost_usd: '9000000.000000001', cost_nano_usd: 9_000_000_000_000_001,
  });
  assert.equal(report.groups, undefined);
  assert.equal(report.from, '2026-11-01T00:00:00.000Z');
  assert.equal(report.to, null);
  assert.equal(report.model, 'gpt-4o');
  assert.deepEqual(asked[0]?.filter, { from: Date.parse('2026-11-01T00:00:00Z'), model: 'gpt-4o' });

  const grouped = await buildUsageReport(ledger, q('group_by=key'));
  assert.equal(asked[1]?.groupBy, 'key');
  assert.deepEqual(grouped.groups?.map((g) => [g.group, g.requests, g.cost_usd]), [['gpt-4o', 2, '4500000.000000001'], ['haiku', 1, '4500000.00']]);
});
