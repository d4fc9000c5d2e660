/**
 * Sluice in front of a scripted upstream of each kind, for the translation matrix: one public
 * model per scenario (`<scenario>` routed to `up/<scenario>`), the official clients pointed at
 * it. Everything is closed by `t.after`.
 */
import type { TestContext } from 'node:test';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { createAnthropic } from '@ai-sdk/anthropic';
import type { LanguageModel } from 'ai';
import type { ScriptedUpstream, UpstreamScript } from './scripted-upstream.js';
import { startScriptedAnthropic, anthropicScript } from './scripted-anthropic.js';
import { startScriptedGemini, geminiScript } from './scripted-gemini.js';
import { startScriptedOpenAi, openAiScript } from './scripted-openai.js';
import { scenarios, upstreamKeys, type UpstreamKind } from './scenarios.js';
import { startSluice, clientKey, type TestSluice } from './sluice.js';

(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;

export interface KindUpstream {
  kind: UpstreamKind;
  upstream: ScriptedUpstream;
  /** The base_url Sluice is configured with for this kind. */
  baseUrl: string;
}

export const defaultScripts: Record<UpstreamKind, () => UpstreamScript> = {
  openai: openAiScript,
  anthropic: anthropicScript,
  gemini: geminiScript,
};

/** Starts a scripted upstream of this kind (closed after the test). */
export async function startKindUpstream(t: TestContext, kind: UpstreamKind, script: UpstreamScript = defaultScripts[kind]()): Promise<KindUpstream> {
  let upstream: ScriptedUpstream;
  let baseUrl: string;
  if (kind === 'anthropic') {
    const a = await startScriptedAnthropic(script);
    upstream = a;
    baseUrl = a.origin;
  } else if (kind === 'gemini') {
    const g = await startScriptedGemini(script);
    upstream = g;
    baseUrl = g.geminiBase;
  } else {
    upstream = await startScriptedOpenAi(script);
    baseUrl = upstream.baseUrl;
  }
  t.after(() => upstream.close());
  return { kind, upstream, baseUrl };
}

/** A provider entry of sluice.yaml for this kind (Anthropic's default_max_tokens is 1234, to be recognisable). */
export function providerYaml(name: string, kind: UpstreamKind, baseUrl: string): string {
  const extra = kind === 'anthropic' ? '    default_max_tokens: 1234\n' : '';
  return `  ${name}:\n    kind: ${kind}\n    base_url: ${baseUrl}\n    api_key: ${upstreamKeys[kind]}\n${extra}`;
}

export interface ConfigProvider {
  name: string;
  kind: UpstreamKind;
  baseUrl: string;
}

export function matrixConfig(providers: ConfigProvider[], models: Record<string, string[]>, extraYaml = ''): string {
  const p = providers.map((x) => providerYaml(x.name, x.kind, x.baseUrl)).join('');
  const m = Object.entries(models).map(([name, routes]) => `  ${JSON.stringify(name)}:\n    routes: [${routes.join(', ')}]\n`).join('');
  return `host: 127.0.0.1\nport: 0\nproviders:\n${p}models:\n${m}keys:\n  - name: test\n    key: ${clientKey}\n${extraYaml}`;
}

export interface Matrix {
  sluice: TestSluice;
  upstream: ScriptedUpstream;
  kind: UpstreamKind;
  openai: OpenAI;
  anthropic: Anthropic;
  /** Vercel AI SDK models through Sluice, by public model name. */
  aiOpenAi(model: string): LanguageModel;
  aiAnthropic(model: string): LanguageModel;
}

export function clientsFor(sluice: TestSluice): Pick<Matrix, 'openai' | 'anthropic' | 'aiOpenAi' | 'aiAnthropic'> {
  const compat = createOpenAICompatible({ baseURL: sluice.baseURL, apiKey: clientKey, name: 'sluice', includeUsage: true });
  const anthropicProvider = createAnthropic({ baseURL: `${sluice.url}/v1`, apiKey: clientKey });
  return {
    openai: new OpenAI({ baseURL: sluice.baseURL, apiKey: clientKey, maxRetries: 0, timeout: 10_000 }),
    // The Anthropic SDK takes the origin without /v1.
    anthropic: new Anthropic({ baseURL: sluice.url, apiKey: clientKey, maxRetries: 0, timeout: 10_000 }),
    aiOpenAi: (model) => compat.chatModel(model),
    aiAnthropic: (model) => anthropicProvider(model),
  };
}

/** Sluice with one model per scenario, all routed to one scripted upstream of `kind`. */
export async function startMatrix(t: TestContext, kind: UpstreamKind, extraYaml = ''): Promise<Matrix> {
  const { upstream, baseUrl } = await startKindUpstream(t, kind);
  const models = Object.fromEntries(Object.keys(scenarios).map((name) => [name, [`up/${name}`]]));
  const sluice = await startSluice(matrixConfig([{ name: 'up', kind, baseUrl }], models, extraYaml));
  t.after(() => sluice.close(100));
  return { sluice, upstream, kind, ...clientsFor(sluice) };
}
