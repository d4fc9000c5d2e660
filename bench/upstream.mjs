#!/usr/bin/env node
// upstream.mjs — a fast, scripted OpenAI Chat Completions upstream for the benchmark. Loopback only.
//
//   POST /v1/chat/completions  JSON, or SSE when "stream": true
//   GET  /health               200 "ok"
//   GET  /stats                JSON counters (requests, streams started / completed / aborted, ...);
//                              ?reset_peak=1 also restarts inflight_peak (the most requests open at once,
//                              which shows whether a gateway queues requests instead of passing them on)
//
// Options (a flag wins over its environment variable):
//   --port=N         BENCH_UPSTREAM_PORT  0 = any free port (default); the port is announced on stdout
//   --host=H         BENCH_UPSTREAM_HOST  127.0.0.1; non-loopback hosts are refused
//   --chunks=N       BENCH_CHUNKS         content chunks per reply (default 64)
//   --pace=P         BENCH_PACE           immediate (default): every SSE event its own write, one
//                                         setImmediate apart; burst: all events in one tick;
//                                         a number N: N ms between events
//   --ttft-ms=N      BENCH_TTFT_MS        wait before the first event (default 0)
//   --api-key=K      BENCH_UPSTREAM_KEY   if set, requests must carry "Authorization: Bearer K" (so a
//                                         gateway that forwards the client's key instead fails loudly)
//   --exit-on-stdin-end                  exit when stdin closes: the parent died, do not linger
//
// On start it prints one JSON line to stdout: {"ready":true,"port":N,"pid":N}.
//
// Stream shape (see /work/shared/reference/wire-formats.md §2.3): a role chunk with
// delta {role:"assistant",content:""}; N content chunks carrying text.mjs pieceAt(i); a finish chunk
// with delta {} and finish_reason "stop"; when stream_options.include_usage is true a usage chunk with
// choices [] (and "usage":null on every earlier chunk, as the real API does); then "data: [DONE]".

import http from 'node:http';
import { pieceAt, replyText } from './text.mjs';

function opt(flag, env, def) {
  const pre = `--${flag}=`;
  const a = process.argv.find((x) => x.startsWith(pre));
  if (a !== undefined) return a.slice(pre.length);
  const e = process.env[env];
  return e !== undefined && e !== '' ? e : def;
}

const HOST = opt('host', 'BENCH_UPSTREAM_HOST', '127.0.0.1');
const PORT = Number(opt('port', 'BENCH_UPSTREAM_PORT', '0'));
const CHUNKS = Number(opt('chunks', 'BENCH_CHUNKS', '64'));
const PACE = opt('pace', 'BENCH_PACE', 'immediate');
const TTFT_MS = Number(opt('ttft-ms', 'BENCH_TTFT_MS', '0'));
const API_KEY = opt('api-key', 'BENCH_UPSTREAM_KEY', '');

if (!(HOST === 'localhost' || HOST === '::1' || /^127\.\d+\.\d+\.\d+$/.test(HOST))) {
  console.error(`upstream: refusing to listen on non-loopback host ${HOST}`);
  process.exit(2);
}
if (!(Number.isInteger(CHUNKS) && CHUNKS >= 0)) { console.error('upstream: bad --chunks'); process.exit(2); }
const paceMs = PACE === 'immediate' || PACE === 'burst' ? 0 : Number(PACE);
if (!(paceMs >= 0)) { console.error('upstream: --pace must be immediate, burst or a number of ms'); process.exit(2); }

const stats = {
  connections: 0, requests: 0, unauthorized: 0, bad_requests: 0,
  nonstream_completed: 0, streams_started: 0, streams_completed: 0, streams_aborted: 0,
  inflight: 0, inflight_peak: 0,
};

// Everything that does not depend on the request is serialised once, so the upstream stays cheap
// next to the gateway under test (it shares a core with the load generator).
const CONTENT_DELTAS = Array.from({ length: CHUNKS }, (_, i) => `{"content":${JSON.stringify(pieceAt(i))}}`);
const REPLY = replyText(CHUNKS);
const AUTH = API_KEY ? `Bearer ${API_KEY}` : '';
let seq = 0;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const immediate = () => new Promise((r) => setImmediate(r));
const pause = PACE === 'burst' ? null : paceMs > 0 ? () => sleep(paceMs) : immediate;

// Resolves true once the data is handed to the socket (waiting for 'drain' under backpressure),
// false if the client has gone away.
function send(res, s) {
  if (res.destroyed) return false;
  if (res.write(s)) return true;
  return new Promise((resolve) => {
    const finish = (v) => { res.off('drain', onDrain); res.off('close', onClose); resolve(v); };
    const onDrain = () => finish(true);
    const onClose = () => finish(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

function sendJson(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function error(res, status, type, message) {
  sendJson(res, status, { error: { message, type, param: null, code: null } });
}

function promptTokens(body) {
  let chars = 0;
  for (const m of body.messages) if (typeof m?.content === 'string') chars += m.content.length;
  return Math.max(1, Math.ceil(chars / 4));
}

async function chat(req, res, raw) {
  let body;
  try { body = JSON.parse(raw); } catch { stats.bad_requests++; return error(res, 400, 'invalid_request_error', 'body is not JSON'); }
  if (typeof body?.model !== 'string' || !Array.isArray(body.messages)) {
    stats.bad_requests++;
    return error(res, 400, 'invalid_request_error', 'model and messages are required');
  }
  const id = `chatcmpl-bench${(++seq).toString(36)}`;
  const created = Math.floor(Date.now() / 1000);
  const usage = { prompt_tokens: promptTokens(body), completion_tokens: CHUNKS, total_tokens: 0 };
  usage.total_tokens = usage.prompt_tokens + CHUNKS;

  if (!body.stream) {
    if (TTFT_MS > 0) await sleep(TTFT_MS);
    if (res.destroyed) return;
    sendJson(res, 200, {
      id, object: 'chat.completion', created, model: body.model, system_fingerprint: 'fp_bench',
      choices: [{ index: 0, message: { role: 'assistant', content: REPLY, refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage,
    });
    stats.nonstream_completed++;
    return;
  }

  const withUsage = body.stream_options?.include_usage === true;
  const head = `data: {"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(body.model)},"system_fingerprint":"fp_bench","choices":`;
  const tail = withUsage ? ',"usage":null}\n\n' : '}\n\n';
  const choice = (delta, finish) => `[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish}}]`;
  // Event k of the stream: 0 = role, 1..CHUNKS = content, then finish, [usage], [DONE].
  const events = CHUNKS + 3 + (withUsage ? 1 : 0);
  const eventAt = (k) => {
    if (k === 0) return head + choice('{"role":"assistant","content":"","refusal":null}', 'null') + tail;
    if (k <= CHUNKS) return head + choice(CONTENT_DELTAS[k - 1], 'null') + tail;
    if (k === CHUNKS + 1) return head + choice('{}', '"stop"') + tail;
    if (withUsage && k === CHUNKS + 2) return `${head}[],"usage":${JSON.stringify(usage)}}\n\n`;
    return 'data: [DONE]\n\n';
  };

  stats.streams_started++;
  res.on('close', () => { if (res.writableFinished) stats.streams_completed++; else stats.streams_aborted++; });
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  if (TTFT_MS > 0) { res.flushHeaders(); await sleep(TTFT_MS); }
  for (let k = 0; k < events; k++) {
    if (!(await send(res, eventAt(k)))) return;
    if (pause && k + 1 < events) await pause();
  }
  res.end();
}

const server = http.createServer((req, res) => {
  const path = req.url.split('?', 1)[0];
  if (req.method === 'GET' && path === '/health') { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('ok'); return; }
  if (req.method === 'GET' && path === '/stats') {
    sendJson(res, 200, stats);
    if (req.url.includes('reset_peak=1')) stats.inflight_peak = stats.inflight;
    return;
  }
  stats.requests++;
  stats.inflight_peak = Math.max(stats.inflight_peak, ++stats.inflight);
  res.on('close', () => { stats.inflight--; });
  if (req.method !== 'POST' || path !== '/v1/chat/completions') return error(res, 404, 'invalid_request_error', `no route ${req.method} ${path}`);
  if (AUTH && req.headers.authorization !== AUTH) {
    stats.unauthorized++;
    return error(res, 401, 'invalid_request_error', 'upstream: wrong or missing API key');
  }
  const parts = [];
  req.on('data', (d) => parts.push(d));
  req.on('end', () => {
    chat(req, res, Buffer.concat(parts).toString('utf8')).catch((e) => {
      if (res.headersSent) res.destroy(); else error(res, 500, 'server_error', String(e?.message ?? e));
    });
  });
});
server.on('connection', () => { stats.connections++; });
// Keep idle keep-alive connections (load generator, gateway pool) open across benchmark phases.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 121_000;
server.requestTimeout = 0;

function stop() {
  server.close();
  server.closeAllConnections();
  process.exit(0);
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, stop);
if (process.argv.includes('--exit-on-stdin-end')) {
  process.stdin.on('end', stop).on('error', stop).resume();
}

server.listen(PORT, HOST, () => {
  process.stdout.write(JSON.stringify({ ready: true, port: server.address().port, pid: process.pid, chunks: CHUNKS, pace: PACE }) + '\n');
});
