import type { RouteStats } from './route-stats.js';
import type { Route } from './route-table.js';

export type StrategyName = 'fallback' | 'weighted' | 'least_in_flight' | 'lowest_latency';

/**
 * The order in which one request tries a model's routes. Later routes are its fallbacks, so every
 * strategy returns every route: it only decides who goes first.
 */
export function orderRoutes(strategy: StrategyName, routes: readonly Route[], stats: RouteStats, random: () => number): Route[] {
  switch (strategy) {
    case 'fallback':
      return [...routes];
    case 'weighted':
      return weightedOrder(routes, random);
    case 'least_in_flight':
      return stableSort(routes, (r) => stats.inFlight(r.label));
    case 'lowest_latency':
      // A route never tried goes first, so that it gets measured; one tried that never answered
      // goes last, or it would go first forever.
      return stableSort(routes, (r) => stats.latency(r.label) ?? (stats.failedBeforeMeasured(r.label) ? Number.POSITIVE_INFINITY : -1));
  }
}

/** Random by weight without replacement: each pick among those left, in proportion to weight. */
function weightedOrder(routes: readonly Route[], random: () => number): Route[] {
  const left = [...routes];
  const order: Route[] = [];
  while (left.length > 0) {
    const total = left.reduce((sum, r) => sum + r.weight, 0);
    // Only weight-0 routes left: they keep the config order, as fallbacks of last resort.
    if (total <= 0) return order.concat(left);
    let point = random() * total;
    let at = left.findIndex((r) => (point -= r.weight) < 0);
    if (at === -1) at = left.findLastIndex((r) => r.weight > 0); // rounding at the very top
    order.push(...left.splice(at, 1));
  }
  return order;
}

/** Ascending by `key`; ties keep the config order. */
function stableSort(routes: readonly Route[], key: (route: Route) => number): Route[] {
  return routes
    .map((route, index) => ({ route, index, key: key(route) }))
    .sort((a, b) => a.key - b.key || a.index - b.index)
    .map((entry) => entry.route);
}
