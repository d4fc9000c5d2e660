import type { HealthConfig, RetriesConfig, RouteEntryConfig, SluiceConfig, TimeoutsConfig } from '../config/schema.js';
import { parseRoute } from '../config/schema.js';
import { routeLimitsFrom } from '../limits/route-quotas.js';
import type { Provider } from '../providers/provider.js';
import { createProvider } from './create-provider.js';
import type { HealthSettings } from './route-health.js';
import type { RetrySettings } from './retry-policy.js';
import type { Route, RouteTable, RouteTimeouts } from './route-table.js';
import type { Routing } from './routing.js';

/**
 * Fills the route table from the config's models: each route with its provider adapter, weight,
 * quotas and effective timeouts. `providers` holds one adapter per provider entry; a route that
 * overrides `connect` gets an adapter (and connection pool) of its own, added to `providers` so
 * it is closed with the others: the connect timeout belongs to the pool's sockets.
 */
export function addModels(table: RouteTable, config: SluiceConfig, deps: { providers: Map<string, Provider>; routing: Routing }): void {
  // A deployment's quota is per label, whichever model entry gave it (the one RouteQuotas
  // enforces): each entry reserves against that, not its own rpm/tpm (possibly none).
  const limits = routeLimitsFrom(config.models);
  for (const [name, model] of Object.entries(config.models)) {
    const routes = model.routes.map((written): Route => {
      const entry: RouteEntryConfig = typeof written === 'string' ? { route: written, weight: 1 } : written;
      const { provider: providerName, model: upstreamModel } = parseRoute(entry.route);
      const providerConfig = config.providers[providerName];
      if (providerConfig === undefined) throw new Error(`model ${name}: route ${entry.route} names an unknown provider`);
      const timeouts = effectiveTimeouts(providerConfig.timeouts, entry.timeouts);
      return {
        provider: adapterFor(providerName, timeouts.connectMs, config, deps.providers),
        upstreamModel,
        label: entry.route,
        weight: entry.weight,
        quota: { rpm: limits.get(entry.route)?.rpm, tpm: limits.get(entry.route)?.tpm },
        timeouts,
      };
    });
    table.add({ name, routes, strategy: model.strategy ?? 'fallback', routing: deps.routing });
  }
}

function effectiveTimeouts(provider: TimeoutsConfig, route: RouteEntryConfig['timeouts']): RouteTimeouts {
  return {
    connectMs: route?.connect ?? provider.connect,
    firstTokenMs: route?.first_token ?? provider.first_token,
    idleMs: route?.idle ?? provider.idle,
    totalMs: route?.total ?? provider.total,
  };
}

function adapterFor(name: string, connectMs: number, config: SluiceConfig, providers: Map<string, Provider>): Provider {
  const providerConfig = config.providers[name];
  if (providerConfig === undefined) throw new Error(`unknown provider ${name}`);
  const key = connectMs === providerConfig.timeouts.connect ? name : `${name}@connect=${connectMs}`;
  let adapter = providers.get(key);
  if (adapter === undefined) {
    adapter = createProvider(name, { ...providerConfig, timeouts: { ...providerConfig.timeouts, connect: connectMs } });
    providers.set(key, adapter);
  }
  return adapter;
}

export function retrySettings(config: RetriesConfig): RetrySettings {
  return {
    maxAttempts: config.max_attempts,
    initialBackoffMs: config.initial_backoff,
    maxBackoffMs: config.max_backoff,
    maxRetryAfterMs: config.max_retry_after,
    deadlineMs: config.deadline,
  };
}

export function healthSettings(config: HealthConfig): HealthSettings {
  return { failureThreshold: config.failure_threshold, cooldownMs: config.cooldown, maxCooldownMs: config.max_cooldown };
}
