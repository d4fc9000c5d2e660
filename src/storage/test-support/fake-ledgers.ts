/** Ledgers that misbehave on purpose, for the ledger writer's tests. */
import type { UsageFilter, UsageGroupBy, UsageLedger, UsageRow, UsageSummary } from '../types.js';

/** Delegates to `target`, which a test can swap (a database that goes away and comes back). */
export class SwitchLedger implements UsageLedger {
  insertCalls = 0;
  constructor(public target: UsageLedger) {}
  insert(rows: UsageRow[]): Promise<void> {
    this.insertCalls += 1;
    return this.target.insert(rows);
  }
  query(filter: UsageFilter, limit: number): Promise<UsageRow[]> {
    return this.target.query(filter, limit);
  }
  summarize(filter: UsageFilter, groupBy: UsageGroupBy): Promise<UsageSummary[]> {
    return this.target.summarize(filter, groupBy);
  }
  spentSince(keyId: string, since: number): Promise<number> {
    return this.target.spentSince(keyId, since);
  }
}

/** Every insert fails (a database that is down). */
export const deadLedger: UsageLedger = {
  insert: async () => {
    throw new Error('connect ECONNREFUSED (fake)');
  },
  query: async () => [],
  summarize: async () => [],
  spentSince: async () => 0,
};

/** Every insert hangs forever (a database that stopped answering). */
export const hangingLedger: UsageLedger = {
  ...deadLedger,
  insert: () => new Promise<void>(() => {}),
};

/** Fails the first `failures` inserts, then delegates. */
export class FlakyLedger extends SwitchLedger {
  constructor(target: UsageLedger, private failures: number) {
    super(target);
  }
  override insert(rows: UsageRow[]): Promise<void> {
    this.insertCalls += 1;
    if (this.failures > 0) {
      this.failures -= 1;
      return Promise.reject(new Error('flaky database (fake)'));
    }
    return this.target.insert(rows);
  }
}

export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
