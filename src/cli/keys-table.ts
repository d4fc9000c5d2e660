/** Human-readable output of `sluice keys`: a table for list, a block for one key. */
import type { KeyView } from '../gateway/key-view.js';

export function keysTable(keys: readonly KeyView[]): string {
  if (keys.length === 0) return 'No keys yet. Create one with: sluice keys create --name NAME\n';
  const header = ['ID', 'NAME', 'PREFIX', 'STATUS', 'MODELS', 'BUDGET', 'LIMITS', 'EXPIRES', 'CREATED'];
  const rows = keys.map((k) => [
    k.id,
    k.name,
    `${k.prefix}...`,
    k.status,
    k.models?.join(',') ?? 'all',
    budget(k),
    limits(k),
    k.expires_at === null ? 'never' : shortTime(k.expires_at),
    shortTime(k.created_at),
  ]);
  return table([header, ...rows]);
}

/** One key, one field per line (after create, update and revoke). */
export function keyBlock(key: KeyView, secret?: string): string {
  const lines: [string, string][] = [
    ['id', key.id],
    ['name', key.name],
    ...(secret === undefined ? [] : ([['secret', secret]] as [string, string][])),
    ['prefix', `${key.prefix}...`],
    ['status', key.status],
    ['models', key.models?.join(', ') ?? 'all'],
    ['budget', budget(key)],
    ['limits', limits(key)],
    ['expires', key.expires_at ?? 'never'],
    ...(key.revoked_at === null ? [] : ([['revoked', key.revoked_at]] as [string, string][])),
    ['metadata', Object.entries(key.metadata).map(([k, v]) => `${k}=${v}`).join(', ') || '-'],
    ['created', key.created_at],
  ];
  const width = Math.max(...lines.map(([label]) => label.length));
  return lines.map(([label, value]) => `  ${`${label}:`.padEnd(width + 1)} ${value}`).join('\n') + '\n';
}

function budget(key: KeyView): string {
  if (key.budget_usd === null) return 'none';
  const [whole, fraction = ''] = key.budget_usd.split('.');
  return `$${whole}.${fraction.padEnd(2, '0')}/${key.budget_period}`;
}

function limits(key: KeyView): string {
  const parts = [
    key.rpm === null ? undefined : `${key.rpm} rpm`,
    key.tpm === null ? undefined : `${key.tpm} tpm`,
    key.max_concurrent === null ? undefined : `${key.max_concurrent} concurrent`,
  ].filter((p) => p !== undefined);
  return parts.join(', ') || 'none';
}

/** 2026-01-31T18:00:00.000Z -> 2026-01-31 18:00Z */
function shortTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}Z`;
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n') + '\n';
}
