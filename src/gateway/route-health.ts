import type { Logger } from '../observability/logger.js';
import { localOnly, type Cooldown, type CooldownBoard } from './cooldown-board.js';

/** The breaker's settings (config `health:`), in milliseconds. */
export interface HealthSettings {
  /** Consecutive failures that open a route's breaker; 0 turns the breaker off. */
  failureThreshold: number;
  /** The first cooldown; doubled by each failed probe, up to maxCooldownMs. */
  cooldownMs: number;
  maxCooldownMs: number;
}

export const defaultHealthSettings: HealthSettings = { failureThreshold: 3, cooldownMs: 30_000, maxCooldownMs: 300_000 };

/** Why a route is skipped: failures in a row, an upstream 429, or another request probing it. */
export type CoolingReason = 'failing' | 'rate_limited' | 'probing';

export type HealthAdmission = { ok: true; probe: boolean } | { ok: false; until: number; reason: CoolingReason };

/** How an admitted attempt ended, for the breaker: `none` when it says nothing (the client left). */
export type HealthVerdict = 'ok' | 'failure' | 'rate_limited' | 'none';

export interface HealthDeps {
  board?: CooldownBoard;
  logger?: Logger;
  /** Epoch ms (cooldowns travel between instances as epoch times). */
  now?: () => number;
}

interface RouteState {
  /** Consecutive failures while closed. */
  failures: number;
  /** Epoch ms until which the route is skipped; 0 = closed. */
  openUntil: number;
  reason: 'failing' | 'rate_limited';
  /** The cooldown a failed probe doubles. */
  cooldownMs: number;
  /** When the half-open probe in flight started; 0 = none. */
  probeSince: number;
  lastError: string | undefined;
}

/** A board's reason starting with "429" marks a rate-limit cooldown (see publish below). */
const rateLimitedReason = /^429\b/;

/**
 * A circuit breaker per route label. Closed, it counts consecutive failures; at the threshold (or
 * at once on a 429) it opens for a cooldown, during which requests skip the route. When the
 * cooldown is over one request is let through as the probe (half-open): its success closes the
 * breaker, its failure reopens it for twice the cooldown. Cooldowns are published on the board so
 * other instances skip the route too, and cooldowns they publish are applied here.
 */
export class RouteHealth {
  private readonly routes = new Map<string, RouteState>();
  private readonly board: CooldownBoard;
  private readonly now: () => number;

  constructor(private readonly settings: HealthSettings, private readonly deps: HealthDeps = {}) {
    this.board = deps.board ?? localOnly;
    this.now = deps.now ?? Date.now;
    if (this.enabled) this.board.subscribe((cooldown) => this.heard(cooldown));
  }

  private get enabled(): boolean {
    return this.settings.failureThreshold > 0;
  }

  /**
   * May a request try `route` now? A route cooling down after failures may be probed early by a
   * request none of whose routes is available (`earlyProbeBy`: only when its cooldown would end
   * by then), so such a request gets an answer from the route most likely to work rather than a
   * refusal. A 429 cooldown is never cut short: the upstream asked for it.
   */
  admit(route: string, earlyProbeBy?: number): HealthAdmission {
    const state = this.routes.get(route);
    if (!this.enabled || state === undefined || state.openUntil === 0) return { ok: true, probe: false };
    const now = this.now();
    // A probe that never reported (it cannot, but a lost one must not block the route for good).
    const probing = state.probeSince !== 0 && now - state.probeSince < state.cooldownMs;
    if (probing) return { ok: false, until: now + probeRetryMs, reason: 'probing' };
    const early = earlyProbeBy !== undefined && state.reason === 'failing' && state.openUntil <= earlyProbeBy;
    if (now < state.openUntil && !early) return { ok: false, until: state.openUntil, reason: state.reason };
    state.probeSince = now;
    return { ok: true, probe: true };
  }

  /** The attempt `admit` let through ended. `detail`: the upstream's requested wait, the error. */
  settle(route: string, probe: boolean, verdict: HealthVerdict, detail: { retryAfterMs?: number; error?: string } = {}): void {
    if (!this.enabled) return;
    const state = this.state(route);
    if (probe) state.probeSince = 0;
    if (verdict === 'none') return;
    if (verdict === 'ok') {
      // The upstream asked for the 429 cooldown: an answer to a request sent before it does not
      // end it; only the probe after it does.
      if (!probe && state.openUntil !== 0 && state.reason === 'rate_limited') return;
      if (state.openUntil !== 0) this.deps.logger?.info('route recovered', { route });
      state.failures = 0;
      state.openUntil = 0;
      state.cooldownMs = this.settings.cooldownMs;
      return;
    }
    state.lastError = detail.error;
    const now = this.now();
    if (probe) state.cooldownMs = Math.min(this.settings.maxCooldownMs, state.cooldownMs * 2);
    if (verdict === 'rate_limited') {
      const wait = Math.min(this.settings.maxCooldownMs, detail.retryAfterMs ?? state.cooldownMs);
      this.open(route, state, now + wait, 'rate_limited');
      return;
    }
    const open = state.openUntil !== 0;
    // Attempts admitted before the breaker opened may still fail afterwards: they change nothing.
    if (open && !probe) return;
    state.failures++;
    if (probe || state.failures >= this.settings.failureThreshold) this.open(route, state, now + state.cooldownMs, 'failing');
  }

  /** Why and until when a route cools down (undefined: it does not), for messages. */
  describe(route: string): { until: number; reason: CoolingReason; lastError: string | undefined } | undefined {
    const state = this.routes.get(route);
    if (state === undefined || state.openUntil === 0) return undefined;
    return { until: state.openUntil, reason: state.reason, lastError: state.lastError };
  }

  private open(route: string, state: RouteState, until: number, reason: 'failing' | 'rate_limited'): void {
    if (until <= state.openUntil && state.reason === reason) return;
    state.openUntil = Math.max(until, state.openUntil);
    state.reason = reason;
    const why = reason === 'rate_limited' ? '429 from upstream' : `${state.failures} failures in a row`;
    this.deps.logger?.warn('route cooling down', { route, until: new Date(state.openUntil).toISOString(), reason: why, lastError: state.lastError });
    this.board.publish({ route, until: state.openUntil, reason: state.lastError ? `${why}: ${state.lastError}` : why });
  }

  /** Another instance's cooldown: skip the route here too, without changing its failure count. */
  private heard(cooldown: Cooldown): void {
    if (cooldown.until <= this.now()) return;
    const state = this.state(cooldown.route);
    if (cooldown.until <= state.openUntil) return;
    state.openUntil = cooldown.until;
    state.reason = rateLimitedReason.test(cooldown.reason) ? 'rate_limited' : 'failing';
    state.lastError = cooldown.reason;
  }

  private state(route: string): RouteState {
    let state = this.routes.get(route);
    if (state === undefined) {
      state = { failures: 0, openUntil: 0, reason: 'failing', cooldownMs: this.settings.cooldownMs, probeSince: 0, lastError: undefined };
      this.routes.set(route, state);
    }
    return state;
  }
}

/** While another request probes a route, when to look again. */
const probeRetryMs = 1000;
