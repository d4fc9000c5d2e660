import type { UpstreamTarget } from '../protocols/codec.js';
import { createTransport, lowerCaseKeys } from './transport.js';
import type { Provider, Transport, UpstreamCall, UpstreamResponse, UpstreamTimeouts } from './provider.js';

export interface AnthropicOptions {
  name: string;
  /** e.g. https://api.anthropic.com (with or without a trailing /v1). */
  baseUrl: string;
  apiKey: string | undefined;
  headers: Record<string, string>;
  /** The `anthropic-version` Sluice speaks to the upstream (its codec knows this version's events). */
  anthropicVersion: string;
  /** max_tokens for translated requests whose client gave none (the Messages API requires it). */
  defaultMaxTokens: number;
  maxConnections: number;
  timeouts: UpstreamTimeouts;
  userAgent: string;
}

/** Anthropic's Messages API: `x-api-key` and `anthropic-version` headers, POST /v1/messages. */
export class AnthropicProvider implements Provider {
  readonly protocol = 'anthropic-messages' as const;
  readonly name: string;
  readonly timeouts: UpstreamTimeouts;
  private readonly transport: Transport;
  private readonly headers: Record<string, string>;
  private readonly messagesPath: string;
  private readonly defaultMaxTokens: number;

  constructor(options: AnthropicOptions) {
    this.name = options.name;
    this.timeouts = options.timeouts;
    this.defaultMaxTokens = options.defaultMaxTokens;
    this.transport = createTransport(options.baseUrl, options.maxConnections, options.timeouts.connectMs);
    // The SDKs take the origin without /v1; operators copying an OpenAI-style URL may add it.
    this.messagesPath = options.baseUrl.endsWith('/v1') ? '/messages' : '/v1/messages';
    this.headers = {
      'content-type': 'application/json',
      'user-agent': options.userAgent,
      'anthropic-version': options.anthropicVersion,
      ...(options.apiKey ? { 'x-api-key': options.apiKey } : {}),
      ...lowerCaseKeys(options.headers),
    };
  }

  target(model: string): UpstreamTarget {
    return { model, defaultMaxTokens: this.defaultMaxTokens };
  }

  send(call: UpstreamCall): Promise<UpstreamResponse> {
    return this.post(this.messagesPath, call);
  }

  /** POST /v1/messages/count_tokens: the upstream's own count for Anthropic routes. */
  countTokens(call: UpstreamCall): Promise<UpstreamResponse> {
    return this.post(`${this.messagesPath}/count_tokens`, call);
  }

  private post(path: string, call: UpstreamCall): Promise<UpstreamResponse> {
    const headers = {
      ...this.headers,
      ...call.forwardHeaders,
      accept: call.stream ? 'text/event-stream' : 'application/json',
    };
    return this.transport.post(path, headers, call.body, call.signal);
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
