import type { IncomingHttpHeaders } from 'node:http';

/** Response headers a browser page may read: the request id, and what it needs to back off. */
const exposed = [
  'x-request-id', 'request-id', 'retry-after', 'retry-after-ms',
  'x-ratelimit-limit-requests', 'x-ratelimit-remaining-requests', 'x-ratelimit-reset-requests',
  'x-ratelimit-limit-tokens', 'x-ratelimit-remaining-tokens', 'x-ratelimit-reset-tokens',
].join(', ');

const defaultAllowedHeaders = 'authorization, content-type, x-api-key, anthropic-version, anthropic-beta, x-stainless-retry-count, x-stainless-timeout';

/**
 * CORS so a browser page can call Sluice with fetch and read the stream as it arrives. Keys travel
 * in headers, never cookies, so credentials mode is not needed and "*" is safe as the default.
 */
export class CorsPolicy {
  private readonly any: boolean;
  private readonly origins: Set<string>;

  constructor(allowOrigins: string[]) {
    this.any = allowOrigins.includes('*');
    this.origins = new Set(allowOrigins.map((o) => o.toLowerCase()));
  }

  /** Whether a browser page from `origin` may call Sluice. */
  allows(origin: string): boolean {
    return this.any || this.origins.has(origin.toLowerCase());
  }

  /** Headers for an actual response. */
  headers(origin: string | undefined): Record<string, string> {
    if (this.any) return { 'access-control-allow-origin': '*', 'access-control-expose-headers': exposed };
    if (origin !== undefined && this.origins.has(origin.toLowerCase())) {
      return { 'access-control-allow-origin': origin, 'access-control-expose-headers': exposed, vary: 'origin' };
    }
    return {};
  }

  /** Headers for a preflight (OPTIONS) answer. */
  preflight(request: IncomingHttpHeaders): Record<string, string> {
    const base = this.headers(request.origin);
    if (base['access-control-allow-origin'] === undefined) return base;
    const asked = request['access-control-request-headers'];
    return {
      ...base,
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-allow-headers': typeof asked === 'string' && asked !== '' ? asked : defaultAllowedHeaders,
      'access-control-max-age': '86400',
      vary: 'origin, access-control-request-headers',
    };
  }
}
