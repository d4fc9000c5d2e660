import type { BudgetPeriod } from '../storage/types.js';

/** Budget periods are calendar days and months in UTC, so every instance agrees on them. */
export function periodStart(period: BudgetPeriod, now: number): number {
  if (period === 'total') return 0;
  const d = new Date(now);
  return period === 'day' ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) : Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** When the period that began at `start` ends; undefined for a budget that never resets. */
export function periodEnd(period: BudgetPeriod, start: number): number | undefined {
  if (period === 'total') return undefined;
  const d = new Date(start);
  return period === 'day' ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1) : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}
