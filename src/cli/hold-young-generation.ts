import v8 from 'node:v8';

/**
 * Keeps V8's young generation at the size start-up left it for the life of the server. Loading
 * the modules already grows each semi-space from 1 to 8 MiB (measured on Node 20); this stops the
 * last doubling to 16 MiB.
 *
 * Under sustained load V8 doubles the young generation's semi-spaces up to 16 MiB each (growth
 * is triggered by bytes surviving scavenges, which a proxy with hundreds of open streams always
 * has). For Sluice that is ~45 MiB of resident memory bought for nothing: measured with bench/ at
 * 256 concurrent streams, peak RSS went from ~180 MiB to ~135 MiB with CPU per request unchanged
 * within noise. `--max-semi-space-size` would say this directly but only counts at start-up;
 * the growth factor is read each time V8 grows, so it can be set here. An operator who passes
 * their own semi-space flags (command line or NODE_OPTIONS) keeps them.
 */
export function holdYoungGeneration(): boolean {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (given.some((flag) => /semi[-_]space/.test(flag))) return false;
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  return true;
}
