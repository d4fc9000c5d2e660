import { createHash } from 'node:crypto';
import type { ModelConfig, PriceConfig } from '../config/schema.js';
import type { Usage } from '../core/usage.js';
import type { RequestRecord } from './request-record.js';

/**
 * Prices and costs in integers only. Config prices are USD per 1M tokens; 1 USD per 1M tokens is
 * 1e12 pico-USD / 1e6 tokens = 1e6 pico-USD per token, so a price with up to 6 decimals is an
 * exact integer number of pico-USD per token. Costs are summed in pico-USD (BigInt: 10M tokens at
 * the largest allowed price would overflow a double's exact range) and rounded once to nano-USD,
 * the unit of the ledger and of budgets.
 */
export interface ModelPrice {
  /** Pico-USD per token. Cached input defaults to the input price when the config sets none. */
  inputPico: number;
  outputPico: number;
  cacheReadPico: number;
  cacheWritePico: number;
  /** `p-` + 10 hex of a hash of the effective prices: recorded with each row, so a later price
   *  change never makes old rows look mispriced. */
  version: string;
}

/** USD per 1M tokens, as /v1/models and /pricing show it (cache prices resolved). */
export interface PublicPrice {
  input: number;
  output: number;
  cache_read: number;
  cache_write: number;
}

const picoPerUsdPerMillion = 1_000_000;
const picoPerNano = 1000n;

export function compilePrice(price: PriceConfig): ModelPrice {
  const pico = (usdPerMillion: number): number => Math.round(usdPerMillion * picoPerUsdPerMillion);
  const inputPico = pico(price.input);
  const effective = {
    cache_read: price.cache_read === undefined ? inputPico : pico(price.cache_read),
    cache_write: price.cache_write === undefined ? inputPico : pico(price.cache_write),
    input: inputPico,
    output: pico(price.output),
  };
  // Keys in a fixed (sorted) order and integer values: the same prices always hash the same.
  const canonical = JSON.stringify(effective);
  const version = `p-${createHash('sha256').update(canonical).digest('hex').slice(0, 10)}`;
  return { inputPico, outputPico: effective.output, cacheReadPico: effective.cache_read, cacheWritePico: effective.cache_write, version };
}

/** Tokens from a counter as a BigInt; a negative or fractional count (a confused upstream) is clamped. */
function tokens(n: number): bigint {
  return BigInt(Number.isFinite(n) && n > 0 ? Math.floor(n) : 0);
}

/**
 * The cost of a usage in pico-USD. Usage.input includes the cached tokens (core/usage.ts), so only
 * the uncached rest is charged at the input price: cached tokens are counted once, at cache prices.
 */
export function costPico(price: ModelPrice, usage: Pick<Usage, 'input' | 'cacheRead' | 'cacheWrite' | 'output'>): bigint {
  const cacheRead = tokens(usage.cacheRead);
  const cacheWrite = tokens(usage.cacheWrite);
  let uncached = tokens(usage.input) - cacheRead - cacheWrite;
  if (uncached < 0n) uncached = 0n;
  return (
    uncached * BigInt(price.inputPico) +
    cacheRead * BigInt(price.cacheReadPico) +
    cacheWrite * BigInt(price.cacheWritePico) +
    tokens(usage.output) * BigInt(price.outputPico)
  );
}

/** Pico to nano, half up (costs are never negative). */
export function picoToNano(pico: bigint): number {
  return Number((pico + picoPerNano / 2n) / picoPerNano);
}

/** Pico to nano, up: a reservation must never be smaller than what it stands for. */
export function picoToNanoCeil(pico: bigint): number {
  return Number((pico + picoPerNano - 1n) / picoPerNano);
}

export function costNanoUsd(price: ModelPrice, usage: Usage): number {
  return picoToNano(costPico(price, usage));
}

export function publicPrice(price: ModelPrice): PublicPrice {
  // An integer over 1e6 rounds to the nearest double, which prints as the decimal the config had.
  const usd = (pico: number): number => pico / picoPerUsdPerMillion;
  return { input: usd(price.inputPico), output: usd(price.outputPico), cache_read: usd(price.cacheReadPico), cache_write: usd(price.cacheWritePico) };
}

/** Every public model's price, compiled once from the config. */
export class PriceBook {
  private readonly prices = new Map<string, ModelPrice>();

  constructor(models: Record<string, ModelConfig>) {
    for (const [name, model] of Object.entries(models)) {
      if (model.price !== undefined) this.prices.set(name, compilePrice(model.price));
    }
  }

  get(model: string): ModelPrice | undefined {
    return this.prices.get(model);
  }

  /**
   * What a finished request costs (see README, "Billing policy"): a model without a price costs
   * nothing and records no price version; a request that failed without producing output costs
   * nothing, even if the upstream reported prompt tokens; everything else, a client-aborted
   * stream included, pays for the tokens it used.
   */
  cost(record: Pick<RequestRecord, 'model' | 'outcome' | 'usage'>): { costNanoUsd: number; priceVersion: string | undefined } {
    const price = record.model === undefined ? undefined : this.prices.get(record.model);
    if (price === undefined) return { costNanoUsd: 0, priceVersion: undefined };
    const { usage } = record;
    if (usage === undefined || (record.outcome !== 'ok' && usage.output <= 0)) return { costNanoUsd: 0, priceVersion: price.version };
    return { costNanoUsd: costNanoUsd(price, usage), priceVersion: price.version };
  }
}

/** Integer nano-USD as an exact decimal USD string: 150000000 -> "0.15", 1 -> "0.000000001". */
export function formatUsd(nanoUsd: number | bigint): string {
  const nano = BigInt(nanoUsd);
  const sign = nano < 0n ? '-' : '';
  const abs = nano < 0n ? -nano : nano;
  const whole = abs / 1_000_000_000n;
  const fraction = (abs % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '').padEnd(2, '0');
  return `${sign}${whole}.${fraction}`;
}
