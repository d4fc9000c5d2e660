/**
 * The translation matrix, OpenAI ingress: an OpenAI Chat Completions client in front of each
 * upstream kind (OpenAI-compatible passthrough, Anthropic and Gemini translated), upstreams
 * scripted on loopback in their exact wire formats (test/support/scripted-*.ts). Every scenario
 * runs through the official `openai` SDK (stream helper, raw iteration, non-stream), the Vercel
 * AI SDK (`@ai-sdk/openai-compatible`), and a raw wire check of the bytes.
 * See issue 3 and shared/reference/wire-formats.md sections 0, 2, 5.1 and 6.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { APICallError } from 'ai';
import { checkOpenAiStream } from './support/openai-wire-check.js';
import { rawHttpRequest } from './support/raw-http.js';
import { aiSdkRun, openAiBody, openAiHelper, openAiRaw, openAiUnary, type Outcome } from './support/clients.js';
import { startMatrix, type Matrix } from './support/matrix.js';
import { eventually } from './support/sluice.js';
import {
  aiSdkFinish, assertAiSdkUsage, assertOpenAiUsage, assertReasoning, assertText, assertToolCalls, openAiFinish,
} from './support/matrix-expect.js';
import {
  contentScenarios, expressibleUsage, httpErrorScenarios, httpStatusFor, join, scenarios, upstreamKinds,
  type ContentScenario, type HttpErrorScenario, type ScenarioName, type UpstreamKind,
} from './support/scenarios.js';
import { onePassYaml } from './support/one-pass.js';

function assertOpenAiOutcome(outcome: Outcome, scenario: ContentScenario, kind: UpstreamKind, what: { usage: boolean; reasoning: boolean }): void {
  assertText(outcome, scenario);
  if (what.reasoning) assertReasoning(outcome, scenario);
  assertToolCalls(outcome, scenario, kind);
  assert.equal(outcome.finish, openAiFinish[scenario.finish], 'finish_reason');
  if (what.usage) assertOpenAiUsage(outcome.usage, scenario, kind);
}

async function rawStream(m: Matrix, model: string, includeUsage = true): Promise<{ status: number; contentType: string | undefined; text: string }> {
  const raw = await rawHttpRequest(`${m.sluice.baseURL}/chat/completions`, {
    body: { ...openAiBody(model), stream: true, ...(includeUsage ? { stream_options: { include_usage: true } } : {}) },
    timeoutMs: 10_000,
  });
  await raw.done;
  return { status: raw.status, contentType: raw.headers['content-type'], text: raw.text };
}

async function contentCells(t: TestContext, m: Matrix, name: ScenarioName): Promise<void> {
  const scenario = scenarios[name] as ContentScenario;
  const kind = m.kind;
  await t.test(`${name}: stream helper finalChatCompletion()`, async () => {
    assertOpenAiOutcome(await openAiHelper(m.openai, openAiBody(name)), scenario, kind, { usage: true, reasoning: true });
  });
  await t.test(`${name}: raw create({stream: true}) iteration`, async () => {
    const outcome = await openAiRaw(m.openai, openAiBody(name));
    assertOpenAiOutcome(outcome, scenario, kind, { usage: true, reasoning: true });
  });
  await t.test(`${name}: non-stream create()`, async () => {
    assertOpenAiOutcome(await openAiUnary(m.openai, openAiBody(name)), scenario, kind, { usage: true, reasoning: true });
  });
  await t.test(`${name}: AI SDK streamText (@ai-sdk/openai-compatible)`, async () => {
    const outcome = await aiSdkRun(m.aiOpenAi(name));
    assert.deepEqual(outcome.errors.map(String), [], 'no stream errors');
    assertText(outcome, scenario);
    assertReasoning(outcome, scenario);
    assertToolCalls(outcome, scenario, kind);
    assert.equal(outcome.finish, aiSdkFinish[scenario.finish], 'AI SDK finishReason');
    assertAiSdkUsage(outcome.sdkUsage, scenario, kind);
  });
  await t.test(`${name}: raw wire check`, async () => {
    const raw = await rawStream(m, name);
    assert.equal(raw.status, 200, raw.text);
    assert.match(raw.contentType ?? '', /^text\/event-stream/);
    const report = checkOpenAiStream(raw.text, { includeUsage: true });
    assert.deepEqual(report.violations, [], `wire violations in:\n${raw.text}`);
    assert.equal(report.text.get(0) ?? '', join(scenario.text));
    assert.equal(report.reasoning.get(0) ?? '', join(scenario.reasoning));
    assert.equal(report.finishReasons.get(0), openAiFinish[scenario.finish]);
    assert.equal((report.toolCalls.get(0) ?? []).length, (scenario.tools ?? []).length, 'tool call count');
  });
  await t.test(`${name}: raw wire check without include_usage (no usage key, no usage chunk)`, async () => {
    const raw = await rawStream(m, name, false);
    assert.equal(raw.status, 200, raw.text);
    const report = checkOpenAiStream(raw.text, { includeUsage: false });
    assert.deepEqual(report.violations, [], `wire violations in:\n${raw.text}`);
    assert.equal(report.text.get(0) ?? '', join(scenario.text));
    assert.equal(report.finishReasons.get(0), openAiFinish[scenario.finish]);
  });
}

/** An HTTP error before anything was streamed: the OpenAI SDK's class for the status, OpenAI's error shape. */
function assertHttpError(error: unknown, status: number, kind: UpstreamKind): true {
  assert.ok(error instanceof OpenAI.APIError, `expected an APIError, got ${String(error)}`);
  assert.equal(error.status, status, `status (message: ${error.message})`);
  if (status === 429) {
    assert.ok(error instanceof OpenAI.RateLimitError, 'RateLimitError');
    if (kind !== 'gemini') assert.equal(error.headers?.get('retry-after'), '7', 'the upstream retry-after is forwarded');
  }
  if (status >= 500) assert.ok(error instanceof OpenAI.InternalServerError, 'InternalServerError');
  const body = error.error as Record<string, unknown> | undefined;
  assert.equal(typeof body?.message, 'string', `OpenAI error shape {error:{message,type,...}}, got ${JSON.stringify(body)}`);
  assert.equal(typeof body?.type, 'string', 'error.type');
  return true;
}

async function httpErrorCells(t: TestContext, m: Matrix, name: ScenarioName): Promise<void> {
  const status = httpStatusFor(scenarios[name] as HttpErrorScenario, m.kind);
  await t.test(`${name}: stream helper rejects with HTTP ${status}`, async () => {
    await assert.rejects(openAiHelper(m.openai, openAiBody(name)), (e) => assertHttpError(e, status, m.kind));
  });
  await t.test(`${name}: raw stream rejects with HTTP ${status}`, async () => {
    await assert.rejects(openAiRaw(m.openai, openAiBody(name)), (e) => assertHttpError(e, status, m.kind));
  });
  await t.test(`${name}: non-stream rejects with HTTP ${status}`, async () => {
    await assert.rejects(openAiUnary(m.openai, openAiBody(name)), (e) => assertHttpError(e, status, m.kind));
  });
  await t.test(`${name}: AI SDK reports an APICallError with status ${status}`, async () => {
    const outcome = await aiSdkRun(m.aiOpenAi(name));
    assert.equal(outcome.errors.length, 1, `one error, got ${outcome.errors.map(String).join('; ')}`);
    const error = outcome.errors[0];
    assert.ok(APICallError.isInstance(error), `APICallError, got ${String(error)}`);
    assert.equal(error.statusCode, status);
  });
}

async function streamErrorCells(t: TestContext, m: Matrix): Promise<void> {
  await t.test('error-before-content: in-band error before the first token becomes an HTTP 5xx in OpenAI shape', async () => {
    await assert.rejects(openAiHelper(m.openai, openAiBody('error-before-content')), (e) => {
      assert.ok(e instanceof OpenAI.APIError, String(e));
      assert.ok(e.status !== undefined && e.status >= 500 && e.status <= 599, `a 5xx status, got ${e.status}`);
      assert.equal(typeof (e.error as Record<string, unknown> | undefined)?.message, 'string', `OpenAI error shape, got ${JSON.stringify(e.error)}`);
      return true;
    });
    const raw = await rawStream(m, 'error-before-content');
    assert.ok(raw.status >= 500, `HTTP status ${raw.status}: ${raw.text}`);
    assert.equal(typeof JSON.parse(raw.text).error?.message, 'string');
  });
  await t.test('error-after-content: the stream helper throws the in-band error', async () => {
    await assert.rejects(openAiHelper(m.openai, openAiBody('error-after-content')), (e) => {
      assert.ok(e instanceof OpenAI.APIError, `APIError, got ${String(e)}`);
      assert.equal(e.status, undefined, 'an in-stream error has no HTTP status');
      return true;
    });
  });
  await t.test('error-after-content: raw iteration yields the text, then throws', async () => {
    let text = '';
    await assert.rejects(
      openAiRaw(m.openai, openAiBody('error-after-content'), (chunk) => {
        for (const choice of chunk.choices ?? []) if (typeof choice.delta?.content === 'string') text += choice.delta.content;
      }),
      (e) => e instanceof OpenAI.APIError,
    );
    assert.equal(text, join(scenarios['error-after-content'].textBefore));
  });
  await t.test('error-after-content: the wire has data: {"error":...} and no [DONE]', async () => {
    const raw = await rawStream(m, 'error-after-content');
    assert.equal(raw.status, 200);
    const report = checkOpenAiStream(raw.text, { includeUsage: true, expectError: true });
    assert.deepEqual(report.violations, [], `wire violations in:\n${raw.text}`);
    assert.equal(report.text.get(0), join(scenarios['error-after-content'].textBefore));
    const error = report.errorFrame?.error as Record<string, unknown> | undefined;
    assert.equal(typeof error?.message, 'string', 'error frame in OpenAI shape');
    assert.ok(!raw.text.includes('event:'), 'no event: lines on an OpenAI stream');
  });
  await t.test('error-after-content: the AI SDK reports the error after the text', async () => {
    const outcome = await aiSdkRun(m.aiOpenAi('error-after-content'));
    assert.ok(outcome.errors.length >= 1, 'an error part');
    assert.equal(outcome.text, join(scenarios['error-after-content'].textBefore));
  });
}

for (const kind of upstreamKinds) {
  test(`OpenAI client x ${kind} upstream`, { timeout: 120_000 }, async (t) => {
    // Each scenario's upstream answer reaches the client as given: no retries, no breaker.
    const m = await startMatrix(t, kind, onePassYaml());
    // Gemini also sends parallel calls one per chunk; an OpenAI-compatible upstream also names its
    // reasoning `reasoning` (vLLM); Anthropic also sends redacted_thinking.
    const extra: Partial<Record<UpstreamKind, ScenarioName[]>> = { gemini: ['parallel-tools-split'], openai: ['thinking-tool-reasoning-field'], anthropic: ['redacted-thinking'] };
    const names: ScenarioName[] = [...contentScenarios, ...(extra[kind] ?? [])];
    for (const name of names) await contentCells(t, m, name);
    await t.test('cache-usage: the request record accounts normalised usage (input includes cache reads and writes)', async () => {
      const before = m.sluice.records.length;
      await openAiHelper(m.openai, openAiBody('cache-usage'));
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
  });
}
