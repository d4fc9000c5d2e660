import type { UpstreamTarget } from '../protocols/codec.js';
import { geminiPath } from '../protocols/gemini/gemini-codec.js';
import { createTransport, lowerCaseKeys } from './transport.js';
import type { Provider, Transport, UpstreamCall, UpstreamResponse, UpstreamTimeouts } from './provider.js';

export interface GeminiOptions {
  name: string;
  /** e.g. https://generativelanguage.googleapis.com/v1beta */
  baseUrl: string;
  apiKey: string | undefined;
  headers: Record<string, string>;
  maxConnections: number;
  timeouts: UpstreamTimeouts;
  userAgent: string;
}

/**
 * Google's Gemini API: `models/{model}:streamGenerateContent?alt=sse` (SSE, CRLF-framed, no
 * terminator) and `:generateContent`, authenticated by `x-goog-api-key` (never `?key=`, which
 * would put the secret in URLs and logs).
 */
export class GeminiProvider implements Provider {
  readonly protocol = 'gemini' as const;
  readonly name: string;
  readonly timeouts: UpstreamTimeouts;
  private readonly transport: Transport;
  private readonly headers: Record<string, string>;

  constructor(options: GeminiOptions) {
    this.name = options.name;
    this.timeouts = options.timeouts;
    this.transport = createTransport(options.baseUrl, options.maxConnections, options.timeouts.connectMs);
    this.headers = {
      'content-type': 'application/json',
      'user-agent': options.userAgent,
      ...(options.apiKey ? { 'x-goog-api-key': options.apiKey } : {}),
      ...lowerCaseKeys(options.headers),
    };
  }

  target(model: string): UpstreamTarget {
    return { model };
  }

  send(call: UpstreamCall): Promise<UpstreamResponse> {
    const headers = { ...this.headers, accept: call.stream ? 'text/event-stream' : 'application/json' };
    return this.transport.post(geminiPath(call.model, call.stream), headers, call.body, call.signal);
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
