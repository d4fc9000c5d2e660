import { Pool } from 'undici';
import type { Provider, UpstreamCall, UpstreamResponse } from './provider.js';

export interface OpenAiCompatibleOptions {
  name: string;
  baseUrl: string;
  apiKey: string | undefined;
  headers: Record<string, string>;
  sendStreamOptions: boolean;
  maxConnections: number;
  userAgent: string;
}

/**
 * Any OpenAI-compatible server: OpenAI, DeepSeek, OpenRouter, Groq, vLLM, Ollama, llama.cpp...
 * Vendors differ only by configuration and named quirk flags, never by code paths keyed on a name.
 * One keep-alive connection pool per provider; Nagle is off on its sockets (undici's default).
 */
export class OpenAiCompatibleProvider implements Provider {
  readonly protocol = 'openai-chat' as const;
  readonly name: string;
  readonly sendStreamOptions: boolean;
  private readonly pool: Pool;
  private readonly path: string;
  private readonly headers: Record<string, string>;

  constructor(options: OpenAiCompatibleOptions) {
    const url = new URL(options.baseUrl);
    this.name = options.name;
    this.sendStreamOptions = options.sendStreamOptions;
    this.path = `${url.pathname.replace(/\/+$/, '')}/chat/completions${url.search}`;
    this.pool = new Pool(url.origin, {
      connections: options.maxConnections,
      keepAliveTimeout: 30_000,
      connect: { timeout: 10_000 },
    });
    this.headers = {
      'content-type': 'application/json',
      'user-agent': options.userAgent,
      ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
      ...lowerCaseKeys(options.headers),
    };
  }

  async chatCompletions(call: UpstreamCall): Promise<UpstreamResponse> {
    const response = await this.pool.request({
      method: 'POST',
      path: this.path,
      headers: { ...this.headers, accept: call.stream ? 'text/event-stream' : 'application/json' },
      body: call.body,
      signal: call.signal,
    });
    return { status: response.statusCode, headers: response.headers, body: response.body };
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) out[key.toLowerCase()] = value;
  return out;
}
