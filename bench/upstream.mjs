#!/usr/bin/env node
// upstream.mjs — a fast, scripted upstream for the benchmark, speaking OpenAI Chat Completions or
// (--protocol=anthropic) Anthropic Messages. Loopback only.
//
//   POST /v1/chat/completions  (openai)     JSON, or SSE when "stream": true
//   POST /v1/messages          (anthropic)  JSON, or SSE when "stream": true
//   GET  /health               200 "ok"
//   GET  /stats                JSON counters (requests, streams started / completed / aborted, ...);
//                              ?reset_peak=1 also restarts inflight_peak (the most requests open at once,
//                              which shows whether a gateway queues requests instead of passing them on)
//
// Options (a flag wins over its environment variable):
//   --protocol=P     BENCH_UPSTREAM_PROTOCOL  openai (default) or anthropic; the other protocol's path
//                                         answers 404
//   --port=N         BENCH_UPSTREAM_PORT  0 = any free port (default); the port is announced on stdout
//   --host=H         BENCH_UPSTREAM_HOST  127.0.0.1; non-loopback hosts are refused
//   --chunks=N       BENCH_CHUNKS         content chunks per reply (default 64)
//   --pace=P         BENCH_PACE           immediate (default): every SSE event its own write, one
//                                         setImmediate apart; burst: all events in one tick;
//                                         a number N: N ms between events
//   --ttft-ms=N      BENCH_TTFT_MS        wait before the first event (default 0)
//   --api-key=K      BENCH_UPSTREAM_KEY   if set, requests must carry "Authorization: Bearer K"
//                                         (openai) or "x-api-key: K" (anthropic), so a gateway that
//                                         forwards the client's key instead fails loudly
//   --exit-on-stdin-end                  exit when stdin closes: the parent died, do not linger
//
// On start it prints one JSON line to stdout: {"ready":true,"port":N,"pid":N,"protocol":P,...}.
//
// Stream shape (see /work/shared/reference/wire-formats.md §2.3): a role chunk with
// delta {role:"assistant",content:""}; N content chunks carrying text.mjs pieceAt(i); a finish chunk
// with delta {} and finish_reason "stop"; when stream_options.include_usage is true a usage chunk with
// choices [] (and "usage":null on every earlier chunk, as the real API does); then "data: [DONE]".
//
// Anthropic mode (wire-formats.md §3): requires x-api-key (401 authentication_error otherwise) and an
// anthropic-version header, model, max_tokens and a non-empty messages array (400 invalid_request_error
// otherwise).
// Every event is "event: <type>\ndata: <json>\n\n": message_start (usage input_tokens N, cache counts
// 0, output_tokens 1), content_block_start (index 0, text ""), one content_block_delta text_delta per
// chunk carrying text.mjs pieceAt(i), content_block_stop, message_delta (stop_reason end_turn, usage
// output_tokens = chunks), message_stop. No ping. Pacing as above: every event its own write.
// Non-stream: one message with a single text block holding replyText(), stop_reason end_turn, usage.
// input_tokens is computed exactly like prompt_tokens in OpenAI mode, from the characters of the system
// prompt plus the message texts, so both modes report the same count for the same conversation.

import http from 'node:http';
import { pieceAt, replyText, tokensForChars } from './text.mjs';

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
const PROTOCOL = opt('protocol', 'BENCH_UPSTREAM_PROTOCOL', 'openai');

if (!(HOST === 'localhost' || HOST === '::1' || /^127\.\d+\.\d+\.\d+$/.test(HOST))) {
  console.error(`upstream: refusing to listen on non-loopback host ${HOST}`);
  process.exit(2);
}
if (PROTOCOL !== 'openai' && PROTOCOL !== 'anthropic') { console.error('upstream: --protocol must be openai or anthropic'); process.exit(2); }
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
// Anthropic mode: the events that do not depend on the request, complete with their framing.
const sse = (type, json) => `event: ${type}\ndata: ${json}\n\n`;
const A_BLOCK_START = sse('content_block_start', '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}');
const A_DELTAS = Array.from({ length: CHUNKS }, (_, i) =>
  sse('content_block_delta', `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":${JSON.stringify(pieceAt(i))}}}`));
const A_BLOCK_STOP = sse('content_block_stop', '{"type":"content_block_stop","index":0}');
const A_MESSAGE_DELTA = sse('message_delta', `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":${CHUNKS}}}`);
const A_MESSAGE_STOP = sse('message_stop', '{"type":"message_stop"}');
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

// The characters of a string, or of the text blocks of an Anthropic content array.
function textChars(content) {
  if (typeof content === 'string') return content.length;
  let chars = 0;
  if (Array.isArray(content)) for (const b of content) if (b?.type === 'text' && typeof b.text === 'string') chars += b.text.length;
  return chars;
}

// OpenAI: every message's content (the system prompt is a message). Anthropic: `system` plus the
// messages. Same characters in, same count out (text.mjs tokensForChars).
function promptTokens(body) {
  let chars = PROTOCOL === 'anthropic' ? textChars(body.system) : 0;
  for (const m of body.messages) chars += textChars(m?.content);
  return tokensForChars(chars);
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

  await stream(res, events, eventAt);
}

// Both protocols stream the same way: every event its own write, `pause` between events.
async function stream(res, events, eventAt, headers = {}) {
  stats.streams_started++;
  res.on('close', () => { if (res.writableFinished) stats.streams_completed++; else stats.streams_aborted++; });
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...headers });
  if (TTFT_MS > 0) { res.flushHeaders(); await sleep(TTFT_MS); }
  for (let k = 0; k < events; k++) {
    if (!(await send(res, eventAt(k)))) return;
    if (pause && k + 1 < events) await pause();
  }
  res.end();
}

// ---- Anthropic Messages ----
function anthropicError(res, status, type, message) {
  sendJson(res, status, { type: 'error', error: { type, message }, request_id: `req_bench${(++seq).toString(36)}` });
}

async function messages(req, res, raw) {
  let body;
  try { body = JSON.parse(raw); } catch { stats.bad_requests++; return anthropicError(res, 400, 'invalid_request_error', 'body is not JSON'); }
  // As the real API: max_tokens is required and messages may not be empty.
  if (typeof body?.model !== 'string' || !Array.isArray(body.messages) || body.messages.length === 0 || !(Number.isInteger(body.max_tokens) && body.max_tokens >= 1)) {
    stats.bad_requests++;
    return anthropicError(res, 400, 'invalid_request_error', 'model, max_tokens and at least one message are required');
  }
  const n = (++seq).toString(36);
  const id = `msg_bench${n}`;
  const headers = { 'request-id': `req_bench${n}` };
  const input = promptTokens(body);

  if (!body.stream) {
    if (TTFT_MS > 0) await sleep(TTFT_MS);
    if (res.destroyed) return;
    const text = JSON.stringify({
      id, type: 'message', role: 'assistant', model: body.model,
      content: [{ type: 'text', text: REPLY }], stop_reason: 'end_turn', stop_sequence: null,
      usage: { input_tokens: input, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: CHUNKS },
    });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
    stats.nonstream_completed++;
    return;
  }

  const start = sse('message_start', `{"type":"message_start","message":{"id":"${id}","type":"message","role":"assistant","model":${JSON.stringify(body.model)},` +
    `"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":${input},"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}`);
  // Event k: 0 = message_start, 1 = content_block_start, 2..CHUNKS+1 = text deltas, then
  // content_block_stop, message_delta, message_stop.
  const events = CHUNKS + 5;
  const eventAt = (k) => {
    if (k === 0) return start;
    if (k === 1) return A_BLOCK_START;
    if (k <= CHUNKS + 1) return A_DELTAS[k - 2];
    if (k === CHUNKS + 2) return A_BLOCK_STOP;
    if (k === CHUNKS + 3) return A_MESSAGE_DELTA;
    return A_MESSAGE_STOP;
  };
  await stream(res, events, eventAt, headers);
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
  let handle;
  if (PROTOCOL === 'openai') {
    if (req.method !== 'POST' || path !== '/v1/chat/completions') return error(res, 404, 'invalid_request_error', `no route ${req.method} ${path}`);
    if (AUTH && req.headers.authorization !== AUTH) {
      stats.unauthorized++;
      return error(res, 401, 'invalid_request_error', 'upstream: wrong or missing API key');
    }
    handle = (raw) => chat(req, res, raw).catch((e) => {
      if (res.headersSent) res.destroy(); else error(res, 500, 'server_error', String(e?.message ?? e));
    });
  } else {
    if (req.method !== 'POST' || path !== '/v1/messages') return anthropicError(res, 404, 'not_found_error', `no route ${req.method} ${path}`);
    if (API_KEY && req.headers['x-api-key'] !== API_KEY) {
      stats.unauthorized++;
      return anthropicError(res, 401, 'authentication_error', 'upstream: wrong or missing x-api-key');
    }
    if (!req.headers['anthropic-version']) {
      stats.bad_requests++;
      return anthropicError(res, 400, 'invalid_request_error', 'anthropic-version: header is required');
    }
    handle = (raw) => messages(req, res, raw).catch((e) => {
      if (res.headersSent) res.destroy(); else anthropicError(res, 500, 'api_error', String(e?.message ?? e));
    });
  }
  const parts = [];
  req.on('data', (d) => parts.push(d));
  req.on('end', () => handle(Buffer.concat(parts).toString('utf8')));
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
  process.stdout.write(JSON.stringify({ ready: true, port: server.address().port, pid: process.pid, protocol: PROTOCOL, chunks: CHUNKS, pace: PACE }) + '\n');
});
