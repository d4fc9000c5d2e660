/**
 * What a client and the ledger must show after a fault, checked the same way for every case of
 * the fault-injection suite: a success that hides a failed route, a real HTTP error in the
 * client's protocol, or an in-stream error that never looks like a complete answer; and the
 * request's ledger row (outcome, status, error code, usage and its source, cost).
 */
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import type { RequestRecord } from '../../src/gateway/request-record.js';
import type { UsageRow } from '../../src/storage/types.js';
import { checkAnthropicStream } from './anthropic-wire-check.js';
import { checkOpenAiStream } from './openai-wire-check.js';
import { prompt, type Ingress, type SdkRun } from './fault-clients.js';
import { expectedCost, tokensOf, type Tokens } from './ledger.js';

/** The client got the whole answer, as a normal success in its protocol (the raw stream too, when recorded). */
export function assertSuccess(run: SdkRun, ingress: Ingress, text: string, stream = true): void {
  assert.equal(run.error, undefined, `no error: ${String(run.error)}`);
  assert.equal(run.status, 200);
  assert.equal(run.text, text);
  if (!stream || run.raw === '') return;
  if (ingress === 'openai') {
    const report = checkOpenAiStream(run.raw, { includeUsage: true });
    assert.deepEqual(report.violations, [], run.raw.slice(-400));
    assert.ok(run.raw.endsWith('data: [DONE]\n\n'));
  } else {
    const report = checkAnthropicStream(run.raw);
    assert.deepEqual(report.violations, [], run.raw.slice(-400));
  }
  assert.ok(!/"error"|event: error/.test(run.raw), 'no error reaches the client');
}

export interface HttpFailure {
  status: number;
  /** The error type each client protocol shows. */
  openAiType: string;
  anthropicType: string;
  /** OpenAI's `code`: the upstream's own code, else Sluice's. */
  openAiCode: string;
  retryAfter?: string;
}

/** Sluice answered with a real HTTP status and an error body in the client's protocol; the SDK threw its status class. */
export function assertHttpFailure(run: SdkRun, ingress: Ingress, expected: HttpFailure): void {
  assert.equal(run.status, expected.status, `HTTP ${expected.status}: ${run.raw.slice(0, 300)}`);
  const error = run.error;
  if (ingress === 'openai') {
    assert.ok(error instanceof OpenAI.APIError, `an OpenAI APIError: ${String(error)}`);
    assert.ok(!(error instanceof OpenAI.APIConnectionError), `Sluice answered, so not a connection error: ${String(error)}`);
    if (expected.status === 429) assert.ok(error instanceof OpenAI.RateLimitError, String(error));
    if (expected.status >= 500) assert.ok(error instanceof OpenAI.InternalServerError, String(error));
    assert.equal(error.status, expected.status);
    assert.equal(error.type, expected.openAiType);
    assert.equal(error.code, expected.openAiCode);
    if (expected.retryAfter !== undefined) assert.equal(error.headers?.get('retry-after'), expected.retryAfter);
    const body = JSON.parse(run.raw) as { error: Record<string, unknown> };
    assert.deepEqual(Object.keys(body), ['error']);
    assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
    assert.equal(typeof body.error.message, 'string');
  } else {
    assert.ok(error instanceof Anthropic.APIError, `an Anthropic APIError: ${String(error)}`);
    assert.ok(!(error instanceof Anthropic.APIConnectionError), `Sluice answered, so not a connection error: ${String(error)}`);
    if (expected.status === 429) assert.ok(error instanceof Anthropic.RateLimitError, String(error));
    if (expected.status === 504) assert.ok(error instanceof Anthropic.GatewayTimeoutError, String(error));
    if (expected.status === 529) assert.ok(error instanceof Anthropic.OverloadedError, String(error));
    if (expected.status >= 500) assert.ok(error instanceof Anthropic.InternalServerError, String(error));
    assert.equal(error.status, expected.status);
    assert.equal(error.type, expected.anthropicType);
    if (expected.retryAfter !== undefined) assert.equal(error.headers?.get('retry-after'), expected.retryAfter);
    const body = JSON.parse(run.raw) as Record<string, unknown>;
    assert.deepEqual(body, { type: 'error', error: { type: expected.anthropicType, message: (body.error as { message: string }).message }, request_id: run.requestId });
  }
  assert.equal(run.text, '');
}

/**
 * The stream had started: the client got `textBefore`, then an in-stream error in its protocol,
 * never [DONE] or message_stop, and the SDK threw instead of returning a truncated answer.
 */
export function assertInStreamFailure(run: SdkRun, ingress: Ingress, textBefore: string): { type: unknown } {
  assert.equal(run.status, 200, 'the stream had started');
  assert.equal(run.text, textBefore, 'what came before the failure reached the client');
  if (ingress === 'openai') {
    assert.ok(run.error instanceof OpenAI.APIError, `the SDK throws an APIError, not a truncated success: ${String(run.error)}`);
    assert.equal(run.error.status, undefined, 'an in-stream error');
    const report = checkOpenAiStream(run.raw, { includeUsage: true, expectError: true });
    assert.deepEqual(report.violations, [], run.raw.slice(-400));
    assert.ok(!run.raw.includes('[DONE]'), 'a broken stream never ends with [DONE]');
    const last = run.raw.trimEnd().split('\n\n').at(-1) ?? '';
    assert.match(last, /^data: \{"error":\{/, 'the error frame is the last event');
    return { type: (report.errorFrame?.error as { type?: unknown } | undefined)?.type };
  }
  assert.ok(run.error instanceof Anthropic.APIError, `the SDK throws an APIError, not a truncated success: ${String(run.error)}`);
  assert.equal(run.error.status, undefined, 'an in-stream error');
  const report = checkAnthropicStream(run.raw, { expectError: true });
  // A stream that failed before any content may carry nothing but keep-alives and the error.
  const violations = textBefore === '' ? report.violations.filter((v) => v !== 'no message_start') : report.violations;
  assert.deepEqual(violations, [], run.raw.slice(-400));
  assert.ok(!run.raw.includes('message_stop'), 'a broken stream never ends with message_stop');
  assert.ok(run.raw.trimEnd().split('\n\n').at(-1)?.startsWith('event: error\n'), 'the error event is the last event');
  return { type: (report.errorEvent?.error as { type?: unknown } | undefined)?.type };
}

// ---------------------------------------------------------------------------------------------
// Ledger rows
// ---------------------------------------------------------------------------------------------

export interface ExpectedSettlement {
  outcome: UsageRow['outcome'];
  status: number;
  errorCode: string | null;
  /** Route index whose provider the row names. */
  route: number;
  attempts: number;
  usage: ExpectedUsage;
}

export type ExpectedUsage =
  /** Nothing reported, nothing generated. */
  | { kind: 'none' }
  /** The upstream's own counts. */
  | { kind: 'reported'; tokens: Tokens }
  /** Output counted from `text` with a tokenizer; the prompt reported (`input`) or estimated (undefined). */
  | { kind: 'estimated'; text: string; input: number | undefined };

/** Checks a request's row and record against the expectation; the cost follows the billing policy. */
export function assertSettlement(row: UsageRow, record: RequestRecord, expected: ExpectedSettlement): void {
  const context = JSON.stringify(row);
  assert.equal(row.outcome, expected.outcome, context);
  assert.equal(row.status, expected.status, context);
  assert.equal(row.errorCode, expected.errorCode, context);
  assert.equal(row.provider, `r${expected.route}`, context);
  assert.equal(row.upstreamModel, `up-${expected.route}`, context);
  assert.equal(record.attempts, expected.attempts, `attempts: ${context}`);
  assert.equal(record.route, `r${expected.route}/up-${expected.route}`);
  assert.equal(row.cacheReadTokens + row.cacheWriteTokens + row.reasoningTokens, 0, context);
  const usage = expected.usage;
  if (usage.kind === 'none') {
    assert.deepEqual([row.usageSource, row.inputTokens, row.outputTokens, row.costNanoUsd], ['none', 0, 0, 0], context);
    return;
  }
  if (usage.kind === 'reported') {
    assert.equal(row.usageSource, 'reported', context);
    assert.deepEqual([row.inputTokens, row.outputTokens], [usage.tokens.input, usage.tokens.output], context);
    // A failure with no output costs nothing, whatever the upstream reported (README billing policy).
    const billed = expected.outcome === 'ok' || usage.tokens.output > 0;
    assert.equal(row.costNanoUsd, billed ? expectedCost(usage.tokens) : 0, context);
    return;
  }
  assert.equal(row.usageSource, 'estimated', context);
  assert.equal(row.outputTokens, tokensOf(usage.text), `output counted from the relayed text: ${context}`);
  if (usage.input === undefined) {
    // Sluice's tokenizer count of the prompt plus a few tokens of chat markup per message.
    const floor = tokensOf(prompt);
    assert.ok(row.inputTokens >= floor && row.inputTokens <= floor + 8, `estimated prompt ${row.inputTokens} for ${floor} tokens of text`);
  } else assert.equal(row.inputTokens, usage.input, context);
  const tokens: Tokens = { input: row.inputTokens, cacheRead: 0, cacheWrite: 0, output: row.outputTokens };
  assert.ok(row.outputTokens > 0 && row.costNanoUsd === expectedCost(tokens), `billed for what was generated, prompt included: ${context}`);
}
