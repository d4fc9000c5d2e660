import { randomUUID } from 'node:crypto';
import type { Redis, RedisOptions } from 'ioredis';
import type { Logger } from '../observability/logger.js';
import { parseRedisUrl } from './redis-url.js';

/** How long Redis is skipped after a command failed on a live connection. */
const SUSPEND_AFTER_FAILURE_MS = 1_000;

export interface RedisHubOptions {
  url: string;
  logger: Logger;
  /** A command slower than this fails (and the outage policy applies) instead of stalling a request. */
  commandTimeoutMs?: number;
  /** The longest pause between reconnection attempts. */
  maxReconnectDelayMs?: number;
  /** What an outage means for requests, for the log line (e.g. "limits fall back to this instance's memory"). */
  outageEffect: string;
}

type RedisClass = typeof Redis;

/**
 * Sluice's connections to Redis: one for commands, one for pub/sub (a subscribed connection can
 * run nothing else). Redis being down must never crash Sluice or stall a request: commands are
 * never queued while disconnected (they fail at once, and callers apply the outage policy), every
 * command has a short timeout, reconnection goes on forever with a capped delay, and every
 * 'error' event is handled. An outage is logged once when it starts and once when it ends.
 *
 * ioredis is loaded by connect() (Gateway.start), not at import: without `redis:` it would cost
 * ~15 MiB of memory for nothing, and a gateway that fails to build leaves no socket open.
 */
export class RedisHub {
  /** Tells this instance's own pub/sub messages from others'. */
  readonly instanceId = randomUUID();
  readonly prefix: string;
  private client: Redis | undefined;
  private subscriber: Redis | undefined;
  private loading: Promise<void> | undefined;
  private readonly channels = new Map<string, Set<(message: string) => void>>();
  private readonly readyListeners = new Set<() => void>();
  private readonly display: string;
  private readonly connection: RedisOptions;
  private downSince: number | undefined;
  private suspendedUntil = 0;
  private connectedOnce = false;
  private closed = false;

  constructor(private readonly options: RedisHubOptions) {
    const target = parseRedisUrl(options.url);
    this.prefix = target.prefix;
    this.display = target.display;
    this.connection = target.connection;
  }

  /** The command connection; callers check `available` first (it throws before connect()). */
  get redis(): Redis {
    if (this.client === undefined) throw new Error('redis: not connected yet');
    return this.client;
  }

  /** Answering, and no outage under way: what an instance may act on without asking Redis first. */
  get healthy(): boolean {
    return this.downSince === undefined && this.available;
  }

  /** Commands can be sent now: connected, and not just seen timing out (a hung server). */
  get available(): boolean {
    return this.client?.status === 'ready' && Date.now() >= this.suspendedUntil;
  }

  /**
   * A command failed although the connection looked fine (a hung or overloaded server times out
   * without closing the socket): Redis is skipped for a moment, so requests do not each wait out
   * the command timeout.
   */
  commandFailed(error: unknown): void {
    this.suspendedUntil = Date.now() + SUSPEND_AFTER_FAILURE_MS;
    this.failed(error);
  }

  /** A command worked: ends an outage that no reconnection will announce (the socket never closed). */
  commandSucceeded(): void {
    if (this.downSince !== undefined && this.client?.status === 'ready') this.ready();
  }

  /** Starts connecting (once; reconnection then goes on by itself). */
  connect(): Promise<void> {
    this.loading ??= import('ioredis').then(({ Redis: Client }) => {
      if (this.closed) return;
      this.client = this.commandConnection(Client);
      // A failed first attempt is an outage like any other: logged by the 'error' handler, retried.
      this.client.connect().catch(() => {});
      this.subscriber = this.subscriberConnection(Client);
      if (this.channels.size > 0) this.subscriber.subscribe(...this.channels.keys()).catch(() => {});
    });
    return this.loading;
  }

  /** Connects, then resolves true once ready, false after `timeoutMs` (never rejects: an outage is a state, not an error). */
  async whenReady(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    await this.connect();
    const client = this.client;
    if (client === undefined) return false;
    if (this.available) return true;
    return new Promise((resolve) => {
      const ready = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        client.off('ready', ready);
        resolve(false);
      }, Math.max(0, deadline - Date.now()));
      client.once('ready', ready);
    });
  }

  key(...parts: string[]): string {
    return this.prefix + parts.join(':');
  }

  /** Called at every (re)connection, the first included: state learnt from Redis is reloaded. */
  onReady(listener: () => void): void {
    this.readyListeners.add(listener);
    if (this.available) listener();
  }

  /** Publishes without waiting; a failure only means the news is lost (pollers are the backstop). */
  publish(channel: string, message: string): void {
    if (!this.available) return;
    this.redis.publish(this.prefix + channel, message).catch(() => {});
  }

  subscribe(channel: string, listener: (message: string) => void): void {
    const name = this.prefix + channel;
    let listeners = this.channels.get(name);
    if (listeners === undefined) {
      listeners = new Set();
      this.channels.set(name, listeners);
      // Before connect(), connect() subscribes to every channel at once.
      this.subscriber?.subscribe(name).catch(() => {});
    }
    listeners.add(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.readyListeners.clear();
    await this.loading?.catch(() => {});
    await Promise.allSettled([this.client, this.subscriber].flatMap((c) => (c === undefined ? [] : [quit(c)])));
  }

  private commandConnection(Client: RedisClass): Redis {
    const client = new Client({
      ...this.connection,
      enableOfflineQueue: false,
      // Commands issued in the same tick go out in one write: on loopback each write(2) of a
      // separate command cost more CPU than the script it ran (profiled: a quarter of the
      // gateway's time at 900 req/s with two script calls per request).
      enableAutoPipelining: true,
      commandTimeout: this.options.commandTimeoutMs ?? 300,
      connectTimeout: 2_000,
      // A command caught by a dropped connection fails now rather than waiting for a reconnect.
      maxRetriesPerRequest: 0,
      retryStrategy: (times) => this.reconnectDelay(times),
      connectionName: 'sluice',
      lazyConnect: true,
    });
    client.on('error', (error: unknown) => this.failed(error));
    client.on('close', () => this.failed(new Error('connection closed')));
    client.on('ready', () => {
      this.suspendedUntil = 0; // a fresh connection is fresh evidence
      this.ready();
    });
    return client;
  }

  /** Subscriptions wait for the connection, and are renewed after every reconnection. */
  private subscriberConnection(Client: RedisClass): Redis {
    const subscriber = new Client({
      ...this.connection,
      autoResubscribe: true,
      maxRetriesPerRequest: null,
      retryStrategy: (times) => this.reconnectDelay(times),
      connectionName: 'sluice-events',
    });
    // Failures show on the command connection's log; this one only has to survive them.
    subscriber.on('error', () => {});
    subscriber.on('message', (channel: string, message: string) => {
      for (const listener of this.channels.get(channel) ?? []) listener(message);
    });
    return subscriber;
  }

  private reconnectDelay(times: number): number {
    return Math.min(50 * 2 ** Math.min(times, 10), this.options.maxReconnectDelayMs ?? 2_000);
  }

  private failed(error: unknown): void {
    if (this.closed || this.downSince !== undefined) return;
    this.downSince = Date.now();
    this.options.logger.warn(`redis unavailable: ${this.options.outageEffect}; reconnecting`, { redis: this.display, error });
  }

  private ready(): void {
    if (this.downSince !== undefined) {
      this.options.logger.info('redis recovered', { redis: this.display, downForMs: Date.now() - this.downSince });
      this.downSince = undefined;
    } else if (!this.connectedOnce) {
      this.options.logger.info('redis connected: limits, budgets, cooldowns and key changes are shared', { redis: this.display, prefix: this.prefix });
    }
    this.connectedOnce = true;
    for (const listener of this.readyListeners) listener();
  }
}

/** QUIT when connected (bounded: a hung server must not hold up shutdown), else just drop the socket. */
async function quit(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 500);
    });
    await Promise.race([redis.quit().catch(() => {}), timeout]);
    clearTimeout(timer);
  }
  redis.disconnect();
}
