/**
 * Shared set-up of the end-to-end accounting tests (test/ledger-*.test.ts): an OpenAI-compatible
 * and an Anthropic upstream scripted per test with exact usage, a config pricing two models the
 * same way (USD per 1M tokens: input 3, output 15, cache_read 0.3, cache_write 3.75), and readers
 * for the usage ledger's rows as the store holds them once the LedgerWriter has flushed.
 *
 * Expected costs are computed here from the configured prices by hand, never by Sluice's code:
 * uncached input = input - cache read - cache write at the input price, cache read at cache_read,
 * cache write at cache_write, output at the output price, in pico-USD, rounded half up to nano.
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import type { TestContext } from 'node:test';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import type { UsageRow } from '../../src/storage/types.js';
import { chunk } from './chunks.js';
import { anthropicFrame, anthropicPing, sendAnthropicError } from './scripted-anthropic.js';
import { sendOpenAiError } from './scripted-openai.js';
import { sleep, sseHeaders, startScriptedUpstream, type ScriptedUpstream, type UpstreamRequest } from './scripted-upstream.js';
import { startSluice, type TestSluice } from './sluice.js';

export const clientKey = 'sk-test-client-key-1';
export const adminKey = 'admin-key-ledger-e2e-0123456789';

/** Pico-USD per token for the priced models (USD per 1M tokens x 1e6). */
export const pico = { input: 3_000_000n, output: 15_000_000n, cacheRead: 300_000n, cacheWrite: 3_750_000n };

export interface Tokens {
  input: number;
  cacheRead: number;
  cacheWrite: number;
  output: number;
}

/** The cost of tokens on `gpt` / `claude` in nano-USD, from the configured prices. */
export function expectedCost(t: Tokens, price = pico): number {
  const uncached = BigInt(t.input - t.cacheRead - t.cacheWrite);
  const total = uncached * price.input + BigInt(t.cacheRead) * price.cacheRead + BigInt(t.cacheWrite) * price.cacheWrite + BigInt(t.output) * price.output;
  return Number((total + 500n) / 1000n);
}

/** Tokens of a text with a real BPE tokenizer (o200k_base), independently of Sluice's wrapper. */
export function tokensOf(text: string): number {
  return text === '' ? 0 : countTokens(text);
}

// ---------------------------------------------------------------------------------------------
// Scripted upstreams
// ---------------------------------------------------------------------------------------------

/**
 * How an upstream ends a streamed answer:
 * - done: finish/stop frames, the usage (OpenAI: only when include_usage was asked), terminator;
 * - hang: nothing more; waits until Sluice closes the connection;
 * - late: like done, but only `lateMs` after the last content (the client may be gone by then);
 * - cut: the socket is destroyed after the content (no terminator, no usage);
 * - error: an in-band error frame after the content (none when `text` is empty);
 * - usage-then-cut (Anthropic): message_delta with the final usage, then the socket is destroyed.
 */
export type StreamEnd = 'done' | 'hang' | 'late' | 'cut' | 'error' | 'usage-then-cut';

export interface Plan {
  /** Content pieces, one frame each. */
  text: string[];
  /** The usage the upstream reports, in its own protocol's semantics (see below). */
  usage: Tokens;
  end?: StreamEnd;
  /** Delay before the first content (after the head and the role chunk / message_start). */
  firstTokenDelayMs?: number;
  lateMs?: number;
  /** Answer with this HTTP error status instead. */
  httpError?: number;
  /** Hold the answer until this resolves (keeps requests in flight). */
  hold?: Promise<void>;
}

/** OpenAI usage: prompt_tokens include the cached tokens. */
function openAiUsage(u: Tokens): Record<string, unknown> {
  return {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.input + u.output,
    prompt_tokens_details: { cached_tokens: u.cacheRead, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

/** Anthropic usage: input_tokens exclude cache reads and writes. */
function anthropicUsage(u: Tokens): { input_tokens: number; cache_read_input_tokens: number; cache_creation_input_tokens: number } {
  return { input_tokens: u.input - u.cacheRead - u.cacheWrite, cache_read_input_tokens: u.cacheRead, cache_creation_input_tokens: u.cacheWrite };
}

async function write(res: ServerResponse, text: string): Promise<void> {
  if (res.destroyed || res.socket === null || res.socket.destroyed) return;
  await new Promise<void>((resolve) => res.write(text, () => resolve()));
}

function sendJson(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

async function waitOrClose(request: UpstreamRequest, ms: number | undefined): Promise<void> {
  if (ms) await Promise.race([sleep(ms), request.closed]);
}

/** An OpenAI Chat Completions upstream answering each request with `plan(request)`. */
export function openAiUpstream(plan: (request: UpstreamRequest) => Plan): Promise<ScriptedUpstream> {
  return startScriptedUpstream(async (request, res) => {
    const p = plan(request);
    await p.hold;
    if (p.httpError !== undefined) return sendOpenAiError(res, p.httpError);
    const model = String(request.body.model);
    if (request.body.stream !== true) {
      return sendJson(res, {
        id: 'chatcmpl-ledger', object: 'chat.completion', created: 1_700_000_000, model, system_fingerprint: 'fp_ledger',
        choices: [{ index: 0, message: { role: 'assistant', content: p.text.join(''), refusal: null }, logprobs: null, finish_reason: 'stop' }],
        usage: openAiUsage(p.usage),
      });
    }
    const includeUsage = (request.body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    const o = { id: 'chatcmpl-ledger', model, usageNull: includeUsage };
    const data = (frame: unknown): string => `data: ${typeof frame === 'string' ? frame : JSON.stringify(frame)}\n\n`;
    res.writeHead(200, sseHeaders);
    await write(res, data(chunk({ role: 'assistant', content: '' }, null, o)));
    await waitOrClose(request, p.firstTokenDelayMs);
    for (const piece of p.text) await write(res, data(chunk({ content: piece }, null, o)));
    const end = p.end ?? 'done';
    if (end === 'hang') return void (await request.closed);
    if (end === 'cut') return void res.destroy();
    if (end === 'error') {
      await write(res, data({ error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null } }));
      return void res.end();
    }
    if (end === 'late') await waitOrClose(request, p.lateMs ?? 200);
    await write(res, data(chunk({}, 'stop', o)));
    if (includeUsage) {
      await write(res, data({ id: o.id, object: 'chat.completion.chunk', created: 1_700_000_000, model, system_fingerprint: 'fp_ledger', choices: [], usage: openAiUsage(p.usage) }));
    }
    await write(res, data('[DONE]'));
    res.end();
  });
}

export interface AnthropicUpstream extends ScriptedUpstream {
  /** The base URL Sluice is configured with (no /v1). */
  origin: string;
}

/** An Anthropic Messages upstream answering each request with `plan(request)`. */
export async function anthropicUpstream(plan: (request: UpstreamRequest) => Plan): Promise<AnthropicUpstream> {
  const upstream = await startScriptedUpstream(async (request, res) => {
    const p = plan(request);
    await p.hold;
    if (p.httpError !== undefined) return sendAnthropicError(res, p.httpError);
    const model = String(request.body.model);
    const startUsage = anthropicUsage(p.usage);
    if (request.body.stream !== true) {
      return sendJson(res, {
        id: 'msg_01Ledger', type: 'message', role: 'assistant', model, content: [{ type: 'text', text: p.text.join('') }],
        stop_reason: 'end_turn', stop_sequence: null, usage: { ...startUsage, output_tokens: p.usage.output, service_tier: 'standard' },
      });
    }
    res.writeHead(200, { ...sseHeaders, 'request-id': 'req_01LedgerUpstream' });
    // Like the real API: message_start carries the prompt's usage and a placeholder output count of 1.
    await write(res, anthropicFrame({
      type: 'message_start',
      message: { id: 'msg_01Ledger', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { ...startUsage, output_tokens: 1, service_tier: 'standard' } },
    }));
    await write(res, anthropicPing);
    await waitOrClose(request, p.firstTokenDelayMs);
    const end = p.end ?? 'done';
    if (p.text.length > 0) {
      await write(res, anthropicFrame({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }));
      for (const piece of p.text) await write(res, anthropicFrame({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } }));
    }
    if (end === 'hang') return void (await request.closed);
    if (end === 'cut') return void res.destroy();
    if (end === 'error') {
      const error = p.text.length > 0 ? { type: 'api_error', message: 'Internal server error' } : { type: 'overloaded_error', message: 'Overloaded' };
      await write(res, anthropicFrame({ type: 'error', error }));
      return void res.end();
    }
    if (end === 'late') await waitOrClose(request, p.lateMs ?? 200);
    if (p.text.length > 0) await write(res, anthropicFrame({ type: 'content_block_stop', index: 0 }));
    await write(res, anthropicFrame({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: p.usage.output } }));
    if (end === 'usage-then-cut') return void res.destroy();
    await write(res, anthropicFrame({ type: 'message_stop' }));
    res.end();
  });
  return Object.assign(upstream, { origin: upstream.baseUrl.replace(/\/v1$/, '') });
}

// ---------------------------------------------------------------------------------------------
// Sluice
// ---------------------------------------------------------------------------------------------

export const priceYaml = '{input: 3, output: 15, cache_read: 0.3, cache_write: 3.75}';

/**
 * Models: `gpt` (OpenAI upstream, model gpt-up), `claude` (Anthropic upstream, claude-up), both at
 * the same price; `gpt-free` (no price); `gpt-tiny` (prices in fractions of a nano-USD per token);
 * `metered` and `metered-claude` (input free, output $10 per 1M: a reservation is exactly
 * max_tokens x output price, whatever the prompt estimate).
 */
export function ledgerConfig(openAiBase: string, anthropicOrigin: string, extra = ''): string {
  return `host: 127.0.0.1
port: 0
admin_key: ${adminKey}
providers:
  oai:
    kind: openai
    base_url: ${openAiBase}
    api_key: sk-upstream-openai
  ant:
    kind: anthropic
    base_url: ${anthropicOrigin}
    api_key: sk-upstream-anthropic
models:
  gpt:
    routes: [oai/gpt-up]
    price: ${priceYaml}
  claude:
    routes: [ant/claude-up]
    price: ${priceYaml}
  gpt-free:
    routes: [oai/gpt-up]
  gpt-tiny:
    routes: [oai/gpt-up]
    price: {input: 0.0005, output: 0.0015}
  metered:
    routes: [oai/metered-up]
    price: {input: 0, output: 10}
  metered-claude:
    routes: [ant/metered-up]
    price: {input: 0, output: 10}
keys:
  - name: test
    key: ${clientKey}
${extra}`;
}

export interface LedgerHarness {
  sluice: TestSluice;
  openai: ScriptedUpstream;
  anthropic: AnthropicUpstream;
}

/** Both upstreams and Sluice (memory store unless `extra` sets `store:`), all closed after the test. */
export async function ledgerHarness(
  t: TestContext,
  plans: { openai?: (request: UpstreamRequest) => Plan; anthropic?: (request: UpstreamRequest) => Plan },
  extra = '',
): Promise<LedgerHarness> {
  const fallback = (): Plan => ({ text: ['Hello', ' there'], usage: { input: 10, cacheRead: 0, cacheWrite: 0, output: 2 } });
  const openai = await openAiUpstream(plans.openai ?? fallback);
  t.after(() => openai.close());
  const anthropic = await anthropicUpstream(plans.anthropic ?? fallback);
  t.after(() => anthropic.close());
  const sluice = await startSluice(ledgerConfig(openai.baseUrl, anthropic.origin, extra));
  t.after(() => sluice.close(0));
  return { sluice, openai, anthropic };
}

// ---------------------------------------------------------------------------------------------
// Ledger rows
// ---------------------------------------------------------------------------------------------

/** The ledger's rows once it holds at least `count` (the writer flushes in batches). */
export async function ledgerRows(sluice: TestSluice, count: number, timeoutMs = 5000): Promise<UsageRow[]> {
  const store = sluice.gateway.store;
  assert.ok(store, 'the gateway has a store');
  const deadline = Date.now() + timeoutMs;
  let rows: UsageRow[] = [];
  for (;;) {
    rows = await store.ledger.query({}, 1000);
    if (rows.length >= count) return rows;
    if (Date.now() > deadline) assert.fail(`the ledger holds ${rows.length} rows, expected ${count}: ${JSON.stringify(rows)}`);
    await sleep(20);
  }
}

/** The one row of a request, by the x-request-id its client got. */
export function rowOf(rows: UsageRow[], requestId: string | null | undefined): UsageRow {
  assert.ok(typeof requestId === 'string' && /^req_[0-9a-f]{32}$/.test(requestId), `a request id: ${String(requestId)}`);
  const mine = rows.filter((r) => r.requestId === requestId);
  assert.equal(mine.length, 1, `exactly one ledger row for ${requestId}: ${JSON.stringify(rows)}`);
  return mine[0]!;
}

/** Every field of a row except the clocks, which `Timing` bounds. */
export type ExpectedRow = Omit<UsageRow, 'createdAt' | 'ttftMs' | 'durationMs'>;

export interface Timing {
  /** Date.now() before the request was sent. */
  sentAt: number;
  /** ttftMs: a number (at least this many ms) or null. */
  ttftAtLeast: number | null;
  /** durationMs is at least this (e.g. an upstream's delay). */
  durationAtLeast?: number;
}

/** Checks a row field by field: the exact fields, then createdAt, ttftMs and durationMs against the clock. */
export function assertRow(row: UsageRow, expected: ExpectedRow, timing: Timing): void {
  const { createdAt, ttftMs, durationMs, ...exact } = row;
  assert.deepEqual(exact, expected, `ledger row ${row.requestId}`);
  const now = Date.now();
  assert.ok(Number.isInteger(createdAt) && createdAt >= timing.sentAt && createdAt <= now, `createdAt ${createdAt} within [${timing.sentAt}, ${now}]`);
  assert.ok(Number.isInteger(durationMs) && durationMs >= (timing.durationAtLeast ?? 0) && durationMs <= now - timing.sentAt + 1, `durationMs ${durationMs}`);
  if (timing.ttftAtLeast === null) {
    assert.equal(ttftMs, null, 'no first token, no ttftMs');
  } else {
    assert.ok(typeof ttftMs === 'number' && Number.isInteger(ttftMs), `ttftMs is a number: ${String(ttftMs)}`);
    assert.ok(ttftMs >= timing.ttftAtLeast && ttftMs <= durationMs, `ttftMs ${ttftMs} within [${timing.ttftAtLeast}, ${durationMs}]`);
  }
}

/** The price version Sluice derived from a model's configured prices (null without a price). */
export function priceVersionOf(sluice: TestSluice, model: string): string | null {
  const version = sluice.gateway.prices.get(model)?.version ?? null;
  if (version !== null) assert.match(version, /^p-[0-9a-f]{10}$/);
  return version;
}

/** Row fields for a request by the config key `test` to `gpt` on the OpenAI route. */
export function gptRow(sluice: TestSluice, fields: Partial<ExpectedRow> & Pick<ExpectedRow, 'requestId'>): ExpectedRow {
  return {
    keyId: null, keyName: 'test', model: 'gpt', provider: 'oai', upstreamModel: 'gpt-up', protocol: 'openai', stream: false,
    outcome: 'ok', status: 200, inputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, outputTokens: 0, reasoningTokens: 0,
    usageSource: 'reported', costNanoUsd: 0, priceVersion: priceVersionOf(sluice, 'gpt'), errorCode: null, ...fields,
  };
}

/** Row fields for a request by the config key `test` to `claude` on the Anthropic route. */
export function claudeRow(sluice: TestSluice, fields: Partial<ExpectedRow> & Pick<ExpectedRow, 'requestId'>): ExpectedRow {
  return gptRow(sluice, { model: 'claude', provider: 'ant', upstreamModel: 'claude-up', priceVersion: priceVersionOf(sluice, 'claude'), ...fields });
}

/** Token fields of a row. */
export function tokenFields(t: Tokens, reasoning = 0): Pick<ExpectedRow, 'inputTokens' | 'cacheReadTokens' | 'cacheWriteTokens' | 'outputTokens' | 'reasoningTokens'> {
  return { inputTokens: t.input, cacheReadTokens: t.cacheRead, cacheWriteTokens: t.cacheWrite, outputTokens: t.output, reasoningTokens: reasoning };
}

export const signal = (ms = 10_000): AbortSignal => AbortSignal.timeout(ms);

// ---------------------------------------------------------------------------------------------
// Admin API
// ---------------------------------------------------------------------------------------------

export async function adminCall(sluice: TestSluice, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${sluice.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: signal(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Creates a stored key through POST /admin/keys; returns its id and its secret (shown once). */
export async function createStoredKey(sluice: TestSluice, body: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const created = await adminCall(sluice, 'POST', '/admin/keys', body);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const { id, secret } = created.body;
  assert.ok(typeof id === 'string' && typeof secret === 'string', JSON.stringify(created.body));
  return { id, secret };
}
