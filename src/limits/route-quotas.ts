import type { BucketTake, Limiter } from './limiter.js';
import { MINUTE_MS } from './token-bucket.js';

/** An upstream deployment's quota, from a config route object (`{route: "prov/model", rpm, tpm}`). */
export interface RouteLimits {
  rpm?: number;
  tpm?: number;
}

/** The shape of gateway/route-quota.ts's RouteQuotaResult (limits may not import the gateway). */
export type RouteTake = { ok: true; settle(actualTokens: number): void } | { ok: false; retryAfterMs: number };

const unlimited: RouteTake = { ok: true, settle: () => {} };

/**
 * Per-route quotas over a limiter (memory, or Redis behind the outage policy, so instances share a
 * deployment's quota). The routing loop takes before each attempt at a route and settles with the
 * tokens the attempt really used; a route over quota is skipped until `retryAfterMs`.
 */
export class RouteQuotas {
  constructor(
    private readonly limiter: Limiter,
    private readonly limits: ReadonlyMap<string, RouteLimits>,
  ) {}

  /** Rejects with a GatewayError (limits_unavailable) only under `redis_outage: closed`. */
  async take(route: string, tokens: number): Promise<RouteTake> {
    const limits = this.limits.get(route);
    const buckets: BucketTake[] = [];
    if (limits?.rpm !== undefined) buckets.push({ key: `route:${route}:rpm`, perMinute: limits.rpm, amount: 1 });
    if (limits?.tpm !== undefined) {
      // More than a whole minute's tokens can never fit this deployment: skip it for the longest
      // wait a client honours, so another route (or a later request) gets the chance.
      if (tokens > limits.tpm) return { ok: false, retryAfterMs: MINUTE_MS };
      buckets.push({ key: `route:${route}:tpm`, perMinute: limits.tpm, amount: tokens });
    }
    if (buckets.length === 0) return unlimited;
    const result = await this.limiter.take({ buckets });
    if (!result.ok) return { ok: false, retryAfterMs: Math.min(MINUTE_MS, result.retryAfterMs) };
    const { grant } = result;
    const perBucket = buckets.map((b) => b.key.endsWith(':rpm'));
    return { ok: true, settle: (actualTokens) => grant.finish(perBucket.map((isRequests) => (isRequests ? 1 : Math.max(0, Math.round(actualTokens))))) };
  }
}

/** Route label -> quota, from the config's route objects (`{route, rpm, tpm}`). A deployment named
 *  by several models has one quota: the first one given. */
export function routeLimitsFrom(models: Record<string, { routes: ReadonlyArray<string | { route: string; rpm?: number | undefined; tpm?: number | undefined }> }>): Map<string, RouteLimits> {
  const limits = new Map<string, RouteLimits>();
  for (const model of Object.values(models)) {
    for (const entry of model.routes) {
      if (typeof entry === 'string' || limits.has(entry.route) || (entry.rpm === undefined && entry.tpm === undefined)) continue;
      limits.set(entry.route, { ...(entry.rpm === undefined ? {} : { rpm: entry.rpm }), ...(entry.tpm === undefined ? {} : { tpm: entry.tpm }) });
    }
  }
  return limits;
}
