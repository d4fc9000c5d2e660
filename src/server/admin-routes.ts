import { GatewayError, toGatewayError } from '../core/gateway-error.js';
import type { Gateway } from '../gateway/gateway.js';
import type { KeyAdmin } from '../gateway/admin-keys.js';
import { parseKeyBody } from '../gateway/key-changes.js';
import { openAiDialect } from '../gateway/openai-dialect.js';
import { parseJsonBody } from '../gateway/parse-json-body.js';
import { respondError } from '../gateway/respond-error.js';
import type { Handler, RequestContext, RouteSpec } from './http-server.js';
import { readBody } from './read-body.js';

/** What an admin endpoint answers: a status and a JSON-serialisable body. */
export interface AdminAnswer {
  status: number;
  body: unknown;
}

/**
 * Wraps an admin endpoint: `Authorization: Bearer <admin_key>` is checked first (client keys never
 * pass), and errors are rendered in OpenAI's shape whatever headers the caller sent.
 */
export function adminHandler(gateway: Gateway, handle: (ctx: RequestContext) => Promise<AdminAnswer>): Handler {
  return async (ctx) => {
    try {
      gateway.adminAuth.check(ctx.req.headers);
      const { status, body } = await handle(ctx);
      ctx.sink.sendJson(status, JSON.stringify(body));
    } catch (error) {
      const failure = toGatewayError(error);
      if (failure.code === 'internal_error') gateway.logger.error('admin request failed', { requestId: ctx.requestId, error });
      respondError(ctx.sink, openAiDialect, failure);
    }
  };
}

/**
 * /admin/keys: list, create, show, update and revoke stored keys. Registered only when the config
 * has an admin_key, so without one every /admin/* URL is a plain 404.
 */
export function adminKeyRoutes(gateway: Gateway): RouteSpec[] {
  if (!gateway.adminAuth.enabled) return [];
  const keys = (): KeyAdmin => {
    if (gateway.keyAdmin === undefined) throw new GatewayError('internal_error', 'Sluice runs without a store, so it has no stored keys.');
    return gateway.keyAdmin;
  };
  const body = async (ctx: RequestContext): Promise<unknown> => parseJsonBody(await readBody(ctx.req, gateway.config.max_request_size));
  const knownModels = gateway.routes.list().map((m) => m.name);
  const id = (ctx: RequestContext): string => keyRef(ctx.params.id ?? '');
  const ok = (value: unknown): AdminAnswer => ({ status: 200, body: value });

  const list = adminHandler(gateway, async () => ok({ object: 'list', data: await keys().list() }));
  const create = adminHandler(gateway, async (ctx) => {
    const changes = parseKeyBody(await body(ctx), { mode: 'create', knownModels, now: Date.now() });
    const { key, secret } = await keys().create(changes);
    gateway.logger.info('key created', { keyId: key.id, keyName: key.name, requestId: ctx.requestId });
    return { status: 201, body: { ...key, secret } };
  });
  const show = adminHandler(gateway, async (ctx) => ok(await keys().get(id(ctx))));
  const update = adminHandler(gateway, async (ctx) => {
    const ref = id(ctx);
    const changes = parseKeyBody(await body(ctx), { mode: 'update', knownModels, now: Date.now() });
    return ok(await keys().update(ref, changes));
  });
  const revoke = adminHandler(gateway, async (ctx) => {
    const key = await keys().revoke(id(ctx));
    gateway.logger.info('key revoked', { keyId: key.id, keyName: key.name, requestId: ctx.requestId });
    return ok(key);
  });

  return [
    { pattern: /^\/admin\/keys\/?$/, methods: { GET: list, POST: create } },
    { pattern: /^\/admin\/keys\/(?<id>[^/]+)\/revoke$/, methods: { POST: revoke } },
    // DELETE revokes too: the row stays, because the usage ledger refers to it.
    { pattern: /^\/admin\/keys\/(?<id>[^/]+)$/, methods: { GET: show, PATCH: update, DELETE: revoke } },
  ];
}

/** The {id} path segment: a key id or a (percent-encoded) key name. */
function keyRef(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new GatewayError('invalid_request', `The key id or name in the URL is not valid percent-encoding: ${segment}`);
  }
}
