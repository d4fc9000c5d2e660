/** Shared set-up of the key tests: an OpenAI and an Anthropic upstream, a config with an admin key, admin API calls. */
import assert from 'node:assert/strict';
import { startScriptedAnthropic } from './scripted-anthropic.js';
import { upstreamKeys } from './scenarios.js';
import { startScriptedOpenAi } from './scripted-openai.js';
import type { ScriptedUpstream } from './scripted-upstream.js';

export const adminKey = 'admin-key-for-key-tests-0123456789';
export const configKey = 'sk-config-key-for-tests';

export interface KeyUpstreams {
  openai: ScriptedUpstream;
  anthropic: ScriptedUpstream;
  /** A config with models `gpt` (OpenAI upstream) and `claude` (Anthropic upstream). */
  config(extra?: string): string;
  close(): Promise<void>;
}

export async function startKeyUpstreams(): Promise<KeyUpstreams> {
  const openai = await startScriptedOpenAi();
  const anthropic = await startScriptedAnthropic();
  return {
    openai,
    anthropic,
    config: (extra = '') => `host: 127.0.0.1
port: 0
providers:
  oai:
    kind: openai
    base_url: ${openai.baseUrl}
    api_key: ${upstreamKeys.openai}
  ant:
    kind: anthropic
    base_url: ${anthropic.baseUrl.replace(/\/v1$/, '')}
    api_key: ${upstreamKeys.anthropic}
models:
  gpt:
    routes: [oai/gpt-4o-mini]
  claude:
    routes: [ant/claude-x]
${extra}`,
    close: async () => {
      await Promise.all([openai.close(), anthropic.close()]);
    },
  };
}

export interface AdminCall {
  status: number;
  body: Record<string, unknown>;
}

/** One admin API call; `auth` defaults to the admin key, null sends no Authorization. */
export async function admin(url: string, method: string, path: string, body?: unknown, auth: string | null = adminKey): Promise<AdminCall> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (auth !== null) headers.authorization = `Bearer ${auth}`;
  const response = await fetch(`${url}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Creates a stored key through the admin API; returns its id and the secret. */
export async function createKey(url: string, body: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const created = await admin(url, 'POST', '/admin/keys', body);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const { id, secret } = created.body;
  assert.ok(typeof id === 'string' && typeof secret === 'string');
  return { id, secret };
}
