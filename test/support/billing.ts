/**
 * Shared set-up of the pricing, budget and usage tests: an OpenAI-compatible and an Anthropic
 * upstream that answer non-streamed requests with fixed usage (optionally held at a gate, so a test
 * can keep requests in flight), a config pricing models on both, and the admin API calls to create
 * stored keys.
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { startScriptedUpstream, type ScriptedUpstream } from './scripted-upstream.js';

export const adminKey = 'admin-key-0123456789abcdef';

/** Holds upstream answers while closed; tests open it once every request they expect has arrived. */
export class Gate {
  private waiters: (() => void)[] = [];
  closed = false;

  wait(): Promise<void> {
    return this.closed ? new Promise((resolve) => this.waiters.push(resolve)) : Promise.resolve();
  }

  open(): void {
    this.closed = false;
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}

/** OpenAI usage: 1000 prompt tokens (400 cached), 10 completion tokens. */
export const openAiUsage = { prompt_tokens: 1000, completion_tokens: 10, total_tokens: 1010, prompt_tokens_details: { cached_tokens: 400 } };
/** Anthropic usage: 500 uncached + 400 cache read + 100 cache write = 1000 prompt tokens; 10 output. */
export const anthropicUsage = { input_tokens: 500, cache_read_input_tokens: 400, cache_creation_input_tokens: 100, output_tokens: 10 };

function sendJson(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

export interface BillingUpstreams {
  openai: ScriptedUpstream;
  anthropic: ScriptedUpstream;
  gate: Gate;
  config(extra?: string): string;
  close(): Promise<void>;
}

export async function startBillingUpstreams(): Promise<BillingUpstreams> {
  const gate = new Gate();
  const openai = await startScriptedUpstream(async (request, res) => {
    await gate.wait();
    sendJson(res, {
      id: 'chatcmpl-1', object: 'chat.completion', created: 1_700_000_000, model: String(request.body.model),
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there, friend.' }, finish_reason: 'stop', logprobs: null }],
      usage: openAiUsage,
    });
  });
  const anthropic = await startScriptedUpstream(async (request, res) => {
    await gate.wait();
    sendJson(res, {
      id: 'msg_01', type: 'message', role: 'assistant', model: String(request.body.model),
      content: [{ type: 'text', text: 'Hello there, friend.' }], stop_reason: 'end_turn', stop_sequence: null, usage: anthropicUsage,
    });
  });
  const config = (extra = ''): string => `host: 127.0.0.1
port: 0
admin_key: ${adminKey}
providers:
  oai:
    kind: openai
    base_url: ${openai.baseUrl}
    api_key: sk-upstream-openai
  ant:
    kind: anthropic
    base_url: ${anthropic.baseUrl.replace(/\/v1$/, '')}
    api_key: sk-upstream-anthropic
models:
  gpt-cheap:
    routes: [oai/gpt-4o-mini]
    price: {input: 0.15, output: 0.6, cache_read: 0.075}
  claude-x:
    routes: [ant/claude-x]
    price: {input: 3, output: 15, cache_read: 0.3, cache_write: 3.75}
  metered-openai:
    routes: [oai/metered]
    price: {input: 0, output: 10}
  metered-anthropic:
    routes: [ant/metered]
    price: {input: 0, output: 10}
  free-model:
    routes: [oai/free]
  'odd <b>&"name"':
    routes: [oai/odd]
keys:
  - name: test
    key: sk-test-client-key-1
${extra}`;
  return { openai, anthropic, gate, config, close: async () => void (await Promise.all([openai.close(), anthropic.close()])) };
}

/** Creates a stored key through the admin API; returns its secret. */
export async function createKey(url: string, body: Record<string, unknown>): Promise<string> {
  const response = await fetch(`${url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const created = (await response.json()) as { secret?: string };
  assert.equal(response.status, 201, JSON.stringify(created));
  assert.ok(typeof created.secret === 'string');
  return created.secret;
}

export async function getUsage(url: string, query: string, key = adminKey): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/admin/usage${query}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The ledger is written in batches: polls the report until it counts `requests` rows. */
export async function usageReportWith(url: string, query: string, requests: number): Promise<Record<string, unknown>> {
  let body: Record<string, unknown> = {};
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    ({ body } = await getUsage(url, query));
    if ((body.totals as { requests?: number } | undefined)?.requests === requests) return body;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`usage never reached ${requests} requests: ${JSON.stringify(body)}`);
}
