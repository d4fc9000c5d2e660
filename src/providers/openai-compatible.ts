import type { UpstreamTarget } from '../protocols/codec.js';
import { createTransport, lowerCaseKeys } from './transport.js';
import type { Provider, Transport, UpstreamCall, UpstreamResponse, UpstreamTimeouts } from './provider.js';

export interface OpenAiCompatibleOptions {
  name: string;
  baseUrl: string;
  apiKey: string | undefined;
  headers: Record<string, string>;
  sendStreamOptions: boolean;
  reasoningField: 'reasoning_content' | 'reasoning' | undefined;
  maxTokensField: 'max_tokens' | 'max_completion_tokens';
  maxConnections: number;
  timeouts: UpstreamTimeouts;
  userAgent: string;
}

/**
 * Any OpenAI-compatible server: OpenAI, DeepSeek, OpenRouter, Groq, vLLM, Ollama, llama.cpp...
 * Vendors differ only by configuration and named quirk flags, never by code paths keyed on a name.
 * One keep-alive connection pool per provider, Nagle off.
 */
export class OpenAiCompatibleProvider implements Provider {
  readonly protocol = 'openai-chat' as const;
  readonly name: string;
  readonly sendStreamOptions: boolean;
  readonly reasoningField: 'reasoning_content' | 'reasoning' | undefined;
  readonly maxTokensField: 'max_tokens' | 'max_completion_tokens';
  readonly timeouts: UpstreamTimeouts;
  private readonly transport: Transport;
  /** Request headers for stream and non-stream calls, built once. */
  private readonly streamHeaders: Record<string, string>;
  private readonly jsonHeaders: Record<string, string>;

  constructor(options: OpenAiCompatibleOptions) {
    this.name = options.name;
    this.sendStreamOptions = options.sendStreamOptions;
    this.reasoningField = options.reasoningField;
    this.maxTokensField = options.maxTokensField;
    this.timeouts = options.timeouts;
    this.transport = createTransport(options.baseUrl, options.maxConnections, options.timeouts.connectMs);
    const headers = {
      'content-type': 'application/json',
      'user-agent': options.userAgent,
      ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
      ...lowerCaseKeys(options.headers),
    };
    this.streamHeaders = { ...headers, accept: 'text/event-stream' };
    this.jsonHeaders = { ...headers, accept: 'application/json' };
  }

  target(model: string): UpstreamTarget {
    return { model, sendStreamOptions: this.sendStreamOptions, reasoningField: this.reasoningField, maxTokensField: this.maxTokensField };
  }

  async send(call: UpstreamCall): Promise<UpstreamResponse> {
    return this.transport.post('/chat/completions', call.stream ? this.streamHeaders : this.jsonHeaders, call.body, call.signal);
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
