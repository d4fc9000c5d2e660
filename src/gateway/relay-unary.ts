import { performance } from 'node:perf_hooks';
import { GatewayError } from '../core/gateway-error.js';
import { isAbortError, transportError } from '../providers/transport-errors.js';
import type { UpstreamResponse } from '../providers/provider.js';
import type { ResponseSink } from './response-sink.js';
import type { AttemptPlan, Exchange } from './exchange.js';
import { readText } from './upstream-body.js';
import { upstreamHttpError } from './upstream-http-error.js';
import { UpstreamWatchdog } from './upstream-watchdog.js';
import { newRelayResult, settleFailure, type RelayResult } from './attempt-result.js';
import type { ModelEntry, Route } from './route-table.js';

export interface UnaryRelayOptions {
  exchange: Exchange;
  model: ModelEntry;
  sink: ResponseSink;
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
    const plan = await options.exchange.plan(route);
    // Non-stream answers arrive whole: the first-token limit bounds the whole answer.
    const watchdog = new UpstreamWatchdog({ firstTokenMs: route.provider.timeouts.firstTokenMs, idleMs: 0 }, route.label, sink.signal);
    try {
      const text = await fetchCompletion(route, plan, watchdog.signal, options.maxResponseBytes);
      const answer = plan.unary(text);
      result.usage = answer.usage;
      result.finishReasons = answer.finishReasons;
      result.ttftMs = performance.now() - options.startedAt;
      if (sink.signal.aborted) break;
      sink.sendJson(200, answer.body);
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
  return settleFailure(result, failures, { model: model.name, sink, dialect: options.exchange.dialect });
}

async function fetchCompletion(route: Route, plan: AttemptPlan, signal: AbortSignal, maxBytes: number): Promise<string> {
  const call = { model: route.upstreamModel, body: plan.body, stream: false, signal, forwardHeaders: plan.forwardHeaders };
  const response: UpstreamResponse = await route.provider.send(call);
  if (response.status < 200 || response.status >= 300) throw await upstreamHttpError(response, route.label);
  const { text, truncated } = await readText(response.body, maxBytes);
  if (truncated) {
    throw new GatewayError('upstream_protocol_error', `Upstream ${route.label} sent a response over ${maxBytes} bytes.`, { route: route.label });
  }
  return text;
}
