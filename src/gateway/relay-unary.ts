import { performance } from 'node:perf_hooks';
import { GatewayError } from '../core/gateway-error.js';
import { isAbortError, transportError } from '../providers/transport-errors.js';
import type { UpstreamResponse } from '../providers/provider.js';
import type { ResponseSink } from './response-sink.js';
import type { AttemptPlan, Exchange } from './exchange.js';
import { readText } from './upstream-body.js';
import { upstreamHttpError } from './upstream-http-error.js';
import { UpstreamWatchdog } from './upstream-watchdog.js';
import type { RelayResult } from './attempt-result.js';
import { runAttempts, type AttemptEnd, type AttemptHooks } from './attempt-loop.js';
import type { ModelEntry, Route } from './route-table.js';
import type { Cancellation } from '../core/cancellation.js';

export interface UnaryRelayOptions {
  exchange: Exchange;
  model: ModelEntry;
  sink: ResponseSink;
  startedAt: number;
  /** Cap on an upstream's JSON answer. */
  maxResponseBytes: number;
}

/**
 * A non-stream request: routes are attempted (and retried) by the attempt loop until one answers
 * with a completion. Nothing reaches the client before a whole, valid answer is in hand, so every
 * failure can move on.
 */
export function relayUnary(options: UnaryRelayOptions): Promise<RelayResult> {
  return runAttempts({
    exchange: options.exchange,
    model: options.model,
    sink: options.sink,
    startedAt: options.startedAt,
    attempt: (route, plan, hooks, result) => attempt({ route, plan }, options, hooks, result),
  });
}

async function attempt({ route, plan }: { route: Route; plan: AttemptPlan }, options: UnaryRelayOptions, hooks: AttemptHooks, result: RelayResult): Promise<AttemptEnd> {
  const { sink } = options;
  // Non-stream answers arrive whole: the first-token limit bounds the whole answer.
  const { firstTokenMs, totalMs } = route.timeouts;
  const watchdog = new UpstreamWatchdog({ firstTokenMs, idleMs: 0, totalMs }, route.label, sink.signal);
  try {
    const text = await fetchCompletion(route, plan, watchdog.signal, options.maxResponseBytes);
    const answer = plan.unary(text);
    result.usage = answer.usage;
    result.finishReasons = answer.finishReasons;
    result.ttftMs = performance.now() - options.startedAt;
    hooks.firstToken();
    if (sink.signal.aborted) return { kind: 'aborted' };
    sink.sendJson(200, answer.body);
    return { kind: 'done' };
  } catch (error) {
    if (sink.signal.aborted || (isAbortError(error) && !watchdog.fired)) return { kind: 'aborted' };
    return { kind: 'failed', error: watchdog.fired ?? (error instanceof GatewayError ? error : transportError(error, route.label)), committed: false };
  } finally {
    watchdog.stop();
  }
}

async function fetchCompletion(route: Route, plan: AttemptPlan, signal: Cancellation, maxBytes: number): Promise<string> {
  const call = { model: route.upstreamModel, body: plan.body, stream: false, signal, forwardHeaders: plan.forwardHeaders };
  const response: UpstreamResponse = await route.provider.send(call);
  if (response.status < 200 || response.status >= 300) throw await upstreamHttpError(response, route.label);
  const { text, truncated } = await readText(response.body, maxBytes);
  if (truncated) {
    throw new GatewayError('upstream_protocol_error', `Upstream ${route.label} sent a response over ${maxBytes} bytes.`, { route: route.label });
  }
  return text;
}
