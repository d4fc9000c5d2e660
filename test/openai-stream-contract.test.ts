/**
 * The OpenAI streaming contract of POST /v1/chat/completions, checked end to end: scripted
 * upstreams on loopback, Sluice in-process, and the official `openai` SDK (raw iteration and the
 * ChatCompletionStream helper) plus raw HTTP where bytes or timing matter.
 * See shared/reference/wire-formats.md sections 0, 2, 5.1 and 6.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { once } from 'node:events';
import OpenAI, { APIError, APIUserAbortError, InternalServerError, RateLimitError } from 'openai';
import { startScriptedUpstream, sseHeaders, writeFrames, sleep, type ScriptedUpstream, type UpstreamScript, type UpstreamRequest } from './support/scripted-upstream.js';
import { sdkChunks } from './support/sdk-chunks.js';
import { chunk, usageChunk, textStream } from './support/chunks.js';
import { startSluice, configFor, clientKey, eventually, type TestSluice } from './support/sluice.js';
import { rawHttpRequest, type RawHttpResponse } from './support/raw-http.js';
import { onePassYaml } from './support/one-pass.js';

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

type Json = Record<string, any>;

interface Harness {
  sluice: TestSluice;
  upstreams: (ScriptedUpstream | undefined)[];
  up(i: number): ScriptedUpstream;
  client: OpenAI;
}

/** Starts one scripted upstream per script (a string is used as a base URL as is), and Sluice routing `test-model` across them in order. */
async function harness(t: TestContext, routes: (UpstreamScript | string)[], extraYaml = ''): Promise<Harness> {
  const upstreams: (ScriptedUpstream | undefined)[] = [];
  const urls: string[] = [];
  for (const route of routes) {
    if (typeof route === 'string') {
      upstreams.push(undefined);
      urls.push(route);
    } else {
      const upstream = await startScriptedUpstream(route);
      t.after(() => upstream.close());
      upstreams.push(upstream);
      urls.push(upstream.baseUrl);
    }
  }
  const sluice = await startSluice(configFor(urls, extraYaml));
  t.after(() => sluice.close(50));
  const client = new OpenAI({ baseURL: sluice.baseURL, apiKey: clientKey, maxRetries: 0, timeout: 15_000 });
  return {
    sluice,
    upstreams,
    client,
    up: (i) => {
      const u = upstreams[i];
      if (u === undefined) throw new Error(`route ${i} has no scripted upstream`);
      return u;
    },
  };
}

/** A base URL on which nothing listens (connection refused). */
async function closedPortUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/v1`;
}

/** An upstream that answers every request with these SSE frames, then ends (optionally after holding the connection). */
function streamOf(frames: (object | string)[], options: { gapMs?: number; holdOpenMs?: number } = {}): UpstreamScript {
  return async (request, res) => {
    res.writeHead(200, sseHeaders);
    await writeFrames(res, frames, options.gapMs ?? 0);
    if (options.holdOpenMs) await Promise.race([sleep(options.holdOpenMs), request.closed]);
    res.end();
  };
}

function jsonError(status: number, body: object, headers: Record<string, string> = {}): UpstreamScript {
  return (_request, res) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
    res.end(text);
  };
}

function chatBody(extra: Json = {}): Json {
  return { model: 'test-model', messages: [{ role: 'user', content: 'hi' }], stream: true, ...extra };
}

const signal = (ms = 10_000) => AbortSignal.timeout(ms);

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  settled: boolean;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const d: Deferred = { promise: new Promise<void>((r) => (resolve = r)), resolve: () => {}, settled: false };
  d.resolve = () => {
    d.settled = true;
    resolve();
  };
  return d;
}

/** 'ok' when the promise settles within ms, 'timeout' otherwise. */
async function within(promise: Promise<unknown>, ms: number): Promise<'ok' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  try {
    return await Promise.race([promise.then(() => 'ok' as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function rawChat(h: Harness, body: Json, headers: Record<string, string> = {}): Promise<RawHttpResponse> {
  const raw = await rawHttpRequest(`${h.sluice.baseURL}/chat/completions`, { body, headers });
  await raw.done;
  return raw;
}

interface ParsedSse {
  blocks: string[];
  payloads: string[];
  chunks: Json[];
  commentLines: string[];
}

/**
 * Checks the framing of an OpenAI stream body (only `data:` lines and comments, every event ends
 * with a blank line) and returns its parts.
 */
function parseSse(text: string): ParsedSse {
  assert.ok(text.endsWith('\n\n'), `the body must end with a blank line; ends with ${JSON.stringify(text.slice(-80))}`);
  const blocks = text.slice(0, -2).split('\n\n');
  const payloads: string[] = [];
  const commentLines: string[] = [];
  for (const block of blocks) {
    assert.notEqual(block, '', 'no empty event blocks (stray blank lines)');
    const lines = block.split('\n');
    let dataLines = 0;
    for (const line of lines) {
      assert.ok(!line.startsWith('event:'), `no event: lines on an OpenAI stream, got ${JSON.stringify(line)}`);
      assert.ok(!line.includes('\r'), 'lines end with LF');
      if (line.startsWith(':')) commentLines.push(line);
      else {
        assert.ok(line.startsWith('data: '), `only data: lines and comments, got ${JSON.stringify(line.slice(0, 120))}`);
        dataLines++;
        payloads.push(line.slice('data: '.length));
      }
    }
    assert.ok(dataLines <= 1, 'one data line per event');
  }
  const chunks = payloads.filter((p) => p !== '[DONE]').map((p) => JSON.parse(p) as Json);
  return { blocks, payloads, chunks, commentLines };
}

function contentOf(chunks: Json[], index = 0): string {
  let text = '';
  for (const c of chunks) for (const choice of c.choices ?? []) if (choice.index === index && typeof choice.delta?.content === 'string') text += choice.delta.content;
  return text;
}


async function sdkFinal(client: OpenAI, body: Json): Promise<OpenAI.Chat.Completions.ChatCompletion> {
  const { stream: _ignored, ...params } = body;
  return client.chat.completions.stream(params as any, { signal: signal() }).finalChatCompletion();
}

const role = (id = 'chatcmpl-test', extra: Json = {}) => chunk({ role: 'assistant', content: '' }, null, { id, ...extra });
const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Headers and framing
// ---------------------------------------------------------------------------------------------

test('SSE head: event-stream content type, no-cache/no-transform, x-accel-buffering, no compression, x-request-id', async (t) => {
  const h = await harness(t, [streamOf(textStream(['Hello', ' world']))]);
  const raw = await rawChat(h, chatBody(), { 'accept-encoding': 'gzip, deflate, br' });
  assert.equal(raw.status, 200);
  assert.equal(raw.headers['content-type'], 'text/event-stream; charset=utf-8');
  assert.equal(raw.headers['cache-control'], 'no-cache, no-transform');
  assert.equal(raw.headers['x-accel-buffering'], 'no');
  assert.equal(raw.headers['content-encoding'], undefined, 'a stream is never compressed');
  assert.match(String(raw.headers['x-request-id'] ?? ''), /^\S{6,}$/);
  assert.equal(contentOf(parseSse(raw.text).chunks), 'Hello world');

  const { data, response } = await h.client.chat.completions
    .create({ model: 'test-model', messages: [{ role: 'user', content: 'hi' }], stream: true }, { signal: signal() })
    .withResponse();
  assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  assert.equal(response.headers.get('cache-control'), 'no-cache, no-transform');
  assert.equal(response.headers.get('x-accel-buffering'), 'no');
  assert.ok(response.headers.get('x-request-id'));
  let text = '';
  for await (const c of data) text += c.choices[0]?.delta.content ?? '';
  assert.equal(text, 'Hello world');
});

test('raw body: data lines and comments only, blank line after each event, [DONE] last, and the body ends at once although the upstream holds its connection 3 s', async (t) => {
  const h = await harness(t, [streamOf(textStream(['Hello', ' world'], { includeUsage: true }), { holdOpenMs: 3000 })]);
  const raw = await rawChat(h, chatBody({ stream_options: { include_usage: true } }));
  assert.equal(raw.status, 200);
  assert.equal(raw.complete, true, 'the response ended properly');
  const sse = parseSse(raw.text);
  assert.ok(raw.text.endsWith('data: [DONE]\n\n'), 'data: [DONE] is the last thing in the body');
  assert.equal(sse.payloads.filter((p) => p === '[DONE]').length, 1);
  assert.equal(contentOf(sse.chunks), 'Hello world');
  const elapsed = (raw.endedAt ?? Infinity) - raw.startedAt;
  assert.ok(elapsed < 1500, `the body must end right after [DONE], not when the upstream closes (took ${elapsed} ms)`);

  const started = Date.now();
  const final = await sdkFinal(h.client, chatBody());
  const sdkElapsed = Date.now() - started;
  assert.equal(final.choices[0]?.message.content, 'Hello world');
  assert.ok(sdkElapsed < 1500, `finalChatCompletion() must resolve right after [DONE] (took ${sdkElapsed} ms)`);
});

test('lock-step: the upstream sends chunk k only after the client got chunk k-1; 20 chunks flow without deadlock (no batching)', async (t) => {
  const N = 20;
  let gates: Deferred[] = [];
  let stalledAt: number | undefined;
  const script: UpstreamScript = async (_request, res) => {
    const mine = gates;
    res.writeHead(200, sseHeaders);
    for (let k = 0; k < N; k++) {
      if (k > 0 && (await within(mine[k - 1]!.promise, 3000)) === 'timeout') {
        stalledAt = k - 1;
        res.destroy();
        return;
      }
      await writeFrames(res, [chunk(k === 0 ? { role: 'assistant', content: 't0 ' } : { content: `t${k} ` })]);
    }
    await writeFrames(res, [chunk({}, 'stop'), '[DONE]']);
    res.end();
  };
  const h = await harness(t, [script]);
  const expected = Array.from({ length: N }, (_, k) => `t${k} `).join('');

  // SDK iteration drives the gates.
  gates = Array.from({ length: N }, deferred);
  const sdkGates = gates;
  let sdkText = '';
  const sdkFailure = await sdkChunks(h.client, chatBody(), (c) => {
    const content = c.choices?.[0]?.delta?.content;
    if (typeof content !== 'string') return;
    sdkText += content;
    const k = /^t(\d+) $/.exec(content)?.[1];
    if (k !== undefined) sdkGates[Number(k)]?.resolve();
  }).then(() => undefined, (e: unknown) => e);
  assert.equal(stalledAt, undefined, `the upstream stalled: the client never received chunk ${stalledAt} before the next was due`);
  assert.equal(sdkFailure, undefined);
  assert.equal(sdkText, expected);

  // Raw bytes drive the gates.
  gates = Array.from({ length: N }, deferred);
  const rawGates = gates;
  const raw = await rawHttpRequest(`${h.sluice.baseURL}/chat/completions`, { body: chatBody() });
  const poll = setInterval(() => {
    for (let k = 0; k < N; k++) if (!rawGates[k]!.settled && raw.text.includes(`"content":"t${k} "`)) rawGates[k]!.resolve();
  }, 2);
  await raw.done;
  clearInterval(poll);
  assert.equal(stalledAt, undefined, `the upstream stalled on the raw client at chunk ${stalledAt}`);
  assert.equal(contentOf(parseSse(raw.text).chunks), expected);
  assert.ok(raw.text.endsWith('data: [DONE]\n\n'));
});

// ---------------------------------------------------------------------------------------------
// Role, tool-call indexes, reasoning, n > 1
// ---------------------------------------------------------------------------------------------

test('the first chunk carries delta.role even when the upstream omits it', async (t) => {
  const h = await harness(t, [streamOf([chunk({ content: 'Hello' }), chunk({ content: ' world' }), chunk({}, 'stop'), '[DONE]'])]);
  const chunks = await sdkChunks(h.client, chatBody());
  assert.equal(chunks[0]?.choices[0]?.delta?.role, 'assistant');
  assert.equal(contentOf(chunks), 'Hello world');
  const final = await sdkFinal(h.client, chatBody());
  assert.equal(final.choices[0]?.message.role, 'assistant');
  assert.equal(final.choices[0]?.message.content, 'Hello world');
});

interface ExpectedCall {
  id: string;
  name: string;
  arguments: string;
}

async function checkToolCalls(h: Harness, expected: ExpectedCall[]): Promise<void> {
  // Raw iteration: dense indexes from 0, each call's first fragment with id, type and name.
  const chunks = await sdkChunks(h.client, chatBody());
  const seen = new Map<number, { id?: string; type?: string; name: string; arguments: string }>();
  const order: number[] = [];
  for (const c of chunks) {
    for (const call of c.choices?.[0]?.delta?.tool_calls ?? []) {
      assert.equal(typeof call.index, 'number', 'every tool-call fragment has an index');
      let state = seen.get(call.index);
      if (state === undefined) {
        assert.equal(call.type, 'function', 'the first fragment of a call has type "function"');
        assert.ok(typeof call.id === 'string' && call.id !== '', 'the first fragment of a call has an id');
        state = { id: call.id, type: call.type, name: '', arguments: '' };
        seen.set(call.index, state);
        order.push(call.index);
      }
      state.name += call.function?.name ?? '';
      state.arguments += call.function?.arguments ?? '';
    }
  }
  assert.deepEqual(order, expected.map((_, i) => i), 'tool-call indexes are dense from 0, in order');
  assert.deepEqual(
    [...seen.values()].map((s) => ({ id: s.id, name: s.name, arguments: s.arguments })),
    expected,
  );

  // The SDK helper assembles the same calls.
  const final = await sdkFinal(h.client, chatBody());
  const message = final.choices[0]?.message;
  assert.equal(final.choices[0]?.finish_reason, 'tool_calls');
  assert.deepEqual(
    (message?.tool_calls ?? []).map((c: any) => ({ id: c.id, type: c.type, name: c.function?.name, arguments: c.function?.arguments })),
    expected.map((e) => ({ id: e.id, type: 'function', name: e.name, arguments: e.arguments })),
  );
}

test('tool calls: an upstream whose first call has index 1 (Claude via OpenAI-compat) gets dense indexes', async (t) => {
  const h = await harness(t, [
    streamOf([
      chunk({ role: 'assistant', content: null }),
      chunk({ tool_calls: [{ index: 1, id: 'toolu_01A', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: '{"city":' } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: '"Paris"}' } }] }),
      chunk({}, 'tool_calls'),
      '[DONE]',
    ]),
  ]);
  await checkToolCalls(h, [{ id: 'toolu_01A', name: 'get_weather', arguments: '{"city":"Paris"}' }]);
});

test('tool calls: a gap in indexes (0, 2) becomes (0, 1)', async (t) => {
  const h = await harness(t, [
    streamOf([
      chunk({ role: 'assistant', content: null }),
      chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":"Paris"}' } }] }),
      chunk({ tool_calls: [{ index: 2, id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 2, function: { arguments: '{"tz":' } }] }),
      chunk({ tool_calls: [{ index: 2, function: { arguments: '"CET"}' } }] }),
      chunk({}, 'tool_calls'),
      '[DONE]',
    ]),
  ]);
  await checkToolCalls(h, [
    { id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}' },
    { id: 'call_b', name: 'get_time', arguments: '{"tz":"CET"}' },
  ]);
});

test('tool calls: Mistral style (whole call in one fragment, id but no index or type) reaches the client', async (t) => {
  const h = await harness(t, [
    streamOf([
      chunk({ role: 'assistant', content: '' }),
      chunk({ tool_calls: [{ id: 'Abc123xyz', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } }] }),
      chunk({ tool_calls: [{ id: 'Def456uvw', function: { name: 'get_time', arguments: '{"tz": "CET"}' } }] }),
      chunk({}, 'tool_calls'),
      '[DONE]',
    ]),
  ]);
  await checkToolCalls(h, [
    { id: 'Abc123xyz', name: 'get_weather', arguments: '{"city": "Paris"}' },
    { id: 'Def456uvw', name: 'get_time', arguments: '{"tz": "CET"}' },
  ]);
});

test('tool calls: parallel calls with arguments split across fragments assemble correctly', async (t) => {
  const h = await harness(t, [
    streamOf([
      chunk({ role: 'assistant', content: null }),
      chunk({ tool_calls: [{ index: 0, id: 'call_JMW1', type: 'function', function: { name: 'GetWeatherArgs', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"ci' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: 'ty":"Ed' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: 'inburgh"}' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'call_DNYT', type: 'function', function: { name: 'get_stock_price', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: '{"ti' } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: 'cker":"AAPL","exchange":"NASDAQ"}' } }] }),
      chunk({}, 'tool_calls'),
      '[DONE]',
    ]),
  ]);
  await checkToolCalls(h, [
    { id: 'call_JMW1', name: 'GetWeatherArgs', arguments: '{"city":"Edinburgh"}' },
    { id: 'call_DNYT', name: 'get_stock_price', arguments: '{"ticker":"AAPL","exchange":"NASDAQ"}' },
  ]);
});

async function checkReasoning(h: Harness): Promise<void> {
  const raw = await rawChat(h, chatBody());
  assert.equal(raw.status, 200);
  const { chunks } = parseSse(raw.text);
  let reasoning = '';
  for (const c of chunks) {
    const delta = c.choices?.[0]?.delta ?? {};
    assert.ok(!('reasoning' in delta), `no "reasoning" key may reach the client: ${JSON.stringify(delta)}`);
    if (typeof delta.reasoning_content === 'string') reasoning += delta.reasoning_content;
  }
  assert.ok(!raw.text.includes('"reasoning":'), 'no "reasoning" key anywhere in the bytes');
  assert.equal(reasoning, 'We need to greet. Then answer.');
  assert.equal(contentOf(chunks), 'Hello there');

  const sdk = await sdkChunks(h.client, chatBody());
  const sdkReasoning = sdk.map((c) => c.choices?.[0]?.delta?.reasoning_content ?? '').join('');
  assert.equal(sdkReasoning, 'We need to greet. Then answer.');
  const final = await sdkFinal(h.client, chatBody());
  assert.equal(final.choices[0]?.message.content, 'Hello there');
}

test('reasoning: DeepSeek reasoning_content passes as delta.reasoning_content', async (t) => {
  const h = await harness(t, [
    streamOf([
      chunk({ role: 'assistant', content: null, reasoning_content: '' }),
      chunk({ content: null, reasoning_content: 'We need ' }),
      chunk({ content: null, reasoning_content: 'to greet.' }),
      chunk({ content: null, reasoning_content: ' Then answer.' }),
      chunk({ content: 'Hello', reasoning_content: null }),
      chunk({ content: ' there', reasoning_content: null }),
      chunk({ content: '', reasoning_content: null }, 'stop'),
      '[DONE]',
    ]),
  ]);
  await checkReasoning(h);
});

test('reasoning: vLLM/OpenRouter `reasoning` reaches the client as delta.reasoning_content', async (t) => {
  const h = await harness(t, [
    streamOf([
      chunk({ role: 'assistant', content: '' }),
      chunk({ reasoning: 'We need ' }),
      chunk({ reasoning: 'to greet.' }),
      chunk({ reasoning: ' Then answer.' }),
      chunk({ content: 'Hello' }),
      chunk({ content: ' there' }),
      chunk({}, 'stop'),
      '[DONE]',
    ]),
  ]);
  await checkReasoning(h);
});

test('n: 3: interleaved choices are preserved, each with a role and a finish_reason', async (t) => {
  const c = (delta: Json, index: number, finish: string | null = null) => chunk(delta, finish, {}, index);
  const h = await harness(t, [
    streamOf([
      c({ role: 'assistant', content: '' }, 0),
      c({ role: 'assistant', content: '' }, 1),
      c({ content: 'Gamma' }, 2), // this upstream forgot the role of choice 2
      c({ content: 'Alpha' }, 0),
      c({ content: 'Beta' }, 1),
      c({ content: ' two' }, 2),
      c({ content: ' one' }, 0),
      c({ content: ' one' }, 1),
      c({}, 1, 'length'),
      c({}, 0, 'stop'),
      c({}, 2, 'stop'),
      '[DONE]',
    ]),
  ]);
  const chunks = await sdkChunks(h.client, chatBody({ n: 3 }));
  const firstDelta = new Map<number, Json>();
  const finishes = new Map<number, string[]>();
  for (const ch of chunks) {
    for (const choice of ch.choices) {
      if (!firstDelta.has(choice.index)) firstDelta.set(choice.index, choice.delta);
      if (choice.finish_reason) finishes.set(choice.index, [...(finishes.get(choice.index) ?? []), choice.finish_reason]);
    }
  }
  assert.deepEqual([...firstDelta.keys()].sort(), [0, 1, 2]);
  for (const i of [0, 1, 2]) assert.equal(firstDelta.get(i)?.role, 'assistant', `choice ${i}'s first delta has the role`);
  assert.deepEqual(Object.fromEntries([...finishes.entries()].sort()), { 0: ['stop'], 1: ['length'], 2: ['stop'] });
  assert.deepEqual([0, 1, 2].map((i) => contentOf(chunks, i)), ['Alpha one', 'Beta one', 'Gamma two']);

  const final = await sdkFinal(h.client, chatBody({ n: 3 }));
  const byIndex = [...final.choices].sort((a, b) => a.index - b.index);
  assert.deepEqual(
    byIndex.map((ch) => ({ index: ch.index, role: ch.message.role, content: ch.message.content, finish: ch.finish_reason })),
    [
      { index: 0, role: 'assistant', content: 'Alpha one', finish: 'stop' },
      { index: 1, role: 'assistant', content: 'Beta one', finish: 'length' },
      { index: 2, role: 'assistant', content: 'Gamma two', finish: 'stop' },
    ],
  );
});

// ---------------------------------------------------------------------------------------------
// Usage
// ---------------------------------------------------------------------------------------------

const upstreamUsage = { prompt_tokens: 12, completion_tokens: 2, total_tokens: 14, prompt_tokens_details: { cached_tokens: 4, audio_tokens: 0 } };

/** What api.openai.com sends when include_usage is on: usage:null on every chunk, then a choices:[] usage chunk. */
function openAiUsageStream(): (object | string)[] {
  return [
    chunk({ role: 'assistant', content: '' }, null, { usageNull: true }),
    chunk({ content: 'Hi' }, null, { usageNull: true }),
    chunk({ content: ' there' }, null, { usageNull: true }),
    chunk({}, 'stop', { usageNull: true }),
    usageChunk(12, 2, {}, { prompt_tokens_details: { cached_tokens: 4, audio_tokens: 0 } }),
    '[DONE]',
  ];
}

function assertRecordedUsage(sluice: TestSluice, count: number, expected: { input: number; output: number; cacheRead: number }): void {
  assert.equal(sluice.records.length, count);
  for (const record of sluice.records) {
    assert.equal(record.outcome, 'ok');
    assert.equal(record.usage?.input, expected.input, 'input tokens recorded');
    assert.equal(record.usage?.output, expected.output, 'output tokens recorded');
    assert.equal(record.usage?.cacheRead, expected.cacheRead, 'cached tokens recorded');
  }
}

test('usage, client asked: one final choices:[] usage chunk right before [DONE], usage:null everywhere else; upstream asked too', async (t) => {
  const h = await harness(t, [streamOf(openAiUsageStream())]);
  const raw = await rawChat(h, chatBody({ stream_options: { include_usage: true } }));
  const { chunks, payloads } = parseSse(raw.text);
  assert.equal(payloads[payloads.length - 1], '[DONE]');
  const usageChunks = chunks.filter((c) => Array.isArray(c.choices) && c.choices.length === 0);
  assert.equal(usageChunks.length, 1, 'exactly one usage chunk');
  assert.equal(chunks[chunks.length - 1], usageChunks[0], 'the usage chunk is the last chunk, right before [DONE]');
  assert.deepEqual(usageChunks[0]?.usage, upstreamUsage);
  for (const c of chunks.slice(0, -1)) {
    assert.ok('usage' in c, 'every other chunk has a usage key');
    assert.equal(c.usage, null, 'and it is null');
  }
  assert.equal((h.up(0).requests[0]?.body.stream_options as Json | undefined)?.include_usage, true);

  const final = await sdkFinal(h.client, chatBody({ stream_options: { include_usage: true } }));
  assert.equal(final.usage?.prompt_tokens, 12);
  assert.equal(final.usage?.completion_tokens, 2);
  assert.equal(final.choices[0]?.message.content, 'Hi there');
  await eventually(() => h.sluice.records.length === 2, 2000, 'two records');
  assertRecordedUsage(h.sluice, 2, { input: 12, output: 2, cacheRead: 4 });
});

test('usage, client did not ask: the upstream is still asked, the client gets no usage chunk and no usage key, the record has the usage', async (t) => {
  const h = await harness(t, [streamOf(openAiUsageStream())]);
  for (const body of [chatBody(), chatBody({ stream_options: { include_usage: false } })]) {
    const raw = await rawChat(h, body);
    const { chunks, payloads } = parseSse(raw.text);
    assert.equal(payloads[payloads.length - 1], '[DONE]');
    assert.equal(contentOf(chunks), 'Hi there');
    for (const c of chunks) {
      assert.ok(!('usage' in c), `no usage key when the client did not ask: ${JSON.stringify(c)}`);
      assert.ok(Array.isArray(c.choices) && c.choices.length > 0, 'no choices:[] chunk');
    }
  }
  const sdk = await sdkChunks(h.client, chatBody());
  assert.ok(sdk.every((c) => !('usage' in c)));
  assert.equal(h.up(0).requests.length, 3);
  for (const request of h.up(0).requests) {
    assert.equal((request.body.stream_options as Json | undefined)?.include_usage, true, 'the upstream always gets include_usage: true');
  }
  await eventually(() => h.sluice.records.length === 3, 2000, 'three records');
  assertRecordedUsage(h.sluice, 3, { input: 12, output: 2, cacheRead: 4 });
});

test('usage on the finish chunk (DeepSeek/Groq style) becomes a separate choices:[] chunk for a client that asked', async (t) => {
  const usage = { prompt_tokens: 20, completion_tokens: 5, total_tokens: 25, prompt_tokens_details: { cached_tokens: 8 } };
  const finish = chunk({ content: '' }, 'stop');
  finish.usage = usage;
  const h = await harness(t, [streamOf([chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hi' }), chunk({ content: ' there' }), finish, '[DONE]'])]);

  const asked = parseSse((await rawChat(h, chatBody({ stream_options: { include_usage: true } }))).text);
  assert.equal(asked.payloads[asked.payloads.length - 1], '[DONE]');
  const usageChunks = asked.chunks.filter((c) => Array.isArray(c.choices) && c.choices.length === 0);
  assert.equal(usageChunks.length, 1, 'exactly one separate usage chunk');
  assert.equal(asked.chunks[asked.chunks.length - 1], usageChunks[0], 'right before [DONE]');
  assert.deepEqual(usageChunks[0]?.usage, usage);
  const finishOut = asked.chunks.find((c) => c.choices?.[0]?.finish_reason === 'stop');
  assert.equal(finishOut?.usage, null, 'the finish chunk carries usage: null');
  for (const c of asked.chunks.slice(0, -1)) assert.equal(c.usage, null);

  const final = await sdkFinal(h.client, chatBody({ stream_options: { include_usage: true } }));
  assert.equal(final.usage?.prompt_tokens, 20);
  assert.equal(final.usage?.completion_tokens, 5);

  const notAsked = parseSse((await rawChat(h, chatBody())).text);
  for (const c of notAsked.chunks) {
    assert.ok(!('usage' in c), 'no usage key for a client that did not ask');
    assert.ok(c.choices.length > 0);
  }
  assert.equal(contentOf(notAsked.chunks), 'Hi there');
  await eventually(() => h.sluice.records.length === 3, 2000, 'three records');
  assertRecordedUsage(h.sluice, 3, { input: 20, output: 5, cacheRead: 8 });
});

// ---------------------------------------------------------------------------------------------
// Vendor fields
// ---------------------------------------------------------------------------------------------

test('unknown vendor fields (x_groq, obfuscation, logprobs) survive byte-exact, the upstream model name is kept', async (t) => {
  // Hand-written JSON with unusual spacing and numbers that a re-serialisation would change.
  const payloads = [
    '{"id": "chatcmpl-v", "object": "chat.completion.chunk", "created": 1700000000, "model": "llama-3.3-70b-versatile", "system_fingerprint": "fp_9", "x_groq": {"id": "req_01jabc"}, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": null, "finish_reason": null}], "usage": null}',
    '{"id": "chatcmpl-v", "object": "chat.completion.chunk", "created": 1700000000, "model": "llama-3.3-70b-versatile", "system_fingerprint": "fp_9", "obfuscation": "Zq3x", "choices": [{"index": 0, "delta": {"content": "Foo"}, "logprobs": {"content": [{"token": "Foo", "logprob": -0.0025094282000000, "bytes": [70, 111, 111], "top_logprobs": []}], "refusal": null}, "finish_reason": null}], "usage": null}',
    '{"id": "chatcmpl-v", "object": "chat.completion.chunk", "created": 1700000000, "model": "llama-3.3-70b-versatile", "system_fingerprint": "fp_9", "obfuscation": "k", "choices": [{"index": 0, "delta": {"content": "bar"}, "logprobs": {"content": [{"token": "bar", "logprob": -1.0E-5, "bytes": [98, 97, 114], "top_logprobs": []}], "refusal": null}, "finish_reason": null}], "usage": null}',
    '{"id": "chatcmpl-v", "object": "chat.completion.chunk", "created": 1700000000, "model": "llama-3.3-70b-versatile", "system_fingerprint": "fp_9", "choices": [{"index": 0, "delta": {}, "logprobs": null, "finish_reason": "stop"}], "x_groq": {"id": "req_01jabc", "usage": {"queue_time": 0.0170}}, "usage": null}',
    '{"id": "chatcmpl-v", "object": "chat.completion.chunk", "created": 1700000000, "model": "llama-3.3-70b-versatile", "system_fingerprint": "fp_9", "choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9}}',
  ];
  const h = await harness(t, [streamOf([...payloads, '[DONE]'])]);

  const raw = await rawChat(h, chatBody({ stream_options: { include_usage: true } }));
  const sse = parseSse(raw.text);
  let from = 0;
  for (const p of payloads) {
    const at = raw.text.indexOf(`data: ${p}\n\n`, from);
    assert.ok(at >= 0, `chunk must pass byte for byte: ${p.slice(0, 140)}...`);
    from = at + 1;
  }
  assert.ok(sse.chunks.every((c) => c.model === 'llama-3.3-70b-versatile'), 'the upstream model name is kept');

  // Re-serialised when the usage key must go: the vendor fields still reach the client.
  const other = parseSse((await rawChat(h, chatBody())).text).chunks;
  assert.deepEqual(other[0]?.x_groq, { id: 'req_01jabc' });
  assert.equal(other[1]?.obfuscation, 'Zq3x');
  assert.deepEqual(other[1]?.choices[0].logprobs, { content: [{ token: 'Foo', logprob: -0.0025094282, bytes: [70, 111, 111], top_logprobs: [] }], refusal: null });
  assert.deepEqual(other[3]?.x_groq, { id: 'req_01jabc', usage: { queue_time: 0.017 } });
  assert.ok(other.every((c) => c.model === 'llama-3.3-70b-versatile'));

  const final = await sdkFinal(h.client, chatBody());
  assert.equal(final.model, 'llama-3.3-70b-versatile');
  assert.equal(final.choices[0]?.message.content, 'Foobar');
});

// ---------------------------------------------------------------------------------------------
// Keep-alive
// ---------------------------------------------------------------------------------------------

const keepAliveYaml = 'streaming:\n  first_byte_deadline: 100ms\n  keepalive_interval: 200ms\n';

test('keep-alive: comments (never data: pings) before the first content and during a mid-stream silence', async (t) => {
  const script: UpstreamScript = async (request, res) => {
    res.writeHead(200, sseHeaders);
    await writeFrames(res, [chunk({ role: 'assistant', content: '' })]);
    await Promise.race([sleep(700), request.closed]);
    await writeFrames(res, [chunk({ content: 'Hello' }), chunk({ content: ' there' })]);
    await Promise.race([sleep(700), request.closed]);
    await writeFrames(res, [chunk({ content: ' world' }), chunk({}, 'stop'), '[DONE]']);
    res.end();
  };
  const h = await harness(t, [script], keepAliveYaml);
  const raw = await rawHttpRequest(`${h.sluice.baseURL}/chat/completions`, { body: chatBody() });
  await raw.done;
  const sse = parseSse(raw.text);

  const firstContentAt = raw.pieces.find((p) => p.text.includes('"content":"Hello"'))?.at ?? Infinity;
  assert.ok(raw.headersAt < firstContentAt - 300, `the SSE head must arrive well before the first content (head ${raw.headersAt - raw.startedAt} ms, content ${firstContentAt - raw.startedAt} ms)`);
  const firstCommentAt = raw.pieces.find((p) => p.text.includes(': keep-alive'))?.at ?? Infinity;
  assert.ok(firstCommentAt - raw.startedAt < 450, `a keep-alive comment soon after the deadline (got one at ${firstCommentAt - raw.startedAt} ms)`);

  const beforeContent = raw.text.slice(0, raw.text.indexOf('data: '));
  const preComments = beforeContent.split('\n').filter((l) => l.startsWith(':'));
  assert.ok(preComments.length >= 2, `several comments during the 700 ms wait, got ${preComments.length}`);
  assert.ok(preComments.every((l) => l === ': keep-alive'), `keep-alive comments: ${JSON.stringify(preComments)}`);

  const midStart = raw.text.indexOf('"content":" there"');
  const midEnd = raw.text.indexOf('"content":" world"');
  assert.ok(midStart > 0 && midEnd > midStart);
  const midComments = raw.text.slice(midStart, midEnd).split('\n').filter((l) => l.startsWith(':'));
  assert.ok(midComments.length >= 2, `comments during the 700 ms mid-stream silence, got ${midComments.length}`);

  for (const c of sse.chunks) {
    assert.ok(Array.isArray(c.choices), `every data event is a chunk, never a ping: ${JSON.stringify(c)}`);
    assert.equal(c.type, undefined);
  }
  assert.equal(contentOf(sse.chunks), 'Hello there world');
  assert.ok(raw.text.endsWith('data: [DONE]\n\n'));

  const final = await sdkFinal(h.client, chatBody());
  assert.equal(final.choices[0]?.message.content, 'Hello there world');
});

// ---------------------------------------------------------------------------------------------
// Client disconnects
// ---------------------------------------------------------------------------------------------

/** An upstream that sends the head and the role chunk, then `contents`, then waits for the connection to close. */
function hangingStream(contents: string[] = []): UpstreamScript {
  return async (request, res) => {
    res.writeHead(200, sseHeaders);
    await writeFrames(res, [chunk({ role: 'assistant', content: '' }), ...contents.map((c) => chunk({ content: c }))]);
    await request.closed;
  };
}

async function assertAbortPropagates(h: Harness, abortedAt: number, index = 0): Promise<void> {
  const request = h.up(0).requests[index] as UpstreamRequest;
  const result = await within(request.closed, Math.max(0, 1000 - (Date.now() - abortedAt)));
  assert.equal(result, 'ok', 'the upstream connection must close within 1 s of the client going away');
  await eventually(() => h.sluice.records.length === index + 1, 2000, 'the request record');
  assert.equal(h.sluice.records[index]?.outcome, 'client_aborted');
}

test('client disconnect while waiting for the first token (SDK abort, head not sent yet) aborts the upstream', async (t) => {
  const h = await harness(t, [hangingStream()]);
  const controller = new AbortController();
  const pending = h.client.chat.completions.create(
    { model: 'test-model', messages: [{ role: 'user', content: 'hi' }], stream: true },
    { signal: controller.signal },
  );
  pending.catch(() => {});
  await eventually(() => h.up(0).requests.length === 1, 2000, 'the upstream request');
  await sleep(150);
  controller.abort();
  const abortedAt = Date.now();
  await assert.rejects(pending, APIUserAbortError);
  await assertAbortPropagates(h, abortedAt);
});

test('client disconnect while waiting for the first token (socket destroyed after keep-alives) aborts the upstream', async (t) => {
  const h = await harness(t, [hangingStream()], keepAliveYaml);
  const raw = await rawHttpRequest(`${h.sluice.baseURL}/chat/completions`, { body: chatBody() });
  await raw.waitFor((text) => text.includes(': keep-alive'), 2000);
  raw.destroy();
  const abortedAt = Date.now();
  await assertAbortPropagates(h, abortedAt);
});

test('client disconnect mid-stream (SDK iteration stopped) aborts the upstream', async (t) => {
  const h = await harness(t, [hangingStream(['one', ' two'])]);
  const stream = await h.client.chat.completions.create(
    { model: 'test-model', messages: [{ role: 'user', content: 'hi' }], stream: true },
    { signal: signal() },
  );
  let text = '';
  for await (const c of stream) {
    text += c.choices[0]?.delta.content ?? '';
    if (text === 'one two') break; // ends the iteration: the SDK aborts its request
  }
  const abortedAt = Date.now();
  assert.equal(text, 'one two');
  await assertAbortPropagates(h, abortedAt);
});

test('client disconnect mid-stream (socket destroyed) aborts the upstream', async (t) => {
  const h = await harness(t, [hangingStream(['one', ' two'])]);
  const raw = await rawHttpRequest(`${h.sluice.baseURL}/chat/completions`, { body: chatBody() });
  await raw.waitFor((text) => text.includes('"content":" two"'), 3000);
  raw.destroy();
  const abortedAt = Date.now();
  await assertAbortPropagates(h, abortedAt);
});

test('client disconnect on a non-stream request with a slow upstream aborts the upstream', async (t) => {
  const h = await harness(t, [async (request) => void (await request.closed)]);
  const controller = new AbortController();
  const pending = h.client.chat.completions.create({ model: 'test-model', messages: [{ role: 'user', content: 'hi' }] }, { signal: controller.signal });
  pending.catch(() => {});
  await eventually(() => h.up(0).requests.length === 1, 2000, 'the upstream request');
  await sleep(100);
  controller.abort();
  const abortedAt = Date.now();
  await assert.rejects(pending, APIUserAbortError);
  await assertAbortPropagates(h, abortedAt);
  assert.equal(h.sluice.records[0]?.stream, false);
});

// ---------------------------------------------------------------------------------------------
// Backpressure
// ---------------------------------------------------------------------------------------------

test('backpressure: a client that reads nothing makes Sluice stop reading the upstream; then every byte arrives', async (t) => {
  const pieceSize = 16 * 1024;
  const count = 8192; // 128 MiB of content
  const frames = Array.from({ length: 26 }, (_, i) => {
    const content = String.fromCharCode(97 + i).repeat(pieceSize);
    return `data: ${JSON.stringify(chunk({ content }))}\n\n`;
  });
  const firstFrame = `data: ${JSON.stringify(chunk({ role: 'assistant', content: 'a'.repeat(pieceSize) }))}\n\n`;
  let written = 0;
  let finished = false;
  const script: UpstreamScript = async (request, res) => {
    res.writeHead(200, sseHeaders);
    const closed = request.closed.then(() => 'closed' as const);
    for (let k = 0; k < count; k++) {
      const frame = k === 0 ? firstFrame : frames[k % 26]!;
      written += frame.length;
      if (!res.write(frame)) {
        const why = await Promise.race([once(res, 'drain').then(() => 'drain' as const), closed]);
        if (why === 'closed') return;
      }
    }
    res.write(`data: ${JSON.stringify(chunk({}, 'stop'))}\n\ndata: [DONE]\n\n`);
    res.end();
    finished = true;
  };
  const h = await harness(t, [script]);

  let contentLength = 0;
  let chunkCount = 0;
  let sawDone = false;
  let afterDone = false;
  let buffer = '';
  let status = 0;
  const body = JSON.stringify(chatBody());
  const req = http.request(`${h.sluice.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${clientKey}`, 'content-type': 'application/json' },
  });
  t.after(() => req.destroy());
  const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
    req.on('response', resolve);
    req.on('error', reject);
    req.end(body);
  });
  status = response.statusCode ?? 0;
  response.pause();
  await sleep(1500);
  const writtenWhilePaused = written;
  assert.equal(status, 200);
  assert.equal(finished, false, 'the upstream must not have been able to write everything');
  assert.ok(writtenWhilePaused < 48 * MiB, `Sluice must stop reading the upstream while the client reads nothing; the upstream wrote ${(writtenWhilePaused / MiB).toFixed(1)} MiB`);

  response.setEncoding('utf8');
  const ended = new Promise<void>((resolve, reject) => {
    response.on('end', resolve);
    response.on('error', reject);
    response.on('close', () => (response.complete ? resolve() : reject(new Error('response cut short'))));
  });
  response.on('data', (s: string) => {
    buffer += s;
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      if (!block.startsWith('data: ')) continue;
      const payload = block.slice(6);
      if (sawDone) afterDone = true;
      if (payload === '[DONE]') {
        sawDone = true;
        continue;
      }
      const parsed = JSON.parse(payload) as Json;
      chunkCount++;
      const content = parsed.choices?.[0]?.delta?.content;
      if (typeof content === 'string') contentLength += content.length;
    }
  });
  response.resume();
  const result = await within(ended, 60_000);
  assert.equal(result, 'ok', 'the whole stream arrives once the client reads');
  assert.equal(contentLength, count * pieceSize, 'total content length is exact');
  assert.equal(chunkCount, count + 1);
  assert.equal(sawDone, true);
  assert.equal(afterDone, false);
  assert.equal(buffer, '');
});

// ---------------------------------------------------------------------------------------------
// The commit point
// ---------------------------------------------------------------------------------------------

const secondRoute = () => streamOf(textStream(['Hello', ' from', ' b'], { id: 'chatcmpl-b' }));

async function checkInvisibleFallback(h: Harness, firstCalled: boolean): Promise<void> {
  const raw = await rawChat(h, chatBody());
  assert.equal(raw.status, 200);
  assert.equal(raw.headers['content-type'], 'text/event-stream; charset=utf-8');
  const sse = parseSse(raw.text);
  assert.ok(!raw.text.includes('chatcmpl-a'), 'nothing of the failed route reaches the client');
  assert.ok(!raw.text.includes('"error"'), 'no error reaches the client');
  assert.ok(sse.chunks.every((c) => c.id === 'chatcmpl-b'));
  assert.equal(contentOf(sse.chunks), 'Hello from b');
  assert.ok(raw.text.endsWith('data: [DONE]\n\n'));

  const final = await sdkFinal(h.client, chatBody());
  assert.equal(final.choices[0]?.message.content, 'Hello from b');
  assert.equal(final.id, 'chatcmpl-b');

  if (firstCalled) assert.equal(h.up(0).requests.length, 2, 'the first route was tried');
  assert.equal(h.up(1).requests.length, 2, 'the second route answered');
  await eventually(() => h.sluice.records.length === 2, 2000, 'two records');
  for (const record of h.sluice.records) {
    assert.equal(record.outcome, 'ok');
    assert.equal(record.status, 200);
    assert.equal(record.route, 'up1/model-1');
    assert.equal(record.attempts, 2);
  }
}

test('commit point: connection refused on the first route moves invisibly to the second', async (t) => {
  const h = await harness(t, [await closedPortUrl(), secondRoute()]);
  await checkInvisibleFallback(h, false);
});

test('commit point: upstream HTTP 500 moves invisibly to the second route', async (t) => {
  const h = await harness(t, [jsonError(500, { error: { message: 'boom', type: 'server_error', param: null, code: null } }), secondRoute()]);
  await checkInvisibleFallback(h, true);
});

test('commit point: an in-band error in a 200 stream before content moves invisibly to the second route', async (t) => {
  const h = await harness(t, [
    streamOf([role('chatcmpl-a'), { error: { message: 'Overloaded', type: 'server_error', param: null, code: 'overloaded' } }], { gapMs: 50 }),
    secondRoute(),
  ]);
  await checkInvisibleFallback(h, true);
});

test('commit point: a stream that ends after the role chunk moves invisibly to the second route', async (t) => {
  const h = await harness(t, [streamOf([role('chatcmpl-a')], { gapMs: 50 }), secondRoute()]);
  await checkInvisibleFallback(h, true);
});

test('commit point: a malformed JSON line before content moves invisibly to the second route', async (t) => {
  const h = await harness(t, [streamOf([role('chatcmpl-a'), '{"id":"chatcmpl-a","choices":[{"index":0,"delta":{"content":"Hel'], { gapMs: 50 }), secondRoute()]);
  await checkInvisibleFallback(h, true);
});

test('commit point: an event over max_event_size before content moves invisibly to the second route', async (t) => {
  const h = await harness(t, [streamOf([role('chatcmpl-a'), chunk({ content: 'x'.repeat(100 * 1024) }, null, { id: 'chatcmpl-a' })], { gapMs: 50 }), secondRoute()], 'streaming:\n  max_event_size: 64KiB\n');
  await checkInvisibleFallback(h, true);
});

test('commit point: after the SSE head went out at the first-byte deadline, a failure before content still moves invisibly to the next route', async (t) => {
  const slowThenError: UpstreamScript = async (request, res) => {
    res.writeHead(200, sseHeaders);
    await writeFrames(res, [role('chatcmpl-a')]);
    await Promise.race([sleep(450), request.closed]);
    await writeFrames(res, [{ error: { message: 'Overloaded', type: 'server_error', param: null, code: 'overloaded' } }]);
    res.end();
  };
  const h = await harness(t, [slowThenError, secondRoute()], keepAliveYaml);
  const raw = await rawChat(h, chatBody());
  assert.equal(raw.status, 200);
  const sse = parseSse(raw.text);
  assert.ok(sse.commentLines.length >= 1, 'keep-alives went out while the first route was slow');
  assert.ok(!raw.text.includes('chatcmpl-a') && !raw.text.includes('"error"'), 'nothing of the failed route reaches the client');
  assert.equal(contentOf(sse.chunks), 'Hello from b');
  assert.ok(raw.text.endsWith('data: [DONE]\n\n'));
  assert.equal(h.up(0).requests.length, 1);
  assert.equal(h.up(1).requests.length, 1);

  // When the last route fails too, the head is already out: the failure is an in-stream error frame, never [DONE].
  h.up(1).setScript(slowThenError);
  const failed = await rawChat(h, chatBody());
  assert.equal(failed.status, 200);
  const failedSse = parseSse(failed.text);
  assert.equal(failedSse.chunks.length, 1, 'only the error frame');
  assert.equal(typeof failedSse.chunks[0]?.error?.message, 'string');
  assert.ok(!failed.text.includes('[DONE]'));
  assert.ok(!failed.text.includes('chatcmpl-a'));
});

function assertErrorBody(text: string): Json {
  const body = JSON.parse(text) as Json;
  assert.deepEqual(Object.keys(body), ['error']);
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(typeof body.error.message, 'string');
  assert.equal(typeof body.error.type, 'string');
  return body.error;
}

test('every route fails before the first token with 500: a real HTTP 500 with an OpenAI error body (InternalServerError)', async (t) => {
  const fail = jsonError(500, { error: { message: 'The server had an error', type: 'server_error', param: null, code: null } });
  // Each route once per request, no breaker: what the client sees when every route failed
  // (retries and cooldowns: test/routing-*.test.ts).
  const h = await harness(t, [fail, fail], onePassYaml(2));
  const raw = await rawChat(h, chatBody());
  assert.equal(raw.status, 500);
  assert.equal(raw.headers['content-type'], 'application/json');
  const error = assertErrorBody(raw.text);
  assert.match(error.message, /The server had an error/);

  const err = await sdkChunks(h.client, chatBody()).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof InternalServerError, `expected InternalServerError, got ${String(err)}`);
  assert.equal(err.status, 500);
  const err2 = await sdkFinal(h.client, chatBody()).then(() => undefined, (e: unknown) => e);
  assert.ok(err2 instanceof InternalServerError);
  assert.equal(h.up(0).requests.length, 3);
  assert.equal(h.up(1).requests.length, 3);
});

test('every route fails before the first token with 429: RateLimitError with the upstream retry-after forwarded', async (t) => {
  const h = await harness(t, [
    jsonError(429, { error: { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' } }, { 'retry-after': '7' }),
  ], onePassYaml(1));
  const raw = await rawChat(h, chatBody());
  assert.equal(raw.status, 429);
  assert.equal(raw.headers['retry-after'], '7');
  const error = assertErrorBody(raw.text);
  assert.equal(error.code, 'rate_limit_exceeded');

  const err = await sdkChunks(h.client, chatBody()).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof RateLimitError, `expected RateLimitError, got ${String(err)}`);
  assert.equal(err.status, 429);
  assert.equal(err.headers?.get('retry-after'), '7');
  assert.equal(err.code, 'rate_limit_exceeded');
});

test('every route unreachable: a real HTTP 502 with an OpenAI error body (APIError 502)', async (t) => {
  const h = await harness(t, [await closedPortUrl(), await closedPortUrl()]);
  const raw = await rawChat(h, chatBody());
  assert.equal(raw.status, 502);
  assertErrorBody(raw.text);
  const err = await sdkChunks(h.client, chatBody()).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof APIError, `expected APIError, got ${String(err)}`);
  assert.equal(err.status, 502);
});

// ---------------------------------------------------------------------------------------------
// After the first token
// ---------------------------------------------------------------------------------------------

type Failure = 'error-frame' | 'cut' | 'malformed' | 'oversized';

/** Sends role + two content chunks, waits until the client has the second, then fails. */
function failsAfterContent(failure: Failure, clientHasIt: () => Deferred): UpstreamScript {
  return async (request, res) => {
    const gate = clientHasIt();
    res.writeHead(200, sseHeaders);
    await writeFrames(res, [role(), chunk({ content: 'one' }), chunk({ content: ' two' })]);
    if ((await within(gate.promise, 3000)) === 'timeout') {
      res.destroy();
      return;
    }
    if (failure === 'error-frame') {
      await writeFrames(res, [{ error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } }]);
      res.end();
    } else if (failure === 'cut') {
      res.socket?.destroy();
    } else if (failure === 'malformed') {
      await writeFrames(res, ['{"id":"chatcmpl-test","choices":[{"index":0,"delta":{"content":" thr']);
      res.end();
    } else {
      await writeFrames(res, [chunk({ content: 'x'.repeat(100 * 1024) })]);
      res.end();
    }
    void request;
  };
}

async function checkMidStreamFailure(t: TestContext, failure: Failure, extraYaml = ''): Promise<void> {
  let gate = deferred();
  const h = await harness(t, [failsAfterContent(failure, () => gate), secondRoute()], extraYaml);

  const raw = await rawHttpRequest(`${h.sluice.baseURL}/chat/completions`, { body: chatBody() });
  await raw.waitFor((text) => text.includes('"content":" two"'), 3000);
  gate.resolve();
  await raw.done;
  assert.equal(raw.status, 200);
  const sse = parseSse(raw.text);
  assert.equal(contentOf(sse.chunks), 'one two', 'the content sent before the failure reached the client');
  assert.ok(!raw.text.includes('[DONE]'), 'a broken stream never ends with [DONE]');
  const last = sse.payloads[sse.payloads.length - 1] ?? '';
  const lastEvent = JSON.parse(last) as Json;
  assert.ok(lastEvent.error && typeof lastEvent.error.message === 'string', `the last event is an error frame, got ${last.slice(0, 200)}`);
  assert.deepEqual(Object.keys(lastEvent), ['error']);
  assert.equal(typeof lastEvent.error.type, 'string');
  assert.ok(raw.text.endsWith(`data: ${last}\n\n`));

  gate = deferred();
  const sdkGate = gate;
  let sdkText = '';
  const err = await sdkChunks(h.client, chatBody(), (c) => {
    sdkText += c.choices?.[0]?.delta?.content ?? '';
    if (sdkText === 'one two') sdkGate.resolve();
  }).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof APIError, `the SDK iteration throws an APIError, got ${String(err)}`);
  assert.equal(sdkText, 'one two');

  assert.equal(h.up(1).requests.length, 0, 'the second route is never called after the first token');
  assert.equal(h.up(0).requests.length, 2);
  await eventually(() => h.sluice.records.length === 2, 2000, 'two records');
  for (const record of h.sluice.records) {
    assert.equal(record.outcome, 'upstream_error');
    assert.equal(record.attempts, 1);
    assert.equal(record.route, 'up0/model-0');
  }
}

test('after the first token: an in-band error frame ends the stream with an error frame, no [DONE], no fallback', async (t) => {
  await checkMidStreamFailure(t, 'error-frame');
});

test('after the first token: a cut upstream connection ends the stream with an error frame, no [DONE], no fallback', async (t) => {
  await checkMidStreamFailure(t, 'cut');
});

test('after the first token: malformed JSON ends the stream with an error frame, no [DONE], no fallback', async (t) => {
  await checkMidStreamFailure(t, 'malformed');
});

test('after the first token: an event over max_event_size ends the stream with an error frame, no [DONE], no fallback', async (t) => {
  await checkMidStreamFailure(t, 'oversized', 'streaming:\n  max_event_size: 64KiB\n');
});
