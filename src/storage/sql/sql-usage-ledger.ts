/** UsageLedger on Kysely: the same statements for SQLite and PostgreSQL. */
import { sql, type Expression, type ExpressionBuilder, type Insertable, type Kysely, type SqlBool } from 'kysely';
import { checkLimit, dayLabel, MS_PER_DAY, prepareUsageRow, sortSummaries } from '../rows.js';
import type { UsageFilter, UsageGroupBy, UsageLedger, UsageRow, UsageSummary } from '../types.js';
import { usageFromRow, usageToRow } from './codec.js';
import { toSafeInt, type Database, type UsageLedgerTable } from './schema.js';

/** Rows per INSERT statement: well under SQLite's 32766 and PostgreSQL's 65535 bound parameters. */
const ROWS_PER_STATEMENT = 500;

function matching(eb: ExpressionBuilder<Database, 'usage_ledger'>, filter: UsageFilter): Expression<SqlBool> {
  const parts: Expression<SqlBool>[] = [];
  if (filter.from !== undefined) parts.push(eb('created_at', '>=', filter.from));
  if (filter.to !== undefined) parts.push(eb('created_at', '<', filter.to));
  if (filter.keyName !== undefined) parts.push(eb('key_name', '=', filter.keyName));
  if (filter.model !== undefined) parts.push(eb('model', '=', filter.model));
  return eb.and(parts);
}

/**
 * The grouping expression. Literals, not parameters: PostgreSQL only matches a GROUP BY to the
 * select list when the two expressions are identical, and two `$n` placeholders are not. The UTC
 * day is integer division of epoch ms, the same in both dialects (times are never negative).
 */
function groupExpression(groupBy: UsageGroupBy) {
  switch (groupBy) {
    case 'day':
      return sql<number | string>`created_at / ${sql.lit(MS_PER_DAY)}`;
    case 'model':
      return sql<string>`coalesce(model, '')`;
    case 'key':
      return sql<string>`coalesce(key_name, '')`;
  }
}

/** Writes a validated batch in one transaction, bypassing the query builder (SQLite: see sqlite.ts). */
export type BatchInsert = (values: Insertable<UsageLedgerTable>[]) => void | Promise<void>;

export class SqlUsageLedger implements UsageLedger {
  constructor(
    private readonly db: Kysely<Database>,
    /** SQLite's fast path: one prepared single-row statement reused for every row. */
    private readonly batchInsert?: BatchInsert,
  ) {}

  async insert(rows: UsageRow[]): Promise<void> {
    // Validate everything first: one bad row fails the call before anything is written.
    const values = rows.map((row) => usageToRow(prepareUsageRow(row)));
    if (values.length === 0) return;
    if (this.batchInsert !== undefined) {
      await this.batchInsert(values);
      return;
    }
    // One transaction for the batch: a single commit (one WAL append on SQLite) however many rows.
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < values.length; i += ROWS_PER_STATEMENT) {
        await trx
          .insertInto('usage_ledger')
          .values(values.slice(i, i + ROWS_PER_STATEMENT))
          .onConflict((oc) => oc.column('request_id').doNothing())
          .execute();
      }
    });
  }

  async query(filter: UsageFilter, limit: number): Promise<UsageRow[]> {
    checkLimit(limit);
    const rows = await this.db
      .selectFrom('usage_ledger')
      .selectAll()
      .where((eb) => matching(eb, filter))
      .orderBy('created_at')
      .orderBy('request_id')
      .limit(limit)
      .execute();
    return rows.map(usageFromRow);
  }

  async summarize(filter: UsageFilter, groupBy: UsageGroupBy): Promise<UsageSummary[]> {
    const group = groupExpression(groupBy);
    const rows = await this.db
      .selectFrom('usage_ledger')
      .where((eb) => matching(eb, filter))
      .select((eb) => [
        group.as('grp'),
        eb.fn.countAll<number | string>().as('requests'),
        eb.fn.sum<number | string>('input_tokens').as('input_tokens'),
        eb.fn.sum<number | string>('cache_read_tokens').as('cache_read_tokens'),
        eb.fn.sum<number | string>('cache_write_tokens').as('cache_write_tokens'),
        eb.fn.sum<number | string>('output_tokens').as('output_tokens'),
        eb.fn.sum<number | string>('reasoning_tokens').as('reasoning_tokens'),
        eb.fn.sum<number | string>('cost_nano_usd').as('cost_nano_usd'),
      ])
      .groupBy(group)
      .execute();
    return sortSummaries(
      rows.map((r) => ({
        group: groupBy === 'day' ? dayLabel(toSafeInt(r.grp, 'day')) : String(r.grp),
        requests: toSafeInt(r.requests, 'requests'),
        inputTokens: toSafeInt(r.input_tokens, 'input_tokens'),
        cacheReadTokens: toSafeInt(r.cache_read_tokens, 'cache_read_tokens'),
        cacheWriteTokens: toSafeInt(r.cache_write_tokens, 'cache_write_tokens'),
        outputTokens: toSafeInt(r.output_tokens, 'output_tokens'),
        reasoningTokens: toSafeInt(r.reasoning_tokens, 'reasoning_tokens'),
        costNanoUsd: toSafeInt(r.cost_nano_usd, 'cost_nano_usd'),
      })),
    );
  }

  async spentSince(keyId: string, since: number): Promise<number> {
    const row = await this.db
      .selectFrom('usage_ledger')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number | string>('cost_nano_usd'), sql<number>`0`).as('total'))
      .where('key_id', '=', keyId)
      .where('created_at', '>=', since)
      .executeTakeFirst();
    return toSafeInt(row?.total ?? 0, 'spent');
  }
}
