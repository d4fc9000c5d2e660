import { performance } from 'node:perf_hooks';
import { GatewayError } from '../core/gateway-error.js';
import type { Logger } from '../observability/logger.js';
import type { KeyStore, StoredKey } from '../storage/types.js';
import { StoredKeyIndex } from './key-index.js';
import { digestOf, SECRET_PREFIX } from './key-secret.js';
import { KeyRefresher, type KeyRefreshOptions } from './key-refresh.js';

export interface ClientKey {
  /** The key's name; never the secret. */
  name: string;
  /** Stored keys only (config-declared keys and keyless mode have none). */
  id?: string;
  /** Public models this key may use; undefined = every model. */
  models?: readonly string[];
  /** The stored key behind it, for budgets and limits. */
  stored?: StoredKey;
  /** Rate limits (config keys: from the config; stored keys: their rpm/tpm/max_concurrent). */
  limits?: KeyLimits;
}

export interface KeyLimits {
  rpm?: number;
  tpm?: number;
  maxConcurrent?: number;
}

export interface KeySource {
  name: string;
  key: string;
  rpm?: number | undefined;
  tpm?: number | undefined;
  max_concurrent?: number | undefined;
}

/** News of key changes between instances (Redis pub/sub): a change made here is announced, and a
 *  change announced elsewhere triggers a refresh at once instead of at the next poll. */
export interface KeyNews {
  publish(keyId: string): void;
  subscribe(listener: (keyId: string) => void): void;
}

export interface KeyRingOptions {
  /** Keys declared in the config file. */
  configKeys: KeySource[];
  /** Sluice is bound to a loopback address: with no keys anywhere, it may serve without any. */
  loopback: boolean;
  /** Keys created by `sluice keys` or the admin API; absent in set-ups without a store. */
  store?: KeyStore;
  logger: Logger;
  /** Test hooks for the refresh loop (interval, overlap...). */
  refresh?: Omit<KeyRefreshOptions, 'store' | 'index' | 'logger'>;
  /** Shared with other instances through Redis; polling stays as the backstop. */
  news?: KeyNews;
}

/**
 * Client keys: config-declared ones (held as SHA-256 digests; a lookup by digest compares no
 * secret bytes) and stored ones (held in memory, refreshed from the KeyStore, matched by prefix
 * and compared in constant time). Authentication never waits for the store.
 */
export class KeyRing {
  private readonly byDigest = new Map<string, ClientKey>();
  private readonly index = new StoredKeyIndex();
  private readonly clientKeys = new WeakMap<StoredKey, ClientKey>();
  private readonly refresher: KeyRefresher | undefined;
  private readonly loopback: boolean;
  private readonly news: KeyNews | undefined;
  private catchingUp: Promise<void> | undefined;
  private lastCatchUp = -Infinity;

  constructor(options: KeyRingOptions) {
    for (const source of options.configKeys) this.byDigest.set(digestOf(source.key).toString('base64'), configKey(source));
    this.loopback = options.loopback;
    if (options.store !== undefined) {
      const refresher = new KeyRefresher({ ...options.refresh, store: options.store, index: this.index, logger: options.logger });
      this.refresher = refresher;
      this.news = options.news;
      // A revoke on another instance lands here in one store read, not at the next poll.
      options.news?.subscribe(() => refresher.wake());
    }
  }

  /**
   * Whether requests must present a key. Keyless mode needs a loopback bind address and no key
   * anywhere: not in the config, and no row in the store, revoked or not. Rows are never deleted,
   * so once a key has been created Sluice never falls back to serving everyone (revoking the last
   * key must not open the gateway).
   */
  get required(): boolean {
    return !this.loopback || this.byDigest.size > 0 || this.index.size > 0;
  }

  /** Stored keys known here, revoked and expired ones included (for the start banner). */
  get storedKeyCount(): number {
    return this.index.size;
  }

  /** Loads the stored keys and starts following changes; call before serving. */
  async start(): Promise<void> {
    await this.refresher?.start();
  }

  stop(): void {
    this.refresher?.stop();
  }

  /** Picks up store changes now instead of at the next poll (tests). */
  async refresh(): Promise<void> {
    await this.refresher?.poll();
  }

  /** A change made on this instance (admin API): effective at once, not at the next poll. */
  apply(key: StoredKey): void {
    this.index.apply(key, performance.now());
    this.news?.publish(key.id);
  }

  /**
   * authenticate(), except that a stored-looking key this instance has not seen yet (created a
   * moment ago on another instance, before the news or the next poll reached this one) is looked
   * for in the store before it is refused. Look-ups are shared and start at most every 100 ms, so
   * a flood of made-up keys costs the store at most ten small reads a second.
   */
  async authenticateFresh(headers: Record<string, string | string[] | undefined>): Promise<ClientKey> {
    try {
      return this.authenticate(headers);
    } catch (error) {
      if (!(error instanceof UnknownKeyError) || !error.storedShape || this.refresher === undefined) throw error;
      await this.catchUp(this.refresher);
      return this.authenticate(headers);
    }
  }

  private catchUp(refresher: KeyRefresher): Promise<void> {
    this.catchingUp ??= new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, this.lastCatchUp + 100 - performance.now())))
      .then(() => refresher.poll())
      .finally(() => {
        this.lastCatchUp = performance.now();
        this.catchingUp = undefined;
      });
    return this.catchingUp;
  }

  /** Reads `Authorization: Bearer <key>` (OpenAI, Anthropic 1.x SDKs) or `x-api-key` (Anthropic 0.x). */
  authenticate(headers: Record<string, string | string[] | undefined>): ClientKey {
    if (!this.required) return anonymous;
    const presented = presentedKey(headers);
    if (presented === undefined) {
      throw new GatewayError(
        'missing_api_key',
        "You didn't provide an API key. Send it as 'Authorization: Bearer <key>' (or 'x-api-key: <key>').",
      );
    }
    // One SHA-256 per request serves both lookups.
    const presentedDigest = digestOf(presented);
    const configured = this.byDigest.get(presentedDigest.toString('base64'));
    if (configured !== undefined) return configured;
    const stored = this.index.find(presented, presentedDigest);
    if (stored === undefined) throw new UnknownKeyError(presented.startsWith(SECRET_PREFIX));
    return this.usable(stored, Date.now());
  }

  private usable(key: StoredKey, now: number): ClientKey {
    if (key.revokedAt !== null) throw new GatewayError('invalid_api_key', `This API key (${key.prefix}...) has been revoked.`);
    if (key.expiresAt !== null && key.expiresAt <= now) {
      throw new GatewayError('invalid_api_key', `This API key (${key.prefix}...) expired at ${new Date(key.expiresAt).toISOString()}.`);
    }
    let client = this.clientKeys.get(key);
    if (client === undefined) {
      const limits = keyLimits(key.rpm, key.tpm, key.maxConcurrent);
      client = { name: key.name, id: key.id, ...(key.models === null ? {} : { models: key.models }), stored: key, ...(limits ? { limits } : {}) };
      this.clientKeys.set(key, client);
    }
    return client;
  }
}

const anonymous: ClientKey = { name: 'anonymous' };

/** A key matching no config key and no stored key this instance knows of. */
class UnknownKeyError extends GatewayError {
  constructor(readonly storedShape: boolean) {
    super('invalid_api_key', 'Incorrect API key provided.');
  }
}

function configKey(source: KeySource): ClientKey {
  const limits = keyLimits(source.rpm, source.tpm, source.max_concurrent);
  return limits ? { name: source.name, limits } : { name: source.name };
}

/** The limits that are set, or undefined when none is (most keys: no limiter work at all). */
function keyLimits(rpm: number | null | undefined, tpm: number | null | undefined, maxConcurrent: number | null | undefined): KeyLimits | undefined {
  const limits: KeyLimits = {};
  if (rpm != null) limits.rpm = rpm;
  if (tpm != null) limits.tpm = tpm;
  if (maxConcurrent != null) limits.maxConcurrent = maxConcurrent;
  return Object.keys(limits).length === 0 ? undefined : limits;
}

function presentedKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (match?.[1]) return match[1].trim();
  }
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.trim() !== '' ? apiKey.trim() : undefined;
}
