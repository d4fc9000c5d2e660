import { GatewayError } from '../core/gateway-error.js';
import { Cancellation } from '../core/cancellation.js';

export interface WatchdogLimits {
  /** From sending the request to the first content; 0 = no limit. */
  firstTokenMs: number;
  /** Longest silence after the first content; 0 = no limit. */
  idleMs: number;
  /** The whole attempt, a committed stream included; 0 = no limit. */
  totalMs: number;
}

const idleTicks = 4;

/**
 * Gives up on an upstream that takes too long to its first token, falls silent mid-stream or runs
 * past the attempt's total limit, by aborting the attempt's signal. Activity is one boolean store per read; the idle check ticks at
 * a quarter of the limit, so a stall is detected after 1 to 1.25 times the limit.
 */
export class UpstreamWatchdog {
  /** The timeout that fired, if one did: the reason the attempt was aborted. */
  fired: GatewayError | undefined;
  private readonly cancellation = new Cancellation();
  private timer: NodeJS.Timeout | undefined;
  private totalTimer: NodeJS.Timeout | undefined;
  private active = false;
  private quietTicks = 0;
  private clientAbortGraceMs = 0;
  private graceTimer: NodeJS.Timeout | undefined;

  /** `clientSignal` (the client going away) also aborts `signal`. */
  constructor(private readonly limits: WatchdogLimits, private readonly route: string, private readonly clientSignal: Cancellation) {
    if (clientSignal.aborted) this.cancellation.abort(clientSignal.reason);
    else clientSignal.onAbort(this.onClientAbort);
    if (limits.firstTokenMs > 0) {
      this.timer = setTimeout(() => this.fire(`sent no content within ${limits.firstTokenMs} ms`), limits.firstTokenMs);
    }
    if (limits.totalMs > 0) {
      this.totalTimer = setTimeout(() => this.fire(`did not finish within ${limits.totalMs} ms`), limits.totalMs);
    }
  }

  /** Aborted when a limit is exceeded or the client goes away. */
  get signal(): Cancellation {
    return this.cancellation;
  }

  /** The first content arrived: from now on only silence counts. */
  firstToken(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.limits.idleMs <= 0) return;
    this.timer = setInterval(() => {
      if (this.active) {
        this.active = false;
        this.quietTicks = 0;
      } else if (++this.quietTicks >= idleTicks) {
        this.fire(`was silent for ${this.limits.idleMs} ms mid-stream`);
      }
    }, Math.max(1, Math.floor(this.limits.idleMs / idleTicks)));
  }

  /** From now on, the client leaving aborts the upstream only after `ms` (0: at once). */
  graceOnClientAbort(ms: number): void {
    this.clientAbortGraceMs = ms;
  }

  /** Bytes arrived. */
  activity(): void {
    this.active = true;
  }

  stop(): void {
    clearTimeout(this.timer);
    clearTimeout(this.totalTimer);
    clearTimeout(this.graceTimer);
    this.timer = undefined;
    this.clientSignal.offAbort(this.onClientAbort);
  }

  private readonly onClientAbort = (): void => {
    if (this.clientAbortGraceMs <= 0) {
      this.cancellation.abort(this.clientSignal.reason);
      return;
    }
    this.graceTimer = setTimeout(() => this.cancellation.abort(this.clientSignal.reason), this.clientAbortGraceMs);
  };

  private fire(what: string): void {
    this.stop();
    this.fired = new GatewayError('upstream_timeout', `Upstream ${this.route} ${what}.`, { route: this.route });
    this.cancellation.abort(this.fired);
  }
}
