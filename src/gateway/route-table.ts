import { GatewayError } from '../core/gateway-error.js';
import type { Provider } from '../providers/provider.js';

export interface Route {
  provider: Provider;
  upstreamModel: string;
  /** `provider/upstream-model`, as written in the config; names the route in errors and logs. */
  label: string;
}

export interface ModelEntry {
  name: string;
  routes: Route[];
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
