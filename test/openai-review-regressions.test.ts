/**
 * Regression tests for the fixes that followed a code review of the OpenAI streaming path:
 * multi-line upstream data events, Ollama-style tool-call indexes, vLLM in-band errors, non-chunk
 * objects mid-stream, a JSON error answering a stream request, per-phase upstream timeouts,
 * keep-alives for an upstream that never answers, the Origin check in keyless mode, the
 * keep-alive cadence, and client disconnects on a pipelined connection.
 *
 * Scripted upstreams on loopback, Sluice in-process, the official `openai` SDK as the client, and
 * raw HTTP / TCP wherever bytes or timing matter. Every server is closed in t.after(); every
 * client has a timeout so nothing hangs.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import OpenAI, { APIError } from 'openai';
import { startScriptedUpstream, sseHeaders, writeFrames, sleep, type ScriptedUpstream, type UpstreamScript, type UpstreamRequest } from './support/scripted-upstream.js';
import { sdkChunks } from './support/sdk-chunks.js';
import { chunk, textStream } from './support/chunks.js';
import { startSluice, clientKey, eventually, type TestSluice } from './support/sluice.js';
import { checkOpenAiStream } from './support/openai-wire-check.js';
import { rawHttpRequest, type RawHttpRequestOptions, type RawHttpResponse } from './support/raw-http.js';
import { onePassYaml } from './support/one-pass.js';

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

type Json = Record<string, any>;

interface RouteSpec {
  script: UpstreamScript;
  /** YAML lines under the provider's `timeouts:`, e.g. { first_token: '300ms' }. */
  timeouts?: Record<string, string>;
}

interface SetupOptions {
  /** Client keys configured (default true). Without, Sluice runs keyless on 127.0.0.1. */
  keys?: boolean;
  streaming?: Record<string, string>;
  allowOrigins?: string[];
  /** More YAML at the end (e.g. `retries:`). */
  extraYaml?: string;
}

interface Harness {
  sluice: TestSluice;
  up(i: number): ScriptedUpstream;
  client: OpenAI;
}

/** The YAML for one OpenAI-compatible provider per upstream (with optional timeouts), `test-model` routed across them in order. */
function sluiceYaml(upstreams: { url: string; timeouts?: Record<string, string> }[], options: SetupOptions): string {
  let yaml = 'host: 127.0.0.1\nport: 0\n';
  if (options.streaming) {
    yaml += 'streaming:\n';
    for (const [k, v] of Object.entries(options.streaming)) yaml += `  ${k}: ${v}\n`;
  }
  if (options.allowOrigins) yaml += `cors:\n  allow_origins: [${options.allowOrigins.map((o) => JSON.stringify(o)).join(', ')}]\n`;
  yaml += 'providers:\n';
  upstreams.forEach((u, i) => {
    yaml += `  up${i}:\n    kind: openai\n    base_url: ${u.url}\n    api_key: sk-upstream-${i}\n`;
    if (u.timeouts) {
      yaml += '    timeouts:\n';
      for (const [k, v] of Object.entries(u.timeouts)) yaml += `      ${k}: ${v}\n`;
    }
  });
  yaml += `models:\n  test-model:\n    routes: [${upstreams.map((_, i) => `up${i}/model-${i}`).join(', ')}]\n`;
  if (options.keys ?? true) yaml += `keys:\n  - name: test\n    key: ${clientKey}\n`;
  return yaml + (options.extraYaml ?? '');
}

async function harness(t: TestContext, routes: (UpstreamScript | RouteSpec)[], options: SetupOptions = {}): Promise<Harness> {
  const upstreams: ScriptedUpstream[] = [];
  const specs: { url: string; timeouts?: Record<string, string> }[] = [];
  for (const route of routes) {
    const spec: RouteSpec = typeof route === 'function' ? { script: route } : route;
    const upstream = await startScriptedUpstream(spec.script);
    t.after(() => upstream.close());
    upstreams.push(upstream);
    specs.push({ url: upstream.baseUrl, timeouts: spec.timeouts });
  }
  const sluice = await startSluice(sluiceYaml(specs, options));
  t.after(() => sluice.close(50));
  const client = new OpenAI({ baseURL: sluice.baseURL, apiKey: clientKey, maxRetries: 0, timeout: 15_000 });
  return {
    sluice,
    client,
    up: (i) => {
      const u = upstreams[i];
      if (u === undefined) throw new Error(`no upstream ${i}`);
      return u;
    },
  };
}

function chatBody(extra: Json = {}): Json {
  return { model: 'test-model', messages: [{ role: 'user', content: 'hi' }], stream: true, ...extra };
}

const signal = (ms = 10_000) => AbortSignal.timeout(ms);

async function sdkFinal(client: OpenAI, body: Json): Promise<OpenAI.Chat.Completions.ChatCompletion> {
  const { stream: _ignored, ...params } = body;
  return client.chat.completions.stream(params as any, { signal: signal() }).finalChatCompletion();
}


async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail('expected the call to fail'),
    (error: unknown) => error,
  );
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** 'ok' when the promise settles within ms, 'timeout' otherwise. */
async function within(promise: Promise<unknown>, ms: number): Promise<'ok' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  try {
    return await Promise.race([promise.then(() => 'ok' as const, () => 'ok' as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** An upstream that writes these raw SSE bytes (each string is written as is), then ends. */
function rawStream(events: string[], gapMs = 0): UpstreamScript {
  return async (_request, res) => {
    res.writeHead(200, sseHeaders);
    for (const e of events) {
      await new Promise<void>((resolve) => res.write(e, () => resolve()));
      if (gapMs > 0) await sleep(gapMs);
    }
    res.end();
  };
}

/** An upstream that answers every request with these data frames, then ends. */
function streamOf(frames: (object | string)[], gapMs = 0): UpstreamScript {
  return async (_request, res) => {
    res.writeHead(200, sseHeaders);
    await writeFrames(res, frames, gapMs);
    res.end();
  };
}

/** One data event on one line. */
const ev = (data: object | string): string => `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;

/** One data event whose JSON is split over two `data:` lines right before `at` (legal SSE: joined with "\n", JSON whitespace). */
function evSplit(data: object, at: string): string {
  const json = JSON.stringify(data);
  const cut = json.indexOf(at);
  assert.ok(cut > 0, `split point ${at} not found in ${json}`);
  return `data: ${json.slice(0, cut)}\ndata: ${json.slice(cut)}\n\n`;
}

const role = (id = 'chatcmpl-test') => chunk({ role: 'assistant', content: '' }, null, { id });
const secondRoute = () => streamOf(textStream(['Hello', ' from', ' b'], { id: 'chatcmpl-b' }));

/** Raw HTTP on a fresh connection each time (no pooled keep-alive sockets between tests). */
function rawRequest(url: string, options: RawHttpRequestOptions = {}): Promise<RawHttpResponse> {
  return rawHttpRequest(url, { agent: false, ...options });
}

async function rawChat(h: Harness, body: Json, options: { headers?: Record<string, string>; auth?: boolean } = {}): Promise<RawHttpResponse> {
  const raw = await rawRequest(`${h.sluice.baseURL}/chat/completions`, { body, ...options });
  await raw.done;
  return raw;
}

/** The payloads of the data events of an SSE body (multi-line data joined with "\n"), comments skipped. */
function payloadsOf(text: string): string[] {
  return text
    .split('\n\n')
    .filter((e) => e !== '')
    .map((e) => e.split('\n').filter((l) => !l.startsWith(':')))
    .filter((lines) => lines.length > 0)
    .map((lines) => lines.map((l) => l.replace(/^data: ?/, '')).join('\n'));
}

function assertNoViolations(raw: string, options: Parameters<typeof checkOpenAiStream>[1]) {
  const report = checkOpenAiStream(raw, options);
  assert.deepEqual(report.violations, [], `wire violations in:\n${raw.slice(0, 3000)}`);
  return report;
}

function assertErrorBody(text: string): Json {
  const body = JSON.parse(text) as Json;
  assert.deepEqual(Object.keys(body), ['error'], `an OpenAI error body, got ${text.slice(0, 300)}`);
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(typeof body.error.message, 'string');
  assert.equal(typeof body.error.type, 'string');
  return body.error;
}

/** The failed first route left no trace: the client got the second route's stream. */
async function checkSecondRouteServed(h: Harness, firstRouteMarker: string): Promise<void> {
  const raw = await rawChat(h, chatBody());
  assert.equal(raw.status, 200, raw.text.slice(0, 300));
  assert.equal(raw.headers['content-type'], 'text/event-stream; charset=utf-8');
  assert.ok(!raw.text.includes(firstRouteMarker), 'nothing of the failed route reaches the client');
  assert.ok(!raw.text.includes('"error"'), 'no error reaches the client');
  const report = assertNoViolations(raw.text, { includeUsage: false });
  assert.equal(report.text.get(0), 'Hello from b');
  assert.ok(report.chunks.every((c) => c.id === 'chatcmpl-b'));

  const final = await sdkFinal(h.client, chatBody());
  assert.equal(final.choices[0]?.message.content, 'Hello from b');
  assert.equal(final.id, 'chatcmpl-b');
  assert.equal(h.up(0).requests.length, 2, 'the first route was tried each time');
  assert.equal(h.up(1).requests.length, 2, 'the second route answered each time');
}

// ---------------------------------------------------------------------------------------------
// 1. Multi-line data events
// ---------------------------------------------------------------------------------------------

test('multi-line data: chunks whose JSON is split over two data: lines reach the client as valid SSE', async (t) => {
  const h = await harness(t, [
    rawStream([
      evSplit(role(), '"choices"'),
      evSplit(chunk({ content: 'Hello' }), '"choices"'),
      evSplit(chunk({ content: ' wor' }), '"choices"'),
      evSplit(chunk({ content: 'ld' }), '"choices"'),
      evSplit(chunk({}, 'stop'), '"choices"'),
      ev('[DONE]'),
    ]),
  ]);
  const raw = await rawChat(h, chatBody());
  assert.equal(raw.status, 200);
  const report = assertNoViolations(raw.text, { includeUsage: false });
  assert.equal(report.text.get(0), 'Hello world');
  assert.equal(report.finishReasons.get(0), 'stop');
  assert.ok(raw.text.endsWith('data: [DONE]\n\n'));

  const final = await sdkFinal(h.client, chatBody());
  assert.equal(final.choices[0]?.message.content, 'Hello world');
  assert.equal(final.choices[0]?.finish_reason, 'stop');
});

test('multi-line data after a normal content chunk: the content-template shortcut never forwards a broken frame', async (t) => {
  // "Hello" teaches the template; " wor"/"ld" are split in the envelope, " again"/"!" right after
  // the content literal (the second of each pair has exactly the shape of the first, so the
  // template matches it with the line break inside).
  const events = [
    ev(role()),
    ev(chunk({ content: 'Hello' })),
    evSplit(chunk({ content: ' wor' }), '"choices"'),
    evSplit(chunk({ content: 'ld' }), '"choices"'),
    evSplit(chunk({ content: ' again' }), '"logprobs"'),
    evSplit(chunk({ content: '!' }), '"logprobs"'),
    ev(chunk({ content: ' Bye' })),
    ev(chunk({}, 'stop')),
    ev('[DONE]'),
  ];
  const h = await harness(t, [rawStream(events)]);
  const expected = 'Hello world again! Bye';

  const raw = await rawChat(h, chatBody());
  assert.equal(raw.status, 200);
  const report = assertNoViolations(raw.text, { includeUsage: false });
  assert.equal(report.text.get(0), expected);
  const final = await sdkFinal(h.client, chatBody());
  assert.equal(final.choices[0]?.message.content, expected);

  // Chunk by chunk too (one TCP write per event), and with include_usage (chunks re-serialised).
  h.up(0).setScript(rawStream(events, 20));
  const slow = await rawChat(h, chatBody());
  assert.equal(assertNoViolations(slow.text, { includeUsage: false }).text.get(0), expected);
  const withUsage = await rawChat(h, chatBody({ stream_options: { include_usage: true } }));
  assert.equal(assertNoViolations(withUsage.text, { includeUsage: true, requireUsageChunk: false }).text.get(0), expected);
  const finalSlow = await sdkFinal(h.client, chatBody());
  assert.equal(finalSlow.choices[0]?.message.content, expected);
});

// ---------------------------------------------------------------------------------------------
// 2. Ollama-style tool calls: index 0 for every call
// ---------------------------------------------------------------------------------------------

test('tool calls: index 0 for every call with distinct ids (Ollama style), arguments in fragments, become two separate calls', async (t) => {
  const tc = (call: Json) => chunk({ tool_calls: [call] });
  const variants: Record<string, (object | string)[]> = {
    'continuations without id': [
      chunk({ role: 'assistant', content: '' }),
      tc({ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }),
      tc({ index: 0, function: { arguments: '{"city":' } }),
      tc({ index: 0, function: { arguments: '"Paris"}' } }),
      tc({ index: 0, id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '' } }),
      tc({ index: 0, function: { arguments: '{"tz":' } }),
      tc({ index: 0, function: { arguments: '"CET"}' } }),
      chunk({}, 'tool_calls'),
      '[DONE]',
    ],
    'continuations repeating the id': [
      chunk({ role: 'assistant', content: '' }),
      tc({ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"ci' } }),
      tc({ index: 0, id: 'call_a', function: { arguments: 'ty":"Paris"}' } }),
      tc({ index: 0, id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{"tz"' } }),
      tc({ index: 0, id: 'call_b', function: { arguments: ':"CET"}' } }),
      chunk({}, 'tool_calls'),
      '[DONE]',
    ],
  };
  const expected = [
    { id: 'call_a', type: 'function', name: 'get_weather', arguments: '{"city":"Paris"}' },
    { id: 'call_b', type: 'function', name: 'get_time', arguments: '{"tz":"CET"}' },
  ];
  for (const [name, frames] of Object.entries(variants)) {
    await t.test(name, async (st) => {
      const h = await harness(st, [streamOf(frames)]);
      const final = await sdkFinal(h.client, chatBody());
      assert.equal(final.choices[0]?.finish_reason, 'tool_calls');
      assert.deepEqual(
        (final.choices[0]?.message.tool_calls ?? []).map((c: any) => ({ id: c.id, type: c.type, name: c.function?.name, arguments: c.function?.arguments })),
        expected,
      );
      const raw = await rawChat(h, chatBody());
      const report = assertNoViolations(raw.text, { includeUsage: false });
      assert.deepEqual(report.toolCalls.get(0), expected.map(({ id, name, arguments: args }) => ({ id, name, arguments: args })));
    });
  }
});

// ---------------------------------------------------------------------------------------------
// 3. vLLM in-band error object
// ---------------------------------------------------------------------------------------------

const vllmError = { object: 'error', message: 'CUDA out of memory', type: 'InternalServerError', code: 500 };

test('vLLM in-band error {"object":"error"} after content: error frame with its message, no [DONE], SDK APIError; no fallback', async (t) => {
  let gate = deferred();
  const afterContent: UpstreamScript = async (request, res) => {
    const mine = gate;
    res.writeHead(200, sseHeaders);
    await writeFrames(res, [role(), chunk({ content: 'one' }), chunk({ content: ' two' })]);
    // The error only comes once the client has the content.
    if ((await within(Promise.race([mine.promise, request.closed]), 3000)) === 'timeout') {
      res.destroy();
      return;
    }
    await writeFrames(res, [vllmError]);
    res.end();
  };
  const h = await harness(t, [afterContent, secondRoute()]);

  const raw = await rawRequest(`${h.sluice.baseURL}/chat/completions`, { body: chatBody() });
  await raw.waitFor((text) => text.includes('"content":" two"'), 3000);
  gate.resolve();
  await raw.done;
  assert.equal(raw.status, 200);
  const report = assertNoViolations(raw.text, { includeUsage: false, expectError: true });
  assert.equal(report.text.get(0), 'one two');
  assert.equal(report.endedWithDone, false);
  assert.ok(!raw.text.includes('[DONE]'), 'no [DONE] after an error');
  const payloads = payloadsOf(raw.text);
  const last = JSON.parse(payloads[payloads.length - 1] ?? '{}') as Json;
  assert.deepEqual(Object.keys(last), ['error'], `the last event is {"error": {...}}, got ${JSON.stringify(last)}`);
  assert.match(String(last.error.message), /CUDA out of memory/);
  assert.equal(typeof last.error.type, 'string');

  gate = deferred();
  const sdkGate = gate;
  let sdkText = '';
  const err = await failure(
    sdkChunks(h.client, chatBody(), (c) => {
      sdkText += c.choices?.[0]?.delta?.content ?? '';
      if (sdkText === 'one two') sdkGate.resolve();
    }),
  );
  assert.ok(err instanceof APIError, `expected an APIError, got ${String(err)}`);
  assert.match(err.message, /CUDA out of memory/);
  assert.equal(sdkText, 'one two');
  assert.equal(h.up(1).requests.length, 0, 'no fallback after the first token');
});

test('vLLM in-band error {"object":"error"} before content moves invisibly to the second route', async (t) => {
  const h = await harness(t, [streamOf([role('chatcmpl-a'), vllmError], 50), secondRoute()]);
  await checkSecondRouteServed(h, 'chatcmpl-a');
  const raw = await rawChat(h, chatBody());
  assert.ok(!raw.text.includes('CUDA'), 'the first route\'s error never reaches the client');
});

// ---------------------------------------------------------------------------------------------
// 4. Objects that are not chunks
// ---------------------------------------------------------------------------------------------

test('data: {} and data: {"type":"ping"} between content chunks are dropped; the stream stays valid and complete', async (t) => {
  const frames = [
    role(),
    chunk({ content: 'Hello' }),
    '{}',
    chunk({ content: ' wor' }),
    { type: 'ping' },
    chunk({ content: 'ld' }),
    {},
    chunk({}, 'stop'),
    '[DONE]',
  ];
  const h = await harness(t, [streamOf(frames)]);
  const raw = await rawChat(h, chatBody());
  assert.equal(raw.status, 200);
  const report = assertNoViolations(raw.text, { includeUsage: false });
  assert.equal(report.text.get(0), 'Hello world');
  assert.ok(report.endedWithDone);
  assert.ok(!raw.text.includes('"ping"'), 'the ping object is not forwarded');
  assert.ok(!payloadsOf(raw.text).includes('{}'), 'the empty object is not forwarded');

  const chunks = await sdkChunks(h.client, chatBody());
  for (const c of chunks) assert.ok(Array.isArray(c.choices), `every chunk the SDK yields has choices: ${JSON.stringify(c)}`);
  const final = await sdkFinal(h.client, chatBody());
  assert.equal(final.choices[0]?.message.content, 'Hello world');
  assert.equal(final.choices[0]?.finish_reason, 'stop');
});

// ---------------------------------------------------------------------------------------------
// 5. A JSON error body answering a stream request
// ---------------------------------------------------------------------------------------------

function jsonOk(body: object): UpstreamScript {
  return (_request, res) => {
    const text = JSON.stringify(body);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
    res.end(text);
  };
}

const modelLoading = { error: { message: 'model is loading', type: 'server_error' } };

test('stream request answered with HTTP 200 application/json {"error":...}: one route -> HTTP 502 with the message', async (t) => {
  const h = await harness(t, [jsonOk(modelLoading)]);
  const raw = await rawChat(h, chatBody());
  assert.equal(raw.status, 502, raw.text.slice(0, 300));
  assert.match(String(raw.headers['content-type']), /^application\/json/);
  const error = assertErrorBody(raw.text);
  assert.match(error.message, /model is loading/);

  const err = await failure(sdkChunks(h.client, chatBody()));
  assert.ok(err instanceof APIError, `expected an APIError, got ${String(err)}`);
  assert.equal(err.status, 502);
  assert.match(err.message, /model is loading/);
});

test('stream request answered with HTTP 200 application/json {"error":...}: with two routes the second route serves the stream', async (t) => {
  const h = await harness(t, [jsonOk(modelLoading), secondRoute()]);
  await checkSecondRouteServed(h, 'model is loading');
});

// ---------------------------------------------------------------------------------------------
// 6. Upstream timeouts
// ---------------------------------------------------------------------------------------------

/** Head and role chunk, then silence until the connection closes. */
const acceptsButNoContent: UpstreamScript = async (request, res) => {
  res.writeHead(200, sseHeaders);
  await writeFrames(res, [role('chatcmpl-a')]);
  await request.closed;
};

test('first_token timeout: an upstream that accepts but sends no content moves on to the second route, and its connection is closed', async (t) => {
  const h = await harness(t, [{ script: acceptsButNoContent, timeouts: { first_token: '300ms' } }, secondRoute()]);
  const started = Date.now();
  const raw = await rawChat(h, chatBody());
  const elapsed = Date.now() - started;
  assert.equal(raw.status, 200, raw.text.slice(0, 300));
  const report = assertNoViolations(raw.text, { includeUsage: false });
  assert.equal(report.text.get(0), 'Hello from b');
  assert.ok(!raw.text.includes('chatcmpl-a'));
  assert.ok(elapsed < 2000, `the second route answers soon after the 300 ms limit (took ${elapsed} ms)`);
  assert.equal(await within((h.up(0).requests[0] as UpstreamRequest).closed, 1000), 'ok', 'the timed-out upstream connection is closed');

  const final = await sdkFinal(h.client, chatBody());
  assert.equal(final.choices[0]?.message.content, 'Hello from b');
  await eventually(() => h.sluice.records.length === 2, 2000, 'two records');
  for (const record of h.sluice.records) {
    assert.equal(record.outcome, 'ok');
    assert.equal(record.route, 'up1/model-1');
    assert.equal(record.attempts, 2);
  }
});

test('first_token timeout with one route, head not sent yet: HTTP 504 with code upstream_timeout', async (t) => {
  // One attempt: the time to the 504 is the limit's (Sluice's retries: test/routing-*.test.ts).
  const h = await harness(t, [{ script: acceptsButNoContent, timeouts: { first_token: '300ms' } }], { extraYaml: onePassYaml() });
  const started = Date.now();
  const raw = await rawChat(h, chatBody());
  const elapsed = Date.now() - started;
  assert.equal(raw.status, 504, raw.text.slice(0, 300));
  const error = assertErrorBody(raw.text);
  assert.equal(error.code, 'upstream_timeout');
  assert.ok(elapsed < 1500, `answered soon after the limit (took ${elapsed} ms)`);

  const err = await failure(sdkChunks(h.client, chatBody()));
  assert.ok(err instanceof APIError, `expected an APIError, got ${String(err)}`);
  assert.equal(err.status, 504);
  assert.equal(err.code, 'upstream_timeout');
  await eventually(() => h.sluice.records.length === 2, 2000, 'two records');
  for (const record of h.sluice.records) {
    assert.equal(record.outcome, 'upstream_error');
    assert.equal(record.errorCode, 'upstream_timeout');
  }
});

test('first_token timeout with one route after the SSE head went out: in-stream error frame with code upstream_timeout, no [DONE]', async (t) => {
  const h = await harness(t, [{ script: acceptsButNoContent, timeouts: { first_token: '600ms' } }], {
    streaming: { first_byte_deadline: '100ms', keepalive_interval: '200ms' },
  });
  const raw = await rawChat(h, chatBody());
  assert.equal(raw.status, 200);
  const report = assertNoViolations(raw.text, { includeUsage: false, expectError: true });
  assert.equal(report.chunks.length, 0, `only the error frame, got ${raw.text.slice(0, 500)}`);
  assert.equal((report.errorFrame?.error as Json | undefined)?.code, 'upstream_timeout');
  assert.ok(!raw.text.includes('[DONE]'));
  assert.ok(!raw.text.includes('chatcmpl-a'));
});

test('idle timeout: an upstream silent mid-stream gets an in-stream upstream_timeout error frame within ~1 s, no [DONE], and its connection is closed', async (t) => {
  const silentAfterTwo: UpstreamScript = async (request, res) => {
    res.writeHead(200, sseHeaders);
    await writeFrames(res, [role(), chunk({ content: 'one' }), chunk({ content: ' two' })]);
    await request.closed;
  };
  const h = await harness(t, [{ script: silentAfterTwo, timeouts: { idle: '300ms' } }, secondRoute()]);
  const raw = await rawRequest(`${h.sluice.baseURL}/chat/completions`, { body: chatBody() });
  await raw.waitFor((text) => text.includes('"content":" two"'), 3000);
  const contentAt = Date.now();
  assert.equal(await within(raw.done, 1500), 'ok', 'the stream ends after the idle limit');
  const ended = (raw.endedAt ?? Infinity) - contentAt;
  assert.ok(ended <= 1000, `the error frame comes within ~1 s of the silence starting (took ${ended} ms)`);
  assert.equal(raw.status, 200);
  const report = assertNoViolations(raw.text, { includeUsage: false, expectError: true });
  assert.equal(report.text.get(0), 'one two');
  assert.equal((report.errorFrame?.error as Json | undefined)?.code, 'upstream_timeout');
  assert.ok(!raw.text.includes('[DONE]'));
  assert.equal(await within((h.up(0).requests[0] as UpstreamRequest).closed, 1000), 'ok', 'the silent upstream connection is closed');
  assert.equal(h.up(1).requests.length, 0, 'no fallback after the first token');
  await eventually(() => h.sluice.records.length === 1, 2000, 'the record');
  assert.equal(h.sluice.records[0]?.errorCode, 'upstream_timeout');
});

test('first_token timeout on a non-stream request whose upstream never answers: HTTP 504', async (t) => {
  const h = await harness(t, [{ script: async (request) => void (await request.closed), timeouts: { first_token: '300ms' } }], { extraYaml: onePassYaml() });
  const started = Date.now();
  const raw = await rawChat(h, chatBody({ stream: false }));
  const elapsed = Date.now() - started;
  assert.equal(raw.status, 504, raw.text.slice(0, 300));
  assert.equal(assertErrorBody(raw.text).code, 'upstream_timeout');
  assert.ok(elapsed < 1500, `answered soon after the limit (took ${elapsed} ms)`);
  assert.equal(await within((h.up(0).requests[0] as UpstreamRequest).closed, 1000), 'ok', 'the upstream connection is closed');

  const err = await failure(h.client.chat.completions.create({ model: 'test-model', messages: [{ role: 'user', content: 'hi' }] }, { signal: signal() }));
  assert.ok(err instanceof APIError, `expected an APIError, got ${String(err)}`);
  assert.equal(err.status, 504);
});

// ---------------------------------------------------------------------------------------------
// 7. An upstream that never sends its response head
// ---------------------------------------------------------------------------------------------

test('an upstream that reads the request but never answers: SSE head and a keep-alive reach the client within ~1 s; a client abort closes the upstream', async (t) => {
  const h = await harness(t, [{ script: async (request) => void (await request.closed), timeouts: { first_token: '60s' } }], {
    streaming: { first_byte_deadline: '100ms', keepalive_interval: '300ms' },
  });
  const raw = await rawRequest(`${h.sluice.baseURL}/chat/completions`, { body: chatBody(), timeoutMs: 5000 }).catch((e: unknown) => e as Error);
  t.after(() => {
    if (!(raw instanceof Error)) raw.destroy();
  });
  assert.ok(!(raw instanceof Error), `the SSE head never arrived: ${String(raw)}`);
  const headAfter = raw.headersAt - raw.startedAt;
  assert.ok(headAfter < 1000, `the SSE head arrives within ~1 s (took ${headAfter} ms)`);
  assert.equal(raw.status, 200);
  assert.equal(raw.headers['content-type'], 'text/event-stream; charset=utf-8');
  await raw.waitFor((text) => text.includes(': keep-alive'), Math.max(50, 1000 - (Date.now() - raw.startedAt)));
  assert.equal(h.up(0).requests.length, 1);

  raw.destroy();
  const abortedAt = Date.now();
  const request = h.up(0).requests[0] as UpstreamRequest;
  assert.equal(await within(request.closed, 1000), 'ok', `the upstream connection closes within 1 s of the client leaving (waited ${Date.now() - abortedAt} ms)`);
  await eventually(() => h.sluice.records.length === 1, 2000, 'the record');
  assert.equal(h.sluice.records[0]?.outcome, 'client_aborted');
});

// ---------------------------------------------------------------------------------------------
// 8. Keyless mode and the Origin header
// ---------------------------------------------------------------------------------------------

/** Answers a stream request with a stream and a non-stream request with a completion. */
const okStream = (): UpstreamScript => async (request, res) => {
  if (request.body.stream === true) return streamOf(textStream(['Hello', ' there']))(request, res);
  const text = JSON.stringify({
    id: 'chatcmpl-test', object: 'chat.completion', created: 1_700_000_000, model: 'upstream-model',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there' }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
  });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
};
const evil = 'https://evil.example';

test('keyless mode: a request from a foreign Origin is refused with 403 before any upstream call; without Origin it succeeds; preflight gets no allow-origin', async (t) => {
  const h = await harness(t, [okStream()], { keys: false });

  for (const body of [chatBody(), chatBody({ stream: false })]) {
    const refused = await rawChat(h, body, { headers: { origin: evil }, auth: false });
    assert.equal(refused.status, 403, `expected 403, got ${refused.status}: ${refused.text.slice(0, 300)}`);
    assert.match(String(refused.headers['content-type']), /^application\/json/);
    assertErrorBody(refused.text);
    assert.equal(refused.headers['access-control-allow-origin'], undefined);
  }
  await sleep(100);
  assert.equal(h.up(0).requests.length, 0, 'the upstream is never called for a refused origin');

  const plain = await rawChat(h, chatBody(), { auth: false });
  assert.equal(plain.status, 200, plain.text.slice(0, 300));
  assert.equal(assertNoViolations(plain.text, { includeUsage: false }).text.get(0), 'Hello there');
  assert.equal(h.up(0).requests.length, 1);

  const preflight = await rawRequest(`${h.sluice.baseURL}/chat/completions`, {
    method: 'OPTIONS',
    auth: false,
    headers: { origin: evil, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  });
  await preflight.done;
  assert.equal(preflight.headers['access-control-allow-origin'], undefined, 'no allow-origin for a foreign origin in keyless mode');
});

test('keys configured: a request with a foreign Origin and a valid key succeeds with access-control-allow-origin: *', async (t) => {
  const h = await harness(t, [okStream()]);
  for (const body of [chatBody(), chatBody({ stream: false })]) {
    const raw = await rawChat(h, body, { headers: { origin: evil } });
    assert.equal(raw.status, 200, raw.text.slice(0, 300));
    assert.equal(raw.headers['access-control-allow-origin'], '*');
  }
  assert.equal(h.up(0).requests.length, 2);
});

test('keyless mode with cors.allow_origins: the listed origin is served (and told so), others are still refused', async (t) => {
  const app = 'https://app.example';
  const h = await harness(t, [okStream()], { keys: false, allowOrigins: [app] });
  const raw = await rawChat(h, chatBody(), { headers: { origin: app }, auth: false });
  assert.equal(raw.status, 200, raw.text.slice(0, 300));
  assert.equal(raw.headers['access-control-allow-origin'], app);
  assert.equal(assertNoViolations(raw.text, { includeUsage: false }).text.get(0), 'Hello there');

  const refused = await rawChat(h, chatBody(), { headers: { origin: evil }, auth: false });
  assert.equal(refused.status, 403);
  assert.equal(h.up(0).requests.length, 1);
});

// ---------------------------------------------------------------------------------------------
// 9. Keep-alive cadence
// ---------------------------------------------------------------------------------------------

test('keep-alive cadence: with keepalive_interval 400ms, a 2 s mid-stream silence gets 3 to 6 comments, none sooner than ~380 ms after the previous frame', async (t) => {
  const script: UpstreamScript = async (request, res) => {
    res.writeHead(200, sseHeaders);
    await writeFrames(res, [role(), chunk({ content: 'Hello' })]);
    await Promise.race([sleep(2000), request.closed]);
    await writeFrames(res, [chunk({ content: ' world' }), chunk({}, 'stop'), '[DONE]']);
    res.end();
  };
  const h = await harness(t, [script], { streaming: { keepalive_interval: '400ms' } });
  const raw = await rawChat(h, chatBody());
  assert.equal(raw.status, 200);
  const report = assertNoViolations(raw.text, { includeUsage: false });
  assert.equal(report.text.get(0), 'Hello world');

  const start = raw.pieces.findIndex((p) => p.text.includes('"content":"Hello"'));
  const end = raw.pieces.findIndex((p) => p.text.includes('"content":" world"'));
  assert.ok(start >= 0 && end > start, 'content before and after the silence');
  let count = 0;
  const gaps: number[] = [];
  for (let i = start + 1; i <= end; i++) {
    const piece = raw.pieces[i]!;
    const previous = raw.pieces[i - 1]!;
    const inPiece = piece.text.split(': keep-alive').length - 1;
    for (let k = 0; k < inPiece; k++) {
      // Two keep-alives in one read arrived together: the second followed the first at once.
      gaps.push(k === 0 ? piece.at - previous.at : 0);
      count++;
    }
  }
  assert.ok(count >= 3 && count <= 6, `3 to 6 keep-alives during the 2 s silence, got ${count}`);
  for (const gap of gaps) assert.ok(gap >= 380, `a keep-alive came only ${gap} ms after the previous frame (gaps: ${gaps.join(', ')})`);
});

// ---------------------------------------------------------------------------------------------
// 10. Pipelined requests
// ---------------------------------------------------------------------------------------------

test('HTTP pipelining: destroying the client socket aborts both pipelined requests upstream, and both are recorded as client_aborted', async (t) => {
  const slow: UpstreamScript = async (request, res) => {
    res.writeHead(200, sseHeaders);
    await writeFrames(res, [role()]);
    let open = true;
    void request.closed.then(() => (open = false));
    for (let k = 0; k < 100 && open; k++) {
      await writeFrames(res, [chunk({ content: `t${k} ` })]);
      await Promise.race([sleep(100), request.closed]);
    }
    if (open) {
      await writeFrames(res, [chunk({}, 'stop'), '[DONE]']);
      res.end();
    }
  };
  const h = await harness(t, [slow]);
  const { port } = new URL(h.sluice.url);
  const body = JSON.stringify(chatBody());
  const request = [
    'POST /v1/chat/completions HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    `Authorization: Bearer ${clientKey}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');

  const socket = net.connect(Number(port), '127.0.0.1');
  t.after(() => socket.destroy());
  socket.setNoDelay(true);
  socket.on('error', () => {});
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (s: string) => (received += s));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(request + request); // both at once, without waiting for the first answer

  await eventually(() => h.up(0).requests.length === 2, 3000, 'both pipelined requests to reach the upstream');
  await eventually(() => received.includes('"content":"t1 "'), 3000, 'the first response to be streaming');
  assert.equal(h.sluice.records.length, 0, 'neither request has finished');

  socket.destroy();
  const destroyedAt = Date.now();
  const [first, second] = h.up(0).requests as [UpstreamRequest, UpstreamRequest];
  const closed = await Promise.all([within(first.closed, 1000), within(second.closed, Math.max(0, 1000 - (Date.now() - destroyedAt)))]);
  assert.deepEqual(closed, ['ok', 'ok'], 'both upstream connections close within 1 s of the client socket closing');
  await eventually(() => h.sluice.records.length === 2, 2000, 'two records');
  assert.deepEqual(
    h.sluice.records.map((r) => r.outcome),
    ['client_aborted', 'client_aborted'],
  );
});
