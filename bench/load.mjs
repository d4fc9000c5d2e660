#!/usr/bin/env node
// load.mjs — closed-loop load generator for an OpenAI Chat Completions endpoint on loopback.
// Every worker owns one undici Agent limited to one keep-alive connection and sends its next request
// as soon as the previous one has been read and verified. Stops after --requests or --max-seconds.
//
//   node bench/load.mjs --url=http://127.0.0.1:PORT/v1/chat/completions --key=K --concurrency=32 --requests=2000
//
// Options:
//   --url=URL            endpoint (loopback hosts only)
//   --key=K              sent as "Authorization: Bearer K"
//   --model=M            (default bench-model)
//   --stream | --no-stream                 (default --stream)
//   --usage | --no-usage stream_options.include_usage on stream requests (default on)
//   --concurrency=N      workers = connections (default 1)
//   --requests=N         measured requests (default 500)
//   --warmup=N           unmeasured requests first, same concurrency (default 2 per worker, >= 20)
//   --max-seconds=S      stop issuing measured requests after S s (default 30)
//   --timeout-ms=MS      per-request limit (default 30000)
//   --chunks=N           content chunks each reply must have; must match upstream.mjs (default 64)
//   --prompt-bytes=N     size of the user message (default 1024)
//   --label=TEXT         copied into the result
//   --quiet              no human summary on stderr
//
// Output: one JSON line on stdout. A response counts as OK only if it passed every check below;
// otherwise it is counted under the first failing check in error_kinds, and left out of all timings.
//   stream:     HTTP 200, text/event-stream, every data line valid JSON, no error object, [DONE] is the
//               last event, exactly --chunks non-empty content deltas, their text equals text.mjs
//               replyText(), finish_reason "stop", and a usage chunk with choices [] if usage was asked.
//   non-stream: HTTP 200, application/json, message.content equals replyText(), finish_reason "stop", usage.
//   usage (both): prompt_tokens = text.mjs tokensForChars(characters of all message contents, which is
//               what upstream.mjs reports in either protocol), completion_tokens = --chunks,
//               total_tokens = their sum. Through a translating gateway this checks its usage mapping
//               (Anthropic input_tokens -> prompt_tokens, output_tokens -> completion_tokens).
// Timings in ms from just before the request is handed to undici:
//   ttfb  = response head received; ttft = first non-empty content delta (non-stream: whole body
//   parsed, i.e. when the text becomes usable); total = body fully read.
// rps = OK responses / measured wall time; chunks/s = content deltas of OK streams / wall time.
//
// When started with an IPC channel (run.mjs does), it sends {phase:"measure-start"} before the measured
// phase and {phase:"measure-end"} after it, and waits for {go:true} each time, so the parent can read
// the gateway's CPU counters exactly around the measured phase.

import { Agent, request } from 'undici';
import { performance } from 'node:perf_hooks';
import { once } from 'node:events';
import { replyText, tokensForChars } from './text.mjs';

// ---- options ----
const o = {
  url: '', key: '', model: 'bench-model', stream: true, usage: true, concurrency: 1, requests: 500,
  warmup: -1, maxSeconds: 30, timeoutMs: 30_000, chunks: 64, promptBytes: 1024, label: '', quiet: false,
};
const numeric = { concurrency: 'concurrency', requests: 'requests', warmup: 'warmup', 'max-seconds': 'maxSeconds', 'timeout-ms': 'timeoutMs', chunks: 'chunks', 'prompt-bytes': 'promptBytes' };
for (const a of process.argv.slice(2)) {
  const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(a);
  if (!m) fail(`unexpected argument ${a}`);
  const [, k, v = ''] = m;
  if (k in numeric) { o[numeric[k]] = Number(v); if (!Number.isFinite(o[numeric[k]])) fail(`--${k} needs a number`); }
  else if (k === 'url' || k === 'key' || k === 'model' || k === 'label') o[k] = v;
  else if (k === 'stream' || k === 'no-stream') o.stream = k === 'stream';
  else if (k === 'usage' || k === 'no-usage') o.usage = k === 'usage';
  else if (k === 'quiet') o.quiet = true;
  else fail(`unknown option --${k}`);
}
function fail(msg) { console.error(`load.mjs: ${msg}`); process.exit(2); }

let target;
try { target = new URL(o.url); } catch { fail('--url is required (a full http:// URL)'); }
const host = target.hostname.replace(/^\[|\]$/g, '');
if (!(host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host))) fail(`refusing non-loopback target ${host}`);
if (!(o.concurrency >= 1 && o.requests >= 1 && o.maxSeconds > 0 && o.chunks >= 1)) fail('need --concurrency, --requests, --chunks >= 1 and --max-seconds > 0');
if (o.warmup < 0) o.warmup = Math.max(20, o.concurrency * 2);

// Whatever happens (a gateway that never answers, a hung socket), this process ends.
const hardMs = (2 * o.maxSeconds + o.timeoutMs / 1000 + 30) * 1000;
setTimeout(() => { console.error(`load.mjs: hard limit of ${hardMs} ms reached, exiting`); process.exit(3); }, hardMs).unref();

// ---- the request (identical every time: the bench measures the gateway, not prompt handling) ----
const seed = 'Summarise the water levels reported by the sluice keepers along the canal today. ';
const prompt = seed.repeat(Math.ceil(o.promptBytes / seed.length)).slice(0, o.promptBytes);
const payload = {
  model: o.model,
  messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: prompt }],
  max_tokens: 512,
  stream: o.stream,
};
if (o.stream && o.usage) payload.stream_options = { include_usage: true };
const BODY = JSON.stringify(payload);
const HEADERS = { 'content-type': 'application/json', accept: o.stream ? 'text/event-stream' : 'application/json' };
if (o.key) HEADERS.authorization = `Bearer ${o.key}`;
const EXPECTED = replyText(o.chunks);
const PROMPT_TOKENS = tokensForChars(payload.messages.reduce((n, m) => n + m.content.length, 0));
// '' when the usage object reports what the upstream was scripted to, otherwise what is wrong.
function usageMismatch(u) {
  if (u.prompt_tokens === PROMPT_TOKENS && u.completion_tokens === o.chunks && u.total_tokens === PROMPT_TOKENS + o.chunks) return '';
  return `usage ${JSON.stringify(u).slice(0, 200)}, expected prompt_tokens ${PROMPT_TOKENS}, completion_tokens ${o.chunks}, total_tokens ${PROMPT_TOKENS + o.chunks}`;
}

// ---- SSE: data payloads of complete events (LF or CRLF line ends; comments and other fields ignored) ----
function sseParser(onData) {
  let rest = '';
  let data = null;
  return {
    push(text) {
      rest += text;
      let from = 0;
      for (let nl; (nl = rest.indexOf('\n', from)) !== -1; from = nl + 1) {
        const end = nl > from && rest.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        if (end === from) { if (data !== null) onData(data); data = null; continue; }
        if (rest.startsWith('data:', from)) {
          const v = rest.slice(rest.charCodeAt(from + 5) === 32 ? from + 6 : from + 5, end);
          data = data === null ? v : `${data}\n${v}`;
        }
      }
      rest = rest.slice(from);
    },
    pending() { return rest.length > 0 || data !== null; },
  };
}

// ---- one request ----
async function one(agent) {
  const r = { ok: false, err: '', detail: '', ttfb: NaN, ttft: NaN, total: NaN, chunks: 0 };
  const t0 = performance.now();
  try {
    const res = await request(o.url, { method: 'POST', headers: HEADERS, body: BODY, dispatcher: agent, signal: AbortSignal.timeout(o.timeoutMs) });
    r.ttfb = performance.now() - t0;
    const ctype = String(res.headers['content-type'] ?? '');
    if (res.statusCode !== 200) {
      r.err = `http_${res.statusCode}`;
      r.detail = (await res.body.text()).slice(0, 300);
      return r;
    }
    const dec = new TextDecoder(); // streaming decode: a code point split across reads stays intact
    if (!o.stream) {
      let s = '';
      for await (const b of res.body) s += dec.decode(b, { stream: true });
      s += dec.decode();
      r.total = r.ttft = performance.now() - t0;
      let j;
      try { j = JSON.parse(s); } catch { r.err = 'bad_json'; r.detail = s.slice(0, 300); return r; }
      const ch = j?.choices?.[0];
      if (!ctype.startsWith('application/json')) r.err = 'content_type';
      else if (ch?.message?.content !== EXPECTED) { r.err = 'text'; r.detail = String(ch?.message?.content).slice(0, 120); }
      else if (ch.finish_reason !== 'stop') r.err = 'no_finish';
      else if (!j.usage) r.err = 'no_usage';
      else if ((r.detail = usageMismatch(j.usage))) r.err = 'usage';
      else { r.ok = true; r.chunks = 1; }
      return r;
    }
    // First failing check wins; later events are still read so the connection stays reusable.
    let done = false, finish = false, usage = null, text = '', bad = '';
    const sse = sseParser((data) => {
      if (bad) return;
      if (done) { bad = 'after_done'; return; }
      if (data === '[DONE]') { done = true; return; }
      let j;
      try { j = JSON.parse(data); } catch { bad = 'bad_json'; r.detail = data.slice(0, 300); return; }
      if (j.error) { bad = 'error_event'; r.detail = data.slice(0, 300); return; }
      if (j.usage && Array.isArray(j.choices) && j.choices.length === 0) usage = j.usage;
      const ch = j.choices?.[0];
      if (!ch) return;
      const c = ch.delta?.content;
      if (typeof c === 'string' && c.length > 0) {
        if (r.chunks === 0) r.ttft = performance.now() - t0;
        r.chunks++;
        text += c;
      }
      if (ch.finish_reason === 'stop') finish = true;
    });
    for await (const b of res.body) sse.push(dec.decode(b, { stream: true }));
    sse.push(dec.decode());
    r.total = performance.now() - t0;
    if (!ctype.startsWith('text/event-stream')) r.err = 'content_type';
    else if (bad) r.err = bad;
    else if (!done || sse.pending()) r.err = 'no_done';
    else if (r.chunks !== o.chunks) { r.err = 'chunk_count'; r.detail = `${r.chunks} content chunks, expected ${o.chunks}`; }
    else if (text !== EXPECTED) { r.err = 'text'; r.detail = text.slice(0, 120); }
    else if (!finish) r.err = 'no_finish';
    else if (o.usage && !usage) r.err = 'no_usage';
    else if (usage && (r.detail = usageMismatch(usage))) r.err = 'usage';
    else r.ok = true;
    return r;
  } catch (e) {
    r.total = performance.now() - t0;
    const code = e?.code ?? e?.name ?? 'exception';
    r.err = code === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' ? 'timeout' : `conn_${code}`;
    r.detail = String(e?.message ?? e).slice(0, 200);
    return r;
  }
}

// ---- phases ----
let connects = 0;
const agents = Array.from({ length: o.concurrency }, () => {
  const a = new Agent({
    connections: 1, pipelining: 1,
    keepAliveTimeout: 120_000, keepAliveMaxTimeout: 120_000,
    headersTimeout: o.timeoutMs, bodyTimeout: o.timeoutMs,
  });
  a.on('connect', () => { connects++; });
  return a;
});

async function phase(n, seconds) {
  const results = [];
  let issued = 0;
  let timedOut = false;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const worker = async (agent) => {
    while (issued < n) {
      if (performance.now() > deadline) { timedOut = true; return; }
      issued++;
      results.push(await one(agent));
    }
  };
  await Promise.all(agents.slice(0, Math.min(o.concurrency, n)).map(worker));
  return { results, wallMs: performance.now() - t0, timedOut };
}

async function sync(phaseName) {
  if (!process.send) return;
  process.send({ phase: phaseName });
  for (;;) { const [m] = await once(process, 'message'); if (m?.go) return; }
}

const warm = o.warmup > 0 ? await phase(o.warmup, o.maxSeconds) : { results: [] };
const connectsBefore = connects;
await sync('measure-start');
const cpu0 = process.cpuUsage();
const m = await phase(o.requests, o.maxSeconds);
const cpu = process.cpuUsage(cpu0);
await sync('measure-end');
await Promise.all(agents.map((a) => a.close().catch(() => {})));

// ---- summary ----
const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : null);
const r3 = (x) => (x === null || !Number.isFinite(x) ? null : Math.round(x * 1000) / 1000);
const ok = m.results.filter((r) => r.ok);
const dist = (k) => {
  const v = ok.map((r) => r[k]).sort((a, b) => a - b);
  return { p50: r3(pct(v, 50)), p90: r3(pct(v, 90)), p99: r3(pct(v, 99)), max: r3(v.at(-1) ?? null) };
};
const errorKinds = {};
let errorSample;
for (const r of [...warm.results, ...m.results]) {
  if (r.ok) continue;
  errorKinds[r.err] = (errorKinds[r.err] ?? 0) + 1;
  errorSample ??= `${r.err}: ${r.detail}`;
}
const wallS = m.wallMs / 1000;
const out = {
  label: o.label, url: o.url, mode: o.stream ? 'stream' : 'nonstream', usage_requested: o.stream && o.usage,
  concurrency: o.concurrency, chunks: o.chunks, requested: o.requests, completed: m.results.length, ok: ok.length,
  errors: m.results.length - ok.length, warmup_completed: warm.results.length, warmup_errors: warm.results.filter((r) => !r.ok).length,
  error_kinds: errorKinds, error_sample: errorSample, stopped_by_time: m.timedOut,
  wall_s: r3(wallS), rps: r3(ok.length / wallS), chunks_per_s: o.stream ? r3(ok.reduce((s, r) => s + r.chunks, 0) / wallS) : null,
  ttfb_ms: dist('ttfb'), ttft_ms: dist('ttft'), total_ms: dist('total'),
  // connections opened while measuring: 0 means every worker kept its keep-alive connection
  reconnects: connects - connectsBefore, connections: connects,
  client_cpu_s: r3((cpu.user + cpu.system) / 1e6),
};
process.stdout.write(JSON.stringify(out) + '\n');
if (!o.quiet) {
  console.error(`${o.label || o.url} ${out.mode} c=${o.concurrency}: ok ${out.ok}/${out.completed}` +
    (out.errors || out.warmup_errors ? ` errors ${JSON.stringify(errorKinds)} (${errorSample})` : '') +
    ` | ${out.rps} req/s` + (o.stream ? `, ${out.chunks_per_s} chunks/s` : '') +
    ` | ttft p50/p90/p99 ${out.ttft_ms.p50}/${out.ttft_ms.p90}/${out.ttft_ms.p99} ms | reconnects ${out.reconnects} | client cpu ${out.client_cpu_s} s`);
}
process.exit(0);
