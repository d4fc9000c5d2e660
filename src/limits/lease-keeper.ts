import type { RedisHub } from './redis-hub.js';
import { renewScript } from './limiter-scripts.js';

/** A lease: a member of a sorted set scored by its expiry (a concurrency slot, a budget reservation). */
export interface Lease {
  key: string;
  member: string;
}

/**
 * Keeps this instance's leases alive while their requests run: every third of the TTL, one script
 * call renews them all (not a timer per request). If the instance dies, its leases lapse within
 * the TTL, so a crash can hold a slot or a reservation for at most that long.
 */
export class LeaseKeeper {
  /** By key and member: a lease is dropped by value, whoever built the object. */
  private readonly leases = new Map<string, Lease>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly hub: RedisHub,
    readonly ttlMs: number,
  ) {}

  hold(lease: Lease): void {
    this.leases.set(id(lease), lease);
    if (this.timer === undefined) {
      this.timer = setInterval(() => void this.renew(), Math.max(10, Math.floor(this.ttlMs / 3)));
      this.timer.unref();
    }
  }

  drop(lease: Lease): void {
    this.leases.delete(id(lease));
    if (this.leases.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.leases.clear();
  }

  private async renew(): Promise<void> {
    if (!this.hub.available) return;
    const all = [...this.leases.values()];
    // Bounded batches: one script call must not hold the server for long.
    for (let i = 0; i < all.length; i += 500) {
      const batch = all.slice(i, i + 500);
      try {
        await renewScript.run(this.hub.redis, batch.map((l) => l.key), [this.ttlMs, ...batch.map((l) => l.member)]);
      } catch {
        return; // Redis is failing: the hub logs the outage; leases lapse if it lasts longer than the TTL.
      }
    }
  }
}

function id(lease: Lease): string {
  return `${lease.key}\n${lease.member}`;
}
