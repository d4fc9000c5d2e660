import { performance } from 'node:perf_hooks';
import { GatewayError } from '../core/gateway-error.js';
import { SseDecoder, SseEventTooLargeError } from '../sse/sse-decoder.js';
import { readUpstreamError } from '../protocols/openai-chat/errors.js';
import { isAbortError, transportError } from '../providers/transport-errors.js';
import type { UpstreamResponse } from '../providers/provider.js';
import type { ResponseSink } from './response-sink.js';
import type { AttemptPlan, Exchange } from './exchange.js';
import { CommitGate } from './commit-gate.js';
import { respondError } from './respond-error.js';
import { readChunks, readText } from './upstream-body.js';
import { UpstreamWatchdog } from './upstream-watchdog.js';
import { upstreamHttpError } from './upstream-http-error.js';
import type { RelayResult } from './attempt-result.js';
import { runAttempts, type AttemptEnd, type AttemptHooks } from './attempt-loop.js';
import type { ModelEntry, Route } from './route-table.js';

export interface StreamRelayOptions {
  exchange: Exchange;
  model: ModelEntry;
  sink: ResponseSink;
  startedAt: number;
  /** After this long without a first token, send the SSE head and a keep-alive. */
  firstByteDeadlineMs: number;
  /** Silence that always gets a keep-alive, even while no upstream has answered yet. */
  keepAliveIntervalMs: number;
  maxEventBytes: number;
}

/** After the commit, how long an upstream may go on after the client left, for its final usage. */
const clientAbortGraceMs = 500;

/** Frames held before the commit point; past this the stream is committed anyway. */
const maxHeldBytes = 256 * 1024;

/**
 * A streamed request relayed with the commit point: upstream frames are held until the first
 * content arrives, so any failure before it (refused connection, non-2xx, in-band error,
 * malformed frame, early end) is retried or moves on to another route unseen by the client (the
 * attempt loop decides which). After it, a failure is sent in-stream (OpenAI `data: {"error": ...}`
 * without [DONE], Anthropic `event: error` without message_stop). A broken stream is never closed
 * as if it had succeeded.
 */
export async function relayStream(options: StreamRelayOptions): Promise<RelayResult> {
  const { sink } = options;
  // The SSE head is held while routes fail at the HTTP level, so the client can get a real status.
  // Once an upstream has accepted the request but is slow to its first token, the head and a
  // keep-alive go out at the deadline so proxies do not cut the connection.
  let deadlinePassed = false;
  let upstreamAccepted = false;
  const openEarly = (): void => {
    if (sink.streaming || sink.signal.aborted) return;
    sink.startStream(options.exchange.keepAliveFrame);
    sink.write(options.exchange.keepAliveFrame);
  };
  const deadline = setTimeout(() => {
    deadlinePassed = true;
    if (upstreamAccepted) openEarly();
  }, options.firstByteDeadlineMs);
  // An upstream that has not even answered by now (some send their head only with the first
  // token), or a retry backoff, would leave the client in silence long enough for proxies to give up.
  const lastResort = setTimeout(openEarly, Math.max(options.firstByteDeadlineMs, options.keepAliveIntervalMs));
  const onAccepted = (): void => {
    upstreamAccepted = true;
    if (deadlinePassed) openEarly();
  };
  try {
    return await runAttempts({
      exchange: options.exchange,
      model: options.model,
      sink,
      startedAt: options.startedAt,
      attempt: (route, plan, hooks, result) => {
        upstreamAccepted = false;
        return attempt(route, plan, { options, result, hooks, onAccepted });
      },
    });
  } finally {
    clearTimeout(deadline);
    clearTimeout(lastResort);
  }
}

interface AttemptContext {
  options: StreamRelayOptions;
  result: RelayResult;
  hooks: AttemptHooks;
  onAccepted: () => void;
}

/** One route: open the upstream stream, hold until content, then relay frame by frame. */
async function attempt(route: Route, plan: AttemptPlan, context: AttemptContext): Promise<AttemptEnd> {
  const watchdog = new UpstreamWatchdog(route.timeouts, route.label, context.options.sink.signal);
  try {
    return await relayAttempt({ ...context, route, plan, watchdog });
  } finally {
    watchdog.stop();
  }
}

interface Attempt extends AttemptContext {
  route: Route;
  /** The request encoded for this route, and how its answer is read. */
  plan: AttemptPlan;
  watchdog: UpstreamWatchdog;
}

async function relayAttempt({ route, plan, watchdog, options, result, hooks, onAccepted }: Attempt): Promise<AttemptEnd> {
  const { sink } = options;
  let response: UpstreamResponse;
  try {
    response = await route.provider.send({ model: route.upstreamModel, body: plan.body, stream: true, signal: watchdog.signal, forwardHeaders: plan.forwardHeaders });
  } catch (error) {
    if (watchdog.fired) return { kind: 'failed', error: watchdog.fired, committed: false };
    if (sink.signal.aborted || isAbortError(error)) return { kind: 'aborted' };
    return { kind: 'failed', error: transportError(error, route.label), committed: false };
  }
  if (response.status < 200 || response.status >= 300) {
    return { kind: 'failed', error: await upstreamHttpError(response, route.label), committed: false };
  }
  if (isJson(response)) return { kind: 'failed', error: await jsonInsteadOfStream(response, route.label), committed: false };
  onAccepted();

  const translator = plan.translator();
  let out = '';
  const decoder = new SseDecoder((event) => void (out += translator.push(event)), {
    maxEventBytes: options.maxEventBytes,
    dispatchIncompleteAtEnd: true,
  });
  const gate = new CommitGate({
    sink,
    maxHeldBytes,
    keepAliveFrame: options.exchange.keepAliveFrame,
    onCommit: () => {
      watchdog.firstToken();
      // Content is flowing: if the client now leaves, the upstream gets a moment to send its final
      // usage (the answer may be nearly done) before it is cut, well within a second.
      watchdog.graceOnClientAbort(clientAbortGraceMs);
      result.ttftMs = performance.now() - options.startedAt;
      hooks.firstToken();
    },
  });
  try {
    await readChunks(response.body, (bytes) => {
      watchdog.activity();
      decoder.push(bytes);
      const frames = out;
      out = '';
      if (translator.finished) {
        if (!translator.sawContent) throw noOutput(route.label);
        // The client has everything; the upstream's remaining bytes drain in the background.
        gate.finish(frames, translator.closingFrames());
        return 'stop';
      }
      return gate.offer(frames, translator.sawContent) ? undefined : sink.drained();
    });
    if (!translator.finished) {
      decoder.end();
      if (!translator.finished && !translator.completeWithoutTerminator) {
        throw new GatewayError('upstream_incomplete', `Upstream ${route.label} ended the stream before it was complete.`, { route: route.label });
      }
      if (!translator.sawContent) throw noOutput(route.label);
      gate.finish(out, translator.closingFrames());
    }
    return { kind: 'done' };
  } catch (error) {
    if (sink.signal.aborted) return { kind: 'aborted' };
    const failure = watchdog.fired ?? (isAbortError(error) ? undefined : asStreamFailure(error, route.label));
    if (failure === undefined) return { kind: 'aborted' };
    if (gate.committed) respondError(sink, options.exchange.dialect, failure);
    return { kind: 'failed', error: failure, committed: gate.committed };
  } finally {
    result.usage = translator.usage;
    result.finishReasons = translator.finishReasons;
    result.generated = () => translator.generated();
    result.usageFinal = translator.usage !== undefined && (translator.finished || translator.finishReasons.length > 0 || translator.usageFinal === true);
  }
}

function isJson(response: UpstreamResponse): boolean {
  const type = response.headers['content-type'];
  return typeof type === 'string' && type.includes('application/json');
}

/** A stream request answered with a JSON body: an error in the upstream's words, or a protocol fault. */
async function jsonInsteadOfStream(response: UpstreamResponse, route: string): Promise<GatewayError> {
  const { text } = await readText(response.body, 64 * 1024).catch(() => ({ text: '' }));
  let details;
  try {
    details = readUpstreamError(JSON.parse(text));
  } catch {
    details = undefined;
  }
  if (details === undefined) return new GatewayError('upstream_protocol_error', `Upstream ${route} answered a stream request with JSON instead of an event stream.`, { route });
  return new GatewayError('upstream_stream_error', `Upstream ${route} reported an error: ${details.message}`, { route, upstreamType: details.type, upstreamCode: details.code, param: details.param });
}

function noOutput(route: string): GatewayError {
  return new GatewayError('upstream_incomplete', `Upstream ${route} ended the stream without any output.`, { route });
}

function asStreamFailure(error: unknown, route: string): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof SseEventTooLargeError) {
    return new GatewayError('upstream_protocol_error', `Upstream ${route} sent an event over the ${error.limit}-byte limit.`, { route });
  }
  const failure = transportError(error, route);
  return new GatewayError(failure.code, `Upstream ${route} stream failed: ${failure.message}`, { route, cause: error });
}
