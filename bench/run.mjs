#!/usr/bin/env node
// run.mjs — Sluice's own benchmark: direct-to-upstream vs through Sluice, on loopback, in one run.
//
//   node bench/run.mjs [--repeats=3] [--modes=stream,nonstream] [--concurrencies=1,32,256] ...
//   npm run bench -- --repeats=3
//
// Starts bench/upstream.mjs (pinned to CPU 0) and Sluice (`node bin/sluice.js serve`, NODE_ENV=production,
// pinned to CPU 1) with a temporary config, waits for GET /health, checks a few fully verified
// requests both ways, warms up, then for every mode and concurrency runs bench/load.mjs (pinned to
// CPU 0) direct and through Sluice back to back, the order alternating between repeats. Around each
// measured phase it reads Sluice's utime+stime and peak RSS (VmHWM, reset first via clear_refs).
// Prints the tables and target verdicts (see report.mjs) and writes bench/results/<timestamp>.json.
//
// Options (flag, or the environment variable in brackets):
//   --repeats=N           [BENCH_REPEATS]        direct+Sluice pairs per level (default 3)
//   --modes=LIST          [BENCH_MODES]          stream,nonstream
//   --concurrencies=LIST  [BENCH_CONCURRENCIES]  1,32,256
//   --requests=SPEC       [BENCH_REQUESTS]       measured requests per phase: one number, or per level
//                                                "1:500,32:4000,256:8000" (the default)
//   --max-seconds=S       [BENCH_MAX_SECONDS]    time bound of each measured phase (default 6)
//   --warmup=N            [BENCH_WARMUP]         unmeasured requests per mode and target at c=32 after
//                                                start-up (default 800); each phase also warms its own
//                                                connections with 2 requests per worker
//   --chunks=N            [BENCH_CHUNKS]         content chunks per reply (default 64)
//   --pace=P              [BENCH_PACE]           upstream pacing: immediate | burst | <ms> (upstream.mjs)
//   --prompt-bytes=N      [BENCH_PROMPT_BYTES]   user message size (default 1024)
//   --no-usage            [BENCH_USAGE=0]        stream requests without stream_options.include_usage
//   --gateway-cmd=CMD     [BENCH_GATEWAY_CMD]    run CMD (via sh, placeholders {port} {config}
//                                                {upstream_port}) instead of Sluice, e.g. a stand-in
//   --calibrate                                  measure bench/forwarder.mjs (a zero-work TCP
//                                                forwarder) instead of Sluice: the cost of the extra
//                                                hop alone on this machine (upstream key check off)
//   --translate           [BENCH_TRANSLATE=true] the translated path: Sluice's provider is `kind:
//                                                anthropic` and its upstream runs --protocol=anthropic,
//                                                so Sluice turns each OpenAI request into an Anthropic
//                                                Messages one and the Anthropic SSE back into OpenAI
//                                                chunks. "direct" then runs against a second upstream
//                                                process in OpenAI mode (same chunks and pacing), since
//                                                an OpenAI client cannot talk to the Anthropic one.
//                                                Not with --calibrate (a forwarder cannot translate).
//   --quiet-wait=S        [BENCH_QUIET_WAIT]     before each measured run, wait up to S s (default 3) for
//                                                other processes to use < 0.15 cores; 0 = don't wait
//   --limits=off|memory|redis [BENCH_LIMITS]     the bench key's rate limits (default off): memory = rpm,
//                                                tpm and max_concurrent set far above the load, so each
//                                                request takes and settles them but none is refused;
//                                                redis = the same through a private redis-server (no
//                                                persistence) pinned with the load generator to CPU 0,
//                                                as Redis on another host would not share Sluice's core.
//                                                Its CPU is reported and not counted as "other load".
//   --port=N              [BENCH_PORT]           Sluice's port (default: a free one)
//   --no-pin              [BENCH_PIN=0]          do not use taskset
//   --out=FILE            [BENCH_OUT]            results file (default bench/results/<timestamp>.json)
//   --strict                                     exit 1 when a target fails
//
// Everything stops by itself: each load run is bounded in requests and seconds (and killed if it
// overruns), the whole run has a deadline, and children are stopped on exit, on signals, and by a
// watchdog if this process is killed outright.

import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg, release } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuSeconds, statusKb, resetPeakRss, machineBusySeconds, startChild, stopChild, stopAllChildren, killAllChildrenNow, removeOnCrash } from './proc.mjs';
import { summarise, formatReport, NOISY } from './report.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const CLIENT_KEY = 'sk-bench-client-key';
const UPSTREAM_KEY = 'sk-bench-upstream';
const MODEL = 'bench-model';
const CPU_CLIENT = '0'; // load generator + upstream
const CPU_GATEWAY = '1'; // Sluice alone

// ---- options ----
function opt(name, env, def) {
  const a = process.argv.slice(2).find((x) => x === `--${name}` || x.startsWith(`--${name}=`));
  if (a !== undefined) return a.includes('=') ? a.slice(a.indexOf('=') + 1) : 'true';
  return process.env[env] !== undefined && process.env[env] !== '' ? process.env[env] : def;
}
const known = ['repeats', 'modes', 'concurrencies', 'requests', 'max-seconds', 'warmup', 'chunks', 'pace', 'prompt-bytes', 'no-usage', 'gateway-cmd', 'calibrate', 'translate', 'quiet-wait', 'limits', 'port', 'no-pin', 'out', 'strict', 'help'];
for (const a of process.argv.slice(2)) {
  if (!known.includes(a.replace(/^--/, '').split('=')[0])) { console.error(`run.mjs: unknown option ${a} (see the header of bench/run.mjs)`); process.exit(2); }
}
if (process.argv.includes('--help')) {
  console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n'));
  process.exit(0);
}
const O = {
  repeats: Number(opt('repeats', 'BENCH_REPEATS', '3')),
  modes: opt('modes', 'BENCH_MODES', 'stream,nonstream').split(',').map((s) => s.trim()).filter(Boolean),
  concurrencies: opt('concurrencies', 'BENCH_CONCURRENCIES', '1,32,256').split(',').map(Number),
  requests: opt('requests', 'BENCH_REQUESTS', '1:500,32:4000,256:8000'),
  maxSeconds: Number(opt('max-seconds', 'BENCH_MAX_SECONDS', '6')),
  warmup: Number(opt('warmup', 'BENCH_WARMUP', '800')),
  chunks: Number(opt('chunks', 'BENCH_CHUNKS', '64')),
  pace: opt('pace', 'BENCH_PACE', 'immediate'),
  promptBytes: Number(opt('prompt-bytes', 'BENCH_PROMPT_BYTES', '1024')),
  usage: opt('no-usage', 'BENCH_NO_USAGE', 'false') !== 'true' && process.env.BENCH_USAGE !== '0',
  gatewayCmd: opt('gateway-cmd', 'BENCH_GATEWAY_CMD', ''),
  calibrate: opt('calibrate', 'BENCH_CALIBRATE', 'false') === 'true',
  translate: opt('translate', 'BENCH_TRANSLATE', 'false') === 'true',
  quietWait: Number(opt('quiet-wait', 'BENCH_QUIET_WAIT', '3')),
  limits: opt('limits', 'BENCH_LIMITS', 'off'),
  port: Number(opt('port', 'BENCH_PORT', '0')),
  pin: opt('no-pin', 'BENCH_NO_PIN', 'false') !== 'true' && process.env.BENCH_PIN !== '0',
  out: opt('out', 'BENCH_OUT', ''),
  strict: opt('strict', 'BENCH_STRICT', 'false') === 'true',
};
const bad = (m) => { console.error(`run.mjs: ${m}`); process.exit(2); };
if (!(O.repeats >= 1)) bad('--repeats must be >= 1');
if (!O.modes.every((m) => m === 'stream' || m === 'nonstream')) bad('--modes takes stream and/or nonstream');
if (!O.concurrencies.every((c) => Number.isInteger(c) && c >= 1)) bad('--concurrencies takes positive integers');
if (O.calibrate && O.translate) bad('--calibrate and --translate cannot be combined: a TCP forwarder cannot translate OpenAI to Anthropic');
if (!['off', 'memory', 'redis'].includes(O.limits)) bad('--limits takes off, memory or redis');
if (O.limits !== 'off' && O.calibrate) bad('--limits and --calibrate cannot be combined: a TCP forwarder has no limits');
if (O.calibrate) O.gatewayCmd = `${process.execPath} ${join(BENCH, 'forwarder.mjs')} --port={port} --upstream-port={upstream_port}`;
if (!(O.maxSeconds > 0 && O.chunks >= 1)) bad('--max-seconds and --chunks must be positive');
function requestsFor(c) {
  if (/^\d+$/.test(O.requests)) return Number(O.requests);
  for (const part of O.requests.split(',')) {
    const [lc, n] = part.split(':').map(Number);
    if (lc === c) return n;
  }
  return Math.max(500, c * 30);
}
if (O.pin && (cpus().length < 2)) { console.error('run.mjs: fewer than 2 CPUs, not pinning'); O.pin = false; }
const pinned = (cpu, cmd, args) => (O.pin ? ['taskset', ['-c', cpu, cmd, ...args]] : [cmd, args]);

// ---- deadline and cleanup ----
// Generous but finite: every phase is bounded, so this only fires if something is badly wrong.
const phasesPlanned = O.modes.length * O.concurrencies.length * O.repeats * 2 + O.modes.length * 2 + 4;
const deadlineMs = (phasesPlanned * (O.maxSeconds * 2 + O.quietWait + 40) + 60) * 1000;
let tmp = '';
let finished = false;
async function shutdown(code, why) {
  if (finished) return;
  finished = true;
  if (why) console.error(`run.mjs: ${why}`);
  await stopAllChildren().catch(() => {});
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  process.exit(code);
}
setTimeout(() => shutdown(1, `deadline of ${Math.round(deadlineMs / 1000)} s reached, stopping`), deadlineMs).unref();
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => shutdown(130, `${sig}, stopping`));
process.on('exit', killAllChildrenNow);
process.on('uncaughtException', (e) => shutdown(1, `error: ${e?.stack ?? e}`));
process.on('unhandledRejection', (e) => shutdown(1, `error: ${e?.stack ?? e}`));

// ---- helpers ----
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer().once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function exited(child) {
  return child.exitCode !== null || child.signalCode !== null;
}

function tail(file, lines = 30) {
  try { return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n'); } catch { return '(no log)'; }
}

async function getJson(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return { status: res.status, body: await res.text() };
}

// --limits=redis: a private redis-server beside the load generator, so the figures are not
// disturbed by (and do not disturb) the machine's own Redis, and Redis never runs on Sluice's core.
let redis = null;
async function startRedis() {
  const port = await freePort();
  const [cmd, args] = pinned(CPU_CLIENT, 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  const child = startChild(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const until = Date.now() + 10_000;
  for (;;) {
    if (exited(child)) throw new Error(`redis-server exited (code ${child.exitCode}); is it installed?`);
    if (Date.now() > until) throw new Error('redis-server did not answer PING within 10 s');
    if (await redisPing(port)) return { child, pid: child.pid, port };
    await sleep(100);
  }
}

function redisPing(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.setTimeout(1000, () => { socket.destroy(); resolve(false); });
    socket.once('data', (d) => { socket.destroy(); resolve(String(d).startsWith('+PONG')); });
    socket.once('error', () => resolve(false));
  });
}

const redisCpu = () => (redis ? cpuSeconds(redis.pid) : 0);

async function startUpstream(protocol) {
  const [cmd, args] = pinned(CPU_CLIENT, process.execPath, [join(BENCH, 'upstream.mjs'), '--port=0', `--protocol=${protocol}`, `--chunks=${O.chunks}`, `--pace=${O.pace}`, ...(O.calibrate ? [] : [`--api-key=${UPSTREAM_KEY}`]), '--exit-on-stdin-end']);
  const child = startChild(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  let buf = '';
  const ready = await Promise.race([
    new Promise((resolve) => child.stdout.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)));
    })),
    new Promise((resolve) => child.once('exit', () => resolve(null))),
    sleep(10_000, null),
  ]);
  if (!ready?.port) throw new Error(`upstream (${protocol}) did not start`);
  child.stdout.resume();
  return { child, port: ready.port, pid: child.pid, protocol };
}

async function startGateway(port, upstreamPort) {
  const config = join(tmp, 'sluice-bench.yaml');
  writeFileSync(config, [
    'host: 127.0.0.1',
    `port: ${port}`,
    'log_level: warn',
    'providers:',
    '  bench:',
    // Anthropic's base_url is the origin: Sluice POSTs {base_url}/v1/messages.
    ...(O.translate
      ? ['    kind: anthropic', `    base_url: http://127.0.0.1:${upstreamPort}`]
      : ['    kind: openai', `    base_url: http://127.0.0.1:${upstreamPort}/v1`]),
    `    api_key: ${UPSTREAM_KEY}`,
    ...(redis ? [`redis: 'redis://127.0.0.1:${redis.port}/?prefix=bench:'`] : []),
    'models:',
    `  ${MODEL}:`,
    `    routes: [bench/${MODEL}]`,
    'keys:',
    '  - name: bench',
    `    key: ${CLIENT_KEY}`,
    // Far above what the load can reach: every request is taken and settled, none refused.
    ...(O.limits === 'off' ? [] : ['    rpm: 100000000', '    tpm: 1000000000000', '    max_concurrent: 100000']),
    '',
  ].join('\n'));
  const log = join(tmp, 'gateway.log');
  const fd = openSync(log, 'a');
  const [cmd, args] = O.gatewayCmd
    ? pinned(CPU_GATEWAY, 'sh', ['-c', `exec ${O.gatewayCmd.replaceAll('{port}', port).replaceAll('{config}', config).replaceAll('{upstream_port}', upstreamPort)}`])
    : pinned(CPU_GATEWAY, process.execPath, ['bin/sluice.js', 'serve', '--config', config, '--port', String(port)]);
  const child = startChild(cmd, args, { cwd: ROOT, env: { ...process.env, NODE_ENV: 'production' }, stdio: ['ignore', fd, fd] });
  const until = Date.now() + 30_000;
  for (;;) {
    if (exited(child)) throw new Error(`gateway exited (code ${child.exitCode}, signal ${child.signalCode}); log:\n${tail(log)}`);
    if (Date.now() > until) throw new Error(`gateway /health did not return 200 within 30 s; log:\n${tail(log)}`);
    try { if ((await getJson(`http://127.0.0.1:${port}/health`)).status === 200) break; } catch { /* not listening yet */ }
    await sleep(100);
  }
  await sleep(500); // let start-up work settle before the first CPU/RSS reading
  return { child, pid: child.pid, log, cmd: [cmd, ...args].join(' ') };
}

// On a shared machine other work comes in bursts (builds, test runs). Waiting briefly for a lull
// before each measured run is cheap and removes much of the noise; the wait is bounded, and a phase
// that was still disturbed is flagged in the report ("other load").
const QUIET = 0.15;
async function waitForQuiet() {
  const until = performance.now() + O.quietWait * 1000;
  let other = 0;
  do {
    const b0 = machineBusySeconds(), g0 = cpuSeconds(gateway.pid), u0 = upstreamsCpu(), r0 = redisCpu(), t0 = performance.now();
    await sleep(300);
    const dt = (performance.now() - t0) / 1000;
    other = (machineBusySeconds() - b0 - (cpuSeconds(gateway.pid) - g0) - (upstreamsCpu() - u0) - (redisCpu() - r0)) / dt;
    if (other < QUIET) return 0;
  } while (performance.now() < until);
  return other;
}

// ---- one load run ----
// `upstream` is the one the gateway talks to; `directUpstream` the one the direct phases use (the
// same process, except with --translate, where it is a second upstream in OpenAI mode).
let upstream, directUpstream, gateway, targets;

// CPU of every upstream process: with --translate the idle one is still not "other load".
function upstreamsCpu() {
  return cpuSeconds(upstream.pid) + (directUpstream !== upstream ? cpuSeconds(directUpstream.pid) : 0);
}

async function upstreamStats(up, resetPeak = false) {
  try { return JSON.parse((await getJson(`http://127.0.0.1:${up.port}/stats${resetPeak ? '?reset_peak=1' : ''}`)).body); } catch { return null; }
}

async function runLoad({ target, mode, c, requests, warmup, maxSeconds, label, measure }) {
  const t = targets[target];
  const args = [join(BENCH, 'load.mjs'), `--url=${t.url}`, `--key=${t.key}`, `--model=${MODEL}`,
    mode === 'stream' ? '--stream' : '--no-stream', O.usage ? '--usage' : '--no-usage',
    `--concurrency=${c}`, `--requests=${requests}`, `--warmup=${warmup}`, `--max-seconds=${maxSeconds}`,
    `--chunks=${O.chunks}`, `--prompt-bytes=${O.promptBytes}`, '--timeout-ms=20000', `--label=${label}`, '--quiet'];
  const [cmd, cargs] = pinned(CPU_CLIENT, process.execPath, args);
  const child = startChild(cmd, cargs, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  let stdout = '';
  child.stdout.on('data', (d) => { stdout += d; });
  const m = {};
  child.on('message', async (msg) => {
    // Counters are read at the exact boundaries of the measured phase; load.mjs waits for {go}.
    if (msg?.phase === 'measure-start' && measure) {
      m.hwmReset = resetPeakRss(gateway.pid);
      m.up0 = await upstreamStats(t.upstream, true);
      m.busy0 = machineBusySeconds(); m.gw0 = cpuSeconds(gateway.pid); m.upCpu0 = upstreamsCpu(); m.redis0 = redisCpu();
      m.t0 = performance.now();
    } else if (msg?.phase === 'measure-end' && measure) {
      m.t1 = performance.now();
      m.gw1 = cpuSeconds(gateway.pid); m.upCpu1 = upstreamsCpu(); m.redis1 = redisCpu(); m.busy1 = machineBusySeconds();
      m.hwmKb = statusKb(gateway.pid, 'VmHWM'); m.rssKb = statusKb(gateway.pid, 'VmRSS');
      m.up1 = await upstreamStats(t.upstream);
    }
    if (child.connected) child.send({ go: true });
  });
  // load.mjs bounds itself; this is the backstop if it hangs anyway.
  const killer = setTimeout(() => stopChild(child), (2 * maxSeconds + 60) * 1000);
  await new Promise((r) => (exited(child) ? r() : child.once('exit', r)));
  clearTimeout(killer);
  let load;
  try { load = JSON.parse(stdout.trim().split('\n').pop()); } catch { throw new Error(`load.mjs (${label}) gave no result (exit ${child.exitCode})`); }
  if (!measure) return { load };
  const wall = (m.t1 - m.t0) / 1000;
  const gwCpu = m.gw1 - m.gw0;
  return {
    load,
    wall_s: wall,
    gateway: { cpu_s: gwCpu, peak_rss_mib: m.hwmKb / 1024, rss_mib: m.rssKb / 1024, peak_reset: m.hwmReset },
    upstream: m.up0 && m.up1 ? {
      requests: m.up1.requests - m.up0.requests, streams_aborted: m.up1.streams_aborted - m.up0.streams_aborted,
      inflight_peak: m.up1.inflight_peak, new_connections: m.up1.connections - m.up0.connections, cpu_s: m.upCpu1 - m.upCpu0,
    } : null,
    // CPU used by everything else on the machine, in cores: the noise in this measurement
    ...(redis ? { redis_cpu_s: m.redis1 - m.redis0 } : {}),
    other_cores: Math.max(0, (m.busy1 - m.busy0) - gwCpu - (m.upCpu1 - m.upCpu0) - (m.redis1 - m.redis0) - load.client_cpu_s) / wall,
  };
}

// ---- main ----
tmp = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
removeOnCrash(tmp);
const started = new Date();
// What the two sides of each comparison are, when that is not the plain passthrough comparison.
const PATHS = O.translate
  ? `direct = OpenAI-mode upstream; through ${O.gatewayCmd ? 'the gateway (--gateway-cmd)' : 'Sluice'} = OpenAI client -> ${O.gatewayCmd ? 'gateway' : 'Sluice'} -> Anthropic-mode upstream, translated`
  : '';
console.log(`sluice bench: node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}, pinning ${O.pin ? `upstream+load CPU ${CPU_CLIENT}, gateway CPU ${CPU_GATEWAY}` : 'off'}`);
if (PATHS) console.log(PATHS);
if (O.limits === 'redis') {
  try { redis = await startRedis(); } catch (e) { await shutdown(1, e.message); }
  console.log(`redis-server pid ${redis.pid} :${redis.port} (--limits=redis)`);
}
upstream = await startUpstream(O.translate ? 'anthropic' : 'openai');
directUpstream = O.translate ? await startUpstream('openai') : upstream;
const port = O.port || (await freePort());
try {
  gateway = await startGateway(port, upstream.port);
} catch (e) {
  await shutdown(1, `${e.message}\n(is Sluice built? this runs \`node bin/sluice.js serve\`; --gateway-cmd runs something else)`);
}
console.log(`upstream (${upstream.protocol}) pid ${upstream.pid} :${upstream.port}; ` +
  (directUpstream !== upstream ? `direct upstream (${directUpstream.protocol}) pid ${directUpstream.pid} :${directUpstream.port}; ` : '') +
  `gateway pid ${gateway.pid} :${port} rss ${(statusKb(gateway.pid, 'VmRSS') / 1024).toFixed(1)} MiB: ${gateway.cmd}`);
targets = {
  direct: { url: `http://127.0.0.1:${directUpstream.port}/v1/chat/completions`, key: UPSTREAM_KEY, upstream: directUpstream },
  sluice: { url: `http://127.0.0.1:${port}/v1/chat/completions`, key: CLIENT_KEY, upstream },
};

// Smoke: a few fully verified requests each way; measuring a broken path would be meaningless.
for (const mode of O.modes) {
  for (const target of ['direct', 'sluice']) {
    const { load } = await runLoad({ target, mode, c: 1, requests: 5, warmup: 0, maxSeconds: 20, label: `smoke-${target}`, measure: false });
    if (load.ok !== 5) await shutdown(1, `smoke check failed (${target}, ${mode}): ${load.ok}/5 OK, ${JSON.stringify(load.error_kinds)}\n  first error: ${load.error_sample}\n  gateway log:\n${tail(gateway.log, 15)}`);
  }
}
console.log(`smoke: ${O.modes.join(' + ')} verified direct and through the gateway`);

// Warm-up: JIT, the gateway's upstream connection pool, allocator arenas.
if (O.warmup > 0) {
  for (const mode of O.modes) for (const target of ['direct', 'sluice']) {
    await runLoad({ target, mode, c: 32, requests: O.warmup, warmup: 0, maxSeconds: 10, label: `warmup-${target}`, measure: false });
  }
}

const phases = [];
let warnedHwm = false;
for (const mode of O.modes) {
  for (const c of O.concurrencies) {
    for (let repeat = 1; repeat <= O.repeats; repeat++) {
      const order = repeat % 2 ? ['direct', 'sluice'] : ['sluice', 'direct'];
      for (const target of order) {
        if (O.quietWait > 0) await waitForQuiet();
        const r = await runLoad({ target, mode, c, requests: requestsFor(c), warmup: Math.max(20, 2 * c), maxSeconds: O.maxSeconds, label: target, measure: true });
        if (exited(gateway.child)) await shutdown(1, `the gateway exited during ${mode} c=${c} (code ${gateway.child.exitCode}, signal ${gateway.child.signalCode}); log:\n${tail(gateway.log)}`);
        if (target === 'sluice' && !r.gateway.peak_reset && !warnedHwm) {
          warnedHwm = true;
          console.log('  (could not write /proc/<pid>/clear_refs: peak RSS figures include earlier levels)');
        }
        phases.push({ repeat, mode, concurrency: c, target, ...r });
        const l = r.load;
        console.log(`  ${mode.padEnd(9)} c=${String(c).padEnd(3)} #${repeat} ${target.padEnd(6)} ok ${l.ok}/${l.completed}` +
          `${l.errors ? ` ERR ${JSON.stringify(l.error_kinds)}` : ''} ${l.rps} req/s${l.chunks_per_s !== null ? ` ${l.chunks_per_s} chunks/s` : ''}` +
          ` ttft p50 ${l.ttft_ms.p50} p99 ${l.ttft_ms.p99} ms` +
          (target === 'sluice' ? ` | Sluice cpu ${r.gateway.cpu_s.toFixed(2)} s, peak rss ${r.gateway.peak_rss_mib.toFixed(1)} MiB` : '') +
          (target === 'sluice' && r.redis_cpu_s !== undefined ? ` | redis cpu ${r.redis_cpu_s.toFixed(2)} s` : '') +
          (target === 'sluice' && mode === 'stream' && r.upstream ? ` | upstream peak in-flight ${r.upstream.inflight_peak}` : '') +
          (r.upstream && r.upstream.requests !== l.completed ? ` | upstream saw ${r.upstream.requests} requests for ${l.completed}` : '') +
          (r.other_cores > NOISY ? ` | other load ${r.other_cores.toFixed(2)} cores` : ''));
        if (l.errors && l.error_sample) console.log(`    first error: ${l.error_sample}`);
      }
    }
  }
}

const summary = summarise(phases);
const description = `${PATHS ? `${PATHS}.\n` : ''}direct vs ${O.calibrate ? 'zero-work TCP forwarder (--calibrate; "Sluice" columns are the forwarder)' : O.gatewayCmd ? `--gateway-cmd (${O.gatewayCmd})` : O.translate ? 'Sluice translating OpenAI -> Anthropic' : 'Sluice'}${O.limits === 'off' ? '' : ` with limits ${O.limits === 'redis' ? 'in Redis (private redis-server on CPU 0)' : 'in memory'}`} on loopback; ${O.chunks} chunks/reply, pace ${O.pace}, prompt ${O.promptBytes} B, include_usage ${O.usage}; ` +
  `${O.repeats} repeat(s) per level, <= ${O.maxSeconds} s per phase; ${O.pin ? `upstream+load on CPU ${CPU_CLIENT}, Sluice on CPU ${CPU_GATEWAY}` : 'not pinned'}`;
console.log(`\n${formatReport(summary, { note: description })}`);

const out = O.out || join(BENCH, 'results', `${started.toISOString().replace(/[:.]/g, '-')}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({
  meta: {
    description, started: started.toISOString(), finished: new Date().toISOString(), node: process.version,
    cpus: cpus().length, cpu_model: cpus()[0]?.model, kernel: release(), loadavg_at_end: loadavg(),
    gateway_cmd: gateway.cmd, options: O,
    upstreams: { gateway: { protocol: upstream.protocol, port: upstream.port }, direct: { protocol: directUpstream.protocol, port: directUpstream.port } },
  },
  summary, phases,
}, null, 1));
console.log(`\nresults: ${out}`);
const failed = summary.targets.some((t) => t.verdict === 'FAIL');
await shutdown(O.strict && failed ? 1 : 0);
