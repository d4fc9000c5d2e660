/**
 * Sluice's HTTP surface as an OpenAI client sees it: errors in OpenAI's shape with the right
 * status, the model list, health, CORS, robustness against garbage, and the non-stream relay.
 * Scripted upstreams on loopback, Sluice in-process, the official `openai` SDK plus raw HTTP.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import OpenAI, { AuthenticationError, BadRequestError, InternalServerError, NotFoundError, RateLimitError } from 'openai';
import { startScriptedUpstream, sseHeaders, writeFrames, type ScriptedUpstream, type UpstreamScript } from './support/scripted-upstream.js';
import { textStream } from './support/chunks.js';
import { startSluice, configFor, clientKey, eventually, type TestSluice } from './support/sluice.js';
import { onePassYaml } from './support/one-pass.js';

type Json = Record<string, any>;

interface Harness {
  sluice: TestSluice;
  upstreams: ScriptedUpstream[];
  client: OpenAI;
}

/** Scripted upstreams, and Sluice from `configFor(urls, extraYaml)` or from a custom YAML builder. */
async function harness(t: TestContext, scripts: UpstreamScript[], options: { extraYaml?: string; yaml?: (urls: string[]) => string } = {}): Promise<Harness> {
  const upstreams: ScriptedUpstream[] = [];
  for (const script of scripts) {
    const upstream = await startScriptedUpstream(script);
    t.after(() => upstream.close());
    upstreams.push(upstream);
  }
  const urls = upstreams.map((u) => u.baseUrl);
  const sluice = await startSluice(options.yaml ? options.yaml(urls) : configFor(urls, options.extraYaml ?? ''));
  t.after(() => sluice.close(50));
  const client = new OpenAI({ baseURL: sluice.baseURL, apiKey: clientKey, maxRetries: 0, timeout: 10_000 });
  return { sluice, upstreams, client };
}

const completion = {
  id: 'chatcmpl-C4Gm',
  object: 'chat.completion',
  created: 1755133847,
  model: 'gpt-5-nano-2025-08-07',
  service_tier: 'default',
  system_fingerprint: null,
  choices: [
    {
      index: 0,
      finish_reason: 'stop',
      logprobs: null,
      message: { role: 'assistant', content: 'Hello there', refusal: null, annotations: [] },
    },
  ],
  usage: {
    prompt_tokens: 30,
    completion_tokens: 3,
    total_tokens: 33,
    prompt_tokens_details: { cached_tokens: 16, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  },
};

function jsonAnswer(status: number, body: object | string, headers: Record<string, string> = {}): UpstreamScript {
  return (_request, res) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
    res.end(text);
  };
}

const okStream: UpstreamScript = async (_request, res) => {
  res.writeHead(200, sseHeaders);
  await writeFrames(res, textStream(['Hello', ' world']));
  res.end();
};

/** Answers streams with a text stream and everything else with `completion`. */
const okAnything: UpstreamScript = async (request, res) => {
  if (request.body.stream === true) return okStream(request, res);
  return jsonAnswer(200, completion)(request, res);
};

const chat = { model: 'test-model', messages: [{ role: 'user' as const, content: 'hi' }] };

interface RawResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** A raw HTTP request with a hard timeout; `body` may be sent in pieces (chunked). */
function raw(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; pieces?: (string | Buffer)[]; auth?: boolean; timeoutMs?: number } = {},
): Promise<RawResult> {
  const hasBody = options.body !== undefined || options.pieces !== undefined;
  const headers: Record<string, string> = {
    ...(hasBody ? { 'content-type': 'application/json' } : {}),
    ...(options.auth === false ? {} : { authorization: `Bearer ${clientKey}` }),
    ...options.headers,
  };
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? (hasBody ? 'POST' : 'GET'), headers, agent: false });
    const timer = setTimeout(() => req.destroy(new Error('raw request timed out')), options.timeoutMs ?? 10_000);
    let answered = false;
    req.on('error', (error) => {
      clearTimeout(timer);
      if (!answered) reject(error);
    });
    req.on('response', (res) => {
      answered = true;
      res.setEncoding('utf8');
      let text = '';
      res.on('data', (s: string) => (text += s));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text });
      });
      res.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    if (options.pieces) {
      for (const piece of options.pieces) req.write(piece);
      req.end();
    } else if (options.body !== undefined) req.end(options.body);
    else req.end();
  });
}

/** Asserts OpenAI's error shape and returns the error object. */
function errorOf(result: RawResult, status: number): Json {
  assert.equal(result.status, status, `expected HTTP ${status}, got ${result.status}: ${result.text.slice(0, 300)}`);
  assert.match(String(result.headers['content-type']), /^application\/json/);
  const body = JSON.parse(result.text) as Json;
  assert.deepEqual(Object.keys(body), ['error'], 'the body is {"error": {...}}');
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.length > 0);
  assert.equal(typeof body.error.type, 'string');
  assert.ok(body.error.param === null || typeof body.error.param === 'string');
  assert.ok(body.error.code === null || typeof body.error.code === 'string');
  return body.error;
}

async function sdkError(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail('expected the call to fail'),
    (error: unknown) => error,
  );
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

test('400 for malformed JSON, in OpenAI error shape; the upstream is not called', async (t) => {
  const h = await harness(t, [okAnything]);
  const result = await raw(`${h.sluice.baseURL}/chat/completions`, { body: '{"model": "test-model", "messages": [' });
  const error = errorOf(result, 400);
  assert.equal(error.type, 'invalid_request_error');
  assert.equal(error.param, null);
  assert.match(error.message, /JSON/);
  assert.equal(h.upstreams[0]?.requests.length, 0);
  assert.ok(result.headers['x-request-id']);
});

test('400 for an invalid body names the field in `param` and in the message', async (t) => {
  const h = await harness(t, [okAnything]);
  const cases: { body: Json; param: string }[] = [
    { body: { model: 'test-model' }, param: 'messages' },
    { body: { model: 'test-model', messages: [{ role: 'robot', content: 'hi' }] }, param: 'messages[0].role' },
    { body: { ...chat, temperature: 'hot' }, param: 'temperature' },
  ];
  for (const { body, param } of cases) {
    const error = errorOf(await raw(`${h.sluice.baseURL}/chat/completions`, { body: JSON.stringify(body) }), 400);
    assert.equal(error.param, param);
    assert.equal(error.type, 'invalid_request_error');
    assert.ok(error.message.includes(param), `the message names ${param}: ${error.message}`);

    const sdk = await sdkError(h.client.chat.completions.create(body as any));
    assert.ok(sdk instanceof BadRequestError, `SDK BadRequestError, got ${String(sdk)}`);
    assert.equal(sdk.status, 400);
    assert.equal(sdk.param, param);
  }
  assert.equal(h.upstreams[0]?.requests.length, 0, 'invalid requests never reach an upstream');
});

test('401 for a missing key and for an unknown key (SDK AuthenticationError)', async (t) => {
  const h = await harness(t, [okAnything]);
  const missing = errorOf(await raw(`${h.sluice.baseURL}/chat/completions`, { body: JSON.stringify(chat), auth: false }), 401);
  assert.equal(missing.type, 'authentication_error');
  const unknown = errorOf(await raw(`${h.sluice.baseURL}/chat/completions`, { body: JSON.stringify(chat), headers: { authorization: 'Bearer sk-not-a-real-key' } }), 401);
  assert.equal(unknown.type, 'authentication_error');

  const noKeyClient = new OpenAI({ baseURL: h.sluice.baseURL, apiKey: 'unused', defaultHeaders: { Authorization: null }, maxRetries: 0, timeout: 10_000 });
  const e1 = await sdkError(noKeyClient.chat.completions.create(chat));
  assert.ok(e1 instanceof AuthenticationError, `got ${String(e1)}`);
  assert.equal(e1.status, 401);
  assert.notEqual(e1.code, null);
  const badKeyClient = new OpenAI({ baseURL: h.sluice.baseURL, apiKey: 'sk-not-a-real-key', maxRetries: 0, timeout: 10_000 });
  const e2 = await sdkError(badKeyClient.chat.completions.create(chat));
  assert.ok(e2 instanceof AuthenticationError, `got ${String(e2)}`);
  assert.notEqual(e1.code, e2.code, 'missing and unknown keys are told apart');
  const e3 = await sdkError(badKeyClient.models.list());
  assert.ok(e3 instanceof AuthenticationError, 'the model list needs a key too');
  assert.equal(h.upstreams[0]?.requests.length, 0);
});

test('404 for an unknown model says how to list the models', async (t) => {
  const h = await harness(t, [okAnything]);
  const error = errorOf(await raw(`${h.sluice.baseURL}/chat/completions`, { body: JSON.stringify({ ...chat, model: 'gpt-nope' }) }), 404);
  assert.match(error.message, /gpt-nope/);
  assert.match(error.message, /\/v1\/models/);
  assert.equal(error.param, 'model');
  const sdk = await sdkError(h.client.chat.completions.create({ ...chat, model: 'gpt-nope', stream: true }));
  assert.ok(sdk instanceof NotFoundError, `got ${String(sdk)}`);
  assert.equal(sdk.status, 404);
  assert.equal(h.upstreams[0]?.requests.length, 0);
});

test('413 for a body over max_request_size, with content-length and with a chunked body', async (t) => {
  const h = await harness(t, [okAnything], { extraYaml: 'max_request_size: 1KiB\n' });
  const big = JSON.stringify({ ...chat, messages: [{ role: 'user', content: 'x'.repeat(4096) }] });
  const withLength = await raw(`${h.sluice.baseURL}/chat/completions`, { body: big, headers: { 'content-length': String(Buffer.byteLength(big)) } });
  const e1 = errorOf(withLength, 413);
  assert.equal(e1.type, 'invalid_request_error');
  const pieces = big.match(/[\s\S]{1,512}/g) ?? [];
  const chunked = await raw(`${h.sluice.baseURL}/chat/completions`, { pieces, headers: { 'transfer-encoding': 'chunked' } });
  errorOf(chunked, 413);
  // Just under the limit still works.
  const ok = await raw(`${h.sluice.baseURL}/chat/completions`, { body: JSON.stringify(chat) });
  assert.equal(ok.status, 200);
  assert.equal(h.upstreams[0]?.requests.length, 1);
});

test('404 for an unknown route, 405 with an allow header for a wrong method', async (t) => {
  const h = await harness(t, [okAnything]);
  errorOf(await raw(`${h.sluice.url}/v1/nope`), 404);
  errorOf(await raw(`${h.sluice.url}/v1/embeddings`, { body: '{}' }), 404);
  const wrong = await raw(`${h.sluice.baseURL}/chat/completions`, { method: 'GET' });
  errorOf(wrong, 405);
  assert.match(String(wrong.headers.allow), /\bPOST\b/);
  const wrongModels = await raw(`${h.sluice.baseURL}/models`, { method: 'DELETE' });
  errorOf(wrongModels, 405);
  assert.match(String(wrongModels.headers.allow), /\bGET\b/);
});

test('upstream HTTP errors keep their status, name the failing route and keep the upstream code', async (t) => {
  const upstreamError = {
    error: { message: 'Input tokens exceed the configured limit of 272000 tokens.', type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' },
  };
  const h = await harness(t, [jsonAnswer(400, upstreamError)]);
  const sdk = await sdkError(h.client.chat.completions.create(chat));
  assert.ok(sdk instanceof BadRequestError, `got ${String(sdk)}`);
  assert.equal(sdk.status, 400);
  assert.equal(sdk.code, 'context_length_exceeded');
  assert.match(sdk.message, /up0\/model-0/);
  assert.match(sdk.message, /272000 tokens/);

  const streamed = errorOf(await raw(`${h.sluice.baseURL}/chat/completions`, { body: JSON.stringify({ ...chat, stream: true }) }), 400);
  assert.equal(streamed.code, 'context_length_exceeded');
  assert.equal(streamed.param, 'messages');
  assert.match(streamed.message, /up0\/model-0/);
  await eventually(() => h.sluice.records.length === 2, 2000, 'two records');
  assert.ok(h.sluice.records.every((r) => r.status === 400 && r.outcome === 'upstream_error'));
});

test('upstream retry-after is forwarded on 429 and 503', async (t) => {
  const h = await harness(t, [
    jsonAnswer(429, { error: { message: 'Rate limit reached', type: 'requests', param: null, code: 'rate_limit_exceeded' } }, { 'retry-after': '12' }),
    // One attempt, no breaker: what the client gets when its only route fails (Sluice's own
    // waiting and cooldowns: test/routing-*.test.ts).
  ], { extraYaml: onePassYaml() });
  const e1 = await sdkError(h.client.chat.completions.create(chat));
  assert.ok(e1 instanceof RateLimitError, `got ${String(e1)}`);
  assert.equal(e1.headers?.get('retry-after'), '12');
  h.upstreams[0]!.setScript(jsonAnswer(503, { error: { message: 'Overloaded', type: 'server_error', param: null, code: null } }, { 'retry-after': '3' }));
  const e2 = await sdkError(h.client.chat.completions.create(chat));
  assert.ok(e2 instanceof InternalServerError, `got ${String(e2)}`);
  assert.equal(e2.status, 503);
  assert.equal(e2.headers?.get('retry-after'), '3');
});

// ---------------------------------------------------------------------------------------------
// Models, health, CORS
// ---------------------------------------------------------------------------------------------

test('GET /v1/models lists the public model names; GET /health answers 200', async (t) => {
  const h = await harness(t, [okAnything], {
    yaml: ([url]) =>
      `host: 127.0.0.1\nport: 0\nproviders:\n  up0:\n    kind: openai\n    base_url: ${url}\n` +
      `models:\n  test-model:\n    routes: [up0/model-0]\n  team/gpt-big:\n    routes: [up0/gpt-4.1-2025-04-14]\n` +
      `keys:\n  - name: test\n    key: ${clientKey}\n`,
  });
  const ids: string[] = [];
  for await (const model of h.client.models.list()) {
    ids.push(model.id);
    assert.equal(model.object, 'model');
  }
  assert.deepEqual(ids.sort(), ['team/gpt-big', 'test-model']);
  assert.ok(!ids.includes('gpt-4.1-2025-04-14'), 'upstream model names are not listed');
  const health = await raw(`${h.sluice.url}/health`, { auth: false });
  assert.equal(health.status, 200);
  assert.equal(h.upstreams[0]?.requests.length, 0);
});

test('CORS: preflight answers 204 with the allowed origin, methods and headers; JSON and SSE responses carry allow-origin and expose x-request-id', async (t) => {
  const h = await harness(t, [okAnything]);
  const origin = 'https://app.example.com';
  const preflight = await raw(`${h.sluice.baseURL}/chat/completions`, {
    method: 'OPTIONS',
    auth: false,
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  });
  assert.equal(preflight.status, 204);
  assert.ok(['*', origin].includes(String(preflight.headers['access-control-allow-origin'])), 'allow-origin');
  assert.match(String(preflight.headers['access-control-allow-methods']), /\bPOST\b/);
  const allowed = String(preflight.headers['access-control-allow-headers']).toLowerCase();
  assert.ok(allowed === '*' || (allowed.includes('authorization') && allowed.includes('content-type')), `allow-headers: ${allowed}`);

  const checkActual = (result: RawResult): void => {
    assert.ok(['*', origin].includes(String(result.headers['access-control-allow-origin'])), 'allow-origin on the actual response');
    assert.match(String(result.headers['access-control-expose-headers']).toLowerCase(), /\bx-request-id\b/);
    assert.ok(result.headers['x-request-id']);
  };
  const json = await raw(`${h.sluice.baseURL}/chat/completions`, { body: JSON.stringify(chat), headers: { origin } });
  assert.equal(json.status, 200);
  checkActual(json);
  const sse = await raw(`${h.sluice.baseURL}/chat/completions`, { body: JSON.stringify({ ...chat, stream: true }), headers: { origin } });
  assert.equal(sse.status, 200);
  assert.match(String(sse.headers['content-type']), /^text\/event-stream/);
  checkActual(sse);
  const error = await raw(`${h.sluice.baseURL}/chat/completions`, { body: '{', headers: { origin } });
  assert.equal(error.status, 400);
  checkActual(error);
});

// ---------------------------------------------------------------------------------------------
// Robustness
// ---------------------------------------------------------------------------------------------

/** Sends one garbage body; returns what went wrong (undefined when it got a 4xx OpenAI error and the server still serves). */
async function garbageProblem(h: Harness, name: string, body: string | Buffer): Promise<string | undefined> {
  let result: RawResult;
  try {
    result = await raw(`${h.sluice.baseURL}/chat/completions`, { body });
  } catch (error) {
    return `${name}: request failed (${String(error)})`;
  }
  const health = await raw(`${h.sluice.url}/health`, { auth: false });
  assert.equal(health.status, 200, `the server still serves after ${name}`);
  if (result.status < 400 || result.status >= 500) return `${name}: expected a 4xx, got ${result.status} ${result.text.slice(0, 200)}`;
  try {
    errorOf(result, result.status);
  } catch (error) {
    return `${name}: not an OpenAI error body (${String(error)})`;
  }
  return undefined;
}

const depth = 200_000;

test('garbage bodies (JSON array, null, number, empty, deeply nested JSON, non-UTF-8 bytes) get a 4xx and the server keeps serving', async (t) => {
  const h = await harness(t, [okAnything]);
  const garbage: { name: string; body: string | Buffer }[] = [
    { name: 'JSON array', body: '[]' },
    { name: 'array of requests', body: JSON.stringify([chat]) },
    { name: 'null', body: 'null' },
    { name: 'a number', body: '42' },
    { name: 'empty body', body: '' },
    { name: 'deeply nested arrays', body: '['.repeat(depth) + ']'.repeat(depth) },
    { name: 'deeply nested objects', body: '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) },
    { name: 'invalid UTF-8 bytes only', body: Buffer.from([0xff, 0xfe, 0xfd, 0x00, 0xc3]) },
  ];
  const problems: string[] = [];
  for (const { name, body } of garbage) {
    const problem = await garbageProblem(h, name, body);
    if (problem !== undefined) problems.push(problem);
  }
  assert.deepEqual(problems, []);
  assert.equal(h.upstreams[0]?.requests.length, 0, 'no garbage reached the upstream');
  const answer = await h.client.chat.completions.create(chat);
  assert.equal(answer.choices[0]?.message.content, 'Hello there');
});

test('a deeply nested vendor field inside an otherwise valid request gets a 4xx (not an upstream error) and the server keeps serving', async (t) => {
  const h = await harness(t, [okAnything, okAnything]);
  const problems: string[] = [];
  for (const stream of [false, true]) {
    const body = `{"model":"test-model","stream":${stream},"messages":[{"role":"user","content":"hi"}],"metadata":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const problem = await garbageProblem(h, `nested vendor field (stream: ${stream})`, body);
    if (problem !== undefined) problems.push(problem);
  }
  assert.deepEqual(problems, []);
  const answer = await h.client.chat.completions.create(chat);
  assert.equal(answer.choices[0]?.message.content, 'Hello there');
});

test('invalid UTF-8 inside a string of an otherwise valid request gets a 400 and never reaches an upstream', async (t) => {
  const h = await harness(t, [okAnything]);
  const body = Buffer.concat([
    Buffer.from('{"model":"test-model","messages":[{"role":"user","content":"caf'),
    Buffer.from([0xc3, 0x28, 0xff]),
    Buffer.from('"}]}'),
  ]);
  const problem = await garbageProblem(h, 'invalid UTF-8 in a message', body);
  assert.equal(problem, undefined);
  assert.equal(h.upstreams[0]?.requests.length, 0, 'the request must not be forwarded with its bytes silently replaced');
});

// ---------------------------------------------------------------------------------------------
// Non-stream relay
// ---------------------------------------------------------------------------------------------

test('non-stream: the upstream JSON passes through (unknown fields, model name), and the usage is recorded', async (t) => {
  const upstreamText = JSON.stringify({ ...completion, x_groq: { id: 'req_01' }, choices: [{ ...completion.choices[0], provider_specific: { score: 0.25 } }] });
  const h = await harness(t, [jsonAnswer(200, upstreamText)]);
  const result = await raw(`${h.sluice.baseURL}/chat/completions`, { body: JSON.stringify(chat) });
  assert.equal(result.status, 200);
  assert.match(String(result.headers['content-type']), /^application\/json/);
  assert.deepEqual(JSON.parse(result.text), JSON.parse(upstreamText), 'nothing added, nothing lost');
  assert.equal(result.text, upstreamText, 'passed through byte for byte');

  const answer = await h.client.chat.completions.create(chat);
  assert.equal(answer.model, 'gpt-5-nano-2025-08-07');
  assert.equal(answer.choices[0]?.message.content, 'Hello there');
  assert.deepEqual((answer as unknown as Json).x_groq, { id: 'req_01' });
  assert.equal(h.upstreams[0]?.requests[0]?.body.model, 'model-0', 'the upstream gets its own model name');
  assert.equal(h.upstreams[0]?.requests[0]?.body.stream_options, undefined, 'no stream_options on a non-stream request');

  await eventually(() => h.sluice.records.length === 2, 2000, 'two records');
  for (const record of h.sluice.records) {
    assert.equal(record.outcome, 'ok');
    assert.equal(record.stream, false);
    assert.equal(record.route, 'up0/model-0');
    assert.equal(record.usage?.input, 30);
    assert.equal(record.usage?.output, 3);
    assert.equal(record.usage?.cacheRead, 16);
  }
});

test('non-stream: message.reasoning becomes message.reasoning_content', async (t) => {
  const withReasoning = {
    ...completion,
    choices: [{ index: 0, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', content: 'Hello there', reasoning: 'The user greets; greet back.' } }],
  };
  const h = await harness(t, [jsonAnswer(200, withReasoning)]);
  const result = await raw(`${h.sluice.baseURL}/chat/completions`, { body: JSON.stringify(chat) });
  const message = (JSON.parse(result.text) as Json).choices[0].message;
  assert.equal(message.reasoning_content, 'The user greets; greet back.');
  assert.ok(!('reasoning' in message), 'no "reasoning" key reaches the client');
  assert.equal(message.content, 'Hello there');
});

test('non-stream: an upstream 200 with invalid JSON, or with {"object":"error"}, moves on to the next route', async (t) => {
  for (const bad of ['{"id": "chatcmpl-a", "choices": [', JSON.stringify({ object: 'error', message: 'The model is overloaded', type: 'ServiceUnavailableError', param: null, code: 503 })]) {
    await t.test(bad.slice(0, 30), async (st) => {
      const h = await harness(st, [jsonAnswer(200, bad), jsonAnswer(200, { ...completion, id: 'chatcmpl-b' })]);
      const answer = await h.client.chat.completions.create(chat);
      assert.equal(answer.id, 'chatcmpl-b');
      assert.equal(answer.choices[0]?.message.content, 'Hello there');
      assert.equal(h.upstreams[0]?.requests.length, 1);
      assert.equal(h.upstreams[1]?.requests.length, 1);
      await eventually(() => h.sluice.records.length === 1, 2000, 'the record');
      assert.equal(h.sluice.records[0]?.route, 'up1/model-1');
      assert.equal(h.sluice.records[0]?.attempts, 2);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// No keys
// ---------------------------------------------------------------------------------------------

test('no keys configured on a loopback host: requests without a key succeed', async (t) => {
  const h = await harness(t, [okAnything], {
    yaml: ([url]) => `host: 127.0.0.1\nport: 0\nproviders:\n  up0:\n    kind: openai\n    base_url: ${url}\nmodels:\n  test-model:\n    routes: [up0/model-0]\n`,
  });
  const plain = await raw(`${h.sluice.baseURL}/chat/completions`, { body: JSON.stringify(chat), auth: false });
  assert.equal(plain.status, 200, plain.text);
  assert.equal((JSON.parse(plain.text) as Json).choices[0].message.content, 'Hello there');
  const models = await raw(`${h.sluice.baseURL}/models`, { auth: false });
  assert.equal(models.status, 200);
  const stream = await raw(`${h.sluice.baseURL}/chat/completions`, { body: JSON.stringify({ ...chat, stream: true }), auth: false });
  assert.equal(stream.status, 200);
  assert.ok(stream.text.endsWith('data: [DONE]\n\n'));
  const anyKey = new OpenAI({ baseURL: h.sluice.baseURL, apiKey: 'whatever-key', maxRetries: 0, timeout: 10_000 });
  const answer = await anyKey.chat.completions.create(chat);
  assert.equal(answer.choices[0]?.message.content, 'Hello there');
});
