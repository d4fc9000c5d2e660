/**
 * The official SDKs as the accounting tests drive them: one call each, returning the request id
 * the client got (x-request-id), what it received, and how it ended. Every call is bounded by a
 * timeout; nothing is retried (maxRetries: 0), so one call is one request and one ledger row.
 */
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import type { TestSluice } from './sluice.js';
import { clientKey, signal } from './ledger.js';

export type ClientProtocol = 'openai' | 'anthropic';

export interface CallOptions {
  stream: boolean;
  /** OpenAI streams: ask for the final usage chunk. */
  includeUsage?: boolean;
  apiKey?: string;
  prompt?: string;
  maxTokens?: number;
  /** Streams: stop reading (the SDK aborts the request) once this much text has arrived. */
  abortAfterText?: string;
}

export interface CallResult {
  requestId: string | null;
  /** HTTP status of the response head. */
  status: number;
  text: string;
  /** Usage as the client saw it (OpenAI usage object, Anthropic usage merged over the stream). */
  usage: Record<string, unknown> | undefined;
  /** The error the SDK threw (HTTP error or in-stream error), if any. */
  error: unknown;
  /** The client stopped reading on purpose. */
  aborted: boolean;
  /** OpenAI streams: whether any chunk carried a non-null usage. */
  sawUsageChunk: boolean;
}

export const defaultPrompt = 'Say hello to my friend.';

export function openAiClient(sluice: TestSluice, apiKey = clientKey): OpenAI {
  return new OpenAI({ baseURL: sluice.baseURL, apiKey, maxRetries: 0 });
}

export function anthropicClient(sluice: TestSluice, apiKey = clientKey): Anthropic {
  return new Anthropic({ baseURL: sluice.url, apiKey, maxRetries: 0 });
}

/** The request id of an SDK error (HTTP errors carry the response headers). */
function errorRequestId(error: unknown): string | null {
  if (error instanceof OpenAI.APIError || error instanceof Anthropic.APIError) return error.headers?.get('x-request-id') ?? null;
  return null;
}

function errorStatus(error: unknown): number {
  if (error instanceof OpenAI.APIError || error instanceof Anthropic.APIError) return error.status ?? 0;
  return 0;
}

export async function callOpenAi(sluice: TestSluice, model: string, options: CallOptions): Promise<CallResult> {
  const client = openAiClient(sluice, options.apiKey);
  const messages = [{ role: 'user' as const, content: options.prompt ?? defaultPrompt }];
  const result: CallResult = { requestId: null, status: 0, text: '', usage: undefined, error: undefined, aborted: false, sawUsageChunk: false };
  const maxTokens = options.maxTokens === undefined ? {} : { max_tokens: options.maxTokens };
  try {
    if (!options.stream) {
      const { data, response, request_id } = await client.chat.completions.create({ model, messages, ...maxTokens }, { signal: signal() }).withResponse();
      result.requestId = response.headers.get('x-request-id');
      result.status = response.status;
      assert.equal(request_id, result.requestId, 'the SDK exposes the same request id');
      result.text = data.choices[0]?.message.content ?? '';
      result.usage = data.usage as unknown as Record<string, unknown>;
      return result;
    }
    const streamOptions = options.includeUsage ? { stream_options: { include_usage: true } } : {};
    const { data: stream, response } = await client.chat.completions
      .create({ model, messages, stream: true, ...streamOptions, ...maxTokens }, { signal: signal() })
      .withResponse();
    result.requestId = response.headers.get('x-request-id');
    result.status = response.status;
    for await (const chunk of stream) {
      if (chunk.usage) {
        result.sawUsageChunk = true;
        result.usage = chunk.usage as unknown as Record<string, unknown>;
      }
      result.text += chunk.choices[0]?.delta.content ?? '';
      if (options.abortAfterText !== undefined && result.text === options.abortAfterText) {
        result.aborted = true;
        break; // ends the iteration: the SDK aborts its request
      }
    }
  } catch (error) {
    result.error = error;
    result.requestId ??= errorRequestId(error);
    if (result.status === 0) result.status = errorStatus(error);
  }
  return result;
}

export async function callAnthropic(sluice: TestSluice, model: string, options: CallOptions): Promise<CallResult> {
  const client = anthropicClient(sluice, options.apiKey);
  const body = { model, max_tokens: options.maxTokens ?? 256, messages: [{ role: 'user' as const, content: options.prompt ?? defaultPrompt }] };
  const result: CallResult = { requestId: null, status: 0, text: '', usage: undefined, error: undefined, aborted: false, sawUsageChunk: false };
  try {
    if (!options.stream) {
      const { data, response, request_id } = await client.messages.create(body, { signal: signal() }).withResponse();
      result.requestId = response.headers.get('x-request-id');
      result.status = response.status;
      assert.equal(request_id, result.requestId, 'the Anthropic SDK reads the same id from request-id');
      result.text = data.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
      result.usage = data.usage as unknown as Record<string, unknown>;
      return result;
    }
    const { data: stream, response } = await client.messages.create({ ...body, stream: true }, { signal: signal() }).withResponse();
    result.requestId = response.headers.get('x-request-id');
    result.status = response.status;
    assert.equal(response.headers.get('request-id'), result.requestId, 'Anthropic clients read request-id');
    for await (const event of stream) {
      if (event.type === 'message_start') result.usage = { ...event.message.usage };
      if (event.type === 'message_delta') {
        const merged: Record<string, unknown> = { ...result.usage };
        for (const [k, v] of Object.entries(event.usage)) if (v !== null && v !== undefined) merged[k] = v;
        result.usage = merged;
      }
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') result.text += event.delta.text;
      if (options.abortAfterText !== undefined && result.text === options.abortAfterText) {
        result.aborted = true;
        break;
      }
    }
  } catch (error) {
    result.error = error;
    result.requestId ??= errorRequestId(error);
    if (result.status === 0) result.status = errorStatus(error);
  }
  return result;
}

export function call(protocol: ClientProtocol, sluice: TestSluice, model: string, options: CallOptions): Promise<CallResult> {
  return protocol === 'openai' ? callOpenAi(sluice, model, options) : callAnthropic(sluice, model, options);
}

/** The call succeeded end to end (no error, not aborted). */
export function assertOk(result: CallResult): void {
  assert.equal(result.error, undefined, `no error: ${String(result.error)}`);
  assert.equal(result.status, 200);
  assert.equal(result.aborted, false);
}
