/**
 * Upstreams for the routing tests: each answers its requests from a queue of scripted acts (an
 * HTTP error with chosen headers, a refused connection, a slow stream...) in its own protocol,
 * OpenAI Chat Completions or Anthropic Messages, and then answers normally. Sluice is configured
 * with one provider per upstream and one model `m` routed across them.
 */
import type { TestContext } from 'node:test';
import type { ServerResponse } from 'node:http';
import { chunk, usageChunk } from './chunks.js';
import { anthropicFrame, anthropicSseHeaders } from './scripted-anthropic.js';
import { sleep, sseHeaders, startScriptedUpstream, type ScriptedUpstream, type UpstreamRequest } from './scripted-upstream.js';
import { clientKey, startSluice, type TestSluice } from './sluice.js';

export type Protocol = 'openai' | 'anthropic';

/** What an upstream does with one request. */
export type Act =
  | 'ok'
  | { status: number; headers?: Record<string, string>; delayMs?: number }
  | 'refuse'
  /** Streams: one chunk every `everyMs` for as long as the connection lasts. */
  | { trickleEveryMs: number };

export interface RoutingUpstream {
  upstream: ScriptedUpstream;
  /** Acts for the next requests, in order; after them, 'ok'. */
  acts: Act[];
  /** Requests received, in order. */
  readonly calls: number;
  /** The base URL Sluice is configured with. */
  baseUrl: string;
}

const text = ['Hello', ' from', ' upstream'];

/** Starts an upstream speaking `protocol` whose answers name it (`tag`). */
export async function startRoutingUpstream(t: TestContext, protocol: Protocol, tag: string): Promise<RoutingUpstream> {
  const acts: Act[] = [];
  const upstream = await startScriptedUpstream(async (request, res) => {
    const act = acts.shift() ?? 'ok';
    const stream = request.body.stream === true;
    if (act === 'refuse') return void res.socket?.destroy();
    if (act === 'ok') return protocol === 'openai' ? openAiAnswer(res, stream, tag) : anthropicAnswer(res, stream, tag);
    if ('trickleEveryMs' in act) return trickle(request, res, protocol, act.trickleEveryMs);
    if (act.delayMs) await sleep(act.delayMs);
    sendError(res, protocol, act.status, act.headers ?? {});
  });
  t.after(() => upstream.close());
  const baseUrl = protocol === 'openai' ? upstream.baseUrl : upstream.baseUrl.replace(/\/v1$/, '');
  return {
    upstream,
    acts,
    get calls() {
      return upstream.requests.length;
    },
    baseUrl,
  };
}

/** The text every successful answer carries, tagged with the upstream that gave it. */
export function answerText(tag: string): string {
  return `${text.join('')} ${tag}`;
}

/** The error type each vendor puts in its body for a status: [OpenAI, Anthropic]. */
const errorTypes: Record<number, [string, string]> = {
  400: ['invalid_request_error', 'invalid_request_error'],
  401: ['invalid_request_error', 'authentication_error'],
  429: ['requests', 'rate_limit_error'],
  529: ['server_error', 'overloaded_error'],
};

function sendError(res: ServerResponse, protocol: Protocol, status: number, headers: Record<string, string>): void {
  const message = `scripted ${status}`;
  const [openAiType, anthropicType] = errorTypes[status] ?? ['server_error', 'api_error'];
  const body = protocol === 'openai'
    ? { error: { message, type: openAiType, param: null, code: null } }
    : { type: 'error', error: { type: anthropicType, message }, request_id: 'req_routing' };
  const textBody = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(textBody)), ...headers });
  res.end(textBody);
}

function openAiAnswer(res: ServerResponse, stream: boolean, tag: string): void {
  const words = [...text, ` ${tag}`];
  if (!stream) {
    const body = JSON.stringify({
      id: `chatcmpl-${tag}`, object: 'chat.completion', created: 1_700_000_000, model: 'up',
      choices: [{ index: 0, message: { role: 'assistant', content: words.join('') }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 10, completion_tokens: words.length, total_tokens: 10 + words.length },
    });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
    return void res.end(body);
  }
  res.writeHead(200, sseHeaders);
  const frames: (Record<string, unknown> | string)[] = [chunk({ role: 'assistant', content: '' }, null, { id: `chatcmpl-${tag}` })];
  for (const word of words) frames.push(chunk({ content: word }, null, { id: `chatcmpl-${tag}` }));
  frames.push(chunk({}, 'stop', { id: `chatcmpl-${tag}` }), usageChunk(10, words.length, { id: `chatcmpl-${tag}` }), '[DONE]');
  res.end(frames.map((f) => `data: ${typeof f === 'string' ? f : JSON.stringify(f)}\n\n`).join(''));
}

function anthropicMessageStart(tag: string): string {
  return anthropicFrame({
    type: 'message_start',
    message: { id: `msg_${tag}`, type: 'message', role: 'assistant', model: 'up', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 10, output_tokens: 1 } },
  });
}

function anthropicAnswer(res: ServerResponse, stream: boolean, tag: string): void {
  const words = [...text, ` ${tag}`];
  if (!stream) {
    const body = JSON.stringify({
      id: `msg_${tag}`, type: 'message', role: 'assistant', model: 'up', content: [{ type: 'text', text: words.join('') }],
      stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 10, output_tokens: words.length },
    });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
    return void res.end(body);
  }
  res.writeHead(200, anthropicSseHeaders);
  const frames = [
    anthropicMessageStart(tag),
    anthropicFrame({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    ...words.map((word) => anthropicFrame({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: word } })),
    anthropicFrame({ type: 'content_block_stop', index: 0 }),
    anthropicFrame({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: words.length } }),
    anthropicFrame({ type: 'message_stop' }),
  ];
  res.end(frames.join(''));
}

/** A stream that never finishes: a content chunk every `everyMs` until the connection closes. */
async function trickle(request: UpstreamRequest, res: ServerResponse, protocol: Protocol, everyMs: number): Promise<void> {
  let open = true;
  void request.closed.then(() => (open = false));
  if (protocol === 'openai') {
    res.writeHead(200, sseHeaders);
    res.write(`data: ${JSON.stringify(chunk({ role: 'assistant', content: '' }))}\n\n`);
  } else {
    res.writeHead(200, anthropicSseHeaders);
    res.write(anthropicMessageStart('trickle'));
    res.write(anthropicFrame({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }));
  }
  while (open && !res.destroyed) {
    res.write(protocol === 'openai'
      ? `data: ${JSON.stringify(chunk({ content: 'tick ' }))}\n\n`
      : anthropicFrame({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'tick ' } }));
    await sleep(everyMs);
  }
}

/** Sluice with one provider per upstream (all of `protocol`) and model `m` routed across them in order. */
export async function sluiceFor(t: TestContext, protocol: Protocol, upstreams: RoutingUpstream[], yaml: { routes?: string[]; strategy?: string; extra?: string } = {}): Promise<TestSluice> {
  const providers = upstreams
    .map((u, i) => `  r${i}:\n    kind: ${protocol}\n    base_url: ${u.baseUrl}\n    api_key: sk-up-${i}\n`)
    .join('');
  const routes = yaml.routes ?? upstreams.map((_, i) => `      - r${i}/up-${i}\n`);
  const config = `host: 127.0.0.1\nport: 0\nproviders:\n${providers}models:\n  m:\n${yaml.strategy ? `    strategy: ${yaml.strategy}\n` : ''}    routes:\n${routes.join('')}keys:\n  - name: test\n    key: ${clientKey}\n${yaml.extra ?? ''}`;
  const sluice = await startSluice(config);
  t.after(() => sluice.close(50));
  return sluice;
}
