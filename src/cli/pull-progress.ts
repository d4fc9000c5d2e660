/**
 * The download's progress: bytes, rate and time left. A terminal gets one line redrawn in place
 * ten times a second; a log (not a TTY) a line a second, so a CI log stays readable.
 */
export class Progress {
  private readonly startedAt = Date.now();
  private lastDrawAt = 0;
  private done: number;
  private readonly resumedFrom: number;

  constructor(private readonly out: { write: (text: string) => void; isTTY: boolean }, resumedFrom: number, private readonly total: number | undefined) {
    this.done = resumedFrom;
    this.resumedFrom = resumedFrom;
    if (resumedFrom > 0) out.write(`Resuming at ${bytes(resumedFrom)}${total === undefined ? '' : ` of ${bytes(total)}`}\n`);
  }

  add(count: number): void {
    this.done += count;
    const now = Date.now();
    if (now - this.lastDrawAt < (this.out.isTTY ? 100 : 1000)) return;
    this.lastDrawAt = now;
    this.draw(now, false);
  }

  end(): void {
    this.draw(Date.now(), true);
  }

  private draw(now: number, final: boolean): void {
    const seconds = Math.max((now - this.startedAt) / 1000, 0.001);
    const rate = (this.done - this.resumedFrom) / seconds;
    const parts = [
      this.total === undefined ? bytes(this.done) : `${percent(this.done, this.total)} ${bytes(this.done)} / ${bytes(this.total)}`,
      `${bytes(rate)}/s`,
    ];
    if (final) parts.push(`in ${duration(seconds)}`);
    else if (this.total !== undefined && rate > 0) parts.push(`ETA ${duration((this.total - this.done) / rate)}`);
    const line = parts.join('  ');
    this.out.write(this.out.isTTY ? `\r${line}\u001b[K${final ? '\n' : ''}` : `${line}\n`);
  }
}

function percent(done: number, total: number): string {
  return `${total === 0 ? 100 : Math.floor((done / total) * 100)}%`.padStart(4);
}

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}
