/**
 * SQLite ledger inserts on a worker thread of their own. better-sqlite3 is synchronous: on the
 * event loop a 500-row batch held it 7-9 ms, a WAL checkpoint adds an fsync (~17 ms on this disk),
 * and a write lock held by another process (`sluice keys create`, a backup) stalled every stream
 * for up to busy_timeout. Here those waits block only the writer; the gateway's loop never sees them.
 *
 * The worker opens its own connection to the same file (WAL: one writer, readers never blocked)
 * and runs one prepared INSERT per row inside a transaction per batch. It is plain CommonJS
 * evaluated from a string, so it runs the same under tsx, from dist/ and from a packed install,
 * and starts only when the first batch arrives (a CLI that never writes usage never pays for it).
 * Its heap is capped: it holds one batch at a time, and an uncapped isolate would grow its young
 * generation to V8's defaults (tens of MiB of resident memory) for nothing.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Insertable } from 'kysely';
import { reapplyHeapFlags } from '../../runtime/heap-flags.js';
import type { UsageLedgerTable } from './schema.js';

const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const Sqlite = require(workerData.driver);
const db = new Sqlite(workerData.file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
let insertAll;
parentPort.on('message', (message) => {
  if (message.exit === true) process.exit(1);
  try {
    const rows = message.rows;
    if (insertAll === undefined && rows.length > 0) {
      const columns = Object.keys(rows[0]);
      const statement = db.prepare('INSERT INTO usage_ledger (' + columns.join(', ') + ') VALUES (' +
        columns.map((c) => '@' + c).join(', ') + ') ON CONFLICT (request_id) DO NOTHING');
      insertAll = db.transaction((batch) => { for (const row of batch) statement.run(row); });
    }
    if (rows.length > 0) insertAll(rows);
    parentPort.postMessage({ id: message.id });
  } catch (error) {
    parentPort.postMessage({ id: message.id, error: String(error && error.message || error) });
  }
});
`;

/** A young generation this small is plenty for one batch at a time. */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 };

interface Reply {
  id: number;
  error?: string;
}

interface Pending {
  resolve: () => void;
  reject: (error: Error) => void;
}

export interface SqliteWriterOptions {
  file: string;
  busyTimeoutMs: number;
}

export class SqliteWriterThread {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: SqliteWriterOptions) {}

  /** Inserts the batch in one transaction on the writer thread; rejects with SQLite's error. */
  insert(rows: Insertable<UsageLedgerTable>[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the SQLite store is closed'));
    const worker = this.worker ?? this.spawn();
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Only while a batch is in flight may the writer keep the process alive.
      worker.ref();
      worker.postMessage({ id, rows });
    });
  }

  /** Waits for the batches in flight, then stops the thread. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (worker === null) return;
    await Promise.allSettled([...this.pending.keys()].map((id) => this.settled(id)));
    this.worker = null;
    await worker.terminate();
  }

  /**
   * Makes the thread exit as a crash would, before it reads any batch sent after this call (tests:
   * a dead writer must fail its batches, then restart). Not worker.terminate(): a thread terminated
   * inside an SQLite call can abort the whole process (better-sqlite3 raising SQLITE_BUSY in an
   * isolate being torn down: a V8 fatal error, seen once in this test).
   */
  async kill(): Promise<void> {
    const worker = this.worker;
    if (worker === null) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.postMessage({ exit: true });
    await exited;
  }

  /**
   * Starts the thread now rather than on the first batch, and resolves once it runs. A server
   * calls it before it listens: the heap flags a new isolate resets (see reapplyHeapFlags) are
   * then back before any load could grow the main heap.
   */
  start(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the SQLite store is closed'));
    const worker = this.worker ?? this.spawn();
    return new Promise((resolve, reject) => {
      worker.once('online', () => resolve());
      worker.once('exit', (code) => reject(new Error(`SQLite writer thread exited at start (code ${code})`)));
    });
  }

  private spawn(): Worker {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driver, file: this.options.file, busyTimeoutMs: this.options.busyTimeoutMs },
      resourceLimits: WORKER_LIMITS,
      // The gateway's --max-semi-space-size and friends are not meant for this isolate.
      execArgv: [],
      stdout: false,
      stderr: false,
    });
    worker.unref();
    worker.once('online', reapplyHeapFlags);
    worker.on('message', (reply: Reply) => this.answer(reply));
    // A failed open (bad file) or an out-of-memory isolate: fail what is in flight; the next
    // batch starts a fresh thread, and the ledger writer retries with backoff meanwhile.
    worker.on('error', (error: Error) => this.failAll(worker, error));
    worker.on('exit', (code) => this.failAll(worker, new Error(`SQLite writer thread exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private answer(reply: Reply): void {
    const waiting = this.pending.get(reply.id);
    if (waiting === undefined) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (reply.error === undefined) waiting.resolve();
    else waiting.reject(new Error(reply.error));
  }

  private failAll(worker: Worker, error: Error): void {
    if (this.worker === worker) this.worker = null;
    for (const [id, waiting] of this.pending) {
      this.pending.delete(id);
      waiting.reject(error);
    }
  }

  private settled(id: number): Promise<void> {
    return new Promise((resolve) => {
      const waiting = this.pending.get(id);
      if (waiting === undefined) return resolve();
      this.pending.set(id, {
        resolve: () => (waiting.resolve(), resolve()),
        reject: (error) => (waiting.reject(error), resolve()),
      });
    });
  }
}
