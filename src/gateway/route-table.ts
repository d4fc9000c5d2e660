import { GatewayError } from '../core/gateway-error.js';
import type { Provider } from '../providers/provider.js';
import type { Routing } from './routing.js';
import type { StrategyName } from './route-strategy.js';

/** An attempt's limits, in milliseconds; 0 = no limit. */
export interface RouteTimeouts {
  /** TCP/TLS connect (enforced by the provider's transport). */
  connectMs: number;
  /** From sending the request to the first content (the whole answer when not streaming). */
  firstTokenMs: number;
  /** Longest silence after the first content. */
  idleMs: number;
  /** The whole attempt, a committed stream included. */
  totalMs: number;
}

export interface Route {
  provider: Provider;
  upstreamModel: string;
  /** `provider/upstream-model`, as written in the config; names the route in errors and logs. */
  label: string;
  /** Share of requests under the weighted strategy. */
  weight: number;
  /** The deployment's per-minute quotas (enforced through RouteQuota); undefined = none. */
  quota: { rpm: number | undefined; tpm: number | undefined };
  /** The provider's timeouts with the route's own overrides applied. */
  timeouts: RouteTimeouts;
}

export interface ModelEntry {
  name: string;
  routes: Route[];
  /** How the routes are ordered for one request; unset: fallback (config order). */
  strategy?: StrategyName;
  /**
   * Retry policy, breaker, quotas and stats, shared by every model of a gateway. Unset only for
   * entries built outside a Gateway (unit tests): the relays then use defaults with no memory.
   */
  routing?: Routing;
}

/** Public model name -> the routes to try, in order. */
export class RouteTable {
  private readonly models = new Map<string, ModelEntry>();

  add(entry: ModelEntry): void {
    this.models.set(entry.name, entry);
  }

  resolve(name: string): ModelEntry {
    const entry = this.models.get(name);
    if (entry === undefined) {
      throw new GatewayError(
        'model_not_found',
        `The model '${name}' does not exist on this gateway. List the available models with GET /v1/models.`,
        { param: 'model' },
      );
    }
    return entry;
  }

  list(): ModelEntry[] {
    return [...this.models.values()];
  }
}
