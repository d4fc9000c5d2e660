/**
 * Per-route quotas (an upstream deployment's requests and tokens per minute), consulted by the
 * routing loop before each attempt at a route. Implemented in memory, or in Redis when several
 * instances share the deployments (src/limits).
 */
export interface RouteQuota {
  /**
   * Takes one request and `tokens` (prompt estimate + max output) from the route's per-minute
   * quotas, atomically. A route without quotas always answers ok.
   */
  take(route: string, tokens: number): Promise<RouteQuotaResult>;
}

export type RouteQuotaResult =
  | {
      ok: true;
      /** Reconciles the reservation with the tokens really used (returns what was not). */
      settle(actualTokens: number): void;
    }
  | {
      ok: false;
      /** When the route's quota admits this request again (<= 60 s). */
      retryAfterMs: number;
    };

/** Routes without quotas. */
export const unlimitedRoutes: RouteQuota = {
  take: async () => ({ ok: true, settle: () => {} }),
};
