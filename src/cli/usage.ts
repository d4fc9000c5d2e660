/**
 * `sluice usage`: what was spent, from the usage ledger of the store named in the config (the one
 * `sluice serve` writes), as a table or as the JSON GET /admin/usage returns.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, defaultConfig, loadConfigFile } from '../config/load-config.js';
import type { SluiceConfig } from '../config/schema.js';
import { GatewayError } from '../core/gateway-error.js';
import { buildUsageReport, parseUsageQuery, type UsageLine, type UsageQuery, type UsageReport } from '../gateway/usage-report.js';
import type { Store } from '../storage/types.js';

export interface UsageArgs {
  argv: string[];
  env: Record<string, string | undefined>;
  /** Receive whole lines, each ending in "\n". */
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  openStore: (url: string) => Promise<Store>;
}

export const usageUsage = `Usage:
  sluice usage [--from DATE] [--to DATE] [--key NAME] [--model NAME] [--group-by day|model|key]
               [--json] [--config FILE]
DATE: 2026-11-21 (a whole UTC day; --to includes it), 2026-11-21T09:30:00Z, or epoch milliseconds.
`;

const options = {
  from: { type: 'string' },
  to: { type: 'string' },
  key: { type: 'string' },
  model: { type: 'string' },
  'group-by': { type: 'string' },
  json: { type: 'boolean' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Returns the exit code: 0 done, 1 the config or store failed, 2 bad usage or value. */
export async function runUsage(args: UsageArgs): Promise<number> {
  let values: ReturnType<typeof parseArgs<{ args: string[]; options: typeof options; strict: true }>>['values'];
  let query: UsageQuery;
  try {
    ({ values } = parseArgs({ args: args.argv, options, strict: true }));
    if (values.help === true) {
      args.stdout(usageUsage);
      return 0;
    }
    const params: [string, string][] = [];
    for (const name of ['from', 'to', 'key', 'model'] as const) if (values[name] !== undefined) params.push([name, values[name]]);
    if (values['group-by'] !== undefined) params.push(['group_by', values['group-by']]);
    query = parseUsageQuery(params);
  } catch (error) {
    args.stderr(`sluice usage: ${flagMessage(error)}\n\n${usageUsage}`);
    return 2;
  }
  const config = await loadConfig(values.config, args);
  if (config === undefined) return 1;
  let store: Store | undefined;
  try {
    store = await args.openStore(config.store);
    const report = await buildUsageReport(store.ledger, query);
    args.stdout(values.json === true ? `${JSON.stringify(report, null, 2)}\n` : usageTable(report));
    return 0;
  } catch (error) {
    args.stderr(`sluice usage: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    await store?.close().catch(() => {});
  }
}

/** The API's "Invalid value for 'group_by'" reads as "--group-by" on the command line. */
function flagMessage(error: unknown): string {
  if (error instanceof GatewayError && error.param !== undefined) {
    return error.message.replace(`'${error.param}'`, `--${error.param.replace('_', '-')}`);
  }
  return error instanceof Error ? error.message : String(error);
}

async function loadConfig(flag: string | undefined, args: UsageArgs): Promise<SluiceConfig | undefined> {
  const path = flag ?? args.env.SLUICE_CONFIG ?? (existsSync('sluice.yaml') ? 'sluice.yaml' : undefined);
  try {
    return path === undefined ? defaultConfig() : await loadConfigFile(path, args.env);
  } catch (error) {
    args.stderr(`${error instanceof ConfigError ? error.message : `sluice usage: ${String(error)}`}\n`);
    return undefined;
  }
}

/** A readable table: one line per group (when grouped) and the total, numbers right-aligned. */
export function usageTable(report: UsageReport): string {
  const scope = [
    `from ${report.from ?? 'the beginning'}`,
    `to ${report.to ?? 'now'}`,
    ...(report.key === null ? [] : [`key ${report.key}`]),
    ...(report.model === null ? [] : [`model ${report.model}`]),
  ].join(', ');
  const head = [report.group_by?.toUpperCase() ?? '', 'REQUESTS', 'INPUT', 'CACHE READ', 'CACHE WRITE', 'OUTPUT', 'REASONING', 'COST (USD)'];
  // Costs are exact decimals of varying length: padded with zeros to one length, the points line up.
  const lines = [...(report.groups ?? []), report.totals];
  const decimals = Math.max(...lines.map((l) => l.cost_usd.split('.')[1]?.length ?? 0));
  const usd = (cost: string): string => {
    const [whole = '0', fraction = ''] = cost.split('.');
    return `${whole}.${fraction.padEnd(decimals, '0')}`;
  };
  const row = (label: string, l: UsageLine): string[] => [
    label, count(l.requests), count(l.input_tokens), count(l.cache_read_tokens), count(l.cache_write_tokens), count(l.output_tokens), count(l.reasoning_tokens), usd(l.cost_usd),
  ];
  const groups = (report.groups ?? []).map((g) => row(g.group === '' ? '(none)' : g.group, g));
  const rows = [head, ...groups, row('TOTAL', report.totals)];
  const widths = head.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const text = rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ').trimEnd());
  return `Usage ${scope}\n\n${text.join('\n')}\n`;
}

/** 1234567 -> 1,234,567: token counts get long. */
function count(n: number): string {
  return n.toLocaleString('en-US');
}
