import { isObject } from '../core/json.js';
import type { RedisHub } from './redis-hub.js';

/** The shape of gateway/cooldown-board.ts's Cooldown (limits may not import the gateway). */
export interface RouteCooldown {
  route: string;
  until: number;
  reason: string;
}

const CHANNEL = 'cooldowns';

/**
 * Route cooldowns shared through Redis. News goes out on a pub/sub channel; each cooldown is also
 * a key with a PX TTL (it vanishes when the cooldown ends), so an instance that starts or
 * reconnects later reads the current ones. Lifetimes travel as TTLs, not clock times: instances
 * whose clocks disagree still cool a route for the same span. Never throws, never blocks.
 */
export class RedisCooldownBoard {
  constructor(private readonly hub: RedisHub) {}

  publish(cooldown: RouteCooldown): void {
    const ttlMs = Math.round(cooldown.until - Date.now());
    if (ttlMs <= 0 || !this.hub.available) return;
    const news = JSON.stringify({ route: cooldown.route, ttlMs, reason: cooldown.reason, from: this.hub.instanceId });
    this.hub.redis.set(this.hub.key('cooldown', cooldown.route), news, 'PX', ttlMs).catch(() => {});
    this.hub.publish(CHANNEL, news);
  }

  subscribe(listener: (cooldown: RouteCooldown) => void): void {
    this.hub.subscribe(CHANNEL, (message) => {
      const cooldown = this.parse(message, undefined);
      if (cooldown !== undefined) listener(cooldown);
    });
    // At start and after every reconnection: what was published while this instance was away.
    this.hub.onReady(() => void this.current().then((all) => all.forEach(listener), () => {}));
  }

  async close(): Promise<void> {}

  /** Every cooldown still running, read from its key and its remaining TTL. */
  private async current(): Promise<RouteCooldown[]> {
    const found: RouteCooldown[] = [];
    const pattern = `${escapeGlob(this.hub.prefix)}cooldown:*`;
    let cursor = '0';
    do {
      const [next, keys] = await this.hub.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 200);
      cursor = next;
      for (const key of keys) {
        const [value, ttl] = await Promise.all([this.hub.redis.get(key), this.hub.redis.pttl(key)]);
        const cooldown = value === null || ttl <= 0 ? undefined : this.parse(value, ttl);
        if (cooldown !== undefined) found.push(cooldown);
      }
    } while (cursor !== '0');
    return found;
  }

  /** A cooldown from its JSON; undefined for this instance's own news or anything malformed. */
  private parse(text: string, remainingMs: number | undefined): RouteCooldown | undefined {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (!isObject(value) || value.from === this.hub.instanceId) return undefined;
    const { route, ttlMs, reason } = value;
    if (typeof route !== 'string' || typeof ttlMs !== 'number' || typeof reason !== 'string') return undefined;
    return { route, until: Date.now() + (remainingMs ?? ttlMs), reason };
  }
}

/** SCAN MATCH is a glob: a prefix with `*`, `?` or brackets must match only itself. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
