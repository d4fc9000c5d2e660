import { levelAt, resetMs } from './token-bucket.js';
import type { BucketTake, BucketView, SlotTake } from './limiter.js';

/**
 * What one instance holds, ahead of need, of the buckets and slot sets it shares in Redis, so a
 * busy key does not cost a Redis round trip per request.
 *
 * A busy bucket (this instance took from it at least BUSY_TAKES times in the last window, and its
 * capacity is at least GRAIN) holds an allowance: units taken from Redis ahead of need, at most
 * 1/GRAIN of the capacity and at most twice what the last window used. Requests are served from
 * it in memory; refunds of finished requests join it; when it runs below half, one call tops it up
 * in the background while requests go on being served. A busy slot set keeps lease members: a
 * finished request's slot stays here for the next request, and a take that finds none free asks
 * Redis for extras along with its own. At the end of every window
 * whatever exceeds the next window's allowance is handed back, all of it once the key is quiet.
 *
 * Why this is safe: every unit served here was taken from the shared bucket first, so instances
 * together never admit more than the limit. The cost is the other direction: while instance A
 * holds an allowance, instance B can be refused although A's units are unused, by at most what A
 * holds (1/GRAIN of the capacity, or of max for slots): units A is about to use, since it holds no
 * more than twice one window's use. Redis grants extras only from the half of a bucket above half
 * full (and slots up to half of max), so near the limit allowances run dry and every request is
 * decided by Redis, one at a time, exactly. A quiet key never gets an allowance: it behaves as if
 * this file did not exist.
 */

/** How often demand is measured and what is held beyond it handed back. */
export const WINDOW_MS = 200;
/** Takes in a window that make a bucket or slot set busy in the next one (40 requests/s). */
export const BUSY_TAKES = 8;
/** An allowance is at most 1/GRAIN of a bucket's capacity or of a slot set's max. */
export const GRAIN = 16;
/** Extra slots asked for in one call, at most (the members travel in the script's arguments). */
const MAX_EXTRA_SLOTS = 256;

interface BucketAllowance {
  perMinute: number;
  /** Units held here; negative: charges (usage above a reservation) owed to Redis. */
  level: number;
  /** Redis's level after this instance's last call there, and when: for the views. */
  seen: { level: number; at: number };
  takes: number;
  units: number;
  /** Asked for extras last window, decided at the window's end. */
  want: number;
  /** A call asking for extras is out: others ask for none, so a burst does not take N allowances. */
  refilling: boolean;
}

interface SlotPool {
  max: number;
  /** Members held in Redis and not in use: the next request here takes one. */
  free: string[];
  inUse: number;
  peak: number;
  takes: number;
  want: number;
  refilling: boolean;
}

/** A take served from the allowance. */
export interface LocalTake {
  views: BucketView[];
  member: string | undefined;
}

/** What a call to Redis carries for the allowance: given back first, then the extras asked for. */
export interface RemotePlan {
  giveBack: number[];
  want: number[];
  freeGiven: string[];
  wantSlots: number;
}

/** A hand-back at the end of a window, for the finish script. */
export interface HandBack {
  bucket?: { key: string; perMinute: number; refund: number };
  slot?: { key: string; members: string[] };
}

export class LocalAllowances {
  private readonly buckets = new Map<string, BucketAllowance>();
  private readonly pools = new Map<string, SlotPool>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Counts the take as demand, then serves it here if every bucket and the slot can. */
  tryLocal(request: { buckets: readonly BucketTake[]; slot?: SlotTake | undefined }, keys: readonly string[], slotKey: string | undefined): LocalTake | undefined {
    const allowances = request.buckets.map((b, i) => this.bucket(keys[i] as string, b.perMinute, b.amount));
    const pool = request.slot === undefined || slotKey === undefined ? undefined : this.pool(slotKey, request.slot.max);
    const peek = pool === undefined && request.buckets.every((b) => b.amount === 0);
    if (peek) return undefined; // a take of nothing wants Redis's own figures
    if (!allowances.every((a, i) => a.level >= (request.buckets[i]?.amount ?? 0))) return undefined;
    if (pool !== undefined && pool.free.length === 0) return undefined;
    allowances.forEach((a, i) => (a.level -= request.buckets[i]?.amount ?? 0));
    const member = pool === undefined ? undefined : this.use(pool);
    return { views: allowances.map((a) => this.view(a)), member };
  }

  /**
   * After a take served here: the buckets running below half of their allowance, now marked as
   * being topped up. The caller must send a top-up for each and report it to settleTopUp, even
   * when it fails. Slot pools have no top-ups: a pool refills itself (each finished request's slot
   * comes back to it), and a take that finds it empty asks Redis for extras with its own slot.
   * (Topping up whenever the pool ran empty cost a call every time demand equalled the pool.)
   */
  lowOnes(keys: readonly string[]): Array<{ key: string; perMinute: number; want: number }> {
    const low: Array<{ key: string; perMinute: number; want: number }> = [];
    for (const key of keys) {
      const a = this.buckets.get(key);
      if (a === undefined || a.refilling || a.want === 0 || a.level >= a.want / 2) continue;
      a.refilling = true;
      low.push({ key, perMinute: a.perMinute, want: a.want });
    }
    return low;
  }

  /** A bucket top-up's answer (0 when it failed or was refused): the units join the allowance. */
  settleTopUp(key: string, units: number): void {
    const a = this.buckets.get(key);
    if (a === undefined) return;
    a.refilling = false;
    a.level += units;
  }

  /** Takes what the call to Redis gives back and asks for. The caller must send it. */
  planRemote(keys: readonly string[], slotKey: string | undefined): RemotePlan {
    const giveBack: number[] = [];
    const want: number[] = [];
    for (const key of keys) {
      const a = this.buckets.get(key);
      giveBack.push(a?.level ?? 0);
      if (a === undefined) {
        want.push(0);
        continue;
      }
      a.level = 0;
      want.push(a.refilling ? 0 : a.want);
      if (a.want > 0) a.refilling = true;
    }
    const pool = slotKey === undefined ? undefined : this.pools.get(slotKey);
    const freeGiven = pool === undefined ? [] : pool.free.splice(0);
    const wantSlots = pool === undefined || pool.refilling ? 0 : pool.want;
    if (pool !== undefined && wantSlots > 0) pool.refilling = true;
    return { giveBack, want, freeGiven, wantSlots };
  }

  /** Redis answered a planned call: extras join the allowance; a granted request's slot is in use. */
  settleRemote(keys: readonly string[], slotKey: string | undefined, plan: RemotePlan, reply: { remaining: number[]; extras: number[]; extraMembers: string[]; granted: boolean } | undefined): void {
    const now = this.now();
    keys.forEach((key, i) => {
      const a = this.buckets.get(key);
      if (a === undefined) return;
      if ((plan.want[i] ?? 0) > 0) a.refilling = false;
      if (reply === undefined) return;
      a.level += reply.extras[i] ?? 0;
      a.seen = { level: reply.remaining[i] ?? 0, at: now };
    });
    const pool = slotKey === undefined ? undefined : this.pools.get(slotKey);
    if (pool === undefined) return;
    if (plan.wantSlots > 0) pool.refilling = false;
    if (reply === undefined) return;
    pool.free.push(...reply.extraMembers);
    if (reply.granted) this.use(pool, false);
  }

  /**
   * A finished request's refund (negative: a charge) stays here when its bucket is busy.
   * Returns what Redis must get instead (0 when nothing).
   */
  refund(key: string, amount: number): number {
    const a = this.buckets.get(key);
    if (a === undefined || a.want === 0 || amount === 0) return amount;
    a.level += amount;
    return 0;
  }

  /** A finished request's slot goes back to a busy pool; false: release it in Redis. */
  release(slotKey: string, member: string): boolean {
    const pool = this.pools.get(slotKey);
    if (pool === undefined) return false;
    pool.inUse = Math.max(0, pool.inUse - 1);
    if (pool.want === 0) return false;
    pool.free.push(member);
    return true;
  }

  /**
   * Ends the window: what is busy for the next one is decided from this one's demand, and what is
   * held beyond the next window's allowance is handed back (charges owed, always). Entries that
   * saw nothing are forgotten. Members a top-up brings after this call are the next window's.
   * `last`: the instance is closing; everything is handed back.
   */
  endWindow(last = false): HandBack[] {
    const back: HandBack[] = [];
    for (const [key, a] of this.buckets) {
      const busy = !last && a.takes >= BUSY_TAKES && a.perMinute >= GRAIN;
      a.want = busy ? Math.max(1, Math.min(Math.floor(a.perMinute / GRAIN), 2 * a.units)) : 0;
      const keep = a.level > 0 ? Math.min(a.level, a.want) : 0;
      if (a.level !== keep) back.push({ bucket: { key, perMinute: a.perMinute, refund: a.level - keep } });
      a.level = keep;
      if (a.takes === 0 && !a.refilling && keep === 0) this.buckets.delete(key);
      a.takes = 0;
      a.units = 0;
    }
    for (const [key, pool] of this.pools) {
      const busy = !last && pool.takes >= BUSY_TAKES && pool.max >= GRAIN;
      pool.want = busy ? Math.max(1, Math.min(Math.floor(pool.max / GRAIN), pool.peak, MAX_EXTRA_SLOTS)) : 0;
      // Held in all (in use and free) at most what the last window had in use at once.
      const keepFree = Math.max(0, pool.want - pool.inUse);
      if (pool.free.length > keepFree) back.push({ slot: { key, members: pool.free.splice(keepFree) } });
      if (pool.takes === 0 && pool.inUse === 0 && !pool.refilling && pool.free.length === 0) this.pools.delete(key);
      pool.takes = 0;
      pool.peak = pool.inUse;
    }
    return back;
  }

  /** Whether anything is tracked (the window timer runs only then). */
  get active(): boolean {
    return this.buckets.size > 0 || this.pools.size > 0;
  }

  private bucket(key: string, perMinute: number, amount: number): BucketAllowance {
    let a = this.buckets.get(key);
    if (a === undefined || a.perMinute !== perMinute) {
      // A changed limit starts afresh; what was held is handed back at the window's end anyway.
      a = { perMinute, level: a?.level ?? 0, seen: a?.seen ?? { level: perMinute, at: this.now() }, takes: 0, units: 0, want: 0, refilling: false };
      this.buckets.set(key, a);
    }
    a.takes += 1;
    a.units += amount;
    return a;
  }

  private pool(key: string, max: number): SlotPool {
    let pool = this.pools.get(key);
    if (pool === undefined) {
      pool = { max, free: [], inUse: 0, peak: 0, takes: 0, want: 0, refilling: false };
      this.pools.set(key, pool);
    }
    pool.max = max;
    pool.takes += 1;
    return pool;
  }

  /** Marks a slot in use, from the free list unless the member came from Redis just now. */
  private use(pool: SlotPool, fromFree = true): string | undefined {
    pool.inUse += 1;
    pool.peak = Math.max(pool.peak, pool.inUse);
    return fromFree ? pool.free.pop() : undefined;
  }

  private view(a: BucketAllowance): BucketView {
    const level = levelAt(a.seen, a.perMinute, this.now()) + a.level;
    return { perMinute: a.perMinute, remaining: Math.max(0, Math.floor(level)), resetMs: resetMs(level, a.perMinute) };
  }
}
