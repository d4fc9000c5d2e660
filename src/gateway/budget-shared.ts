import type { Logger } from '../observability/logger.js';
import type { BudgetReservation, BudgetScope, RedisBudget } from '../limits/redis-budget.js';
import type { BudgetPeriod, StoredKey } from '../storage/types.js';
import type { Ticket } from './admission.js';
import { periodEnd, periodStart } from './budget-period.js';

export interface SharedBudgetOptions {
  budget: RedisBudget;
  /** The ledger's total for a key since a time (times out and throws a GatewayError). */
  ledgerTotal: (keyId: string, since: number) => Promise<number>;
  /** Builds the refusal (the same words as the per-instance budget). */
  refusal: (key: StoredKey, scope: BudgetScope, committed: number, worst: number) => Error;
  /** Registers a call made at every Redis (re)connection. */
  onRedisReady: (listener: () => void) => void;
  /** Whether Redis answers now (owed costs are retried while it does). */
  redisAvailable: () => boolean;
  now: () => number;
  logger?: Logger;
}

/** Settlements kept while Redis is down, at most this many (beyond: the next period corrects it). */
const MAX_OWED = 10_000;

/**
 * Budgets shared by every instance through Redis (redis-budget.ts): the spend of a key's period
 * is seeded once from the ledger, then every instance reserves and settles against the same
 * counters, so a budget holds across instances while requests are in flight. Costs that could not
 * reach Redis (an outage) are kept and added once it is back.
 */
export class SharedBudgetBook {
  private owed: Array<{ scope: BudgetScope; cost: number; reservation?: BudgetReservation | undefined }> = [];
  private readonly seeding = new Map<string, Promise<void>>();
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SharedBudgetOptions) {
    options.onRedisReady(() => void this.payOwed());
  }

  /** Rejects with the refusal, a GatewayError from the ledger, or a Redis failure (the caller's outage policy). */
  async admit(key: StoredKey, worst: number): Promise<Ticket> {
    const budget = key.budgetNanoUsd ?? 0;
    const scope = this.scope(key.id, key.budgetPeriod);
    let reply = await this.options.budget.reserve(scope, budget, worst);
    if (reply.status === 'unseeded') {
      await this.seed(scope);
      reply = await this.options.budget.reserve(scope, budget, worst);
    }
    if (reply.status === 'unseeded') throw new Error('the budget counter vanished while it was being seeded');
    if (reply.status === 'refused') throw this.options.refusal(key, scope, reply.spent + reply.reserved, worst);
    return this.ticket(key, reply.reservation);
  }

  /** A cost settled while Redis was unreachable (the per-instance fallback): added once it is back. */
  owe(keyId: string, period: BudgetPeriod, cost: number): void {
    this.oweIn(this.scope(keyId, period), cost);
  }

  /**
   * `reservation`: the settlement that failed was also to release it. Replaying the release frees
   * the budget it holds at once, rather than when its lease lapses (30 s); removing it twice is
   * harmless.
   */
  private oweIn(scope: BudgetScope, cost: number, reservation?: BudgetReservation): void {
    if ((cost <= 0 && reservation === undefined) || this.owed.length >= MAX_OWED) return;
    this.owed.push({ scope, cost, reservation });
    // A server that hung and came back without a reconnection announces nothing: retry meanwhile.
    if (this.retryTimer === undefined) {
      this.retryTimer = setInterval(() => {
        if (this.owed.length === 0) {
          clearInterval(this.retryTimer);
          this.retryTimer = undefined;
        } else if (this.options.redisAvailable()) {
          void this.payOwed();
        }
      }, 1_000);
      this.retryTimer.unref();
    }
  }

  private ticket(key: StoredKey, reservation: BudgetReservation): Ticket {
    let settled = false;
    return {
      settle: ({ costNanoUsd }) => {
        if (settled) return;
        settled = true;
        // The ledger dates a row when its request ends: the cost belongs to the current period.
        const current = this.scope(key.id, key.budgetPeriod);
        void this.settle(reservation, current, costNanoUsd).catch((error: unknown) => {
          this.options.logger?.debug('budget: settle in redis failed; kept until it is back', { error });
          this.oweIn(current, costNanoUsd, reservation);
        });
      },
    };
  }

  private async settle(reservation: BudgetReservation | undefined, current: BudgetScope, cost: number): Promise<void> {
    if ((await this.options.budget.settle(reservation, current, cost)) === 'settled') return;
    // A new period began while the request ran: seed it before this row can reach the ledger.
    await this.seed(current);
    await this.options.budget.settle(undefined, current, cost);
  }

  /** One ledger read per period and instance at a time, however many requests find it unseeded. */
  private seed(scope: BudgetScope): Promise<void> {
    const id = `${scope.keyId}/${scope.period}/${scope.start}`;
    let seeding = this.seeding.get(id);
    if (seeding === undefined) {
      seeding = (async () => {
        await this.options.budget.seed(scope, await this.options.ledgerTotal(scope.keyId, scope.start), this.options.now());
      })().finally(() => this.seeding.delete(id));
      this.seeding.set(id, seeding);
    }
    return seeding;
  }

  /**
   * Sent all at once when the connection is back, before requests can seed anything: a counter
   * that survived the outage gets what it missed; one that Redis lost ('unseeded' here) will be
   * seeded from the ledger, which has these rows, so nothing is added to it.
   */
  private async payOwed(): Promise<void> {
    const owed = this.owed;
    this.owed = [];
    await Promise.all(owed.map(({ scope, cost, reservation }) => this.options.budget.settle(reservation, scope, cost).catch(() => this.oweIn(scope, cost, reservation))));
  }

  private scope(keyId: string, period: BudgetPeriod): BudgetScope {
    const start = periodStart(period, this.options.now());
    return { keyId, period, start, end: periodEnd(period, start) };
  }
}
