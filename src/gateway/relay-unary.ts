import { performance } from 'node:perf_hooks';
import { GatewayError } from '../core/gateway-error.js';
import { isObject } from '../core/json.js';
import { encodeUpstreamChatBody, type ChatRequest } from '../protocols/openai-chat/request.js';
import { readUpstreamError } from '../protocols/openai-chat/errors.js';
import { normalizeCompletion } from '../protocols/openai-chat/response.js';
import { isAbortError, transportError } from '../providers/transport-errors.js';
import type { UpstreamResponse } from '../providers/provider.js';
import type { ResponseSink } from './response-sink.js';
import type { ErrorDialect } from './respond-error.js';
import { readText } from './upstream-body.js';
import { upstreamHttpError } from './upstream-http-error.js';
import { UpstreamWatchdog } from './upstream-watchdog.js';
import { newRelayResult, settleFailure, type RelayResult } from './attempt-result.js';
import { targetOf, type ModelEntry, type Route } from './route-table.js';

export interface UnaryRelayOptions {
  request: ChatRequest;
  model: ModelEntry;
  sink: ResponseSink;
  dialect: ErrorDialect;
  startedAt: number;
  /** Cap on an upstream's JSON answer. */
  maxResponseBytes: number;
}

/**
 * A non-stream request: each route in turn until one answers with a completion. Nothing reaches
 * the client before a whole, valid answer is in hand, so every failure can move on.
 */
export async function relayUnary(options: UnaryRelayOptions): Promise<RelayResult> {
  const { sink, model } = options;
  const failures: GatewayError[] = [];
  const result = newRelayResult();
  for (const route of model.routes) {
    if (sink.signal.aborted) break;
    result.attempts++;
    result.route = route;
    // Outside the try: a body that cannot be encoded is the client's fault, not this route's.
    const body = encodeUpstreamChatBody(options.request, targetOf(route));
    // Non-stream answers arrive whole: the first-token limit bounds the whole answer.
    const watchdog = new UpstreamWatchdog({ firstTokenMs: route.provider.timeouts.firstTokenMs, idleMs: 0 }, route.label, sink.signal);
    try {
      const text = await fetchCompletion(route, body, watchdog.signal, options.maxResponseBytes);
      const normalized = normalizeCompletion(parseCompletion(text, route.label), text);
      result.usage = normalized.usage;
      result.finishReasons = normalized.finishReasons;
      result.ttftMs = performance.now() - options.startedAt;
      if (sink.signal.aborted) break;
      sink.sendJson(200, normalized.text);
      result.outcome = 'ok';
      result.status = 200;
      return result;
    } catch (error) {
      if (sink.signal.aborted || (isAbortError(error) && !watchdog.fired)) break;
      failures.push(watchdog.fired ?? (error instanceof GatewayError ? error : transportError(error, route.label)));
    } finally {
      watchdog.stop();
    }
  }
  return settleFailure(result, failures, { model: model.name, sink, dialect: options.dialect });
}

async function fetchCompletion(route: Route, body: string, signal: AbortSignal, maxBytes: number): Promise<string> {
  const response: UpstreamResponse = await route.provider.chatCompletions({ body, stream: false, signal });
  if (response.status < 200 || response.status >= 300) throw await upstreamHttpError(response, route.label);
  const { text, truncated } = await readText(response.body, maxBytes);
  if (truncated) {
    throw new GatewayError('upstream_protocol_error', `Upstream ${route.label} sent a response over ${maxBytes} bytes.`, { route: route.label });
  }
  return text;
}

/** The upstream's JSON, which must be a completion: an error object in a 200 is a failure too. */
function parseCompletion(text: string, route: string) {
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    throw new GatewayError('upstream_protocol_error', `Upstream ${route} answered with invalid JSON: ${text.trim().slice(0, 200)}`, { route });
  }
  if (!isObject(payload) || !Array.isArray(payload.choices)) {
    const details = readUpstreamError(payload);
    throw new GatewayError(
      details ? 'upstream_stream_error' : 'upstream_protocol_error',
      details ? `Upstream ${route} reported an error: ${details.message}` : `Upstream ${route} answered without choices.`,
      { route, upstreamType: details?.type, upstreamCode: details?.code },
    );
  }
  return payload;
}
