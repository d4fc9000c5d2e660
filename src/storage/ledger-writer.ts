/**
 * Usage rows off the request path. append() journals the row (one write(2) to an O_APPEND file:
 * a process crash loses nothing) and queues it; a background flusher inserts batches into the
 * ledger and deletes each journal segment once every row in it is stored.
 *
 * A slow or dead database never fails or stalls append(): inserts are retried with backoff, and
 * past `maxQueued` rows are kept only in the journal (memory stays bounded; gateways.md item 26)
 * and read back from it, one segment at a time, once the database is back. recover() replays the
 * segments a previous run left; request ids make every replay idempotent.
 */
import { silentLogger, type Logger } from '../observability/logger.js';
import { readSegment } from './journal-files.js';
import { Journal, type Segment } from './journal.js';
import { prepareUsageRow } from './rows.js';
import type { UsageLedger, UsageRow } from './types.js';

export interface LedgerWriterOptions {
  /** A partial batch waits at most this long (default 200 ms). */
  flushIntervalMs?: number;
  /** Rows per insert; a full batch is flushed at once (default 500). */
  batchSize?: number;
  /** Rows held in memory; beyond, rows live only in the journal (default 10 000). */
  maxQueued?: number;
  /** Rows per journal segment before a new one starts (default 5 000). */
  segmentRows?: number;
  /** How often journal data not yet in the database is fsynced (default 1 000 ms). */
  fsyncIntervalMs?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
  /** An insert that has not settled by then counts as failed and is retried (default 30 s). */
  insertTimeoutMs?: number;
  logger?: Logger;
}

export interface LedgerWriterStats {
  /** Rows appended here and not yet in the ledger (memory and journal). */
  pending: number;
  /** Of those, held in memory. */
  queued: number;
  segments: number;
  inserted: number;
  failures: number;
  /** Rows lost because neither the journal nor memory could take them (disk error and full queue). */
  dropped: number;
  lastError: string | undefined;
}

interface Queued {
  row: UsageRow;
  segment: Segment | null;
}

const DEFAULTS = {
  flushIntervalMs: 200, batchSize: 500, maxQueued: 10_000, segmentRows: 5_000, fsyncIntervalMs: 1_000,
  retryMinMs: 100, retryMaxMs: 10_000, insertTimeoutMs: 30_000,
};

export class LedgerWriter {
  private readonly o: typeof DEFAULTS;
  private readonly log: Logger;
  private readonly journal: Journal;
  private readonly queue: Queued[] = [];
  private readonly pendingCost = new Map<string, number>();
  private state: 'open' | 'closing' | 'closed' = 'open';
  private closing: Promise<LedgerWriterStats> | null = null;
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerDue = 0;
  private backoffUntil = 0;
  private failuresInRow = 0;
  private recovered = 0;
  private readonly recoverWaiters: ((rows: number) => void)[] = [];
  private readonly s = { pending: 0, inserted: 0, failures: 0, dropped: 0, lastError: undefined as string | undefined };

  constructor(
    private readonly ledger: UsageLedger,
    dir: string,
    options: LedgerWriterOptions = {},
  ) {
    const { logger, ...rest } = options;
    this.o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) };
    this.log = logger ?? silentLogger;
    this.journal = new Journal(dir, this.o.segmentRows, this.o.fsyncIntervalMs, this.log);
    const left = this.journal.segments.length;
    if (left > 0) {
      this.log.info('ledger journal: replaying segments left by a previous run', { dir, segments: left });
      this.schedule(0);
    }
  }

  /** Records a row: synchronous, no I/O but one write(2). Throws only for a malformed row (a bug). */
  append(row: UsageRow): void {
    const clean = prepareUsageRow(row);
    const line = `${JSON.stringify(clean)}\n`;
    if (this.state === 'closed') {
      this.journal.appendLate(line);
      return this.log.warn('ledger: row recorded after close; left in the journal for the next start');
    }
    const room = this.queue.length < this.o.maxQueued;
    const segment = this.journal.write(line, room);
    if (segment === null || segment.inMemory) {
      // Without a journal line, memory is the only copy, and only while there is room.
      if (segment === null && !room) {
        this.s.dropped += 1;
        return this.log.error('ledger: usage row lost (journal unwritable and queue full)', { requestId: clean.requestId });
      }
      this.queue.push({ row: clean, segment });
      if (segment !== null) segment.unsettled += 1;
    }
    this.s.pending += 1;
    this.addCost(clean, clean.costNanoUsd);
    const urgent = this.queue.length >= this.o.batchSize || segment === null || !segment.inMemory;
    this.schedule(urgent ? 0 : this.o.flushIntervalMs);
  }

  /** Cost of a key's rows appended here and not yet in the ledger: add it to spentSince() for budgets. */
  unflushedCostNanoUsd(keyId: string): number {
    return this.pendingCost.get(keyId) ?? 0;
  }

  /** Resolves, with the number of rows replayed, once the journal left by a previous run is stored. */
  recover(): Promise<number> {
    if (this.state === 'closed' || !this.journal.segments.some((s) => s.adopted)) return Promise.resolve(this.recovered);
    const done = new Promise<number>((resolve) => this.recoverWaiters.push(resolve));
    this.timer?.ref();
    this.schedule(0);
    return done;
  }

  stats(): LedgerWriterStats {
    return { ...this.s, queued: this.queue.length, segments: this.journal.segments.length };
  }

  /**
   * Flushes what it can within the deadline (the SIGTERM/SIGINT path), then fsyncs and closes the
   * journal. Rows not stored by then stay in the journal for the next start's recover().
   */
  close(deadlineMs = 5_000): Promise<LedgerWriterStats> {
    // Shutdown paths may call it twice (signal and server close): both wait for the one close.
    this.closing ??= this.shutDown(deadlineMs);
    return this.closing;
  }

  private async shutDown(deadlineMs: number): Promise<LedgerWriterStats> {
    this.state = 'closing';
    if (this.timer) clearTimeout(this.timer);
    const until = Date.now() + deadlineMs;
    while (this.hasWork() && Date.now() < until) {
      await Promise.race([this.run(), sleep(until - Date.now())]);
      if (this.hasWork() && this.backoffUntil > Date.now()) await sleep(Math.min(this.backoffUntil, until) - Date.now());
    }
    this.state = 'closed';
    this.collect();
    await this.journal.close();
    const memoryOnly = this.queue.filter((q) => q.segment === null).length;
    if (memoryOnly > 0) this.log.error('ledger: usage rows lost at close (journal unwritable, database unreachable)', { rows: memoryOnly });
    if (this.s.pending > memoryOnly) this.log.warn('ledger: rows left in the journal for the next start', { rows: this.s.pending - memoryOnly, dir: this.journal.dir });
    this.settleRecover();
    return this.stats();
  }

  private addCost(row: UsageRow, delta: number): void {
    if (row.keyId === null || delta === 0) return;
    const next = (this.pendingCost.get(row.keyId) ?? 0) + delta;
    if (next === 0) this.pendingCost.delete(row.keyId);
    else this.pendingCost.set(row.keyId, next);
  }

  private hasWork(): boolean {
    return this.queue.length > 0 || this.journal.segments.some((s) => !s.inMemory);
  }

  /** Arms the flusher to run in `delayMs` (sooner if already armed later), never inside a backoff. */
  private schedule(delayMs: number): void {
    if (this.state !== 'open' || this.running !== null) return;
    const due = Math.max(Date.now() + delayMs, this.backoffUntil);
    if (this.timer !== null && this.timerDue <= due) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => void this.run(), due - Date.now());
    // An idle writer must not keep the process alive, but someone awaiting recover() must be able to.
    if (this.recoverWaiters.length === 0) this.timer.unref();
  }

  private run(): Promise<void> {
    if (this.running !== null) return this.running;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.running = this.drain()
      .then(
        () => {
          if (this.failuresInRow > 0) this.log.info('ledger: database reachable again', { failures: this.failuresInRow });
          this.failuresInRow = 0;
          this.backoffUntil = 0;
        },
        (error: unknown) => {
          this.s.failures += 1;
          this.failuresInRow += 1;
          this.s.lastError = error instanceof Error ? error.message : String(error);
          const base = Math.min(this.o.retryMaxMs, this.o.retryMinMs * 2 ** Math.min(this.failuresInRow - 1, 20));
          this.backoffUntil = Date.now() + base * (0.5 + Math.random() / 2);
          if (this.failuresInRow === 1) this.log.warn('ledger: insert failed; rows kept in the journal and retried', { error: this.s.lastError });
        },
      )
      .finally(() => {
        this.running = null;
        if (this.hasWork()) this.schedule(this.queue.length >= this.o.batchSize || this.backoffUntil > 0 ? 0 : this.o.flushIntervalMs);
      });
    return this.running;
  }

  /**
   * Stores the queue, then one journal-only segment (oldest first), and again until nothing is
   * left; throws on the first failed insert. The queue goes first each round so it empties and new
   * rows go back to memory instead of to yet another journal-only segment.
   */
  private async drain(): Promise<void> {
    for (;;) {
      while (this.queue.length > 0) {
        const batch = this.queue.slice(0, this.o.batchSize);
        await this.insert(batch.map((q) => q.row));
        if (this.state === 'closed') return;
        this.queue.splice(0, batch.length);
        for (const q of batch) {
          if (q.segment) q.segment.unsettled -= 1;
          this.settled(q.row);
        }
        this.collect();
      }
      const seg = this.journal.segments.find((s) => !s.inMemory);
      if (seg === undefined) return;
      await this.replay(seg);
      if (this.state === 'closed') return;
    }
  }

  /** Reads a journal-only segment back and stores it in batches, resuming after a failure. */
  private async replay(seg: Segment): Promise<void> {
    // Stop appending to it, so it can be read back whole and then deleted.
    if (!seg.sealed) this.journal.seal(seg);
    const { rows, skipped } = readSegment(seg.path);
    if (skipped > 0 && seg.replayed === 0) this.log.warn('ledger journal: unreadable lines skipped', { file: seg.path, skipped });
    for (let i = seg.replayed; i < rows.length; i += this.o.batchSize) {
      const part = rows.slice(i, i + this.o.batchSize);
      await this.insert(part);
      if (this.state === 'closed') return;
      seg.replayed = i + part.length;
      if (seg.adopted) this.recovered += part.length;
      else for (const row of part) this.settled(row);
    }
    this.journal.remove(seg);
    if (seg.adopted) this.settleRecover();
  }

  private async insert(rows: UsageRow[]): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`ledger insert timed out after ${this.o.insertTimeoutMs} ms`)), this.o.insertTimeoutMs);
      timer.unref();
    });
    try {
      await Promise.race([this.ledger.insert(rows), timeout]);
    } finally {
      clearTimeout(timer);
    }
    this.s.inserted += rows.length;
  }

  private settled(row: UsageRow): void {
    this.s.pending -= 1;
    this.addCost(row, -row.costNanoUsd);
  }

  /** Deletes in-memory segments whose rows are all stored (the active one too: the next row starts a new file). */
  private collect(): void {
    for (const seg of [...this.journal.segments]) {
      if (seg.inMemory && seg.unsettled === 0 && (seg.rows > 0 || seg.sealed)) this.journal.remove(seg);
    }
  }

  private settleRecover(): void {
    if (this.state !== 'closed' && this.journal.segments.some((s) => s.adopted)) return;
    for (const resolve of this.recoverWaiters.splice(0)) resolve(this.recovered);
  }
}

/** Used by close() only, and deliberately not unref'd: the shutdown path must wait for its deadline. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
