/**
 * The files of the ledger writer's journal: a folder of append-only segment files, one JSON usage
 * row per line, plus a lock file naming the process that owns the folder.
 *
 * Lines are written with one write(2) each on an O_APPEND descriptor: once the call returns the
 * kernel has the line, so a process that dies a moment later (crash, SIGKILL, OOM) loses nothing.
 * Only a power loss can take lines not yet fsynced.
 */
import { closeSync, fsync, close, openSync, readdirSync, readFileSync, rmSync, writeSync, constants } from 'node:fs';
import { join } from 'node:path';
import { parseUsageRow } from './rows.js';
import type { UsageRow } from './types.js';

const SEGMENT = /^ledger-(\d{12})(?:-[a-z0-9]+)?\.jsonl$/;
const LOCK = 'journal.lock';

export function segmentName(seq: number, suffix?: string): string {
  return `ledger-${String(seq).padStart(12, '0')}${suffix === undefined ? '' : `-${suffix}`}.jsonl`;
}

/** Segment files in the folder, oldest first, with their sequence numbers. */
export function listSegments(dir: string): { seq: number; name: string }[] {
  const found: { seq: number; name: string }[] = [];
  for (const name of readdirSync(dir)) {
    const match = SEGMENT.exec(name);
    if (match) found.push({ seq: Number(match[1]), name });
  }
  return found.sort((a, b) => a.seq - b.seq || (a.name < b.name ? -1 : 1));
}

/** Opens a segment for appending (created if missing). */
export function openSegment(path: string): number {
  return openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND, 0o600);
}

/** Writes the whole line; loops because write(2) may in principle write less than asked. */
export function writeLine(fd: number, line: string): void {
  const bytes = Buffer.from(line, 'utf8');
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

/**
 * The rows of a segment. A line that does not parse is skipped and counted: after a power loss
 * the last line can be torn, and one bad line must not hold back the others.
 */
export function readSegment(path: string): { rows: UsageRow[]; skipped: number } {
  const rows: UsageRow[] = [];
  let skipped = 0;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.length === 0) continue;
    let row: UsageRow | undefined;
    try {
      row = parseUsageRow(JSON.parse(line));
    } catch {
      row = undefined;
    }
    if (row === undefined) skipped += 1;
    else rows.push(row);
  }
  return { rows, skipped };
}

export function fsyncAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve())));
}

export function closeAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => close(fd, (error) => (error ? reject(error) : resolve())));
}

/** fsync of the folder, so a segment created since the last one survives a power loss too. */
export async function fsyncDir(dir: string): Promise<void> {
  const fd = openSync(dir, constants.O_RDONLY);
  try {
    await fsyncAsync(fd);
  } finally {
    closeSync(fd);
  }
}

const heldHere = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the folder for this process. Two live writers on one journal would replay and delete each
 * other's segments; a lock left by a dead process is taken over (its segments are then replayed).
 * Our own pid in a stale lock is taken over too: in a container every run is often pid 1.
 */
export function lockJournal(dir: string): () => void {
  const path = join(dir, LOCK);
  if (heldHere.has(path)) throw new Error(`the ledger journal ${dir} is already used by another writer in this process`);
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeLine(fd, String(process.pid));
      closeSync(fd);
      heldHere.add(path);
      return () => {
        heldHere.delete(path);
        rmSync(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let pid = Number.NaN;
      try {
        pid = Number(readFileSync(path, 'utf8').trim());
      } catch {
        // Removed in between: try again.
      }
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new Error(`the ledger journal ${dir} is in use by process ${pid}; give each instance its own journal folder (ledger_journal: in the config)`);
      }
      rmSync(path, { force: true });
    }
  }
  throw new Error(`could not lock the ledger journal ${dir}`);
}
