/**
 * What this instance knows about each route's load and speed, for the least_in_flight and
 * lowest_latency strategies: attempts in flight, and an exponentially weighted moving average of
 * time to first token. Per instance on purpose: it is cheap, and each instance's own view of an
 * upstream's latency is the one that matters for its requests.
 */
export class RouteStats {
  private readonly inFlightBy = new Map<string, number>();
  private readonly ttftBy = new Map<string, number>();
  /** Routes that failed before they ever answered: no latency to measure, so none is known. */
  private readonly failedUnmeasured = new Set<string>();

  /** `smoothing`: the weight of the newest sample (0.3: about the last five attempts count). */
  constructor(private readonly smoothing = 0.3) {}

  started(route: string): void {
    this.inFlightBy.set(route, this.inFlight(route) + 1);
  }

  ended(route: string): void {
    this.inFlightBy.set(route, Math.max(0, this.inFlight(route) - 1));
  }

  inFlight(route: string): number {
    return this.inFlightBy.get(route) ?? 0;
  }

  /** Time from sending an attempt to its first token (a whole answer when not streaming). */
  recordTtft(route: string, ms: number): void {
    const previous = this.ttftBy.get(route);
    this.ttftBy.set(route, previous === undefined ? ms : previous + this.smoothing * (ms - previous));
    this.failedUnmeasured.delete(route);
  }

  /** An attempt at `route` failed before its first token. */
  recordFailure(route: string): void {
    if (!this.ttftBy.has(route)) this.failedUnmeasured.add(route);
  }

  /** Tried, but it never answered: lowest_latency puts it last rather than first. */
  failedBeforeMeasured(route: string): boolean {
    return this.failedUnmeasured.has(route);
  }

  /** The smoothed time to first token; undefined until the route has answered once. */
  latency(route: string): number | undefined {
    return this.ttftBy.get(route);
  }
}
