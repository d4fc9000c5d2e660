import { GatewayError } from '../core/gateway-error.js';
import { readGeminiError } from '../protocols/gemini/errors.js';
import { readUpstreamError } from '../protocols/openai-chat/errors.js';
import type { UpstreamResponse } from '../providers/provider.js';
import { readText } from './upstream-body.js';

/** Enough of an error body to quote; the rest is dropped so a huge error page cannot fill memory. */
const maxErrorBodyBytes = 64 * 1024;

/**
 * An upstream's non-2xx answer as a GatewayError that keeps the upstream's status, its error type
 * and code, its `retry-after`, and says which route failed.
 */
export async function upstreamHttpError(response: UpstreamResponse, route: string): Promise<GatewayError> {
  const text = await readBounded(response, maxErrorBodyBytes);
  let details;
  let payload: unknown;
  try {
    payload = JSON.parse(text);
    details = readUpstreamError(payload);
  } catch {
    details = undefined;
  }
  // Gemini says when to retry in the body (google.rpc.RetryInfo), not in a header.
  const retryAfter = header(response, 'retry-after') ?? secondsString(readGeminiError(payload)?.retryAfterSeconds);
  const quoted = details?.message ?? (text.trim().slice(0, 500) || '(empty body)');
  return new GatewayError('upstream_http_error', `Upstream ${route} returned HTTP ${response.status}: ${quoted}`, {
    status: response.status,
    route,
    upstreamType: details?.type,
    upstreamCode: details?.code,
    param: details?.param,
    retryAfter,
    retryAfterMs: header(response, 'retry-after-ms'),
  });
}

async function readBounded(response: UpstreamResponse, limit: number): Promise<string> {
  try {
    return (await readText(response.body, limit)).text;
  } catch {
    return ''; // a body cut short still leaves the status to report
  }
}

function header(response: UpstreamResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function secondsString(seconds: number | undefined): string | undefined {
  return seconds === undefined ? undefined : String(seconds);
}
