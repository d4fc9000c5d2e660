import type { UsageRow } from '../storage/types.js';
import type { RequestMeter, RequestRecord } from './request-record.js';

/** Where ledger rows go: the storage layer's LedgerWriter (journaled, batched, off the hot path). */
export interface LedgerSink {
  append(row: UsageRow): void;
}

/** Records every request as one usage-ledger row, and passes it on (e.g. to the log). */
export class LedgerMeter implements RequestMeter {
  constructor(
    private readonly ledger: LedgerSink,
    private readonly next: RequestMeter | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  record(record: RequestRecord): void {
    this.ledger.append(toUsageRow(record, this.now()));
    this.next?.record(record);
  }
}

export function toUsageRow(record: RequestRecord, createdAt: number): UsageRow {
  const usage = record.usage;
  const slash = record.route?.indexOf('/') ?? -1;
  return {
    requestId: record.requestId,
    createdAt,
    keyId: record.keyId ?? null,
    keyName: record.keyName ?? null,
    model: record.model ?? null,
    provider: record.route !== undefined && slash > 0 ? record.route.slice(0, slash) : null,
    upstreamModel: record.route !== undefined && slash > 0 ? record.route.slice(slash + 1) : null,
    protocol: record.protocol,
    stream: record.stream,
    outcome: record.outcome,
    status: record.status,
    ttftMs: record.ttftMs === undefined ? null : Math.round(record.ttftMs),
    durationMs: Math.round(record.durationMs),
    inputTokens: usage?.input ?? 0,
    cacheReadTokens: usage?.cacheRead ?? 0,
    cacheWriteTokens: usage?.cacheWrite ?? 0,
    outputTokens: usage?.output ?? 0,
    reasoningTokens: usage?.reasoning ?? 0,
    usageSource: usage?.source ?? 'none',
    costNanoUsd: record.costNanoUsd,
    priceVersion: record.priceVersion ?? null,
    errorCode: record.errorCode ?? null,
  };
}
