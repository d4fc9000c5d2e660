import { performance } from 'node:perf_hooks';
import { toGatewayError, type GatewayError } from '../core/gateway-error.js';
import type { Usage } from '../core/usage.js';
import type { AttemptPlan, Exchange } from './exchange.js';
import type { ResponseSink } from './response-sink.js';
import { newRelayResult, settleFailure, type RelayResult } from './attempt-result.js';
import { RequestRoutes } from './request-routes.js';
import { backoffMs, judgeFailure, requestedWaitMs } from './retry-policy.js';
import type { HealthVerdict } from './route-health.js';
import { orderRoutes } from './route-strategy.js';
import type { ModelEntry, Route } from './route-table.js';
import { createRouting, type Routing } from './routing.js';

/** How one attempt at one route ended. */
export type AttemptEnd = { kind: 'done' } | { kind: 'aborted' } | { kind: 'failed'; error: GatewayError; committed: boolean };

/** What an attempt tells the loop while it runs. */
export interface AttemptHooks {
  /** The first token arrived (streams), or the whole answer (non-stream): the route works. */
  firstToken(): void;
}

export interface AttemptLoopOptions {
  exchange: Exchange;
  model: ModelEntry;
  sink: ResponseSink;
  /** performance.now() when the request arrived: the deadline counts from there. */
  startedAt: number;
  /**
   * One attempt at `route`, with the request as `plan` encoded it for the route. It records what
   * it learns (usage, finish reasons, time to first token) on `result`, and answers the client
   * itself when it succeeds or fails after its commit point.
   */
  attempt(route: Route, plan: AttemptPlan, hooks: AttemptHooks, result: RelayResult): Promise<AttemptEnd>;
}

/**
 * The one attempt loop of both relays: picks routes in the model's strategy order, skips those
 * cooling down or over quota, retries what may be retried before the commit point (at once on
 * another route, after a jittered backoff on the same one, never sooner than the upstream's
 * retry-after), within the attempt budget and the deadline; a client disconnect stops it all.
 * After the commit point nothing is retried: the attempt has already told the client.
 */
export async function runAttempts(options: AttemptLoopOptions): Promise<RelayResult> {
  const { sink, model } = options;
  const routing = model.routing ?? createRouting();
  const { clock } = routing;
  const result = newRelayResult();
  const failures: GatewayError[] = [];
  /** Why routes could not express the request (e.g. a field their protocol lacks). */
  const unsuitable: GatewayError[] = [];
  const failuresByRoute = new Map<Route, number>();
  const arrivedAt = clock.now() - (performance.now() - options.startedAt);
  const { deadlineMs, maxAttempts } = routing.retries;
  const deadlineAt = deadlineMs > 0 ? arrivedAt + deadlineMs : Number.POSITIVE_INFINITY;
  const ordered = orderRoutes(model.strategy ?? 'fallback', model.routes, routing.stats, routing.random);
  const routes = new RequestRoutes(ordered, routing, options.exchange, deadlineAt);
  const settle = (errors: GatewayError[]): RelayResult =>
    settleFailure(result, errors, { model: model.name, sink, dialect: options.exchange.dialect, waitMs: (error) => hintedWaitMs(error, routing) });

  while (!sink.signal.aborted && result.attempts < maxAttempts) {
    const step = await routes.next();
    if (step.kind === 'none') break;
    if (step.kind === 'wait') {
      await clock.sleep(step.ms, sink.signal);
      continue;
    }
    const { route } = step;
    const planned = await planFor(options.exchange, route);
    if (!planned.ok) {
      // This route cannot express the request (its protocol lacks a field): the others may. No
      // upstream call was made, so it is no attempt and says nothing about the route's health.
      step.settleQuota(0);
      routing.health.settle(route.label, step.probe, 'none');
      routes.exclude(route);
      unsuitable.push(planned.error);
      continue;
    }
    routes.tried(route);
    result.attempts++;
    result.route = route;
    const end = await attemptOnce(options, routing, { ...step, plan: planned.plan }, result);
    if (end.kind === 'done') {
      // A stream may finish during the grace after the client left: accounted with its final
      // usage, but the client did not get it all.
      const left = sink.signal.aborted;
      result.outcome = left ? 'client_aborted' : 'ok';
      result.status = left ? 499 : 200;
      return result;
    }
    if (end.kind === 'aborted') break;
    if (end.committed) {
      // The client got 200 and an in-stream error; the record keeps the error's own status.
      result.error = end.error;
      result.status = end.error.status;
      return result;
    }
    failures.push(end.error);
    const retries = failuresByRoute.get(route) ?? 0;
    failuresByRoute.set(route, retries + 1);
    if (!planRetry(end.error, route, retries, { routes, routing })) return settle([end.error]);
  }
  if (failures.length === 0 && !sink.signal.aborted) {
    // Nothing reached an upstream: a route cooling down or over quota may serve the request later
    // (429/503 with Retry-After); only when every route that could be asked refused to express it
    // is the request itself at fault (400).
    const refusal = routes.refusal(model.name) ?? unsuitable[0];
    if (refusal !== undefined) failures.push(refusal);
  }
  return settle(failures);
}

/** The request encoded for `route`, or why it cannot be (the route's protocol lacks a field). */
async function planFor(exchange: Exchange, route: Route): Promise<{ ok: true; plan: AttemptPlan } | { ok: false; error: GatewayError }> {
  try {
    return { ok: true, plan: await exchange.plan(route) };
  } catch (error) {
    return { ok: false, error: toGatewayError(error) };
  }
}

/**
 * When a failed request may be tried again, for the client's Retry-After: the upstream's own
 * hint, else the end of the cooldown the failure put its route in; undefined when neither says.
 */
function hintedWaitMs(error: GatewayError, routing: Routing): number | undefined {
  const now = routing.clock.now();
  const asked = requestedWaitMs(error, now);
  if (asked !== undefined) return asked;
  const until = error.route === undefined ? undefined : routing.health.describe(error.route)?.until;
  return until === undefined ? undefined : until - now;
}

/**
 * After a failure before the commit point: when this request may try `route` again (never, after
 * a backoff, after the upstream's retry-after). False when nothing may be retried at all: the
 * request itself is at fault, and the client hears it now. `retries`: this route's earlier ones.
 */
function planRetry(error: GatewayError, route: Route, retries: number, on: { routes: RequestRoutes; routing: Routing }): boolean {
  const { routes, routing } = on;
  const verdict = judgeFailure(error);
  if (verdict.next === 'stop') return false;
  if (verdict.next === 'other_routes') {
    if (verdict.health === 'failure') {
      routing.logger.warn('route refused the request: check its provider key and model name', { route: route.label, status: error.status, error: error.message });
    }
    routes.exclude(route);
    return true;
  }
  const asked = requestedWaitMs(error, routing.clock.now());
  if (asked !== undefined && asked > routing.retries.maxRetryAfterMs) {
    routes.exclude(route); // too long to wait for: the other routes, if any, at once
    return true;
  }
  routes.retryAfter(route, Math.max(backoffMs(retries, routing.retries, routing.random), asked ?? 0));
  return true;
}

type AttemptStep = { route: Route; plan: AttemptPlan; probe: boolean; settleQuota: (tokens: number) => void };

/** One attempt, with the route's books kept: in-flight count, latency, breaker, quota. */
async function attemptOnce(options: AttemptLoopOptions, routing: Routing, step: AttemptStep, result: RelayResult): Promise<AttemptEnd> {
  const { route, plan, probe } = step;
  const label = route.label;
  const startedAt = performance.now();
  let healthSettled = false;
  let verdict: HealthVerdict = 'none';
  let retryAfterMs: number | undefined;
  let error: string | undefined;
  // Each attempt reports its own usage: the quota is settled with it, the record keeps the last.
  result.usage = undefined;
  routing.stats.started(label);
  try {
    const end = await options.attempt(
      route,
      plan,
      {
        firstToken: () => {
          if (healthSettled) return;
          healthSettled = true;
          routing.stats.recordTtft(label, performance.now() - startedAt);
          routing.health.settle(label, probe, 'ok');
        },
      },
      result,
    );
    if (end.kind === 'done') verdict = 'ok';
    if (end.kind === 'failed') {
      verdict = judgeFailure(end.error).health;
      retryAfterMs = requestedWaitMs(end.error, routing.clock.now());
      error = end.error.message;
    }
    return end;
  } finally {
    routing.stats.ended(label);
    if (!healthSettled && (verdict === 'failure' || verdict === 'rate_limited')) routing.stats.recordFailure(label);
    step.settleQuota(tokensUsed(result.usage));
    // After the first token the probe is settled; a later failure counts as an ordinary one.
    if (!healthSettled || verdict === 'failure' || verdict === 'rate_limited') {
      routing.health.settle(label, probe && !healthSettled, verdict, { retryAfterMs, error });
    }
  }
}

/** What the attempt used of the route's token quota: input (cached included) and output. */
function tokensUsed(usage: Usage | undefined): number {
  return usage === undefined ? 0 : usage.input + usage.output;
}
