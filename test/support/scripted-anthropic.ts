/**
 * A scripted Anthropic Messages upstream on loopback, answering in Anthropic's exact wire format
 * (shared/reference/wire-formats.md section 3): `event: <type>` + `data: <json>` frames,
 * message_start with usage, content blocks with text_delta / input_json_delta (arguments in
 * fragments) / thinking_delta + signature_delta, pings, message_delta with stop_reason and usage,
 * message_stop; `{"type":"error",...}` bodies with a `request-id` header; in-band `event: error`.
 * Like the real API it refuses a request without max_tokens or messages (400) and one without
 * the right x-api-key (401).
 */
import type { ServerResponse } from 'node:http';
import { writeInPieces } from './write-pieces.js';
import { startScriptedUpstream, sleep, type ScriptedUpstream, type UpstreamRequest, type UpstreamScript } from './scripted-upstream.js';
import {
  anthropicSignature, expressibleUsage, fragments, scenarioByModel, upstreamKeys,
  type ContentScenario, type HttpErrorScenario, type StreamErrorScenario,
} from './scenarios.js';

export interface ScriptedAnthropic extends ScriptedUpstream {
  /** The base URL Sluice is configured with: the origin, without /v1 (as the SDKs take it). */
  origin: string;
}

export const anthropicSseHeaders = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': 'req_01ScriptedStream' };

/** One Anthropic SSE event: the event name is always the JSON type. */
export function anthropicFrame(payload: { type: string } & Record<string, unknown>): string {
  return `event: ${payload.type}\ndata: ${JSON.stringify(payload)}\n\n`;
}

/** Anthropic's own ping, byte for byte (with the space after the colon). */
export const anthropicPing = 'event: ping\ndata: {"type": "ping"}\n\n';

export function anthropicErrorBody(type: string, message: string): Record<string, unknown> {
  return { type: 'error', error: { type, message }, request_id: 'req_01ScriptedError' };
}

const typeByStatus: Record<number, [string, string]> = {
  400: ['invalid_request_error', 'Invalid request'],
  401: ['authentication_error', 'invalid x-api-key'],
  404: ['not_found_error', 'Not found'],
  429: ['rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit'],
  500: ['api_error', 'Internal server error'],
  529: ['overloaded_error', 'Overloaded'],
};

export function sendAnthropicError(res: ServerResponse, status: number, message?: string, extraHeaders: Record<string, string> = {}): void {
  const [type, defaultMessage] = typeByStatus[status] ?? ['api_error', 'Error'];
  const text = JSON.stringify(anthropicErrorBody(type, message ?? defaultMessage));
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    'request-id': 'req_01ScriptedError',
    ...(status === 429 ? { 'retry-after': '7' } : {}),
    ...extraHeaders,
  });
  res.end(text);
}

function usageFields(scenario: ContentScenario): { input_tokens: number; cache_creation_input_tokens: number; cache_read_input_tokens: number } {
  const u = expressibleUsage(scenario.usage, 'anthropic');
  return { input_tokens: u.input - u.cacheRead - u.cacheWrite, cache_creation_input_tokens: u.cacheWrite, cache_read_input_tokens: u.cacheRead };
}

const stopReasons = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use' } as const;

function messageStart(model: string, usage: Record<string, number>): string {
  return anthropicFrame({
    type: 'message_start',
    message: {
      id: 'msg_01ScriptedAnthropic', type: 'message', role: 'assistant', model, content: [],
      stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1, service_tier: 'standard' },
    },
  });
}

/** The frames of a content scenario after message_start, in order. */
export function anthropicContentFrames(scenario: ContentScenario): string[] {
  const frames: string[] = [];
  let index = 0;
  if (scenario.reasoning) {
    frames.push(anthropicFrame({ type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } }));
    frames.push(anthropicPing);
    for (const piece of scenario.reasoning) frames.push(anthropicFrame({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: piece } }));
    // Real streams send an empty thinking delta right before the signature.
    frames.push(anthropicFrame({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: '' } }));
    frames.push(anthropicFrame({ type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: anthropicSignature } }));
    frames.push(anthropicFrame({ type: 'content_block_stop', index }));
    index++;
  }
  if (scenario.anthropicRedactedThinking) {
    frames.push(anthropicFrame({ type: 'content_block_start', index, content_block: { type: 'redacted_thinking', data: scenario.anthropicRedactedThinking } }));
    frames.push(anthropicFrame({ type: 'content_block_stop', index }));
    index++;
  }
  if (scenario.text) {
    frames.push(anthropicFrame({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } }));
    if (index === 0) frames.push(anthropicPing);
    for (const piece of scenario.text) frames.push(anthropicFrame({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } }));
    frames.push(anthropicFrame({ type: 'content_block_stop', index }));
    index++;
  }
  for (const tool of scenario.tools ?? []) {
    frames.push(anthropicFrame({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: tool.anthropicId, name: tool.name, input: {} } }));
    frames.push(anthropicFrame({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: '' } }));
    for (const piece of fragments(JSON.stringify(tool.args))) {
      frames.push(anthropicFrame({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } }));
    }
    frames.push(anthropicFrame({ type: 'content_block_stop', index }));
    index++;
  }
  frames.push(anthropicFrame({ type: 'message_delta', delta: { stop_reason: stopReasons[scenario.finish], stop_sequence: null }, usage: { output_tokens: scenario.usage.output } }));
  frames.push(anthropicFrame({ type: 'message_stop' }));
  return frames;
}

/** The non-streamed Message of a content scenario. */
export function anthropicMessage(model: string, scenario: ContentScenario): Record<string, unknown> {
  const content: Record<string, unknown>[] = [];
  if (scenario.reasoning) content.push({ type: 'thinking', thinking: scenario.reasoning.join(''), signature: anthropicSignature });
  if (scenario.anthropicRedactedThinking) content.push({ type: 'redacted_thinking', data: scenario.anthropicRedactedThinking });
  if (scenario.text) content.push({ type: 'text', text: scenario.text.join('') });
  for (const tool of scenario.tools ?? []) content.push({ type: 'tool_use', id: tool.anthropicId, name: tool.name, input: tool.args });
  return {
    id: 'msg_01ScriptedAnthropic', type: 'message', role: 'assistant', model, content,
    stop_reason: stopReasons[scenario.finish], stop_sequence: null,
    usage: { ...usageFields(scenario), output_tokens: scenario.usage.output, service_tier: 'standard' },
  };
}

/** Each frame arrives in pieces (see write-pieces.ts). */
const write = writeInPieces;

async function streamContent(request: UpstreamRequest, res: ServerResponse, model: string, scenario: ContentScenario): Promise<void> {
  res.writeHead(200, anthropicSseHeaders);
  await write(res, messageStart(model, usageFields(scenario)));
  if (scenario.firstTokenDelayMs) {
    await write(res, anthropicPing);
    await Promise.race([sleep(scenario.firstTokenDelayMs), request.closed]);
  }
  // One frame per write, so Sluice sees the stream as it would arrive from the network.
  for (const frame of anthropicContentFrames(scenario)) await write(res, frame);
  res.end();
}

async function streamError(res: ServerResponse, model: string, scenario: StreamErrorScenario): Promise<void> {
  res.writeHead(200, anthropicSseHeaders);
  await write(res, messageStart(model, { input_tokens: 11, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 }));
  if (scenario.textBefore.length > 0) {
    await write(res, anthropicFrame({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }));
    for (const piece of scenario.textBefore) await write(res, anthropicFrame({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } }));
    await write(res, anthropicFrame({ type: 'error', error: { type: 'api_error', message: 'Internal server error' } }));
  } else {
    await write(res, anthropicPing);
    await write(res, anthropicFrame({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
  }
  res.end();
}

/** Like the real API: 401 without the key, 404 off the Messages paths, 400 for a malformed body. */
function refusal(request: UpstreamRequest): { status: number; message: string } | undefined {
  const path = request.path.split('?')[0];
  if (request.method !== 'POST' || (path !== '/v1/messages' && path !== '/v1/messages/count_tokens')) return { status: 404, message: `Not found: ${request.method} ${request.path}` };
  if (request.headers['x-api-key'] !== upstreamKeys.anthropic) return { status: 401, message: 'invalid x-api-key' };
  if (typeof request.headers['anthropic-version'] !== 'string') return { status: 400, message: 'anthropic-version: header is required' };
  const body = request.body;
  if ('unparsable' in body) return { status: 400, message: 'There was an issue with the JSON body' };
  if (typeof body.model !== 'string') return { status: 400, message: 'model: Field required' };
  if (!Array.isArray(body.messages) || body.messages.length === 0) return { status: 400, message: 'messages: Field required' };
  if (path === '/v1/messages' && !Number.isInteger(body.max_tokens)) return { status: 400, message: 'max_tokens: Field required' };
  for (const [i, message] of (body.messages as Record<string, unknown>[]).entries()) {
    if (message.role !== 'user' && message.role !== 'assistant') return { status: 400, message: `messages.${i}.role: Input should be 'user' or 'assistant'` };
  }
  return undefined;
}

/** Answers every request with the scenario its model names (unknown names: the text scenario). */
export function anthropicScript(): UpstreamScript {
  return async (request, res) => {
    const refused = refusal(request);
    if (refused) return sendAnthropicError(res, refused.status, refused.message);
    if (request.path.startsWith('/v1/messages/count_tokens')) {
      const text = JSON.stringify({ input_tokens: 42 });
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_01Count' });
      return void res.end(text);
    }
    const model = String(request.body.model);
    const { scenario } = scenarioByModel(model) ?? scenarioByModel('text')!;
    const stream = request.body.stream === true;
    if (scenario.kind === 'http-error') return sendAnthropicError(res, (scenario as HttpErrorScenario).status);
    if (scenario.kind === 'stream-error') {
      if (!stream) return sendAnthropicError(res, 500);
      return streamError(res, model, scenario);
    }
    if (stream) return streamContent(request, res, model, scenario);
    const text = JSON.stringify(anthropicMessage(model, scenario));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), 'request-id': 'req_01ScriptedUnary' });
    res.end(text);
  };
}

export async function startScriptedAnthropic(script: UpstreamScript = anthropicScript()): Promise<ScriptedAnthropic> {
  const upstream = await startScriptedUpstream(script);
  return Object.assign(upstream, { origin: upstream.baseUrl.replace(/\/v1$/, '') });
}
