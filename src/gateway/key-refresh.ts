import { performance } from 'node:perf_hooks';
import type { Logger } from '../observability/logger.js';
import type { KeyStore } from '../storage/types.js';
import type { StoredKeyIndex } from './key-index.js';

export interface KeyRefreshOptions {
  store: KeyStore;
  index: StoredKeyIndex;
  logger: Logger;
  /** Between the end of one poll and the start of the next. 500 ms keeps a revoke on another
   *  instance under 1 s here. */
  intervalMs?: number;
  /** Each poll asks for changes since (latest seen - overlap): a writer whose clock runs behind
   *  ours, or two changes in the same millisecond, are still picked up. Re-applying is harmless. */
  overlapMs?: number;
  /** A poll slower than this is given up on (with a warning) and the next one starts. */
  pollTimeoutMs?: number;
  /** A full reload now and then, as a backstop for anything an incremental poll could miss. */
  fullReloadMs?: number;
}

/**
 * Keeps the in-memory key index current by polling KeyStore.changedSince. Requests never wait for
 * it: a failing or hanging store only means a warning and the last known keys.
 */
export class KeyRefresher {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failingSince: number | undefined;
  private lastWarning = 0;
  private lastFullReload = Date.now();
  private woken: Promise<void> | undefined;
  private wakeAgain = false;
  private readonly intervalMs: number;
  private readonly overlapMs: number;
  private readonly pollTimeoutMs: number;
  private readonly fullReloadMs: number;

  constructor(private readonly options: KeyRefreshOptions) {
    this.intervalMs = options.intervalMs ?? 500;
    this.overlapMs = options.overlapMs ?? 60_000;
    this.pollTimeoutMs = options.pollTimeoutMs ?? 5_000;
    this.fullReloadMs = options.fullReloadMs ?? 10 * 60_000;
  }

  /** Loads every key (a failure here fails start-up: serving without knowing the keys is worse), then polls. */
  async start(): Promise<void> {
    const observedAt = performance.now();
    for (const key of await this.options.store.list()) this.options.index.apply(key, observedAt);
    this.lastFullReload = Date.now();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  /**
   * A key changed on another instance (news from Redis): poll now. News arriving while a woken
   * poll runs asks for one more after it (the change may have been committed after that poll read).
   */
  wake(): void {
    if (this.stopped) return;
    if (this.woken !== undefined) {
      this.wakeAgain = true;
      return;
    }
    this.woken = this.poll().finally(() => {
      this.woken = undefined;
      if (this.wakeAgain) {
        this.wakeAgain = false;
        this.wake();
      }
    });
  }

  /** One poll now (tests; and the loop). Never rejects. */
  async poll(): Promise<void> {
    const { store, index } = this.options;
    const full = Date.now() - this.lastFullReload >= this.fullReloadMs;
    const observedAt = performance.now();
    try {
      const changed = await withTimeout(full ? store.list() : store.changedSince(Math.max(0, index.latestUpdate - this.overlapMs)), this.pollTimeoutMs);
      for (const key of changed) index.apply(key, observedAt);
      if (full) this.lastFullReload = Date.now();
      this.recovered();
    } catch (error) {
      this.failed(error);
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.poll().then(() => this.schedule()), this.intervalMs);
    // Polling alone must not keep a process (a test, a CLI) alive.
    this.timer.unref();
  }

  private failed(error: unknown): void {
    const now = Date.now();
    this.failingSince ??= now;
    // Once at the start of an outage, then once a minute: not every 500 ms.
    if (now - this.lastWarning < 60_000 && this.lastWarning >= this.failingSince) return;
    this.lastWarning = now;
    this.options.logger.warn('key refresh failed; serving with the last known keys', { error, failingForMs: now - this.failingSince });
  }

  private recovered(): void {
    if (this.failingSince === undefined) return;
    this.options.logger.info('key refresh recovered', { failedForMs: Date.now() - this.failingSince });
    this.failingSince = undefined;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the key store did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
