import { HttpTransport } from './http-transport.js';
import { Http1Transport } from './http1-transport.js';
import type { Transport } from './provider.js';

/** TLS stays on Node's client; plain http (local servers, loopback) gets the leaner pooled reader. */
export function createTransport(baseUrl: string, maxConnections: number, connectTimeoutMs: number): Transport {
  const options = { baseUrl, maxConnections, connectTimeoutMs };
  return baseUrl.startsWith('https:') ? new HttpTransport(options) : new Http1Transport(options);
}

export function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) out[key.toLowerCase()] = value;
  return out;
}
