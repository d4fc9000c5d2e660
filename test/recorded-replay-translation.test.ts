/**
 * Replays the real recorded provider streams (../shared/fixtures/recorded, read at test time and
 * never committed here) through Sluice to EACH client protocol:
 *   Anthropic recordings        -> Anthropic client (passthrough) and OpenAI client (translated)
 *   OpenAI/DeepSeek/compat ones -> Anthropic client (translated; the OpenAI client is covered by
 *                                  recorded-openai-replay.test.ts)
 *   Gemini recordings           -> OpenAI and Anthropic clients (translated)
 * Each must reach the client intact: the official SDK accepts the stream, a raw wire check finds
 * no violation, and text, reasoning, tool calls, finish reason and usage equal what the
 * recording itself contains (support/recorded.ts reads it, independently of Sluice's code).
 * The bytes are written in odd-sized pieces so no decoder can rely on where reads split.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startKindUpstream, matrixConfig, clientsFor } from './support/matrix.js';
import { anthropicHelper, anthropicUnary, openAiHelper, openAiUnary, type Json, type Outcome } from './support/clients.js';
import { checkAnthropicStream, type AnthropicWireReport } from './support/anthropic-wire-check.js';
import { checkOpenAiStream } from './support/openai-wire-check.js';
import { rawHttpRequest } from './support/raw-http.js';
import { startSluice, clientKey, type TestSluice } from './support/sluice.js';
import type { UpstreamKind } from './support/scenarios.js';
import {
  anthropicToOpenAi, geminiChunksOf, geminiToAnthropic, geminiToOpenAi, listRecorded, openAiToAnthropic, parseHttpRecording,
  readAnthropicRecording, readGeminiRecording, readOpenAiRecording, readRecorded, recordedAvailable, sseEvents,
  type Expected, type ExpectedToolCall,
} from './support/recorded.js';
import { onePassYaml } from './support/one-pass.js';

const skip = recordedAvailable ? false : 'no ../shared/fixtures/recorded here (the replay needs the shared recordings)';
const anthropicStreams = listRecorded('anthropic', '.sse');
const openAiStreams = ['openai', 'deepseek', 'compat'].flatMap((dir) => listRecorded(dir, '.sse'));
const geminiStreams = listRecorded('gemini', '.sse');
const httpErrors = [...listRecorded('anthropic', '.http'), ...listRecorded('openai', '.http')];

// ---------------------------------------------------------------------------------------------
// The replaying upstream: whatever `current` holds, in 37-byte pieces a tick apart
// ---------------------------------------------------------------------------------------------

type Reply =
  | { kind: 'sse'; bytes: string }
  | { kind: 'json'; status: number; body: string; headers?: Record<string, string> };

interface Replay {
  sluice: TestSluice;
  openai: OpenAI;
  anthropic: Anthropic;
  set(reply: Reply): void;
}

async function writePieces(res: ServerResponse, text: string): Promise<void> {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += 37) {
    res.write(bytes.subarray(i, i + 37));
    await new Promise((r) => setImmediate(r));
  }
}

async function startReplay(t: TestContext, kind: UpstreamKind): Promise<Replay> {
  let current: Reply = { kind: 'json', status: 500, body: '{"error":{"message":"no reply set"}}' };
  const { baseUrl } = await startKindUpstream(t, kind, async (_request, res) => {
    const reply = current;
    if (reply.kind === 'sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...(kind === 'anthropic' ? { 'request-id': 'req_replay' } : {}) });
      await writePieces(res, reply.bytes);
    } else {
      res.writeHead(reply.status, { 'content-type': 'application/json', ...(reply.headers ?? {}) });
      await writePieces(res, reply.body);
    }
    res.end();
  });
  // Each recorded answer reaches the client as the upstream gave it: no retries, no breaker.
  const sluice = await startSluice(matrixConfig([{ name: 'rec', kind, baseUrl }], { replay: ['rec/recorded-model'] }, onePassYaml()));
  t.after(() => sluice.close(100));
  const { openai, anthropic } = clientsFor(sluice);
  return { sluice, openai, anthropic, set: (reply) => void (current = reply) };
}

const openAiRequest = { model: 'replay', messages: [{ role: 'user', content: 'hi' }] };
const anthropicRequest = { model: 'replay', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] };

async function rawOpenAi(r: Replay): Promise<{ status: number; text: string }> {
  const raw = await rawHttpRequest(`${r.sluice.baseURL}/chat/completions`, { body: { ...openAiRequest, stream: true, stream_options: { include_usage: true } }, timeoutMs: 10_000 });
  await raw.done;
  return { status: raw.status, text: raw.text };
}

async function rawAnthropic(r: Replay): Promise<{ status: number; text: string }> {
  const raw = await rawHttpRequest(`${r.sluice.url}/v1/messages`, {
    body: { ...anthropicRequest, stream: true },
    headers: { 'x-api-key': clientKey, 'anthropic-version': '2023-06-01' },
    auth: false,
    timeoutMs: 10_000,
  });
  await raw.done;
  return { status: raw.status, text: raw.text };
}

// ---------------------------------------------------------------------------------------------
// Shared expectations
// ---------------------------------------------------------------------------------------------

/** Arguments equal: as JSON when the recording's are JSON, else byte for byte (a call cut by max_tokens). */
function assertArguments(actual: string, expected: string, what: string): void {
  const source = expected === '' ? '{}' : expected;
  let parsed: unknown;
  try {
    parsed = JSON.parse(source);
  } catch {
    assert.equal(actual, expected, `${what}: the cut arguments pass as they came`);
    return;
  }
  assert.deepEqual(JSON.parse(actual === '' ? '{}' : actual), parsed, `${what} (got ${actual})`);
}

function assertTools(actual: { id: string; name: string; arguments: string }[], expected: ExpectedToolCall[], options: { keepIds: boolean; idPattern?: RegExp }): void {
  assert.deepEqual(actual.map((c) => c.name), expected.map((c) => c.name), `tool call names (got ${JSON.stringify(actual)})`);
  actual.forEach((call, i) => {
    assertArguments(call.arguments, expected[i]!.arguments, `tool call ${i} arguments`);
    assert.ok(call.id, `tool call ${i} has an id`);
    if (options.idPattern) assert.match(call.id, options.idPattern, `tool call ${i} id`);
    if (options.keepIds && expected[i]!.id) assert.equal(call.id, expected[i]!.id, `tool call ${i} keeps its id`);
  });
  assert.equal(new Set(actual.map((c) => c.id)).size, actual.length, 'tool call ids are distinct');
}

function anthropicToolsOf(report: AnthropicWireReport): { id: string; name: string; arguments: string }[] {
  return report.blocks.filter((b) => b.type === 'tool_use').map((b) => ({ id: b.id ?? '', name: b.name ?? '', arguments: b.partialJson }));
}

/** An OpenAI client's view of a translated recording: wire check, then the SDK helper. */
async function assertReachesOpenAi(r: Replay, expected: Expected, finish: string | undefined, options: { keepIds: boolean }): Promise<void> {
  const raw = await rawOpenAi(r);
  assert.equal(raw.status, 200, raw.text);
  const expectError = expected.error !== undefined;
  const report = checkOpenAiStream(raw.text, { includeUsage: true, requireUsageChunk: !expectError && expected.usage !== undefined, expectError });
  // A tool call cut by max_tokens has arguments that are not JSON: that is the recording's truth.
  const violations = report.violations.filter((v) => !(finish === 'length' && /arguments are not JSON/.test(v)));
  assert.deepEqual(violations, [], `wire violations in:\n${raw.text}`);
  assert.equal(report.text.get(0) ?? '', expected.text, 'text');
  assert.equal(report.reasoning.get(0) ?? '', expected.reasoning, 'reasoning_content');
  assertTools(report.toolCalls.get(0) ?? [], expected.tools, options);
  if (expectError) {
    const error = report.errorFrame?.error as Json | undefined;
    assert.ok(String(error?.message).includes(expected.error!.message), `the error frame carries the upstream message, got ${JSON.stringify(error)}`);
    await assert.rejects(openAiHelper(r.openai, openAiRequest), (e) => e instanceof OpenAI.APIError && e.status === undefined);
    return;
  }
  assert.equal(report.finishReasons.get(0), finish, 'finish_reason');
  if (expected.usage) {
    assert.deepEqual(
      { prompt: report.usage?.prompt_tokens, completion: report.usage?.completion_tokens, total: report.usage?.total_tokens, cached: (report.usage?.prompt_tokens_details as Json | undefined)?.cached_tokens ?? 0 },
      { prompt: expected.usage.input, completion: expected.usage.output, total: expected.usage.input + expected.usage.output, cached: expected.usage.cacheRead },
      `OpenAI usage (prompt includes cached tokens), got ${JSON.stringify(report.usage)}`,
    );
  }
  const outcome: Outcome = await openAiHelper(r.openai, openAiRequest);
  assert.equal(outcome.text, expected.text);
  assert.equal(outcome.finish, finish);
  assertTools(outcome.toolCalls, expected.tools, options);
}

/** An Anthropic client's view of a translated recording: wire check, then finalMessage(). */
async function assertReachesAnthropic(r: Replay, expected: Expected, stop: string | undefined, options: { keepIds: boolean; text?: string }): Promise<void> {
  const text = options.text ?? expected.text;
  const raw = await rawAnthropic(r);
  assert.equal(raw.status, 200, raw.text);
  const expectError = expected.error !== undefined;
  const report = checkAnthropicStream(raw.text, { expectError });
  assert.deepEqual(report.violations, [], `wire violations in:\n${raw.text}`);
  assert.equal(report.blocks.filter((b) => b.type === 'text').map((b) => b.text).join(''), text, 'text');
  assert.equal(report.blocks.filter((b) => b.type === 'thinking').map((b) => b.thinking).join(''), expected.reasoning, 'thinking');
  for (const block of report.blocks) if (block.type === 'thinking') assert.equal(block.signature, undefined, 'no signature forged across families');
  assertTools(anthropicToolsOf(report), expected.tools, { ...options, idPattern: /^[a-zA-Z0-9_-]+$/ });
  if (expectError) {
    const error = report.errorEvent?.error as Json | undefined;
    assert.ok(String(error?.message).includes(expected.error!.message), `the error event carries the upstream message, got ${JSON.stringify(error)}`);
    await assert.rejects(anthropicHelper(r.anthropic, anthropicRequest), (e) => e instanceof Anthropic.APIError && e.status === undefined);
    return;
  }
  assert.equal(report.stopReason, stop, 'stop_reason');
  if (expected.usage) {
    assert.deepEqual(
      { input_tokens: report.usage.input_tokens, output_tokens: report.usage.output_tokens, cache_read: report.usage.cache_read_input_tokens ?? 0 },
      { input_tokens: expected.usage.input - expected.usage.cacheRead - expected.usage.cacheWrite, output_tokens: expected.usage.output, cache_read: expected.usage.cacheRead },
      `Anthropic usage (input_tokens exclude cached tokens), got ${JSON.stringify(report.usage)}`,
    );
  }
  const outcome = await anthropicHelper(r.anthropic, anthropicRequest);
  assert.equal(outcome.text, text);
  assert.equal(outcome.reasoning, expected.reasoning);
  assert.equal(outcome.finish, stop);
  assertTools(outcome.toolCalls, expected.tools, { ...options, idPattern: /^[a-zA-Z0-9_-]+$/ });
}

// ---------------------------------------------------------------------------------------------
// Anthropic recordings
// ---------------------------------------------------------------------------------------------

/** Events compared for passthrough: pings aside (keep-alives may differ), the model name aside (it is the public one). */
function comparable(events: Json[]): Json[] {
  return events.filter((e) => e.type !== 'ping').map((e) => {
    if (e.type !== 'message_start') return e;
    const { model: _model, ...message } = e.message as Json;
    return { ...e, message };
  });
}

test('recorded Anthropic streams reach the Anthropic client intact (passthrough)', { skip, timeout: 60_000 }, async (t) => {
  const r = await startReplay(t, 'anthropic');
  assert.ok(anthropicStreams.length >= 8, `expected the Anthropic recordings, found ${anthropicStreams.length}`);
  for (const name of anthropicStreams) {
    await t.test(name, async () => {
      const bytes = readRecorded(name);
      const rec = readAnthropicRecording(bytes);
      r.set({ kind: 'sse', bytes });
      if (rec.messageStarts > 1) {
        // A broken upstream (two message_starts): the client gets an error, or the one message it
        // holds in a valid stream; never a stream its SDK rejects as out of order.
        const raw = await rawAnthropic(r);
        if (raw.status !== 200) return;
        const report = checkAnthropicStream(raw.text, { expectError: /^event: error$/m.test(raw.text) });
        assert.deepEqual(report.violations, [], `wire violations in:\n${raw.text}`);
        if (!report.errorEvent) assert.equal((await anthropicHelper(r.anthropic, anthropicRequest)).text, rec.text);
        return;
      }
      if (rec.error && !hasContent(rec)) {
        await assertErrorBeforeContent(r, rec, 'anthropic');
        return;
      }
      const raw = await rawAnthropic(r);
      assert.equal(raw.status, 200, raw.text);
      const events = sseEvents(raw.text).map((e) => {
        const json = JSON.parse(e.data) as Json;
        assert.equal(e.event, json.type, 'every event named after its JSON type');
        return json;
      });
      assert.deepEqual(comparable(events), comparable(rec.events), 'every event and field passes unchanged');
      const start = events.find((e) => e.type === 'message_start');
      assert.equal(start?.message?.model, 'replay', 'message_start names the public model');

      if (rec.error) {
        await assert.rejects(anthropicHelper(r.anthropic, anthropicRequest), (e) => e instanceof Anthropic.APIError && e.status === undefined && e.type === rec.error!.type);
        return;
      }
      const outcome = await anthropicHelper(r.anthropic, anthropicRequest);
      assert.equal(outcome.text, rec.text);
      assert.equal(outcome.reasoning, rec.reasoning);
      assert.deepEqual(outcome.signatures.filter(Boolean), rec.signatures, 'signatures byte-exact');
      assert.equal(outcome.finish, rec.finish);
      // A tool call cut by max_tokens keeps its id and name; the SDK parses what it can of its input.
      assert.deepEqual(outcome.toolCalls.map((c) => [c.id, c.name]), rec.tools.map((c) => [c.id, c.name]), 'tool call ids and names');
      const complete = rec.tools.map((c, i) => [c, i] as const).filter(([c]) => isJson(c.arguments));
      for (const [c, i] of complete) assertArguments(outcome.toolCalls[i]!.arguments, c.arguments, `tool call ${i} arguments`);
      if (rec.usage) assert.equal(outcome.usage?.output_tokens, rec.usage.output);
    });
  }
});

/** Whether the recording streamed any content before it ended (or failed). */
function hasContent(rec: Expected): boolean {
  return rec.text !== '' || rec.reasoning !== '' || rec.tools.length > 0;
}

/**
 * An in-band error before the first token: nothing was committed, so the client gets a real HTTP
 * 5xx in its own protocol's shape, carrying the upstream's message.
 */
async function assertErrorBeforeContent(r: Replay, rec: Expected, client: 'openai' | 'anthropic'): Promise<void> {
  if (client === 'anthropic') {
    const raw = await rawAnthropic(r);
    assert.ok(raw.status >= 500 && raw.status <= 599, `HTTP 5xx, got ${raw.status}: ${raw.text}`);
    const body = JSON.parse(raw.text) as Json;
    assert.equal(body.type, 'error', `Anthropic error shape, got ${raw.text}`);
    assert.ok(String(body.error?.message).includes(rec.error!.message), `the upstream message reaches the client: ${raw.text}`);
    await assert.rejects(anthropicHelper(r.anthropic, anthropicRequest), (e) => e instanceof Anthropic.APIError && e.status === raw.status);
  } else {
    const raw = await rawOpenAi(r);
    assert.ok(raw.status >= 500 && raw.status <= 599, `HTTP 5xx, got ${raw.status}: ${raw.text}`);
    const body = JSON.parse(raw.text) as Json;
    assert.ok(String(body.error?.message).includes(rec.error!.message), `OpenAI error shape with the upstream message: ${raw.text}`);
    await assert.rejects(openAiHelper(r.openai, openAiRequest), (e) => e instanceof OpenAI.APIError && e.status === raw.status);
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text === '' ? '{}' : text);
    return true;
  } catch {
    return false;
  }
}

test('recorded Anthropic streams reach the OpenAI client intact (translated)', { skip, timeout: 60_000 }, async (t) => {
  const r = await startReplay(t, 'anthropic');
  for (const name of anthropicStreams) {
    await t.test(name, async () => {
      const bytes = readRecorded(name);
      const rec = readAnthropicRecording(bytes);
      r.set({ kind: 'sse', bytes });
      if (rec.messageStarts > 1) {
        // A broken upstream: an error, or the one message it holds; never a hang or a corrupt stream.
        const raw = await rawOpenAi(r);
        if (raw.status !== 200) return;
        const report = checkOpenAiStream(raw.text, { includeUsage: true, expectError: raw.text.includes('"error"') });
        assert.deepEqual(report.violations, [], `wire violations in:\n${raw.text}`);
        if (!report.errorFrame) assert.equal(report.text.get(0), rec.text);
        return;
      }
      if (rec.error && !hasContent(rec)) return assertErrorBeforeContent(r, rec, 'openai');
      await assertReachesOpenAi(r, rec, rec.finish === undefined ? undefined : anthropicToOpenAi[rec.finish], { keepIds: true });
    });
  }
});

// ---------------------------------------------------------------------------------------------
// OpenAI, DeepSeek and OpenAI-compatible recordings -> Anthropic client
// ---------------------------------------------------------------------------------------------

test('recorded OpenAI-family streams reach the Anthropic client intact (translated)', { skip, timeout: 60_000 }, async (t) => {
  const r = await startReplay(t, 'openai');
  assert.ok(openAiStreams.length >= 10, `expected the OpenAI-family recordings, found ${openAiStreams.length}`);
  for (const name of openAiStreams) {
    await t.test(name, async () => {
      const bytes = readRecorded(name);
      const rec = readOpenAiRecording(bytes);
      r.set({ kind: 'sse', bytes });
      // A refusal is what the model said: an Anthropic client reads it as the message text.
      const text = rec.text + rec.refusal;
      if (rec.error && !hasContent(rec)) return assertErrorBeforeContent(r, rec, 'anthropic');
      await assertReachesAnthropic(r, rec, rec.finish === undefined ? undefined : openAiToAnthropic[rec.finish], { keepIds: true, text });
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Gemini recordings -> OpenAI and Anthropic clients
// ---------------------------------------------------------------------------------------------

test('recorded Gemini streams reach the OpenAI and Anthropic clients intact (translated)', { skip, timeout: 60_000 }, async (t) => {
  const r = await startReplay(t, 'gemini');
  assert.ok(geminiStreams.length >= 3, `expected the Gemini recordings, found ${geminiStreams.length}`);
  for (const name of geminiStreams) {
    const recorded = readRecorded(name);
    const rec = readGeminiRecording(geminiChunksOf(recorded));
    const called = rec.tools.length > 0;
    // As stored (LF), and CRLF-framed as Google's servers send it.
    for (const [framing, bytes] of [['LF', recorded], ['CRLF', recorded.replace(/\r?\n/g, '\r\n')]] as const) {
      await t.test(`${name} (${framing}) -> OpenAI client`, async () => {
        r.set({ kind: 'sse', bytes });
        await assertReachesOpenAi(r, rec, geminiToOpenAi(rec.finish, called), { keepIds: false });
      });
      await t.test(`${name} (${framing}) -> Anthropic client`, async () => {
        r.set({ kind: 'sse', bytes });
        await assertReachesAnthropic(r, rec, geminiToAnthropic(rec.finish, called), { keepIds: false });
        const raw = await rawAnthropic(r);
        for (const signature of rec.thoughtSignatures) assert.ok(!raw.text.includes(signature), 'a Gemini thoughtSignature never reaches an Anthropic client');
      });
    }
  }

  const unary = listRecorded('gemini', '.nonstream.json');
  for (const name of unary) {
    const body = readRecorded(name);
    const rec = readGeminiRecording([JSON.parse(body) as Json]);
    const called = rec.tools.length > 0;
    await t.test(`${name} -> OpenAI client (non-stream)`, async () => {
      r.set({ kind: 'json', status: 200, body });
      const outcome = await openAiUnary(r.openai, openAiRequest);
      assert.equal(outcome.text, rec.text);
      assert.equal(outcome.finish, geminiToOpenAi(rec.finish, called));
      assert.deepEqual(
        { prompt: outcome.usage?.prompt_tokens, completion: outcome.usage?.completion_tokens, total: outcome.usage?.total_tokens },
        { prompt: rec.usage!.input, completion: rec.usage!.output, total: rec.usage!.input + rec.usage!.output },
        `usage (completion includes thoughtsTokenCount), got ${JSON.stringify(outcome.usage)}`,
      );
    });
    await t.test(`${name} -> Anthropic client (non-stream)`, async () => {
      r.set({ kind: 'json', status: 200, body });
      const outcome = await anthropicUnary(r.anthropic, anthropicRequest);
      assert.equal(outcome.text, rec.text);
      assert.equal(outcome.finish, geminiToAnthropic(rec.finish, called));
      // A text part carrying a thoughtSignature is not a thought: no (empty, unsigned) thinking block.
      assert.deepEqual(outcome.blockTypes, ['text'], `content blocks, got ${JSON.stringify(outcome.events[0]?.content)}`);
      assert.ok(!JSON.stringify(outcome.events).includes(rec.thoughtSignatures[0] ?? '\u0000'), 'the Gemini thoughtSignature never reaches an Anthropic client');
      assert.deepEqual({ input: outcome.usage?.input_tokens, output: outcome.usage?.output_tokens }, { input: rec.usage!.input - rec.usage!.cacheRead, output: rec.usage!.output });
    });
  }

  for (const name of listRecorded('gemini', '.json').filter((n) => !n.endsWith('.nonstream.json'))) {
    const body = readRecorded(name);
    const error = (JSON.parse(body) as Json).error as Json;
    for (const stream of [true, false]) {
      await t.test(`${name} -> both clients get HTTP ${error.code} (${stream ? 'stream' : 'non-stream'})`, async () => {
        r.set({ kind: 'json', status: error.code, body });
        await assert.rejects((stream ? openAiHelper : openAiUnary)(r.openai, openAiRequest), (e) => {
          assert.ok(e instanceof OpenAI.APIError && e.status === error.code, String(e));
          assert.ok(e.message.includes(error.message), `the upstream message reaches the client: ${e.message}`);
          return true;
        });
        await assert.rejects((stream ? anthropicHelper : anthropicUnary)(r.anthropic, anthropicRequest), (e) => {
          assert.ok(e instanceof Anthropic.APIError && e.status === error.code, String(e));
          const body = e.error as Json;
          assert.equal(body?.type, 'error');
          assert.equal(body?.error?.type, error.code === 429 ? 'rate_limit_error' : body?.error?.type);
          assert.ok(String(body?.error?.message).includes(error.message), `the upstream message reaches the client: ${JSON.stringify(body)}`);
          return true;
        });
      });
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Recorded HTTP errors -> both clients
// ---------------------------------------------------------------------------------------------

test('recorded HTTP errors reach both clients in their own shapes', { skip, timeout: 60_000 }, async (t) => {
  for (const name of httpErrors) {
    const kind: UpstreamKind = name.startsWith('anthropic/') ? 'anthropic' : 'openai';
    const recording = parseHttpRecording(readRecorded(name));
    const upstreamError = (JSON.parse(recording.body) as Json).error as Json;
    const r = await startReplay(t, kind);
    r.set({ kind: 'json', status: recording.status, body: recording.body });
    for (const stream of [true, false]) {
      await t.test(`${name} -> OpenAI client (${stream ? 'stream' : 'non-stream'})`, async () => {
        await assert.rejects((stream ? openAiHelper : openAiUnary)(r.openai, openAiRequest), (e) => {
          assert.ok(e instanceof OpenAI.APIError && e.status === recording.status, String(e));
          assert.ok(e.message.includes(upstreamError.message), `the upstream message reaches the client: ${e.message}`);
          if (kind === 'openai') assert.equal(e.code, upstreamError.code, 'the upstream code is kept');
          return true;
        });
      });
      await t.test(`${name} -> Anthropic client (${stream ? 'stream' : 'non-stream'})`, async () => {
        await assert.rejects((stream ? anthropicHelper : anthropicUnary)(r.anthropic, anthropicRequest), (e) => {
          assert.ok(e instanceof Anthropic.APIError && e.status === recording.status, String(e));
          const body = e.error as Json;
          assert.equal(body?.type, 'error', `Anthropic error shape, got ${JSON.stringify(body)}`);
          assert.equal(body?.error?.type, 'invalid_request_error');
          assert.ok(String(body?.error?.message).includes(upstreamError.message), `the upstream message reaches the client: ${JSON.stringify(body)}`);
          assert.ok(e.requestID, 'a request-id header');
          return true;
        });
      });
    }
  }
});
