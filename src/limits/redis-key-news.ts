import { isObject } from '../core/json.js';
import type { RedisHub } from './redis-hub.js';

const CHANNEL = 'key-changes';

/**
 * News that a stored key changed (created, updated, revoked), so that every instance refreshes its
 * key ring at once instead of at its next poll. The store stays the truth: the news carries only
 * the key's id, and a lost message costs at most one poll interval.
 */
export class RedisKeyNews {
  constructor(private readonly hub: RedisHub) {}

  publish(keyId: string): void {
    this.hub.publish(CHANNEL, JSON.stringify({ keyId, from: this.hub.instanceId }));
  }

  /** `listener` hears changes made by other instances. */
  subscribe(listener: (keyId: string) => void): void {
    this.hub.subscribe(CHANNEL, (message) => {
      let value: unknown;
      try {
        value = JSON.parse(message);
      } catch {
        return;
      }
      if (isObject(value) && value.from !== this.hub.instanceId && typeof value.keyId === 'string') listener(value.keyId);
    });
  }
}
