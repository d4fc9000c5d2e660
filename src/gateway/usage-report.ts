import { GatewayError } from '../core/gateway-error.js';
import type { UsageFilter, UsageGroupBy, UsageLedger, UsageSummary } from '../storage/types.js';
import { formatUsd } from './pricing.js';

/**
 * Usage reporting, shared by GET /admin/usage and `sluice usage`: the query's parameters, checked
 * (a bad one is a 400 that names it), and the ledger's summary with totals. Money stays integer
 * nano-USD until it is printed as an exact decimal string.
 */
export interface UsageQuery {
  filter: UsageFilter;
  groupBy: UsageGroupBy | undefined;
}

export interface UsageLine {
  requests: number;
  input_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
  /** Exact decimal USD, e.g. "0.00015" (trailing zeros trimmed, at least two decimals). */
  cost_usd: string;
  cost_nano_usd: number;
}

export interface UsageReport {
  object: 'usage_report';
  from: string | null;
  to: string | null;
  key: string | null;
  model: string | null;
  group_by: UsageGroupBy | null;
  totals: UsageLine;
  /** Present with group_by: one line per day (UTC), model or key name ('' for none). */
  groups?: Array<UsageLine & { group: string }>;
}

export const GROUP_BYS: readonly UsageGroupBy[] = ['day', 'model', 'key'];
const knownParams = ['from', 'to', 'key', 'model', 'group_by'];
const dayMs = 86_400_000;

/** Reads the query parameters of GET /admin/usage (and the CLI's flags, by the same names). */
export function parseUsageQuery(params: Iterable<[string, string]>): UsageQuery {
  const values = new Map<string, string>();
  for (const [name, value] of params) {
    if (!knownParams.includes(name)) throw badParam(name, `unknown parameter; expected ${knownParams.join(', ')}`);
    if (values.has(name)) throw badParam(name, 'given more than once');
    values.set(name, value);
  }
  const filter: UsageFilter = {};
  const from = values.get('from');
  const to = values.get('to');
  if (from !== undefined && from !== '') filter.from = parseInstant('from', from, false);
  if (to !== undefined && to !== '') filter.to = parseInstant('to', to, true);
  if (filter.from !== undefined && filter.to !== undefined && filter.from >= filter.to) throw badParam('to', 'must be after from');
  const key = values.get('key');
  if (key !== undefined && key !== '') filter.keyName = key;
  const model = values.get('model');
  if (model !== undefined && model !== '') filter.model = model;
  const groupBy = values.get('group_by');
  if (groupBy !== undefined && groupBy !== '' && !isGroupBy(groupBy)) throw badParam('group_by', `expected one of ${GROUP_BYS.join(', ')}`);
  return { filter, groupBy: groupBy === '' ? undefined : (groupBy as UsageGroupBy | undefined) };
}

function isGroupBy(value: string): value is UsageGroupBy {
  return (GROUP_BYS as readonly string[]).includes(value);
}

/**
 * Epoch ms, or an ISO 8601 date or date-time. A bare date means the whole day (UTC): as `from`
 * its start, as `to` (exclusive) the next midnight, so `to=2026-11-30` includes November 30.
 */
export function parseInstant(name: string, raw: string, end: boolean): number {
  if (/^\d+$/.test(raw)) {
    const ms = Number(raw);
    if (Number.isSafeInteger(ms)) return ms;
  } else if (/^\d{4}-\d{2}-\d{2}$/.test(raw)) {
    const ms = Date.parse(`${raw}T00:00:00Z`);
    if (Number.isFinite(ms) && new Date(ms).toISOString().startsWith(raw)) return end ? ms + dayMs : ms;
  } else if (/^\d{4}-\d{2}-\d{2}T/.test(raw)) {
    // A date-time without a zone would be read in the server's local time: require one.
    const ms = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(raw) ? Date.parse(raw) : Number.NaN;
    if (Number.isFinite(ms)) return ms;
  }
  throw badParam(name, `expected epoch milliseconds, a date (2026-11-21) or a date-time with a zone (2026-11-21T09:30:00Z), got ${JSON.stringify(raw)}`);
}

function badParam(name: string, detail: string): GatewayError {
  return new GatewayError('invalid_request', `Invalid value for '${name}': ${detail}.`, { param: name });
}

export async function buildUsageReport(ledger: Pick<UsageLedger, 'summarize'>, query: UsageQuery): Promise<UsageReport> {
  const { filter, groupBy } = query;
  // Totals are the sum of any grouping's lines; 'model' is as good as another when none is asked.
  const summaries = await ledger.summarize(filter, groupBy ?? 'model');
  const report: UsageReport = {
    object: 'usage_report',
    from: filter.from === undefined ? null : new Date(filter.from).toISOString(),
    to: filter.to === undefined ? null : new Date(filter.to).toISOString(),
    key: filter.keyName ?? null,
    model: filter.model ?? null,
    group_by: groupBy ?? null,
    totals: line(total(summaries)),
  };
  if (groupBy !== undefined) report.groups = summaries.map((s) => ({ group: s.group, ...line(s) }));
  return report;
}

function total(summaries: UsageSummary[]): UsageSummary {
  const sum: UsageSummary = { group: '', requests: 0, inputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, outputTokens: 0, reasoningTokens: 0, costNanoUsd: 0 };
  let cost = 0n; // summed exactly, whatever the magnitude
  for (const s of summaries) {
    sum.requests += s.requests;
    sum.inputTokens += s.inputTokens;
    sum.cacheReadTokens += s.cacheReadTokens;
    sum.cacheWriteTokens += s.cacheWriteTokens;
    sum.outputTokens += s.outputTokens;
    sum.reasoningTokens += s.reasoningTokens;
    cost += BigInt(s.costNanoUsd);
  }
  sum.costNanoUsd = Number(cost);
  return sum;
}

function line(s: UsageSummary): UsageLine {
  return {
    requests: s.requests,
    input_tokens: s.inputTokens,
    cache_read_tokens: s.cacheReadTokens,
    cache_write_tokens: s.cacheWriteTokens,
    output_tokens: s.outputTokens,
    reasoning_tokens: s.reasoningTokens,
    cost_usd: formatUsd(s.costNanoUsd),
    cost_nano_usd: s.costNanoUsd,
  };
}
