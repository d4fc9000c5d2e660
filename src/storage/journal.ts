/**
 * The ledger writer's journal: the segments in its folder, which one takes new lines, and their
 * file descriptors. Appends are synchronous writes; fsync and close run on a promise chain off
 * the request path, which also guarantees a descriptor is never closed (and its number reused)
 * under a pending fsync.
 */
import { appendFileSync, mkdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from '../observability/logger.js';
import { closeAsync, fsyncAsync, fsyncDir, listSegments, lockJournal, openSegment, segmentName, writeLine } from './journal-files.js';

export interface Segment {
  path: string;
  fd: number | null;
  rows: number;
  /** Every row is also queued in memory (or stored): nothing to read back from the file. */
  inMemory: boolean;
  /** Queued rows of this segment not yet stored. */
  unsettled: number;
  /** Left by a previous run. */
  adopted: boolean;
  /** Journal-only segments: lines already stored. */
  replayed: number;
  /** No more appends. */
  sealed: boolean;
  /** Written since the last fsync. */
  dirty: boolean;
  dirSynced: boolean;
}

function segment(path: string, inMemory: boolean, adopted: boolean): Segment {
  return { path, fd: null, rows: 0, inMemory, unsettled: 0, adopted, replayed: 0, sealed: adopted, dirty: false, dirSynced: adopted };
}

export class Journal {
  /** Oldest first; those left by a previous run come first. */
  readonly segments: Segment[] = [];
  private active: Segment | null = null;
  private nextSeq: number;
  private syncChain: Promise<void> = Promise.resolve();
  private readonly syncTimer: NodeJS.Timeout;
  private readonly releaseLock: () => void;
  private broken = false;

  constructor(
    readonly dir: string,
    private readonly segmentRows: number,
    fsyncIntervalMs: number,
    private readonly log: Logger,
  ) {
    mkdirSync(dir, { recursive: true });
    this.releaseLock = lockJournal(dir);
    const left = listSegments(dir);
    for (const { name } of left) this.segments.push(segment(join(dir, name), false, true));
    this.nextSeq = (left.at(-1)?.seq ?? 0) + 1;
    this.syncTimer = setInterval(() => this.syncActive(), fsyncIntervalMs).unref();
  }

  /**
   * Journals one line. `inMemory` says whether the caller also queues the row: once the queue is
   * full a new, journal-only segment starts. Returns the segment, or null when the disk refused.
   */
  write(line: string, inMemory: boolean): Segment | null {
    let seg = this.active;
    if (seg !== null && (seg.rows >= this.segmentRows || (seg.inMemory && !inMemory))) {
      this.seal(seg);
      seg = null;
    }
    try {
      if (seg === null) seg = this.open(inMemory);
      writeLine(seg.fd ?? -1, line);
    } catch (error) {
      if (!this.broken) this.log.error('ledger journal: write failed; rows kept in memory only', { dir: this.dir, error });
      this.broken = true;
      // A failed write may have left half a line: the next line must not be glued to it.
      if (seg !== null) this.seal(seg);
      return null;
    }
    this.broken = false;
    seg.rows += 1;
    seg.dirty = true;
    return seg;
  }

  private open(inMemory: boolean): Segment {
    const seg = segment(join(this.dir, segmentName(this.nextSeq)), inMemory, false);
    seg.fd = openSegment(seg.path);
    this.nextSeq += 1;
    this.segments.push(seg);
    this.active = seg;
    return seg;
  }

  /** No more appends; the descriptor is fsynced (if its rows are not all stored) and closed, off the request path. */
  seal(seg: Segment): void {
    seg.sealed = true;
    if (this.active === seg) this.active = null;
    if (seg.fd === null) return;
    const fd = seg.fd;
    const sync = seg.dirty && !(seg.inMemory && seg.unsettled === 0);
    seg.fd = null;
    seg.dirty = false;
    this.chain(async () => {
      if (sync) await this.fsync(seg, fd);
      await closeAsync(fd);
    });
  }

  /** Deletes a segment whose rows are all stored. */
  remove(seg: Segment): void {
    if (!seg.sealed) this.seal(seg);
    this.segments.splice(this.segments.indexOf(seg), 1);
    try {
      unlinkSync(seg.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.log.error('ledger journal: cannot delete a stored segment', { file: seg.path, error });
    }
  }

  /** After close: a row recorded by a straggling request goes to a file of its own, for the next start. */
  appendLate(line: string): void {
    appendFileSync(join(this.dir, segmentName(this.nextSeq, `late${randomBytes(4).toString('hex')}`)), line, { mode: 0o600 });
  }

  /** Seals the active segment, waits for every fsync and close, releases the folder. */
  async close(): Promise<void> {
    clearInterval(this.syncTimer);
    if (this.active !== null) this.seal(this.active);
    await this.syncChain;
    this.releaseLock();
    if (this.segments.length > 0) return;
    try {
      rmdirSync(this.dir);
    } catch {
      // Not empty (a late row) or already gone: either is fine.
    }
  }

  /** Bounds what a power loss can take of rows not yet stored to one interval. */
  private syncActive(): void {
    const seg = this.active;
    if (seg === null || seg.fd === null || !seg.dirty) return;
    const fd = seg.fd;
    seg.dirty = false;
    this.chain(() => this.fsync(seg, fd));
  }

  private async fsync(seg: Segment, fd: number): Promise<void> {
    await fsyncAsync(fd);
    // A new file's directory entry needs an fsync of the folder to survive a power loss too.
    if (!seg.dirSynced) {
      seg.dirSynced = true;
      await fsyncDir(this.dir);
    }
  }

  private chain(op: () => Promise<void>): void {
    this.syncChain = this.syncChain.then(op).catch((error: unknown) => this.log.error('ledger journal: fsync or close failed', { error }));
  }
}
