// proc.mjs — what run.mjs needs from the OS: CPU and memory counters from /proc, and child processes
// that never outlive the benchmark.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';

export const CLK_TCK = (() => {
  try { return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { return 100; }
})();

// The fields after "(comm)": comm may itself contain spaces and parentheses, so cut at the last ')'.
function statFields(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch { return null; }
}

// pid and all its descendants (a gateway may fork workers; their CPU and memory count too).
export function treePids(root) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(name);
    if (!f) continue;
    const ppid = Number(f[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(Number(name));
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []));
  return out;
}

// utime + stime (fields 14 and 15 of /proc/PID/stat) of the tree, in seconds.
export function cpuSeconds(root) {
  let ticks = 0;
  for (const pid of treePids(root)) {
    const f = statFields(pid);
    if (f) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / CLK_TCK;
}

// A "VmHWM"/"VmRSS" line of /proc/PID/status summed over the tree, in KiB.
export function statusKb(root, field) {
  let kb = 0;
  for (const pid of treePids(root)) {
    try {
      const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch { /* exited */ }
  }
  return kb;
}

// Writing 5 to clear_refs resets VmHWM to the current RSS, so each level reports its own peak.
export function resetPeakRss(root) {
  let ok = true;
  for (const pid of treePids(root)) {
    try { writeFileSync(`/proc/${pid}/clear_refs`, '5'); } catch { ok = false; }
  }
  return ok;
}

// Busy ticks of the whole machine (all CPUs), to estimate how much unrelated load disturbed a phase.
export function machineBusySeconds() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  return (user + nice + system + irq + softirq + steal) / CLK_TCK;
}

// ---- children ----
// Each child is stopped by its own pid: SIGTERM, then SIGKILL. A detached watchdog holds the pid list
// on a pipe; if this process dies without cleaning up (even SIGKILL), the pipe closes and the
// watchdog stops the children, so no upstream or gateway is left listening, and removes the
// temporary directory it was told about.
const live = new Map(); // pid -> ChildProcess
let watchdog = null;
let closed = false;
const WATCHDOG = `
const pids = new Set(); let buf = ''; let dir = '';
process.on('SIGINT', () => {}); process.on('SIGHUP', () => {});
process.stdin.on('data', (d) => {
  buf += d; let i;
  while ((i = buf.indexOf('\\n')) >= 0) { const l = buf.slice(0, i); buf = buf.slice(i + 1);
    if (l.startsWith('dir ')) dir = l.slice(4); else if (l[0] === '-') pids.delete(l.slice(1)); else if (l) pids.add(l); }
});
process.stdin.on('close', () => {
  if (dir) require('fs').rmSync(dir, { recursive: true, force: true });
  if (pids.size === 0) process.exit(0);
  const kill = (s) => { for (const p of pids) { try { process.kill(Number(p), s); } catch {} } };
  kill('SIGTERM'); setTimeout(() => { kill('SIGKILL'); process.exit(0); }, 2000);
});`;

function tellWatchdog(line) {
  if (closed) return;
  if (!watchdog) {
    watchdog = spawn(process.execPath, ['-e', WATCHDOG], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    watchdog.unref();
    watchdog.stdin.on('error', () => {});
  }
  watchdog.stdin.write(line + '\n');
}

// A directory to delete if this process dies without cleaning up.
export function removeOnCrash(dir) {
  tellWatchdog(`dir ${dir}`);
}

export function startChild(cmd, args, opts) {
  const child = spawn(cmd, args, opts);
  if (child.pid) {
    live.set(child.pid, child);
    tellWatchdog(String(child.pid));
    child.once('exit', () => { live.delete(child.pid); tellWatchdog(`-${child.pid}`); });
  }
  return child;
}

export async function stopChild(child, graceMs = 3000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

export async function stopAllChildren() {
  await Promise.all([...live.values()].map((c) => stopChild(c)));
  closed = true;
  if (watchdog) watchdog.stdin.end();
}

// Last resort from an 'exit' handler (no awaiting possible there).
export function killAllChildrenNow() {
  for (const c of live.values()) { try { c.kill('SIGKILL'); } catch { /* gone */ } }
}
