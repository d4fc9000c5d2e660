import http from 'node:http';
import https from 'node:https';
import { IncomingBody } from './incoming-body.js';
import type { Transport, UpstreamResponse } from './provider.js';
import type { Cancellation } from '../core/cancellation.js';

export interface HttpTransportOptions {
  baseUrl: string;
  maxConnections: number;
  connectTimeoutMs: number;
}

/**
 * Pooled keep-alive HTTP(S) to one upstream, on Node's own client: it shares the native HTTP
 * parser the server already loaded (undici's WASM parser alone costs ~20 MiB of resident memory),
 * and its response is a plain Readable, so backpressure needs no adapter. Nagle is off.
 */
export class HttpTransport implements Transport {
  private readonly agent: http.Agent;
  private readonly client: typeof http | typeof https;
  private readonly url: URL;

  constructor(private readonly options: HttpTransportOptions) {
    this.url = new URL(options.baseUrl);
    const secure = this.url.protocol === 'https:';
    this.client = secure ? https : http;
    const agentOptions = { keepAlive: true, keepAliveMsecs: 30_000, maxSockets: options.maxConnections, noDelay: true, scheduling: 'lifo' as const };
    this.agent = secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  }

  /**
   * POSTs `body` to `path` (appended to the base URL's path); resolves once response headers
   * arrive. A pooled connection the upstream closed just as it was reused (a keep-alive race,
   * ECONNRESET before any answer) is retried once on a fresh connection, as Node's docs advise.
   */
  async post(path: string, headers: Record<string, string>, body: string, cancellation: Cancellation): Promise<UpstreamResponse> {
    // Node's client takes only a real AbortSignal: made here, off the plain-HTTP hot path.
    const signal = cancellation.signal;
    try {
      return await this.send(path, headers, body, signal);
    } catch (error) {
      if (!(error instanceof StaleConnectionError)) throw error;
      return this.send(path, headers, body, signal);
    }
  }

  private send(path: string, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<UpstreamResponse> {
    return new Promise((resolve, reject) => {
      const request = this.client.request({
        agent: this.agent,
        protocol: this.url.protocol,
        hostname: this.url.hostname.replace(/^\[|\]$/g, ''),
        port: this.url.port,
        path: `${this.url.pathname.replace(/\/+$/, '')}${path}`,
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        signal,
      });
      let connectTimer: NodeJS.Timeout | undefined;
      request.once('socket', (socket) => {
        if (!socket.connecting || this.options.connectTimeoutMs <= 0) return; // pooled: already up
        connectTimer = setTimeout(() => request.destroy(connectTimeout(this.options.connectTimeoutMs)), this.options.connectTimeoutMs);
        socket.once('connect', () => clearTimeout(connectTimer));
      });
      request.once('response', (response) => {
        clearTimeout(connectTimer);
        resolve({ status: response.statusCode ?? 502, headers: response.headers, body: new IncomingBody(response) });
      });
      request.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(connectTimer);
        reject(request.reusedSocket && error.code === 'ECONNRESET' ? new StaleConnectionError(error) : error);
      });
      request.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

class StaleConnectionError extends Error {
  constructor(readonly original: Error) {
    super(original.message);
  }
}

function connectTimeout(ms: number): Error {
  return Object.assign(new Error(`connect timed out after ${ms} ms`), { code: 'ETIMEDOUT' });
}
