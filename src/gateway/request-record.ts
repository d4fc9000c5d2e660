import type { Usage } from '../core/usage.js';
import type { Logger } from '../observability/logger.js';
import type { Outcome } from './attempt-result.js';

/** One row per request, whatever happened to it: the basis of usage accounting. */
export interface RequestRecord {
  requestId: string;
  keyName: string | undefined;
  /** Stored key id (undefined for config-declared keys and keyless mode). */
  keyId: string | undefined;
  /** Public model name as the client asked for it. */
  model: string | undefined;
  /** The route that answered or failed last, `provider/upstream-model`. */
  route: string | undefined;
  protocol: 'openai' | 'anthropic';
  stream: boolean;
  outcome: Outcome;
  status: number;
  ttftMs: number | undefined;
  durationMs: number;
  attempts: number;
  usage: Usage | undefined;
  /** What the request cost, integer nano-USD, at `priceVersion`. */
  costNanoUsd: number;
  priceVersion: string | undefined;
  errorCode: string | undefined;
  /** What went wrong, for the operator (the client got the same minus internal detail). */
  errorMessage: string | undefined;
}

/** Where request records go. The usage ledger (storage) implements it; until then, the log. */
export interface RequestMeter {
  record(record: RequestRecord): void;
}

export class LogMeter implements RequestMeter {
  constructor(private readonly logger: Logger) {}

  record(record: RequestRecord): void {
    const level = record.outcome === 'ok' || record.outcome === 'client_aborted' ? 'info' : 'warn';
    if (!this.logger.isEnabled(level)) return;
    this.logger[level]('request', {
      ...record,
      ttftMs: record.ttftMs === undefined ? undefined : round(record.ttftMs),
      durationMs: round(record.durationMs),
    });
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
