import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { GatewayError, toGatewayError } from '../core/gateway-error.js';
import { newRequestId } from '../core/request-id.js';
import { sluiceVersion, type Gateway } from '../gateway/gateway.js';
import { anthropicDialect } from '../gateway/anthropic-dialect.js';
import { openAiDialect } from '../gateway/openai-dialect.js';
import { assertModelAllowed } from '../gateway/key-model-access.js';
import { respondError, type ErrorDialect } from '../gateway/respond-error.js';
import { adminKeyRoutes } from './admin-routes.js';
import { adminUsageRoutes } from './admin-usage.js';
import { renderPricingPage, sendPricingPage } from './pricing-page.js';
import { CorsPolicy } from './cors.js';
import { NodeResponseSink } from './node-response-sink.js';
import { readBody } from './read-body.js';

export type Handler = (ctx: RequestContext) => Promise<void> | void;

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  sink: NodeResponseSink;
  requestId: string;
  startedAt: number;
  params: Record<string, string>;
}

export interface RouteSpec {
  pattern: RegExp;
  methods: Record<string, Handler>;
}

export interface SluiceHttpServer {
  server: http.Server;
  /** Responses still in progress. */
  readonly inFlight: ReadonlySet<NodeResponseSink>;
}

/**
 * The HTTP surface. The only module that knows Node's http API: it reads requests, picks a
 * handler, and gives the gateway a ResponseSink to answer through.
 */
export function createHttpServer(gateway: Gateway): SluiceHttpServer {
  const inFlight = new Set<NodeResponseSink>();
  // Keyless mode can end while running (the first stored key is created), so the default is per request.
  const keyedCors = new CorsPolicy(gateway.config.cors.allow_origins ?? ['*']);
  const keylessCors = new CorsPolicy(gateway.config.cors.allow_origins ?? []);
  const corsNow = (): CorsPolicy => (gateway.authRequired ? keyedCors : keylessCors);
  const { keepalive_interval: keepAliveMs } = gateway.config.streaming;
  const maxBody = gateway.config.max_request_size;

  const chatCall = (ctx: RequestContext) => ({
    requestId: ctx.requestId,
    headers: ctx.req.headers,
    readBody: () => readBody(ctx.req, maxBody),
    sink: ctx.sink,
    startedAt: ctx.startedAt,
  });
  const chat: Handler = (ctx) => gateway.chatCompletions(chatCall(ctx));
  const messages: Handler = (ctx) => gateway.messages(chatCall(ctx));
  const countTokens: Handler = (ctx) => gateway.countTokens(chatCall(ctx));
  // The Anthropic SDK lists models at the same URL; it always sends anthropic-version.
  const wantsAnthropic = (ctx: RequestContext): boolean => ctx.req.headers['anthropic-version'] !== undefined;
  const models: Handler = (ctx) => {
    const key = gateway.authenticate(ctx.req.headers);
    ctx.sink.sendJson(200, JSON.stringify(wantsAnthropic(ctx) ? gateway.anthropicModelList(key) : gateway.modelList(key)));
  };
  const model: Handler = (ctx) => {
    const key = gateway.authenticate(ctx.req.headers);
    const id = ctx.params.id ?? '';
    gateway.routes.resolve(id); // throws the 404 with its guidance
    assertModelAllowed(key, id);
    const list = wantsAnthropic(ctx) ? gateway.anthropicModelList(key).data : gateway.modelList(key).data;
    ctx.sink.sendJson(200, JSON.stringify(list.find((m) => m.id === id)));
  };
  const health: Handler = (ctx) => ctx.sink.sendJson(200, JSON.stringify({ status: 'ok' }));
  // Public (no key): what each model costs, for the people choosing one.
  const pricingPage = renderPricingPage(gateway.priceList(), sluiceVersion);
  const pricing: Handler = (ctx) => sendPricingPage(ctx.res, pricingPage, { 'x-request-id': ctx.requestId });

  const routes: RouteSpec[] = [
    { pattern: /^\/(?:v1\/)?chat\/completions$/, methods: { POST: chat } },
    { pattern: /^\/(?:v1\/)?messages$/, methods: { POST: messages } },
    { pattern: /^\/(?:v1\/)?messages\/count_tokens$/, methods: { POST: countTokens } },
    { pattern: /^\/(?:v1\/)?models$/, methods: { GET: models } },
    { pattern: /^\/(?:v1\/)?models\/(?<id>.+)$/, methods: { GET: model } },
    { pattern: /^\/health$/, methods: { GET: health } },
    { pattern: /^\/pricing\/?$/, methods: { GET: pricing } },
    ...adminKeyRoutes(gateway),
    ...adminUsageRoutes(gateway),
  ];

  const server = http.createServer({ noDelay: true, keepAlive: true }, (req, res) => {
    const requestId = newRequestId();
    const anthropic = speaksAnthropic(req);
    // Anthropic's SDKs read the request id from `request-id`.
    const idHeaders: Record<string, string> = anthropic ? { 'x-request-id': requestId, 'request-id': requestId } : { 'x-request-id': requestId };
    const sink = new NodeResponseSink(req, res, { ...idHeaders, ...corsNow().headers(req.headers.origin) }, keepAliveMs);
    inFlight.add(sink);
    res.once('close', () => inFlight.delete(sink));
    const ctx: RequestContext = { req, res, sink, requestId, startedAt: performance.now(), params: {} };
    void dispatch(ctx).catch((error: unknown) => {
      const failure = toGatewayError(error);
      if (failure.code === 'internal_error') gateway.logger.error('unhandled error', { requestId, error });
      const dialect: ErrorDialect = anthropic ? anthropicDialect(requestId) : openAiDialect;
      respondError(sink, dialect, failure);
      if (!res.writableEnded && !sink.streaming) res.end();
    });
  });

  async function dispatch(ctx: RequestContext): Promise<void> {
    const path = (ctx.req.url ?? '/').split('?')[0] ?? '/';
    const method = ctx.req.method ?? 'GET';
    if (method === 'OPTIONS') {
      ctx.res.writeHead(204, { 'x-request-id': ctx.requestId, ...corsNow().preflight(ctx.req.headers) });
      ctx.res.end();
      return;
    }
    // Without client keys, the browser's Origin is the only thing standing between a web page and
    // the operator's credit (cross-site form posts need no preflight): refuse what CORS does not allow.
    const origin = ctx.req.headers.origin;
    if (!gateway.authRequired && origin !== undefined && !keylessCors.allows(origin)) {
      throw new GatewayError('origin_not_allowed', `Requests from ${origin} are not allowed: Sluice has no client keys, so browser pages need cors.allow_origins.`);
    }
    for (const route of routes) {
      const match = route.pattern.exec(path);
      if (match === null) continue;
      const handler = route.methods[method];
      if (handler === undefined) {
        ctx.res.setHeader('allow', [...Object.keys(route.methods), 'OPTIONS'].join(', '));
        throw new GatewayError('method_not_allowed', `Method ${method} is not allowed on ${path}. Allowed: ${Object.keys(route.methods).join(', ')}.`);
      }
      ctx.params = { ...match.groups };
      await handler(ctx);
      return;
    }
    throw new GatewayError('unknown_url', `Unknown request URL: ${method} ${path}. Sluice serves POST /v1/chat/completions, POST /v1/messages, POST /v1/messages/count_tokens, GET /v1/models and GET /health.`);
  }

  server.keepAliveTimeout = 65_000; // longer than common load balancers' idle timeout (60 s)
  server.headersTimeout = 66_000;
  return { server, inFlight };
}

/**
 * Errors on the Messages endpoints, and on shared ones (models, unknown URLs) asked by an
 * Anthropic SDK (it always sends anthropic-version), are rendered the way Anthropic clients parse them.
 */
function speaksAnthropic(req: IncomingMessage): boolean {
  const url = req.url ?? '/';
  if (/^\/(?:v1\/)?messages(?:[/?]|$)/.test(url)) return true;
  return req.headers['anthropic-version'] !== undefined && !/^\/(?:v1\/)?chat\//.test(url);
}
