import { GatewayError } from '../core/gateway-error.js';
import { DEFAULT_MAX_OUTPUT_TOKENS } from './budget.js';
import type { Exchange } from './exchange.js';
import { retryHints } from './retry-hints.js';
import type { CoolingReason } from './route-health.js';
import type { Route } from './route-table.js';
import type { Routing } from './routing.js';

/** The next step of a request's attempt loop. */
export type NextStep =
  | { kind: 'attempt'; route: Route; probe: boolean; settleQuota: (tokens: number) => void }
  | { kind: 'wait'; ms: number }
  | { kind: 'none' };

interface Candidate {
  route: Route;
  tried: boolean;
  /** Never again for this request. */
  out: boolean;
  /** Epoch ms before which this request does not retry the route (its backoff). */
  retryAt: number;
}

/** Why a route was skipped without an attempt, for the refusal when none could be tried. */
interface Skip {
  until: number;
  reason: CoolingReason | 'quota';
}

/**
 * One request's view of its model's routes: which to attempt next, when, and which are out.
 * Untried routes go first, in the strategy's order; then the tried ones as their backoff ends.
 * A route cooling down is skipped (no attempt is counted); a request that finds every route
 * cooling down after failures probes the one whose cooldown ends first, if that is before the
 * request's deadline, rather than being refused.
 */
export class RequestRoutes {
  private readonly candidates: Candidate[];
  private readonly skips = new Map<string, Skip>();

  constructor(ordered: Route[], private readonly routing: Routing, private readonly exchange: Exchange, private readonly deadlineAt: number) {
    this.candidates = ordered.map((route) => ({ route, tried: false, out: false, retryAt: 0 }));
  }

  async next(): Promise<NextStep> {
    const now = this.routing.clock.now();
    if (now >= this.deadlineAt) return { kind: 'none' };
    const ready = this.candidates.filter((c) => !c.out && c.retryAt <= now).sort((a, b) => Number(a.tried) - Number(b.tried) || a.retryAt - b.retryAt);
    for (const candidate of ready) {
      const step = await this.admit(candidate, undefined);
      if (step !== undefined) return step;
    }
    const pending = this.candidates.filter((c) => !c.out && c.tried && c.retryAt > now && c.retryAt <= this.deadlineAt);
    if (pending.length > 0) return { kind: 'wait', ms: Math.min(...pending.map((c) => c.retryAt)) - now };
    const cooling = this.candidates
      .filter((c) => !c.out && !c.tried && this.skips.get(c.route.label)?.reason === 'failing')
      .sort((a, b) => (this.skips.get(a.route.label)?.until ?? 0) - (this.skips.get(b.route.label)?.until ?? 0));
    for (const candidate of cooling) {
      const step = await this.admit(candidate, this.deadlineAt);
      if (step !== undefined) return step;
    }
    return { kind: 'none' };
  }

  /** The attempt at `route` started. */
  tried(route: Route): void {
    this.find(route).tried = true;
  }

  /** This request does not try `route` again. */
  exclude(route: Route): void {
    this.find(route).out = true;
  }

  /** This request may try `route` again after `ms`. */
  retryAfter(route: Route, ms: number): void {
    this.find(route).retryAt = this.routing.clock.now() + ms;
  }

  /**
   * The answer when no route could be tried at all: 429 when a rate limit (an upstream's 429 or
   * a route quota) is why the soonest route is unavailable, 503 when failures are; with
   * Retry-After (1..60 s) and retry-after-ms for when the soonest route is available again.
   */
  refusal(model: string): GatewayError | undefined {
    const skips = [...this.skips.entries()].sort((a, b) => a[1].until - b[1].until);
    const soonest = skips[0];
    if (soonest === undefined) return undefined;
    const hints = retryHints(soonest[1].until - this.routing.clock.now());
    const waitMs = Number(hints.retryAfterMs);
    const rateLimited = this.isRateLimit(soonest[0], soonest[1]);
    const why = skips.map(([label, skip]) => `${label}: ${describeSkip(skip, this.routing.health.describe(label)?.lastError)}`).join('; ');
    const message = rateLimited
      ? `Every route of model '${model}' is rate limited (${why}). Retry after ${Math.ceil(waitMs / 1000)} s.`
      : `Every route of model '${model}' is cooling down after failures (${why}). Retry after ${Math.ceil(waitMs / 1000)} s.`;
    // An upstream's 429 is its deployment quota too. Rendered like OpenAI's own 429 (type
    // "requests", code rate_limit_exceeded); Anthropic clients get rate_limit_error.
    if (rateLimited) return new GatewayError('route_quota_exceeded', message, { limitType: 'requests', ...hints });
    return new GatewayError('upstream_unreachable', message, { status: 503, ...hints });
  }

  /** A skip a rate limit is behind: a route over quota, or cooling (or being probed) after a 429. */
  private isRateLimit(label: string, skip: Skip): boolean {
    if (skip.reason === 'probing') return this.routing.health.describe(label)?.reason === 'rate_limited';
    return skip.reason === 'rate_limited' || skip.reason === 'quota';
  }

  /** Breaker, then quota: the step to attempt `candidate`, or undefined when it is skipped. */
  private async admit(candidate: Candidate, earlyProbeBy: number | undefined): Promise<NextStep | undefined> {
    const { route } = candidate;
    const health = this.routing.health.admit(route.label, earlyProbeBy);
    if (!health.ok) {
      this.skips.set(route.label, { until: health.until, reason: health.reason });
      // Tried already: its cooldown outlasts this request's own backoff, so it is done with it.
      if (candidate.tried) candidate.out = true;
      return undefined;
    }
    let quota;
    try {
      quota = await this.routing.quota.take(route.label, await this.tokensFor(route));
    } catch (error) {
      // Quotas that cannot be checked (redis_outage: closed) fail the request; the probe is free.
      this.routing.health.settle(route.label, health.probe, 'none');
      throw error;
    }
    if (!quota.ok) {
      this.routing.health.settle(route.label, health.probe, 'none');
      this.skips.set(route.label, { until: this.routing.clock.now() + quota.retryAfterMs, reason: 'quota' });
      candidate.out = true;
      return undefined;
    }
    this.skips.delete(route.label);
    return { kind: 'attempt', route, probe: health.probe, settleQuota: (tokens) => quota.settle(tokens) };
  }

  /**
   * What the attempt takes from the route's token quota: the prompt estimate plus the most output
   * the request allows (without max_tokens, the default, but never more than the whole quota).
   * Routes without a token quota are not charged, so most requests skip the tokenizer.
   */
  private async tokensFor(route: Route): Promise<number> {
    const tpm = route.quota.tpm;
    if (tpm === undefined) return 0;
    const prompt = await this.exchange.estimatePromptTokens();
    const explicit = this.exchange.maxOutputTokens(0);
    return prompt + (explicit > 0 ? explicit : Math.max(0, Math.min(DEFAULT_MAX_OUTPUT_TOKENS, tpm - prompt)));
  }

  private find(route: Route): Candidate {
    const candidate = this.candidates.find((c) => c.route === route);
    if (candidate === undefined) throw new Error(`route ${route.label} is not one of this request's`);
    return candidate;
  }
}

function describeSkip(skip: Skip, lastError: string | undefined): string {
  switch (skip.reason) {
    case 'quota':
      return 'over its quota';
    case 'probing':
      return 'being probed';
    case 'rate_limited':
      return 'rate limited by the upstream';
    case 'failing':
      return lastError === undefined ? 'failing' : `failing (${lastError})`;
  }
}
