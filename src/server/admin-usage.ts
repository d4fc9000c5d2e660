import { GatewayError } from '../core/gateway-error.js';
import type { Gateway } from '../gateway/gateway.js';
import { parseUsageQuery } from '../gateway/usage-report.js';
import { adminHandler } from './admin-routes.js';
import type { RouteSpec } from './http-server.js';

/**
 * GET /admin/usage?from&to&key&model&group_by: the ledger's totals as JSON, for the admin key only
 * (adminHandler checks it in constant time). A bad parameter is a 400 that names it. Registered,
 * like /admin/keys, only when the config has an admin_key.
 */
export function adminUsageRoutes(gateway: Gateway): RouteSpec[] {
  if (!gateway.adminAuth.enabled) return [];
  const usage = adminHandler(gateway, async (ctx) => {
    const query = parseUsageQuery(new URL(ctx.req.url ?? '/', 'http://sluice.invalid').searchParams);
    const report = await gateway.usageReport(query);
    if (report === undefined) throw new GatewayError('internal_error', 'Usage reporting needs a store, and this gateway runs without one.');
    return { status: 200, body: report };
  });
  return [{ pattern: /^\/admin\/usage\/?$/, methods: { GET: usage } }];
}
