import v8 from 'node:v8';

/** The flags holdYoungGeneration() chose; empty unless `sluice serve` called it. */
const applied: string[] = [];

/**
 * Keeps V8's heap sized for a proxy rather than for a batch job.
 *
 * Young generation: loading the modules already grows each semi-space from 1 to 8 MiB (measured
 * on Node 20); under sustained load V8 would double them again to 16 MiB (growth is triggered by
 * bytes surviving scavenges, which a proxy with hundreds of open streams always has): ~45 MiB of
 * resident memory at 256 concurrent streams for nothing. The growth factor is read each time V8
 * grows, so it can be set here.
 *
 * Old generation: at 256 concurrent streams every per-request object outlives two scavenges and
 * is promoted, then dies; with V8's default growing factor the old space balloons with that
 * garbage between mark-compacts (live heap ~25 MiB, peak heapUsed ~115 MiB, measured with a heap
 * snapshot under load). A growing factor of 2 (100 %) keeps the peak closer to the live size:
 * bench/ peak RSS at 256 streams 125 MiB instead of 187-204 MiB, streamed throughput at 32
 * saturated streams 0.84-0.96x of direct. Tighter factors cost too much CPU in full collections
 * (50 %: 109-113 MiB but 0.72-0.87x; 20 %: 112 MiB, similar cost).
 *
 * An operator who passes their own flags for either (command line or NODE_OPTIONS) keeps them.
 */
export function holdYoungGeneration(): boolean {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (!given.some((flag) => /heap[-_]growing/.test(flag))) applied.push('--heap-growing-percent=100');
  const holdsYoung = !given.some((flag) => /semi[-_]space/.test(flag));
  if (holdsYoung) applied.push('--semi-space-growth-factor=1');
  reapplyHeapFlags();
  return holdsYoung;
}

/**
 * Starting a worker thread puts these flags back to V8's defaults for the whole process (measured:
 * with the SQLite writer thread running, the main isolate's semi-spaces grew to 16 MiB again, +30
 * MiB of resident memory at 256 streams). Whoever starts a worker calls this once it is online.
 */
export function reapplyHeapFlags(): void {
  for (const flag of applied) v8.setFlagsFromString(flag);
}
