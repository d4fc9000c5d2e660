import { GatewayError } from '../core/gateway-error.js';
import type { Logger } from '../observability/logger.js';
import type { BudgetPeriod, StoredKey, UsageLedger } from '../storage/types.js';
import type { BudgetScope, RedisBudget } from '../limits/redis-budget.js';
import { withOutagePolicy, type OutagePolicy } from '../limits/outage-policy.js';
import type { RedisHub } from '../limits/redis-hub.js';
import { noTicket, type Admission, type AdmissionRequest, type Ticket } from './admission.js';
import { SharedBudgetBook } from './budget-shared.js';
import type { Exchange } from './exchange.js';
import { formatUsd, picoToNanoCeil, type PriceBook } from './pricing.js';
import { periodEnd, periodStart } from './budget-period.js';

/** Output tokens reserved for a request that sets no max_tokens (OpenAI's is optional). */
export const DEFAULT_MAX_OUTPUT_TOKENS = 4096;

export interface BudgetOptions {
  ledger: Pick<UsageLedger, 'spentSince'>;
  prices: PriceBook;
  defaultMaxOutputTokens?: number;
  /** How long a key's first request in a period may wait for the ledger's total (ms). */
  loadTimeoutMs?: number;
  now?: () => number;
  logger?: Logger;
  /** With `redis:`, budgets are counted in Redis, shared by every instance. */
  shared?: { hub: RedisHub; budget: RedisBudget; outage: OutagePolicy };
}

/** One key's spending in one budget period, as this instance knows it. */
class PeriodSpend {
  /** The ledger's total for the period when it was loaded; undefined until then. */
  ledgerSpent: number | undefined;
  loading: Promise<void> | undefined;
  /** Costs settled on this instance since the load: their ledger rows may not be flushed yet. */
  settled = 0;
  /** Worst cases of the requests in flight. */
  reserved = 0;

  constructor(readonly keyId: string, readonly period: BudgetPeriod, readonly start: number) {}

  get spent(): number {
    return (this.ledgerSpent ?? 0) + this.settled;
  }
}

/**
 * The budget step of admission (reserve first, reconcile after, as TensorZero does for rate
 * limits): a request's worst-case cost is reserved before any upstream call and replaced by its
 * real cost when it ends. The check and the reservation happen with no await in between, so
 * concurrent requests on one instance can never reserve more than the budget together.
 *
 * A key's spend in its current period is read from the ledger once (its first request in the
 * period), then kept in memory. Other instances' spending is therefore seen at the next period
 * (or restart): budgets are exact per instance. With Redis, the counters live there instead
 * (budget-shared.ts), and these in-memory ones are the fallback while Redis is unreachable
 * (`redis_outage: open`), dropped when it is back, so every outage starts from the ledger.
 */
export class BudgetAdmission implements Admission {
  private readonly spends = new Map<string, PeriodSpend>();
  private readonly ledger: Pick<UsageLedger, 'spentSince'>;
  private readonly prices: PriceBook;
  private readonly defaultMaxOutputTokens: number;
  private readonly loadTimeoutMs: number;
  private readonly now: () => number;
  private readonly logger: Logger | undefined;
  private readonly shared: { hub: RedisHub; book: SharedBudgetBook; outage: OutagePolicy } | undefined;

  constructor(options: BudgetOptions) {
    this.ledger = options.ledger;
    this.prices = options.prices;
    this.defaultMaxOutputTokens = options.defaultMaxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS;
    this.loadTimeoutMs = options.loadTimeoutMs ?? 5000;
    this.now = options.now ?? Date.now;
    this.logger = options.logger;
    const { shared } = options;
    if (shared !== undefined) {
      const book = new SharedBudgetBook({
        budget: shared.budget,
        ledgerTotal: (keyId, since) => this.query(keyId, since).catch((error: unknown) => {
          throw this.unavailable(keyId, error);
        }),
        refusal: (key, scope, committed, worst) => refusal(key, scope, committed, worst),
        onRedisReady: (listener) => shared.hub.onReady(listener),
        redisAvailable: () => shared.hub.available,
        now: this.now,
        ...(options.logger ? { logger: options.logger } : {}),
      });
      this.shared = { hub: shared.hub, book, outage: shared.outage };
      // Costs settled through Redis never reach these counters: the next outage must load the
      // ledger's total afresh rather than resume from what the last one knew.
      shared.hub.onReady(() => this.spends.clear());
    }
  }

  async admit({ key, exchange, model }: AdmissionRequest): Promise<Ticket> {
    const stored = key.stored;
    if (stored === undefined || stored.budgetNanoUsd === null) return noTicket;
    const worst = await this.worstCase(exchange, model.name);
    const { shared } = this;
    if (shared === undefined) return this.admitHere(stored, worst);
    return withOutagePolicy(shared.hub, shared.outage, 'budget', () => shared.book.admit(stored, worst), async () => {
      const ticket = await this.admitHere(stored, worst);
      return {
        settle: (settlement) => {
          ticket.settle(settlement);
          // Spent while Redis was away: added to the shared counter once it is back.
          shared.book.owe(stored.id, stored.budgetPeriod, settlement.costNanoUsd);
          // Ended after Redis came back: the counters it touched are stale from now on, as above.
          if (shared.hub.available) this.forget(stored.id, stored.budgetPeriod);
        },
      };
    });
  }

  /** This instance's own counters: the budget without Redis, and the fallback during an outage. */
  private async admitHere(stored: StoredKey, worst: number): Promise<Ticket> {
    const spend = this.current(stored.id, stored.budgetPeriod);
    await this.load(spend);
    // No await from here to the reservation: nothing can slip in between the check and it.
    const committed = spend.spent + spend.reserved;
    if (committed + worst > (stored.budgetNanoUsd ?? 0)) throw refusal(stored, spend, committed, worst);
    spend.reserved += worst;
    return this.ticket(spend, worst);
  }

  private forget(keyId: string, period: BudgetPeriod): void {
    this.spends.delete(`${keyId}/${period}`);
  }

  /** What this instance counts against a key now (tests and diagnostics). */
  committed(keyId: string, period: BudgetPeriod): { spent: number; reserved: number } | undefined {
    const spend = this.spends.get(`${keyId}/${period}`);
    return spend === undefined ? undefined : { spent: spend.spent, reserved: spend.reserved };
  }

  /** The prompt estimate plus max output tokens, at the dearest input-side price (a cache write
   *  can cost more than plain input) and the output price; rounded up. */
  private async worstCase(exchange: Exchange, model: string): Promise<number> {
    const price = this.prices.get(model);
    if (price === undefined) return 0; // an unpriced model costs nothing
    const prompt = BigInt(await exchange.estimatePromptTokens());
    const output = BigInt(exchange.maxOutputTokens(this.defaultMaxOutputTokens));
    const inputPico = BigInt(Math.max(price.inputPico, price.cacheReadPico, price.cacheWritePico));
    return picoToNanoCeil(prompt * inputPico + output * BigInt(price.outputPico));
  }

  /** The key's spend record for the period `now` falls in; a new period starts a new record. */
  private current(keyId: string, period: BudgetPeriod): PeriodSpend {
    const id = `${keyId}/${period}`;
    const start = periodStart(period, this.now());
    let spend = this.spends.get(id);
    if (spend === undefined || spend.start !== start) {
      spend = new PeriodSpend(keyId, period, start);
      this.spends.set(id, spend);
    }
    return spend;
  }

  private load(spend: PeriodSpend): Promise<void> {
    if (spend.ledgerSpent !== undefined) return Promise.resolve();
    spend.loading ??= this.query(spend.keyId, spend.start).then(
      (total) => {
        spend.ledgerSpent = total;
      },
      (error: unknown) => {
        spend.loading = undefined; // the next request tries again
        throw this.unavailable(spend.keyId, error);
      },
    );
    return spend.loading;
  }

  private unavailable(keyId: string, error: unknown): GatewayError {
    this.logger?.error('budget: cannot read spend from the ledger', { keyId, error });
    return new GatewayError('budget_unavailable', 'This key has a budget, and its spending cannot be read right now. Retry shortly.', { cause: error });
  }

  /** The ledger's total, or a rejection after loadTimeoutMs: a stalled database must not stall requests. */
  private query(keyId: string, since: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer from the ledger in ${this.loadTimeoutMs} ms`)), this.loadTimeoutMs);
      timer.unref();
      this.ledger.spentSince(keyId, since).then(
        (total) => {
          clearTimeout(timer);
          resolve(total);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  private ticket(admitted: PeriodSpend, reservation: number): Ticket {
    let settled = false;
    return {
      settle: ({ costNanoUsd }) => {
        if (settled) return;
        settled = true;
        admitted.reserved -= reservation;
        // The ledger dates a row when its request ends, so a request that started before a
        // period boundary and ended after it is spent in the new period, as the ledger says.
        const spend = this.current(admitted.keyId, admitted.period);
        spend.settled += costNanoUsd;
        // Load the new period's total now, before this row can be flushed and counted twice.
        if (spend !== admitted) void this.load(spend).catch(() => {});
      },
    };
  }
}

function refusal(key: StoredKey, spend: Pick<BudgetScope, 'start'> & { period: BudgetPeriod | string }, committed: number, worst: number): GatewayError {
  const budget = key.budgetNanoUsd ?? 0;
  const end = spend.period === 'total' ? undefined : periodEnd(spend.period === 'day' ? 'day' : 'month', spend.start);
  const scope = spend.period === 'total' ? 'total' : spend.period === 'day' ? 'daily' : 'monthly';
  const when = end === undefined ? 'Ask the operator to raise it.' : `It resets at ${new Date(end).toISOString()}.`;
  return new GatewayError(
    'insufficient_quota',
    `The API key '${key.name}' has used or reserved $${formatUsd(committed)} of its $${formatUsd(budget)} ${scope} budget, ` +
      `and this request could cost up to $${formatUsd(worst)} (its prompt plus max_tokens). ${when}`,
  );
}
