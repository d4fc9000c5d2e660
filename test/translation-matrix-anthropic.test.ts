/**
 * The translation matrix, Anthropic ingress: an Anthropic Messages client (base URL without /v1)
 * in front of each upstream kind (Anthropic passthrough, OpenAI-compatible and Gemini
 * translated), upstreams scripted on loopback in their exact wire formats. Every scenario runs
 * through the official `@anthropic-ai/sdk` (messages.stream().finalMessage(), raw iteration of
 * messages.create({stream: true}), non-stream create), the Vercel AI SDK (`@ai-sdk/anthropic`),
 * and a raw wire check of the bytes (event names, block order, delta types, message_stop last).
 * See issue 3, shared/reference/wire-formats.md sections 0, 3, 5.2 and 6, and gateways.md 21-22.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { APICallError } from 'ai';
import { checkAnthropicStream } from './support/anthropic-wire-check.js';
import { rawHttpRequest } from './support/raw-http.js';
import { aiSdkRun, anthropicBody, anthropicHelper, anthropicRaw, anthropicUnary, type Outcome } from './support/clients.js';
import { startMatrix, type Matrix } from './support/matrix.js';
import {
  aiSdkFinish, anthropicStop, assertAiSdkUsage, assertAnthropicUsage, assertReasoning, assertText, assertToolCalls,
} from './support/matrix-expect.js';
import {
  anthropicSignature, contentScenarios, expressibleUsage, geminiThoughtSignature, httpErrorScenarios, httpStatusFor, join, scenarios, upstreamKinds,
  type ContentScenario, type HttpErrorScenario, type ScenarioName, type UpstreamKind,
} from './support/scenarios.js';
import { clientKey, eventually } from './support/sluice.js';
import { onePassYaml } from './support/one-pass.js';

/** Anthropic tool_use ids must match this, or the next turn is refused by Anthropic. */
const toolUseId = /^[a-zA-Z0-9_-]+$/;

function assertSignatures(outcome: Outcome, scenario: ContentScenario, kind: UpstreamKind): void {
  if (!scenario.reasoning) {
    assert.deepEqual(outcome.signatures, [], 'no thinking blocks');
    return;
  }
  assert.equal(outcome.signatures.length, 1, `one thinking block (blocks: ${outcome.blockTypes.join(', ')})`);
  if (kind === 'anthropic') {
    assert.equal(outcome.signatures[0], anthropicSignature, 'the signature passes byte-exact within the Anthropic family');
  } else {
    // Across families a signature is dropped, never forged (nor the Gemini one passed off as Anthropic's).
    assert.equal(outcome.signatures[0], undefined, `no signature on a thinking block from a ${kind} upstream, got ${JSON.stringify(outcome.signatures[0])}`);
  }
}

/** The content blocks an Anthropic client must get, in order (redacted thinking passes only within Anthropic). */
function expectedBlocks(scenario: ContentScenario, kind: UpstreamKind): string[] {
  return [
    ...(scenario.reasoning ? ['thinking'] : []),
    ...(scenario.anthropicRedactedThinking && kind === 'anthropic' ? ['redacted_thinking'] : []),
    ...(scenario.text ? ['text'] : []),
    ...(scenario.tools ?? []).map(() => 'tool_use'),
  ];
}

function assertAnthropicOutcome(outcome: Outcome, scenario: ContentScenario, kind: UpstreamKind): void {
  const expected = expectedBlocks(scenario, kind);
  assert.deepEqual(outcome.blockTypes, expected, 'content block types in order');
  assertText(outcome, scenario);
  assertReasoning(outcome, scenario);
  assertToolCalls(outcome, scenario, kind, { idPattern: toolUseId });
  assertSignatures(outcome, scenario, kind);
  assert.equal(outcome.finish, anthropicStop[scenario.finish], 'stop_reason');
  assertAnthropicUsage(outcome.usage, scenario, kind);
}

async function rawStream(m: Matrix, model: string): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  const raw = await rawHttpRequest(`${m.sluice.url}/v1/messages`, {
    body: { ...anthropicBody(model), stream: true },
    headers: { 'anthropic-version': '2023-06-01', 'x-api-key': clientKey },
    auth: false,
    timeoutMs: 10_000,
  });
  await raw.done;
  return { status: raw.status, headers: raw.headers, text: raw.text };
}

async function contentCells(t: TestContext, m: Matrix, name: ScenarioName): Promise<void> {
  const scenario = scenarios[name] as ContentScenario;
  const kind = m.kind;
  await t.test(`${name}: messages.stream().finalMessage()`, async () => {
    const outcome = await anthropicHelper(m.anthropic, anthropicBody(name));
    assertAnthropicOutcome(outcome, scenario, kind);
    const start = outcome.events.find((e) => e.type === 'message_start');
    assert.ok(Number.isInteger(start?.message?.usage?.input_tokens), `message_start carries integer usage.input_tokens, got ${JSON.stringify(start?.message?.usage)}`);
  });
  await t.test(`${name}: raw messages.create({stream: true}) iteration`, async () => {
    const outcome = await anthropicRaw(m.anthropic, anthropicBody(name));
    assertAnthropicOutcome(outcome, scenario, kind);
    assert.equal(outcome.events[0]?.type, 'message_start', 'message_start first');
    assert.equal(outcome.events.at(-1)?.type, 'message_stop', 'message_stop last');
  });
  await t.test(`${name}: non-stream messages.create()`, async () => {
    assertAnthropicOutcome(await anthropicUnary(m.anthropic, anthropicBody(name)), scenario, kind);
  });
  await t.test(`${name}: AI SDK streamText (@ai-sdk/anthropic)`, async () => {
    const outcome = await aiSdkRun(m.aiAnthropic(name), { maxOutputTokens: 512 });
    assert.deepEqual(outcome.errors.map(String), [], 'no stream errors');
    assertText(outcome, scenario);
    assertReasoning(outcome, scenario);
    assertToolCalls(outcome, scenario, kind);
    assert.equal(outcome.finish, aiSdkFinish[scenario.finish], 'AI SDK finishReason');
    assertAiSdkUsage(outcome.sdkUsage, scenario, kind);
    // The AI SDK keeps the signature to send the thinking back: exact from Anthropic, absent otherwise.
    assert.deepEqual(outcome.signatures, scenario.reasoning && kind === 'anthropic' ? [anthropicSignature] : [], 'reasoning signatures seen by the AI SDK');
  });
  await t.test(`${name}: raw wire check (event names, block order, delta types)`, async () => {
    const raw = await rawStream(m, name);
    assert.equal(raw.status, 200, raw.text);
    assert.match(String(raw.headers['content-type']), /^text\/event-stream/);
    assert.ok(raw.headers['request-id'], 'a request-id header');
    const report = checkAnthropicStream(raw.text);
    assert.deepEqual(report.violations, [], `wire violations in:\n${raw.text}`);
    assert.equal(report.stopReason, anthropicStop[scenario.finish]);
    assert.deepEqual(report.blocks.map((b) => b.type), expectedBlocks(scenario, kind));
    if (scenario.anthropicRedactedThinking && kind === 'anthropic') {
      assert.equal(report.blocks[0]?.start.data, scenario.anthropicRedactedThinking, 'redacted_thinking data byte-exact');
    }
    if (kind !== 'anthropic') {
      // Translated: message_start carries the full usage shape, cache fields included.
      const usage = report.messageStartUsage ?? {};
      for (const key of ['input_tokens', 'output_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens']) {
        assert.ok(Number.isInteger(usage[key]), `message_start usage.${key} is an integer: ${JSON.stringify(usage)}`);
      }
    }
    for (const block of report.blocks) {
      if (block.type === 'thinking' && kind !== 'anthropic') {
        assert.ok(!raw.text.includes(geminiThoughtSignature), 'the Gemini thought signature never reaches an Anthropic client');
        assert.equal(block.signature, undefined, 'no signature forged for a foreign thinking block');
      }
    }
  });
}

const anthropicErrorTypes = new Set(['invalid_request_error', 'authentication_error', 'billing_error', 'permission_error', 'not_found_error', 'request_too_large', 'rate_limit_error', 'api_error', 'timeout_error', 'overloaded_error']);

/** An HTTP error: the Anthropic SDK's class for the status, Anthropic's error body, a request id. */
function assertHttpError(error: unknown, status: number, expectedType: string | undefined): true {
  assert.ok(error instanceof Anthropic.APIError, `expected an APIError, got ${String(error)}`);
  assert.equal(error.status, status, `status (message: ${error.message})`);
  if (status === 429) assert.ok(error instanceof Anthropic.RateLimitError, 'RateLimitError');
  if (status === 529) assert.ok(error instanceof Anthropic.OverloadedError, 'OverloadedError');
  if (status >= 500) assert.ok(error instanceof Anthropic.InternalServerError, 'InternalServerError');
  const body = error.error as { type?: unknown; error?: { type?: unknown; message?: unknown }; request_id?: unknown } | undefined;
  assert.equal(body?.type, 'error', `Anthropic error shape {"type":"error","error":{type,message}}, got ${JSON.stringify(body)}`);
  assert.equal(typeof body?.error?.message, 'string', 'error.message');
  assert.ok(anthropicErrorTypes.has(String(body?.error?.type)), `an Anthropic error type, got ${String(body?.error?.type)}`);
  if (expectedType) assert.equal(body?.error?.type, expectedType, 'error.type for the status');
  assert.ok(error.requestID, 'a request-id header');
  return true;
}

const typeForStatus: Record<number, string> = { 429: 'rate_limit_error', 500: 'api_error', 529: 'overloaded_error' };

async function httpErrorCells(t: TestContext, m: Matrix, name: ScenarioName): Promise<void> {
  const status = httpStatusFor(scenarios[name] as HttpErrorScenario, m.kind);
  const type = typeForStatus[status];
  await t.test(`${name}: finalMessage() rejects with HTTP ${status}`, async () => {
    await assert.rejects(anthropicHelper(m.anthropic, anthropicBody(name)), (e) => assertHttpError(e, status, type));
  });
  await t.test(`${name}: raw stream rejects with HTTP ${status}`, async () => {
    await assert.rejects(anthropicRaw(m.anthropic, anthropicBody(name)), (e) => assertHttpError(e, status, type));
  });
  await t.test(`${name}: non-stream rejects with HTTP ${status}`, async () => {
    await assert.rejects(anthropicUnary(m.anthropic, anthropicBody(name)), (e) => assertHttpError(e, status, type));
  });
  await t.test(`${name}: AI SDK reports an APICallError with status ${status}`, async () => {
    const outcome = await aiSdkRun(m.aiAnthropic(name), { maxOutputTokens: 512 });
    assert.equal(outcome.errors.length, 1, `one error, got ${outcome.errors.map(String).join('; ')}`);
    const error = outcome.errors[0];
    assert.ok(APICallError.isInstance(error), `APICallError, got ${String(error)}`);
    assert.equal(error.statusCode, status);
  });
}

async function streamErrorCells(t: TestContext, m: Matrix): Promise<void> {
  await t.test('error-before-content: in-band error before the first token becomes an HTTP 5xx in Anthropic shape', async () => {
    await assert.rejects(anthropicHelper(m.anthropic, anthropicBody('error-before-content')), (e) => {
      assert.ok(e instanceof Anthropic.APIError, String(e));
      assert.ok(e.status !== undefined && e.status >= 500 && e.status <= 599, `a 5xx status, got ${e.status}`);
      return assertHttpError(e, e.status, m.kind === 'anthropic' ? 'overloaded_error' : undefined);
    });
  });
  await t.test('error-after-content: finalMessage() throws the in-band error', async () => {
    await assert.rejects(anthropicHelper(m.anthropic, anthropicBody('error-after-content')), (e) => {
      assert.ok(e instanceof Anthropic.APIError, `APIError, got ${String(e)}`);
      assert.equal(e.status, undefined, 'an in-stream error has no HTTP status');
      return true;
    });
  });
  await t.test('error-after-content: raw iteration yields the text, then throws', async () => {
    let text = '';
    await assert.rejects(
      anthropicRaw(m.anthropic, anthropicBody('error-after-content'), (event) => {
        if (event.type === 'content_block_delta' && event.delta?.type === 'text_delta') text += event.delta.text;
      }),
      (e) => e instanceof Anthropic.APIError,
    );
    assert.equal(text, join(scenarios['error-after-content'].textBefore));
  });
  await t.test('error-after-content: the wire has event: error and no message_stop', async () => {
    const raw = await rawStream(m, 'error-after-content');
    assert.equal(raw.status, 200);
    const report = checkAnthropicStream(raw.text, { expectError: true });
    assert.deepEqual(report.violations, [], `wire violations in:\n${raw.text}`);
    assert.equal(report.blocks.map((b) => b.text).join(''), join(scenarios['error-after-content'].textBefore));
    assert.match(raw.text, /event: error\ndata: \{/, 'an `event: error` frame');
    assert.equal(report.errorEvent?.type, 'error');
  });
  await t.test('error-after-content: the AI SDK reports the error after the text', async () => {
    const outcome = await aiSdkRun(m.aiAnthropic('error-after-content'), { maxOutputTokens: 512 });
    assert.ok(outcome.errors.length >= 1, 'an error part');
    assert.equal(outcome.text, join(scenarios['error-after-content'].textBefore));
  });
}

async function countTokensCell(t: TestContext, m: Matrix): Promise<void> {
  await t.test('count_tokens answers with an integer input_tokens', async () => {
    const { model: _model, max_tokens: _max, ...rest } = anthropicBody('text');
    const result = await m.anthropic.messages.countTokens({ ...rest, model: 'text' } as Anthropic.Messages.MessageCountTokensParams);
    assert.ok(Number.isInteger(result.input_tokens) && result.input_tokens > 0, `input_tokens ${JSON.stringify(result)}`);
    // An Anthropic upstream counts for itself (the scripted one says 42).
    if (m.kind === 'anthropic') assert.equal(result.input_tokens, 42);
  });
}

for (const kind of upstreamKinds) {
  test(`Anthropic client x ${kind} upstream`, { timeout: 120_000 }, async (t) => {
    // Each scenario's upstream answer reaches the client as given: no retries, no breaker.
    const m = await startMatrix(t, kind, onePassYaml());
    // Gemini also sends parallel calls one per chunk; an OpenAI-compatible upstream also names its
    // reasoning `reasoning` (vLLM); Anthropic also sends redacted_thinking.
    const extra: Partial<Record<UpstreamKind, ScenarioName[]>> = { gemini: ['parallel-tools-split'], openai: ['thinking-tool-reasoning-field'], anthropic: ['redacted-thinking'] };
    const names: ScenarioName[] = [...contentScenarios, ...(extra[kind] ?? [])];
    for (const name of names) await contentCells(t, m, name);
    await t.test('cache-usage: the request record accounts normalised usage (input includes cache reads and writes)', async () => {
      const before = m.sluice.records.length;
      await anthropicHelper(m.anthropic, anthropicBody('cache-usage'));
      await eventually(() => m.sluice.records.length > before, 2000, 'the request record');
      const usage = m.sluice.records.at(-1)?.usage;
      const u = expressibleUsage(scenarios['cache-usage'].usage, kind);
      assert.deepEqual(
        { input: usage?.input, cacheRead: usage?.cacheRead, cacheWrite: usage?.cacheWrite, output: usage?.output },
        { input: u.input, cacheRead: u.cacheRead, cacheWrite: u.cacheWrite, output: u.output },
      );
    });
    for (const name of httpErrorScenarios) await httpErrorCells(t, m, name);
    await streamErrorCells(t, m);
    await countTokensCell(t, m);
  });
}
