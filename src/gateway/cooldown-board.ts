/**
 * Route cooldowns shared between instances. The circuit breaker (route-health.ts) decides when a
 * route cools down; the board tells the other instances, and tells this one what they decided.
 * Alone, an instance uses `localOnly`; with `redis:` configured, src/limits provides a Redis board
 * (pub/sub for news, keys with a TTL for instances that start or reconnect later).
 */
export interface Cooldown {
  /** `provider/upstream-model`, the route's label. */
  route: string;
  /** Epoch ms until which the route should be skipped. */
  until: number;
  /** Why (for logs): e.g. "429 from upstream", "3 failures in a row". */
  reason: string;
}

export interface CooldownBoard {
  /** Tells the other instances that a route cools down. Never throws; never blocks a request. */
  publish(cooldown: Cooldown): void;
  /** `listener` hears every cooldown another instance published (and current ones at start). */
  subscribe(listener: (cooldown: Cooldown) => void): void;
  close(): Promise<void>;
}

export const localOnly: CooldownBoard = {
  publish: () => {},
  subscribe: () => {},
  close: async () => {},
};
